import math
from fractions import Fraction

import numpy as np
import pytest
import torch

import inrlib as inr
from inrlib.book.periodicity import (autocorrelation, central_lobe_radius, common_period,
                                linear_fit_residual, off_centre_peak, rational_gcd, ray_linearity,
                                render_window, shift_error, siren_period)

PI32 = float(np.float32(math.pi))  # 13176795 / 2**22


def test_rational_gcd_is_exact_and_ignores_zeros():
    assert rational_gcd([0.5, 0.75, 0.0, -1.25]) == Fraction(1, 4)
    assert rational_gcd([3.0, 4.5]) == Fraction(3, 2)
    assert rational_gcd([0.0]) == 0
    assert Fraction(PI32) == Fraction(13176795, 2**22)
    assert rational_gcd([1.0, PI32]) == Fraction(1, 2**22)
    with pytest.raises(ValueError, match="finite"):
        rational_gcd([1.0, float("nan")])


def test_common_period_of_two_sines():
    assert common_period([1.0, 2.0]) == pytest.approx(2 * math.pi, rel=1e-15)
    assert common_period([2.0, 3.0]) == pytest.approx(2 * math.pi, rel=1e-15)
    assert common_period([0.0]) == math.inf
    T = common_period([1.0, PI32])
    assert T == pytest.approx(2 * math.pi * 2**22, rel=1e-15)
    x = torch.linspace(-3, 3, 1001, dtype=torch.float64)[:, None]

    def f(v):
        return torch.sin(v) + torch.sin(PI32 * v)

    assert shift_error(f, x, T) < 1e-6  # float64 rounding of arguments near 1e8
    assert shift_error(f, x, T / 2) > 0.5
    assert 5e-5 < shift_error(f, x, 2 * math.pi * 113) < 1e-3  # 113 pi ~ 355: close, not exact


def test_siren_period_is_a_period_of_the_whole_network():
    m = inr.siren(width=16, depth=2, seed=0)
    T, longest = siren_period(m, axis=0)
    assert longest < 1e3 < T < 1e13  # far longer than any neuron's own period
    m64 = inr.siren(width=16, depth=2, seed=0).double()
    x = torch.rand(200, 2, dtype=torch.float64) * 2 - 1
    assert shift_error(m64, x, [T, 0.0]) < 1e-3
    assert shift_error(m64, x, [T / 2, 0.0]) > 0.01
    assert shift_error(m64, x, [T * 0.999999, 0.0]) > 0.01
    # a square wave's odd harmonics keep its fundamental's period
    sq = inr.INR(activation="square", n_modes=3, width=8, depth=2, seed=0).double()
    Ts, _ = siren_period(sq, axis=1)
    assert shift_error(sq, x, [0.0, Ts]) < 1e-3 and shift_error(sq, x, [0.0, Ts / 2]) > 0.01
    with pytest.raises(ValueError, match="sine-family"):
        siren_period(inr.relu_mlp(width=8, depth=1))
    with pytest.raises(ValueError, match="axis"):
        siren_period(m, axis=2)


def test_render_matches_the_grid_and_is_chunked():
    m = inr.siren(width=16, depth=2, seed=1)
    img = render_window(m, extent=3.0, n=9, chunk=20)  # 20 points per chunk: several bands
    ref = inr.predict(m, inr.grid((9, 9), (-3.0, 3.0)))[:, 0].reshape(9, 9).numpy()
    assert img.shape == (9, 9)
    np.testing.assert_allclose(img, ref, atol=1e-6)
    shifted = render_window(m, extent=1.0, n=5, center=(10.0, -2.0))
    ref = inr.predict(m, inr.grid((5, 5), (-1.0, 1.0)) + torch.tensor([10.0, -2.0]))
    np.testing.assert_allclose(shifted, ref[:, 0].reshape(5, 5).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="extent > 0"):
        render_window(m, extent=0, n=8)


def test_autocorrelation_finds_the_period_of_a_periodic_image():
    i = np.arange(96)
    img = np.cos(2 * np.pi * i / 12)[:, None] * np.cos(2 * np.pi * i / 8)[None, :]
    acf = autocorrelation(img)
    assert acf.shape == (97, 97) and acf[48, 48] == pytest.approx(1.0)
    value, lag = off_centre_peak(acf)
    assert value > 0.99 and lag[0] % 12 == 0 and lag[1] % 8 == 0 and lag != (0, 0)
    assert central_lobe_radius(acf) < 4


def test_autocorrelation_of_noise_has_no_off_centre_peak():
    img = np.random.default_rng(0).standard_normal((128, 128))
    value, _ = off_centre_peak(autocorrelation(img))
    assert value < 0.1


@pytest.mark.parametrize("img, match", [(np.ones((8, 8)), "constant"), (np.ones(8), "2D image"),
                                        (np.full((8, 8), np.nan), "NaN")])
def test_autocorrelation_rejects_bad_images(img, match):
    with pytest.raises(ValueError, match=match):
        autocorrelation(img)


def test_positional_encoding_without_raw_input_has_period_two():
    pe = inr.PositionalEncoding(2, L=5, include_input=False).double()
    x = torch.rand(500, 2, dtype=torch.float64) * 100 - 50
    # Its frequencies are 2^k fl(pi), float32's pi: the exact period is 2 pi / fl(pi), not 2.
    T = common_period(pe.freqs)
    assert T == pytest.approx(2 * math.pi / PI32, rel=1e-15) and 0 < abs(T - 2) < 1e-6
    assert shift_error(pe, x, [T, 0.0]) < 1e-10 and shift_error(pe, x, [0.0, -T]) < 1e-10
    assert shift_error(pe, x, [2.0, 0.0]) < 1e-5  # 2 is a period to float32 tolerance
    assert shift_error(pe, x, [1.0, 0.0]) > 1.0  # sin(pi x) changes sign
    with_input = inr.PositionalEncoding(2, L=5, include_input=True).double()
    assert shift_error(with_input, x, [2.0, 0.0]) == pytest.approx(2.0)  # the raw x moves by 2


def test_linear_fit_residual():
    t = np.linspace(0, 1, 50)
    res = linear_fit_residual(t, np.stack([3 * t - 1, t**2, np.sin(8 * t)]))
    assert res[0] < 1e-12 and 0.05 < res[1] < 0.2 and res[2] > 0.2
    with pytest.raises(ValueError, match=">= 3"):
        linear_fit_residual([0, 1], [[0, 1]])


def test_relu_extrapolates_linearly_and_siren_does_not():
    relu = ray_linearity(inr.relu_mlp(width=32, depth=3, seed=0), radii=(300, 600), n_rays=32)
    sine = ray_linearity(inr.siren(width=32, depth=3, seed=0), radii=(30, 60), n_rays=32)
    assert np.median(relu) < 1e-5 and np.mean(relu < 1e-4) > 0.8
    assert sine.min() > 0.1


def test_relu_with_positional_encoding_without_raw_input_is_periodic():
    m = inr.relu_mlp(L=4, include_input=False, width=16, depth=2, seed=0).double()
    assert m.encoding.out_features == 2 * 2 * 4 and m.config.encoding["include_input"] is False
    x = torch.rand(300, 2, dtype=torch.float64) * 2 - 1
    T = common_period(m.encoding.freqs)
    assert shift_error(m, x, [T, -3 * T]) < 1e-12
    assert shift_error(m, x, [2.0, 2.0]) < 1e-5
    with_x = inr.relu_mlp(L=4, width=16, depth=2, seed=0).double()
    assert shift_error(with_x, x, [2.0, 0.0]) > 1e-3  # the raw coordinate breaks the period
