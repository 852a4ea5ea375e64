import re

import ipywidgets as w
import matplotlib.pyplot as plt
import pytest

import inrlib as inr


def _fig(v):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, v])
    return fig


def test_static_slider_html_is_self_contained():
    s = inr.static_slider(_fig, [1, 2, 3], "omega", captions=["a", "b", "c"])
    html = s._repr_html_()
    assert html.count("<img") == 3 and html.count("data:image/png;base64,") == 3
    assert 'type="range"' in html and "<script" not in html and "http" not in html
    assert re.search(r'max="2"', html)
    with pytest.raises(ValueError, match="one frame per value"):
        inr.StaticSlider([b"x"], [1, 2], "omega")


def test_live_controls_run_validate_and_report_errors():
    calls = []
    ctl = inr.live_controls(lambda omega: calls.append(omega),
                            {"omega": w.FloatSlider(value=30, min=1, max=100)},
                            validate=lambda omega: "too small" if omega < 5 else None)
    ctl.click()
    assert calls == [30]
    ctl.controls["omega"].value = 2
    ctl.click()
    assert calls == [30] and "too small" in ctl.message.value

    def boom(omega):
        raise FloatingPointError("loss became nan at step 3")

    bad = inr.live_controls(boom, {"omega": w.FloatSlider(value=30)})
    bad.click()
    assert "nan at step 3" in bad.message.value and not bad.button.disabled
    bundle = bad._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "Live controls" in bundle["text/html"]
