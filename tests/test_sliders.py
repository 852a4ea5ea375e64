"""Static sliders: self-contained HTML over precomputed frames, sharp and small PNG frames."""
import base64
import io
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from inrlib.book import sliders

def _fig(v):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, v])
    return fig


def test_static_slider_html_is_self_contained():
    s = sliders.static_slider(_fig, [1, 2, 3], "omega", captions=["a", "b", "c"])
    html = s._repr_html_()
    assert html.count("<img") == 3 and html.count("data:image/png;base64,") == 3
    assert 'type="range"' in html and "<script" not in html and "http" not in html
    assert re.search(r'max="2"', html)
    with pytest.raises(ValueError, match="one frame per value"):
        sliders.StaticSlider([b"x"], [1, 2], "omega")


def _frames(html):
    """(width, height, src PNG, data-caption) of each frame in a static slider's HTML."""
    tags = re.findall(r"<img [^>]*>", html)
    return [(int(re.search(r' width="(\d+)"', t).group(1)), int(re.search(r' height="(\d+)"', t).group(1)),
             base64.b64decode(re.search(r'base64,([^"]+)"', t).group(1)),
             re.search(r'data-caption="([^"]*)"', t).group(1)) for t in tags]


def test_static_slider_frames_are_rendered_at_twice_the_size_they_are_shown(monkeypatch):
    monkeypatch.setattr(sliders.StaticSlider, "min_width", 0)  # no enlarging of small frames here
    s = sliders.static_slider(_fig, [1, 2], "omega", dpi=50)
    for width, height, png, _ in _frames(s._repr_html_()):
        w, h = sliders.png_size(png)
        assert (width, height) == (round(w / 2), round(h / 2)) and w > 80  # a 1-inch figure at 100 dpi
    one = sliders.static_slider(_fig, [1], "omega", dpi=50, scale=1)
    w1, _ = sliders.png_size(one.frames[0])
    assert abs(sliders.png_size(s.frames[0])[0] / w1 - 2) < 0.1 and _frames(one._repr_html_())[0][0] == w1
    # PNG bytes are taken as rendered at `scale` times their display size
    given = sliders.StaticSlider([one.frames[0]], [1], "omega")
    assert _frames(given._repr_html_())[0][0] == round(w1 / 2)
    with pytest.raises(ValueError, match="not a PNG"):
        sliders.png_size(b"GIF89a" + bytes(30))
    # the frames are stored with a palette where that keeps every pixel, so 2x costs less
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.random.default_rng(0).random((32, 32)), cmap="gray")  # a grey picture
    raw = sliders.figure_png(fig, 100)
    small = sliders.compact_png(raw)
    pixels = [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in (raw, small)]
    assert len(small) < 0.8 * len(raw) and (pixels[0] == pixels[1]).all()
    coloured = sliders.figure_png(_fig(3), 100)  # an antialiased line: more than 256 colours
    assert sliders.compact_png(coloured) == coloured
    with pytest.raises(ValueError, match="scale"):
        sliders.StaticSlider([one.frames[0]], [1], "omega", scale=0)


def test_every_static_slider_caption_carries_its_value():
    s = sliders.static_slider(_fig, [1, 20, 300], "ω0", captions=["PSNR 20 dB", "", "PSNR 31 dB"])
    captions = [c for *_, c in _frames(s._repr_html_())]
    assert captions == ["ω0 = 1: PSNR 20 dB", "ω0 = 20", "ω0 = 300: PSNR 31 dB"]
    shown = re.search(r'<div class="inr-caption"[^>]*>([^<]*)</div>', s._repr_html_()).group(1)
    assert shown == "ω0 = 20"  # the start frame's line, never an empty caption
    plain = sliders.static_slider(_fig, [0.1, 0.3], "lr")
    assert [c for *_, c in _frames(plain._repr_html_())] == ["lr = 0.1", "lr = 0.3"]


def test_static_slider_value_box_is_as_wide_as_the_longest_value():
    s = sliders.static_slider(_fig, [1, 30, 3000], "ω0")
    box = re.search(r'<b class="inr-value" style="([^"]*)"', s._repr_html_()).group(1)
    assert "display:inline-block" in box
    assert float(re.search(r"min-width:([\d.]+)ch", box).group(1)) >= len("3000")


def test_static_slider_track_stays_put_while_the_value_changes(chromium, tmp_path):
    values = [1, 30, 3000, 0.001, "ReLU + PE"]
    s = sliders.static_slider(_fig, values, "setting", captions=[f"caption {i}" for i in range(5)])
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    # the book's theme (Bootstrap) makes labels inline-block; the slider must not depend on it
    (tmp_path / "slider.html").write_text("<html><head><style>label{display:inline-block}</style>"
                                          f"</head><body>{s._repr_html_()}</body></html>", encoding="utf-8")
    page.goto((tmp_path / "slider.html").as_uri())
    track = page.locator("input[type=range]")
    lefts, captions = set(), []
    for i in range(len(values)):
        track.fill(str(i))
        lefts.add(round(track.bounding_box()["x"], 1))
        captions.append(page.locator(".inr-caption").inner_text())
    assert len(lefts) == 1, f"the range track moved: x = {sorted(lefts)}"
    label = page.locator(".inr-static-slider label")
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the track sticks out of its line"
    assert captions == [f"setting = {v}: caption {i}" for i, v in enumerate(values)]
    page.close()


def test_small_static_slider_frames_are_shown_larger_up_to_their_rendered_size():
    def fig(inches):
        f, ax = plt.subplots(figsize=(inches, inches))
        ax.plot([0, 1])
        return f

    for inches, dpi in ((1, 50), (3, 72), (8, 72)):  # 50, 216 and 576 px at 1x
        s = sliders.static_slider(lambda _: fig(inches), [1], "omega", dpi=dpi)
        (width, _, png, _), = _frames(s._repr_html_())
        w = sliders.png_size(png)[0]
        assert width == min(w, max(round(w / 2), sliders.StaticSlider.min_width)), (inches, width, w)
        assert width <= w  # never past one image pixel per screen pixel
