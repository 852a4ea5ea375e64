import base64
import io
import itertools
import re

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

import inrlib as inr
from inrlib.book import widgets


def _fig(v):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, v])
    return fig


def test_static_slider_html_is_self_contained():
    s = widgets.static_slider(_fig, [1, 2, 3], "omega", captions=["a", "b", "c"])
    html = s._repr_html_()
    assert html.count("<img") == 3 and html.count("data:image/png;base64,") == 3
    assert 'type="range"' in html and "<script" not in html and "http" not in html
    assert re.search(r'max="2"', html)
    with pytest.raises(ValueError, match="one frame per value"):
        widgets.StaticSlider([b"x"], [1, 2], "omega")


def _frames(html):
    """(width, height, src PNG, data-caption) of each frame in a static slider's HTML."""
    tags = re.findall(r"<img [^>]*>", html)
    return [(int(re.search(r' width="(\d+)"', t).group(1)), int(re.search(r' height="(\d+)"', t).group(1)),
             base64.b64decode(re.search(r'base64,([^"]+)"', t).group(1)),
             re.search(r'data-caption="([^"]*)"', t).group(1)) for t in tags]


def test_static_slider_frames_are_rendered_at_twice_the_size_they_are_shown(monkeypatch):
    monkeypatch.setattr(widgets.StaticSlider, "min_width", 0)  # no enlarging of small frames here
    s = widgets.static_slider(_fig, [1, 2], "omega", dpi=50)
    for width, height, png, _ in _frames(s._repr_html_()):
        w, h = widgets.png_size(png)
        assert (width, height) == (round(w / 2), round(h / 2)) and w > 80  # a 1-inch figure at 100 dpi
    one = widgets.static_slider(_fig, [1], "omega", dpi=50, scale=1)
    w1, _ = widgets.png_size(one.frames[0])
    assert abs(widgets.png_size(s.frames[0])[0] / w1 - 2) < 0.1 and _frames(one._repr_html_())[0][0] == w1
    # PNG bytes are taken as rendered at `scale` times their display size
    given = widgets.StaticSlider([one.frames[0]], [1], "omega")
    assert _frames(given._repr_html_())[0][0] == round(w1 / 2)
    with pytest.raises(ValueError, match="not a PNG"):
        widgets.png_size(b"GIF89a" + bytes(30))
    # the frames are stored with a palette where that keeps every pixel, so 2x costs less
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.random.default_rng(0).random((32, 32)), cmap="gray")  # a grey picture
    raw = widgets.figure_png(fig, 100)
    small = widgets.compact_png(raw)
    pixels = [np.asarray(Image.open(io.BytesIO(b)).convert("RGB")) for b in (raw, small)]
    assert len(small) < 0.8 * len(raw) and (pixels[0] == pixels[1]).all()
    coloured = widgets.figure_png(_fig(3), 100)  # an antialiased line: more than 256 colours
    assert widgets.compact_png(coloured) == coloured
    with pytest.raises(ValueError, match="scale"):
        widgets.StaticSlider([one.frames[0]], [1], "omega", scale=0)


def test_every_static_slider_caption_carries_its_value():
    s = widgets.static_slider(_fig, [1, 20, 300], "ω0", captions=["PSNR 20 dB", "", "PSNR 31 dB"])
    captions = [c for *_, c in _frames(s._repr_html_())]
    assert captions == ["ω0 = 1: PSNR 20 dB", "ω0 = 20", "ω0 = 300: PSNR 31 dB"]
    shown = re.search(r'<div class="inr-caption"[^>]*>([^<]*)</div>', s._repr_html_()).group(1)
    assert shown == "ω0 = 20"  # the start frame's line, never an empty caption
    plain = widgets.static_slider(_fig, [0.1, 0.3], "lr")
    assert [c for *_, c in _frames(plain._repr_html_())] == ["lr = 0.1", "lr = 0.3"]


def test_static_slider_value_box_is_as_wide_as_the_longest_value():
    s = widgets.static_slider(_fig, [1, 30, 3000], "ω0")
    box = re.search(r'<b class="inr-value" style="([^"]*)"', s._repr_html_()).group(1)
    assert "display:inline-block" in box
    assert float(re.search(r"min-width:([\d.]+)ch", box).group(1)) >= len("3000")


def test_static_slider_track_stays_put_while_the_value_changes(chromium, tmp_path):
    values = [1, 30, 3000, 0.001, "ReLU + PE"]
    s = widgets.static_slider(_fig, values, "setting", captions=[f"caption {i}" for i in range(5)])
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


def test_live_controls_run_validate_and_report_errors():
    calls = []
    ctl = widgets.live_controls(lambda omega: calls.append(omega),
                            {"omega": w.FloatSlider(value=30, min=1, max=100)},
                            validate=lambda omega: "too small" if omega < 5 else None)
    ctl.click()
    assert calls == [30]
    ctl.controls["omega"].value = 2
    ctl.click()
    assert calls == [30] and "too small" in ctl.message.value

    def boom(omega):
        raise FloatingPointError("loss became nan at step 3")

    bad = widgets.live_controls(boom, {"omega": w.FloatSlider(value=30)})
    bad.click()
    assert "nan at step 3" in bad.message.value and not bad.button.disabled
    bundle = bad._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "Live controls" in bundle["text/html"]


def test_live_note_says_run_the_cell_in_a_frontend_and_where_the_static_sliders_are():
    note = widgets.live_note("above")
    # JupyterLab's sanitizer keeps hidden="hidden" and drops <style>: there only "run the cell" shows;
    # the site keeps the <style>, which swaps the two (checked in a browser in test_lab.py).
    frontend = re.search(r'<span class="inr-in-frontend">([^<]*)</span>', note).group(1)
    site = re.search(r'<span class="inr-on-site" hidden="hidden">(.*?)</span>', note).group(1)
    assert "run the cell" in frontend and "precomputed" not in frontend
    assert "run this notebook" in site and "precomputed sliders are above" in site
    assert "below" in widgets.live_note("below") and "precomputed" not in widgets.live_note()
    with pytest.raises(ValueError, match="above"):
        widgets.live_note("left")
    ctl = widgets.live_controls(lambda n: n, {"n": w.IntSlider(value=3)}, precomputed="below")
    assert ctl._repr_mimebundle_()["text/html"] == widgets.live_note("below")


def test_value_slider_lands_exactly_on_the_values_the_text_names():
    assert widgets.log_grid(1, 300) == [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300]
    assert widgets.log_grid(0.1, 1) == [0.1, 0.2, 0.3, 0.5, 1]
    assert 3000 in widgets.log_grid(10, 30000) and 50 in widgets.log_grid(1, 100)
    s = widgets.value_slider(widgets.log_grid(1, 300), 30, "ω0")
    assert s.value == 30 and s.label == "30" and isinstance(s.value, int)
    # the browser sets the index; the kernel's value is the listed number, not a rounded float
    s.index = s.options.index(("3", 3))
    assert s.value == 3
    with pytest.raises(ValueError, match="not one of"):
        widgets.value_slider([1, 3, 10], 31.6, "ω0")
    with pytest.raises(ValueError, match="0 < lo"):
        widgets.log_grid(0, 10)


def test_options_that_do_not_apply_are_greyed_out_and_ignored_not_refused():
    calls = []
    ctl = widgets.live_controls(
        lambda model, omega: calls.append((model, omega)),
        {"model": w.Dropdown(options=["SIREN", "ReLU"], value="SIREN", description="model"),
         "omega": widgets.value_slider([10, 30, 100], 30, "ω0")},
        applies={"omega": lambda model, **_: model == "SIREN"})
    assert not ctl.controls["omega"].disabled and ctl.ignored.value == ""
    ctl.controls["omega"].value = 100
    ctl.controls["model"].value = "ReLU"
    assert ctl.controls["omega"].disabled and "ignored: ω0" in ctl.ignored.value
    ctl.click()
    assert calls == [("ReLU", 100)] and ctl.message.value == ""
    ctl.reset()
    assert ctl.values() == {"model": "SIREN", "omega": 30} and not ctl.controls["omega"].disabled
    with pytest.raises(ValueError, match="do not exist"):
        widgets.live_controls(lambda n: n, {"n": w.IntSlider()}, applies={"m": lambda **_: True})


def test_an_interrupted_run_ends_with_the_step_it_stopped_at_not_a_traceback():
    image = inr.load_image("camera", size=8)
    view = widgets.TrainingView(image, steps=20, every=5)
    calls = itertools.count(1)

    def loss(net, x, y):  # the reader interrupts the kernel during step 8
        if next(calls) == 8:
            raise KeyboardInterrupt
        return ((net(x) - y) ** 2).mean()

    ctl = widgets.live_controls(lambda n: view.fit(inr.siren(width=8, depth=1, seed=0), loss=loss,
                                                   lr=1e-3), {"n": w.IntSlider(value=1)})
    ctl.click()
    assert "stopped at step 7" in ctl.message.value and "Traceback" not in ctl.message.value
    assert view.progress.bar_style == "warning" and view.progress.value == 7
    assert not ctl.button.disabled and ctl.result is None

    def interrupted(n):
        raise KeyboardInterrupt

    plain = widgets.live_controls(interrupted, {"n": w.IntSlider(value=1)})
    plain.click()
    assert ">stopped<" in plain.message.value


def test_live_controls_keep_the_result_and_name_the_error_type():
    ctl = widgets.live_controls(lambda n: n * 2, {"n": w.IntSlider(value=3)})
    ctl.click()
    assert ctl.result == 6 and ctl.message.value == ""

    def diverge(n):
        raise FloatingPointError("loss became nan")

    bad = widgets.live_controls(diverge, {"n": w.IntSlider(value=3)})
    bad.click()
    assert "FloatingPointError" in bad.message.value and bad.result is None


def test_training_view_redraws_during_fit():
    image = inr.load_image("camera", size=12)
    view = widgets.TrainingView(image, steps=20, every=5, title="test")
    hist = view.fit(inr.siren(width=16, depth=2, seed=0), lr=1e-3)
    assert view.redraws == 4 and view.progress.value == 20 and view.progress.bar_style == "success"
    assert view.image.value[:4] == b"\x89PNG" and view.curve.value[:4] == b"\x89PNG"
    assert "dB" in view.status.value and hist is view.history and len(hist.psnr) == 20
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == widgets.live_note()
    colour = widgets.TrainingView(inr.load_image("astronaut", size=8, grey=False), steps=2, every=1)
    colour.fit(inr.relu_mlp(width=8, depth=1, out_features=3, seed=0), lr=1e-3)
    assert colour.redraws == 2


def test_training_view_rejects_bad_input_and_marks_a_diverged_run():
    image = inr.load_image("camera", size=8)
    with pytest.raises(ValueError, match="steps"):
        widgets.TrainingView(image, steps=0)
    audio = inr.Signal(inr.grid(16), inr.grid(16)[:, :1], (16,))
    with pytest.raises(ValueError, match="draws images"):
        widgets.TrainingView(audio, steps=5, picture=True)
    view = widgets.TrainingView(image, steps=5, every=1)
    with pytest.raises(FloatingPointError):
        view.fit(inr.siren(width=8, depth=2, seed=0), lr=1e12)
    assert view.progress.bar_style == "danger"


def test_live_fit_shows_the_view_then_trains(capsys):
    hist = widgets.live_fit(inr.siren(width=8, depth=1, seed=0), inr.load_image("camera", size=8),
                        steps=3, every=1, lr=1e-3)
    assert len(hist.step) == 3 and "Live training view" in capsys.readouterr().out


def test_small_static_slider_frames_are_shown_larger_up_to_their_rendered_size():
    def fig(inches):
        f, ax = plt.subplots(figsize=(inches, inches))
        ax.plot([0, 1])
        return f

    for inches, dpi in ((1, 50), (3, 72), (8, 72)):  # 50, 216 and 576 px at 1x
        s = widgets.static_slider(lambda _: fig(inches), [1], "omega", dpi=dpi)
        (width, _, png, _), = _frames(s._repr_html_())
        w = widgets.png_size(png)[0]
        assert width == min(w, max(round(w / 2), widgets.StaticSlider.min_width)), (inches, width, w)
        assert width <= w  # never past one image pixel per screen pixel
