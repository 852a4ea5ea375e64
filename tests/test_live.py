"""The live-controls component and its training view, in a kernel-less Python (the browser
side is tests/test_lab.py)."""
import itertools
import math
import os
import re

import ipywidgets as w
import pytest
import torch

import inrlib as inr
from inrlib.book import images, live

def test_live_controls_run_validate_and_report_errors():
    calls = []
    ctl = live.live_controls(lambda omega: calls.append(omega),
                            {"omega": w.IntSlider(value=30, min=1, max=100)},
                            validate=lambda omega: "too small" if omega < 5 else None)
    ctl.click()
    assert calls == [30]
    ctl.controls["omega"].value = 2
    ctl.click()
    assert calls == [30] and "too small" in ctl.message.value

    def boom(omega):
        raise FloatingPointError("loss became nan at step 3")

    bad = live.live_controls(boom, {"omega": w.IntSlider(value=30)})
    bad.click()
    assert "nan at step 3" in bad.message.value and not bad.button.disabled
    bundle = bad._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "Live controls" in bundle["text/html"]


def test_live_note_says_run_the_cell_in_a_frontend_and_where_the_static_sliders_are():
    note = live.live_note("above")
    # JupyterLab's sanitizer keeps hidden="hidden" and drops <style>: there only "run the cell" shows;
    # the site keeps the <style>, which swaps the two (checked in a browser in test_lab.py).
    frontend = re.search(r'<span class="inr-in-frontend">([^<]*)</span>', note).group(1)
    site = re.search(r'<span class="inr-on-site" hidden="hidden">(.*?)</span>', note).group(1)
    assert "run the cell" in frontend and "precomputed" not in frontend
    assert "run this notebook" in site and "precomputed sliders are above" in site
    assert "below" in live.live_note("below") and "precomputed" not in live.live_note()
    with pytest.raises(ValueError, match="above"):
        live.live_note("left")
    ctl = live.live_controls(lambda n: n, {"n": w.IntSlider(value=3)}, precomputed="below")
    assert ctl._repr_mimebundle_()["text/html"] == live.live_note("below")


def test_value_slider_lands_exactly_on_the_values_the_text_names():
    assert live.log_grid(1, 300) == [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300]
    assert live.log_grid(0.1, 1) == [0.1, 0.2, 0.3, 0.5, 1]
    assert 3000 in live.log_grid(10, 30000) and 50 in live.log_grid(1, 100)
    s = live.value_slider(live.log_grid(1, 300), 30, "ω0")
    assert s.value == 30 and s.label == "30" and isinstance(s.value, int)
    # the browser sets the index; the kernel's value is the listed number, not a rounded float
    s.index = s.options.index(("3", 3))
    assert s.value == 3
    with pytest.raises(ValueError, match="not one of"):
        live.value_slider([1, 3, 10], 31.6, "ω0")
    with pytest.raises(ValueError, match="0 < lo"):
        live.log_grid(0, 10)


def test_options_that_do_not_apply_are_greyed_out_and_ignored_not_refused():
    calls = []
    ctl = live.live_controls(
        lambda model, omega: calls.append((model, omega)),
        {"model": w.Dropdown(options=["SIREN", "ReLU"], value="SIREN", description="model"),
         "omega": live.value_slider([10, 30, 100], 30, "ω0")},
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
        live.live_controls(lambda n: n, {"n": w.IntSlider()}, applies={"m": lambda **_: True})


def test_an_interrupted_run_ends_with_the_step_it_stopped_at_not_a_traceback():
    image = inr.load_image("camera", size=8)
    view = live.TrainingView(image, steps=20, every=5)
    calls = itertools.count(1)

    def loss(net, x, y):  # the reader interrupts the kernel during step 8
        if next(calls) == 8:
            raise KeyboardInterrupt
        return ((net(x) - y) ** 2).mean()

    ctl = live.live_controls(lambda n: view.fit(inr.siren(width=8, depth=1, seed=0), loss=loss,
                                                   lr=1e-3), {"n": w.IntSlider(value=1)})
    ctl.click()
    assert "stopped at step 7" in ctl.message.value and "Traceback" not in ctl.message.value
    assert view.progress.bar_style == "warning" and view.progress.value == 7
    assert not ctl.button.disabled and ctl.result is None

    def interrupted(n):
        raise KeyboardInterrupt

    plain = live.live_controls(interrupted, {"n": w.IntSlider(value=1)})
    plain.click()
    assert ">stopped (not during training)<" in plain.message.value


def test_live_controls_keep_the_result_and_name_the_error_type():
    ctl = live.live_controls(lambda n: n * 2, {"n": w.IntSlider(value=3)})
    ctl.click()
    assert ctl.result == 6 and ctl.message.value == ""

    def diverge(n):
        raise FloatingPointError("loss became nan")

    bad = live.live_controls(diverge, {"n": w.IntSlider(value=3)})
    bad.click()
    assert "FloatingPointError" in bad.message.value and bad.result is None


def test_training_view_redraws_during_fit():
    image = inr.load_image("camera", size=12)
    view = live.TrainingView(image, steps=20, every=5, title="test")
    hist = view.fit(inr.siren(width=16, depth=2, seed=0), lr=1e-3)
    assert view.redraws == 5 and view.progress.value == 20 and view.progress.bar_style == "success"
    assert view.image.value[:4] == b"\x89PNG" and view.curve.value[:4] == b"\x89PNG"
    assert "PSNR" in view.status.value and "dB" in view.status.value and hist is view.history and len(hist.psnr) == 20
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == live.live_note()
    colour = live.TrainingView(inr.load_image("astronaut", size=8, grey=False), steps=2, every=1)
    colour.fit(inr.relu_mlp(width=8, depth=1, out_features=3, seed=0), lr=1e-3)
    assert colour.redraws == 2


def test_training_view_rejects_bad_input_and_marks_a_diverged_run():
    image = inr.load_image("camera", size=8)
    with pytest.raises(ValueError, match="steps"):
        live.TrainingView(image, steps=0)
    audio = inr.Signal(inr.grid(16), inr.grid(16)[:, :1], (16,))
    with pytest.raises(ValueError, match="draws images"):
        live.TrainingView(audio, steps=5, picture=True)
    view = live.TrainingView(image, steps=5, every=1)
    with pytest.raises(FloatingPointError):
        view.fit(inr.siren(width=8, depth=2, seed=0), lr=1e12)
    assert view.progress.bar_style == "danger"


def test_live_fit_shows_the_view_then_trains(capsys):
    hist = live.live_fit(inr.siren(width=8, depth=1, seed=0), inr.load_image("camera", size=8),
                        steps=3, every=1, lr=1e-3)
    assert len(hist.step) == 3 and "Live training view" in capsys.readouterr().out


def test_float_sliders_are_refused_and_controls_wrap_at_a_draggable_width():
    for slider in (w.FloatSlider(value=30, description="ω0"), w.FloatLogSlider(value=30)):
        with pytest.raises(TypeError, match="value_slider"):
            live.live_controls(lambda omega: omega, {"omega": slider})
    narrow = w.IntSlider(value=3, layout=w.Layout(width="200px"))
    ctl = live.live_controls(lambda a, b, c, d, e: 0, {
        "a": live.value_slider(live.log_grid(1, 300), 30, "ω0"), "b": w.IntSlider(value=3),
        "c": w.Dropdown(options=["x", "y"]), "d": narrow, "e": w.IntSlider(value=1)})
    row = ctl.box.children[0]
    assert row.layout.flex_flow == "row wrap" and list(row.children) == list(ctl.controls.values())
    widths = [c.layout.width for c in ctl.controls.values()]
    assert widths == [live.CONTROL_WIDTH] * 3 + ["200px", live.CONTROL_WIDTH]  # a set width is kept
    assert ctl.controls["a"].label == "30"


def test_demo_runs_then_resets_and_fails_loudly():
    calls = []
    ctl = live.live_controls(lambda n, m: calls.append((n, m)) or n * m,
                             {"n": w.IntSlider(value=300, max=1000), "m": w.IntSlider(value=2)},
                             validate=lambda n, m: "too many" if n > 500 else None)
    assert ctl.demo(n=20) == 40 and calls == [(20, 2)]
    assert ctl.values() == {"n": 300, "m": 2} and ctl.message.value == "" and ctl.result == 40
    with pytest.raises(RuntimeError, match="too many"):
        ctl.demo(n=600)
    assert ctl.values() == {"n": 300, "m": 2} and ctl.result is None
    with pytest.raises(ValueError, match="do not exist"):
        ctl.demo(steps=20)


def test_a_live_run_shows_no_progress_bar_but_its_own():
    seen = []
    os.environ["INR_PROGRESS"] = "1"
    try:
        ctl = live.live_controls(lambda n: seen.append(os.environ.get("INR_PROGRESS")),
                                 {"n": w.IntSlider(value=1)})
        ctl.click()
        assert seen == ["0"] and os.environ["INR_PROGRESS"] == "1"
    finally:
        os.environ["INR_PROGRESS"] = "0"  # tests/conftest.py's setting


def test_the_metric_is_named_for_what_it_is():
    audio = inr.Signal(inr.grid(64), torch.sin(7 * inr.grid(64)[:, :1]), (64,))
    model = inr.siren(in_features=1, width=8, depth=1, seed=0)
    view = live.TrainingView(audio, steps=3, every=1)
    hist = view.fit(model, lr=1e-4)
    name, unit, values = view.measure(hist)
    assert (name, unit) == ("SNR", "dB") and "SNR" in view.status.value and len(values) == 3
    # SNR from the MSE is inr.snr: 10 log10(sum target² / sum error²)
    pred = inr.predict(model, audio.coords)
    one = inr.History(step=[1], loss=[inr.mse(pred, audio.values)], psnr=[0.0])
    assert math.isclose(view.measure(one)[2][0], inr.snr(pred, audio.values), abs_tol=1e-4)
    image = live.TrainingView(inr.load_image("camera", size=8), steps=1)
    assert image.metric == "PSNR"
    # a loss that is not the MSE on values (a derivative or SDF loss): the loss itself, log scale
    pair = live.TrainingView((audio.coords, audio.values), steps=2, every=1)
    pair.fit(inr.siren(in_features=1, width=8, depth=1, seed=0), lr=1e-4,
             loss=lambda net, x, y: ((net(x) - y) ** 2).mean() + 0.0)
    assert pair.status.value.startswith("loss ") and "dB" not in pair.status.value
    with pytest.raises(ValueError, match="metric"):
        live.TrainingView(audio, steps=2, metric="SSIM")
    with pytest.raises(TypeError, match="Signal or a"):
        live.TrainingView(audio.coords, steps=2)


def test_the_curve_is_drawn_from_the_first_tick_then_every_every_steps():
    image = inr.load_image("camera", size=8)
    view = live.TrainingView(image, steps=1000, every=100, picture=False)
    model = inr.siren(width=8, depth=1, seed=0)
    hist = inr.History(step=[1], loss=[0.1], psnr=[16.0], seconds=[0.1])
    drawn = []
    for step in (10, 20, 100, 110, 200, 1000):
        view.callback(step, model, hist)
        drawn.append(view.redraws)
    assert drawn == [1, 1, 1, 2, 2, 3]


def test_the_run_length_refusal_is_calibrated_on_the_device(monkeypatch):
    monkeypatch.setattr(images, "_rates", {"cpu": 1e10})
    assert images.too_long(5e11, "cpu") is None  # 50 s
    said = images.too_long(1e12, "cpu")  # 100 s
    assert said.startswith("about 100 s on this CPU") and "60 s" in said
    monkeypatch.setattr(images, "_rates", {})
    rate = images.training_rate("cpu")
    assert rate > 1e8 and images._rates == {"cpu": rate}  # measured once
