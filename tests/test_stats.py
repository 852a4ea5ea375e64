"""Statistics of networks at init (goodness of fit, spectra, per-layer traces) and of runs."""
import math

import numpy as np
import pytest
import torch

import inrlib as inr
from inrlib.book import stats as st


def test_ks_distances_tell_the_laws_apart():
    rng = np.random.default_rng(0)
    z = rng.standard_normal(100_000)
    y = np.sin(rng.uniform(-math.pi, math.pi, 100_000))
    assert st.ks_normal(z) < 0.01 and st.ks_normal(2 * z) > 0.15
    assert st.ks_normal(2 * z, std=2) < 0.01
    assert st.ks_arcsine(y) < 0.01 and st.ks_arcsine(np.tanh(0.3 * z)) > 0.2
    assert st.ks_arcsine(np.sin(z)) > 0.03  # sin of N(0,1) is only close to arcsine
    with pytest.raises(ValueError, match="NaN"):
        st.ks_normal(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="std"):
        st.ks_normal(z, std=0)


def test_densities():
    y = np.linspace(-0.999999, 0.999999, 200_001)
    assert np.trapezoid(st.arcsine_pdf(y), y) == pytest.approx(1.0, abs=0.01)
    assert st.arcsine_pdf(np.array([1.5, -2.0])).tolist() == [0.0, 0.0]
    assert st.arcsine_cdf(0.0) == pytest.approx(0.5)
    assert st.normal_pdf(0.0) == pytest.approx(1 / math.sqrt(2 * math.pi))


def test_spectrum_finds_the_frequency():
    x = torch.linspace(-1, 1, 1001)[:-1]
    spacing = 2 / 1000
    v = torch.stack([torch.sin(2 * math.pi * 7 * x), torch.cos(2 * math.pi * 7 * x)], 1)
    f, p = st.spectrum(v, spacing)
    assert f[np.argmax(p)] == pytest.approx(7.0)
    assert p[np.argmax(p)] > 1e3 * np.delete(p, np.argmax(p)).max()
    with pytest.raises(ValueError, match="spacing"):
        st.spectrum(v, 0)


def test_layer_stats_at_the_paper_init():
    n = 512
    m = inr.siren(in_features=1, width=n, depth=3, seed=0)
    x = torch.linspace(-1, 1, 2048)[:, None]
    ss = st.layer_stats(m, x)
    assert [s.layer for s in ss] == [1, 2, 3]
    for s in ss[1:]:
        assert s.arg_std == pytest.approx(math.sqrt(1 + 900 / (3 * n)), rel=0.06)
        assert s.ks_normal < 0.12 and s.ks_arcsine < 0.08 and s.ks_normal_own < 0.05
        assert s.freqs is not None and len(s.freqs) == len(s.out_power) == 1025
    # d mean(output) / d h_last = W_out / N for every point
    w_out = m.linears[-1].weight[0].detach().numpy()
    assert np.allclose(np.sort(np.unique(np.round(ss[-1].out_grad * 2048, 5))),
                       np.sort(np.unique(np.round(w_out, 5))), atol=1e-4)
    assert ss[-1].arg_grad is not None and np.isfinite(ss[-1].arg_grad).all()


def test_layer_stats_no_spectrum_in_2d_and_needs_sines():
    ss = st.layer_stats(inr.siren(width=64, depth=2, seed=0), torch.rand(100, 2))
    assert ss[0].freqs is None
    with pytest.raises(ValueError, match="sine"):
        st.layer_stats(inr.relu_mlp(width=8, depth=2), torch.rand(10, 2))


def _hist(losses):
    h = inr.History()
    for i, v in enumerate(losses, 1):
        h.step.append(i)
        h.loss.append(v)
        h.seconds.append(0.1 * i)
    return h


def test_threshold_summaries():
    a, b, c = _hist([1, 0.5, 0.1, 0.01]), _hist([1, 0.05, 0.01, 0.001]), _hist([1, 1, 1, 0.5])
    s = st.steps_to_thresholds([a, b, c], (0.6, 0.02))
    assert s[0].tolist() == [2, 4] and s[1].tolist() == [2, 3]
    assert s[2, 0] == 4 and np.isnan(s[2, 1])
    rows = st.summarize_thresholds({"x": [a, b], "y": [c]}, (0.6, 0.02), seconds_per_step=0.5)
    assert rows[0]["steps"][1] == (3.5, 0.5, 2) and rows[0]["seconds"][1] == 1.75
    assert rows[1]["steps"][1][2] == 0 and math.isnan(rows[1]["steps"][1][0])
    assert rows[1]["final_loss"] == (0.5, 0.0)
    with pytest.raises(ValueError, match="no runs"):
        st.summarize_thresholds({"z": []}, (0.1,))


def test_median_frequency_and_plot():
    f = np.arange(6.0)
    assert st.median_frequency(f, [9, 1, 1, 1, 1, 0]) == 2.0  # the zero frequency is ignored
    assert st.median_frequency(f, [0, 0, 0, 0, 5, 0]) == 4.0
    with pytest.raises(ValueError, match="non-negative"):
        st.median_frequency(f, np.zeros(6))
    ss = st.layer_stats(inr.siren(in_features=1, width=32, depth=2, seed=0), torch.linspace(-1, 1, 64)[:, None])
    fig = st.plot_layer_stats(ss, "t", [2])
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="none of the layers"):
        st.plot_layer_stats(ss, "t", [5])
