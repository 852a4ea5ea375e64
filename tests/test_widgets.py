import re

import ipywidgets as w
import matplotlib.pyplot as plt
import pytest

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
    assert bundle["text/html"] == widgets.STATIC_NOTE
    colour = widgets.TrainingView(inr.load_image("astronaut", size=8, grey=False), steps=2, every=1)
    colour.fit(inr.relu_mlp(width=8, depth=1, out_features=3, seed=0), lr=1e-3)
    assert colour.redraws == 2


def test_training_view_rejects_bad_input_and_marks_a_diverged_run():
    image = inr.load_image("camera", size=8)
    with pytest.raises(ValueError, match="steps"):
        widgets.TrainingView(image, steps=0)
    audio = inr.Signal(inr.grid(16), inr.grid(16)[:, :1], (16,))
    with pytest.raises(ValueError, match="draws images"):
        widgets.TrainingView(audio, steps=5)
    view = widgets.TrainingView(image, steps=5, every=1)
    with pytest.raises(FloatingPointError):
        view.fit(inr.siren(width=8, depth=2, seed=0), lr=1e12)
    assert view.progress.bar_style == "danger"


def test_live_fit_shows_the_view_then_trains(capsys):
    hist = widgets.live_fit(inr.siren(width=8, depth=1, seed=0), inr.load_image("camera", size=8),
                        steps=3, every=1, lr=1e-3)
    assert len(hist.step) == 3 and "Live training view" in capsys.readouterr().out
