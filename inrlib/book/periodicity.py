"""Periodicity and out-of-range behaviour: exact periods of float-valued sine frequencies,
chunked renders of a model far outside its training domain, 2D autocorrelation and its highest
off-centre peak, shift (period) errors, and a measure of linear extrapolation.
"""
import math
import numbers
from fractions import Fraction

import numpy as np
import torch

from ..activations import is_sine
from ..checks import real, whole
from ..evaluation import predict


def _exact(values):
    """Non-zero values as exact Fractions (every finite float is a rational number)."""
    arr = np.asarray(values.detach().cpu() if torch.is_tensor(values) else values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("need at least one frequency")
    if not np.isfinite(arr).all():
        raise ValueError("frequencies must be finite numbers")
    return [abs(Fraction(float(v))) for v in arr.ravel() if v != 0]


def rational_gcd(values) -> Fraction:
    """Greatest common divisor of non-zero rationals (floats are taken exactly): the largest g
    with every value an integer multiple of g. Zeros are ignored; all zero gives 0."""
    fracs = _exact(values)
    if not fracs:
        return Fraction(0)
    den = math.lcm(*(f.denominator for f in fracs))
    return Fraction(math.gcd(*(f.numerator * (den // f.denominator) for f in fracs)), den)


def common_period(freqs) -> float:
    """Smallest T > 0 with sin(f_i (x + T) + c_i) = sin(f_i x + c_i) for every angular frequency
    f_i, when each f_i is taken as the exact rational its float value is: T = 2 pi / gcd(f_i).

    Zero frequencies (constants) are ignored; all zero gives inf (any shift is a period).
    """
    g = rational_gcd(freqs)
    return math.inf if g == 0 else 2 * math.pi / float(g)


def siren_period(model, axis: int = 0):
    """Exact period of a SIREN along coordinate `axis`, and the longest period of any one
    first-layer neuron, for the network's float parameters in exact arithmetic.

    The first layer computes sin(omega (w_i . x + b_i)): along `axis` neuron i has angular
    frequency omega * w_i[axis]; every later layer is a function of these sines, so a common
    period of the first layer is a period of the whole network. Returns (T, longest_neuron).
    """
    acts, linears = getattr(model, "acts", None), getattr(model, "linears", None)
    if not acts or not is_sine(acts[0]) or getattr(model, "encoding", None) is not None:
        raise ValueError("siren_period needs an INR with a sine-family activation (its waves' "
                         "odd harmonics keep the fundamental's period) and no encoding")
    w = linears[0].weight.detach().double().cpu()
    if isinstance(axis, bool) or not isinstance(axis, int) or not 0 <= axis < w.shape[1]:
        raise ValueError(f"axis must be in [0, {w.shape[1]}), got {axis}")
    omega = Fraction(float(acts[0].omega))
    col = w[:, axis].numpy()
    T = common_period([float(omega * Fraction(float(v))) for v in col if v != 0])
    nonzero = np.abs(col[col != 0])
    longest = math.inf if nonzero.size == 0 else 2 * math.pi / (float(omega) * nonzero.min())
    return T, longest


def render_window(model, extent: float, n: int, center=(0.0, 0.0), chunk: int = 65536) -> np.ndarray:
    """Evaluate a 2D-input, 1-output model on an n x n grid over [c - extent, c + extent]^2
    (axis 0 of the array is coordinate 0), `chunk` points at a time: bounded memory."""
    if isinstance(extent, bool) or not isinstance(extent, numbers.Real) or not math.isfinite(extent) \
            or not extent > 0 or isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"render needs extent > 0 and n >= 2 samples, got extent={extent!r}, n={n!r}")
    chunk = whole("chunk", chunk)
    if len(center) != 2 or not all(math.isfinite(float(v)) for v in center):
        raise ValueError(f"center must be two finite numbers, got {center!r}")
    if getattr(model, "in_features", 2) != 2:
        raise ValueError(f"render draws 2D-input models, this one takes {model.in_features} coordinates")
    n = int(n)
    c = torch.as_tensor(center, dtype=torch.float32)
    out = np.empty(n * n, dtype=np.float32)
    # Build the grid one band of rows at a time, so memory stays bounded even for huge n.
    axis = torch.linspace(-extent, extent, n)
    rows = max(1, chunk // n)
    for r0 in range(0, n, rows):
        xs = axis[r0:r0 + rows]
        coords = torch.stack(torch.meshgrid(xs, axis, indexing="ij"), -1).reshape(-1, 2) + c
        y = predict(model, coords, chunk=chunk)
        if y.shape[-1] != 1:
            raise ValueError(f"render draws single-channel models, this one returns {y.shape[-1]}")
        out[r0 * n:(r0 + xs.numel()) * n] = y[:, 0].float().cpu().numpy()
    return out.reshape(n, n)


def autocorrelation(img, max_lag=None) -> np.ndarray:
    """Normalised 2D autocorrelation of an image, zero lag at the centre, value 1 there.

    Linear (not circular): the image is mean-subtracted and zero-padded, each lag's sum is
    divided by its number of overlapping pixels, then by the zero-lag value. Lags run over
    +-max_lag pixels on each axis (default: half the image, so every lag has at least half
    the pixels of the image behind it). Output shape (2 max_lag + 1, 2 max_lag + 1).
    """
    a = np.asarray(img, dtype=np.float64)
    if a.ndim != 2 or min(a.shape) < 3:
        raise ValueError(f"autocorrelation takes a 2D image of at least 3 x 3, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("the image contains NaN or infinite values")
    a = a - a.mean()
    if not np.any(a):
        raise ValueError("the image is constant: its autocorrelation is undefined")
    n0, n1 = a.shape
    m = min(n0, n1) // 2 if max_lag is None else whole("max_lag", max_lag)
    if not 1 <= m < min(n0, n1):
        raise ValueError(f"max_lag must be in [1, {min(n0, n1) - 1}], got {max_lag}")
    s = (2 * n0, 2 * n1)
    power = np.fft.irfft2(np.abs(np.fft.rfft2(a, s=s)) ** 2, s=s)
    overlap = np.outer(n0 - np.abs(np.fft.fftfreq(s[0], 1 / s[0])), n1 - np.abs(np.fft.fftfreq(s[1], 1 / s[1])))
    acf = np.fft.fftshift(power / np.maximum(overlap, 1))
    acf = acf[n0 - m:n0 + m + 1, n1 - m:n1 + m + 1]
    return acf / acf[m, m]


def central_lobe_radius(acf, level: float = 0.5) -> float:
    """Radius in pixels of the autocorrelation's central lobe: the farthest lag of the connected
    region around zero lag where the autocorrelation stays >= level."""
    from scipy import ndimage

    acf = np.asarray(acf)
    level = real("level", level)
    if acf.ndim != 2 or acf.shape[0] % 2 == 0 or acf.shape[1] % 2 == 0:
        raise ValueError(f"expected an autocorrelation of odd shape (2m+1, 2m+1), got {acf.shape}")
    c0, c1 = acf.shape[0] // 2, acf.shape[1] // 2
    if not acf[c0, c1] >= level:
        raise ValueError(f"the zero lag's value {acf[c0, c1]:.3g} is below level={level}: pass an "
                         "autocorrelation (value 1 at the centre) and a level <= 1")
    labels, _ = ndimage.label(acf >= level)
    yy, xx = np.nonzero(labels == labels[c0, c1])
    return float(np.hypot(yy - c0, xx - c1).max())


def off_centre_peak(acf, exclude=None):
    """Highest autocorrelation value farther than `exclude` pixels from zero lag, and its lag.

    `exclude` defaults to the central lobe's radius (at level 0.5) plus one pixel, so that the
    peak found is a repetition of the pattern, not the zero-lag peak's own shoulder.
    Returns (value, (lag0, lag1)) with lags in pixels.
    """
    acf = np.asarray(acf)
    if acf.ndim != 2 or acf.shape[0] % 2 == 0 or acf.shape[1] % 2 == 0:
        raise ValueError(f"expected an autocorrelation of odd shape (2m+1, 2m+1), got {acf.shape}")
    c0, c1 = acf.shape[0] // 2, acf.shape[1] // 2
    exclude = central_lobe_radius(acf) + 1 if exclude is None else real("exclude", exclude, 0.0, strict=False)
    yy, xx = np.mgrid[:acf.shape[0], :acf.shape[1]]
    outside = np.hypot(yy - c0, xx - c1) > exclude
    if not outside.any():
        raise ValueError(f"nothing lies farther than {exclude:g} px from zero lag in a {acf.shape} "
                         "autocorrelation: the central lobe fills the window")
    masked = np.where(outside, acf, -np.inf)
    i0, i1 = np.unravel_index(np.argmax(masked), acf.shape)
    return float(acf[i0, i1]), (int(i0 - c0), int(i1 - c1))


def shift_error(model, coords, shift, chunk: int = 65536) -> float:
    """max |f(x + shift) - f(x)| over `coords`: zero (to rounding) when `shift` is a period.

    `model` is a torch module (evaluated with inrlib.predict, in the coordinates' dtype) or a
    plain function of an (N, d) tensor; `shift` is a number (1D) or a length-d vector.
    """
    coords = torch.as_tensor(coords)
    if coords.dim() != 2:
        raise ValueError(f"coords must be an (N, d) array, got shape {tuple(coords.shape)}")
    s = torch.as_tensor(shift, dtype=coords.dtype).reshape(-1)
    if not torch.isfinite(s).all():
        raise ValueError(f"shift must be finite, got {shift!r}")
    if s.numel() not in (1, coords.shape[1]):
        raise ValueError(f"shift has {s.numel()} components for {coords.shape[1]}-d coordinates")
    has_params = isinstance(model, torch.nn.Module) and any(True for _ in model.parameters())
    f = (lambda x: predict(model, x, chunk=chunk)) if has_params else model
    with torch.no_grad():
        return float((f(coords + s) - f(coords)).abs().max())


def linear_fit_residual(t, y) -> np.ndarray:
    """Fit y = a + b t by least squares (each row of y separately) and return, per row, the
    largest absolute residual divided by the row's range max(y) - min(y).

    Near 0 (float rounding) means the row is a straight line; a curved row gives a few per cent
    or more.
    """
    t = np.asarray(t, dtype=np.float64)
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    if t.ndim != 1 or y.shape[-1] != t.size or t.size < 3:
        raise ValueError(f"need >= 3 sample positions t and rows y of the same length, "
                         f"got t {t.shape}, y {y.shape}")
    A = np.stack([np.ones_like(t), t], axis=1)
    coef, *_ = np.linalg.lstsq(A, y.T, rcond=None)
    resid = np.abs(y - (A @ coef).T).max(axis=1)
    span = y.max(axis=1) - y.min(axis=1)
    return resid / np.maximum(span, np.finfo(np.float64).tiny)


def ray_linearity(model, radii=(25.0, 50.0), n_rays: int = 64, n_samples: int = 101,
                  seed: int = 0, chunk: int = 65536):
    """Sample a 2D-input model along `n_rays` rays from the origin (random directions) at
    `n_samples` distances in `radii`, and return linear_fit_residual per ray: how far each
    profile is from a straight line. A ReLU network is piecewise linear, so far enough out
    almost every ray lies in one linear piece and its residual is rounding-level."""
    r0, r1 = (real(f"radii[{i}]", r) for i, r in enumerate(radii))
    n_rays, n_samples = whole("n_rays", n_rays), whole("n_samples", n_samples, low=3)
    if not 0 <= r0 < r1:
        raise ValueError(f"need 0 <= r0 < r1, n_rays >= 1, n_samples >= 3; got radii={radii}, "
                         f"n_rays={n_rays}, n_samples={n_samples}")
    gen = torch.Generator().manual_seed(seed)
    angles = 2 * math.pi * torch.rand(n_rays, generator=gen)
    d = torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    t = torch.linspace(r0, r1, n_samples)
    coords = (d[:, None, :] * t[None, :, None]).reshape(-1, 2)
    y = predict(model, coords, chunk=chunk)[:, 0].reshape(n_rays, n_samples)
    return linear_fit_residual(t.numpy(), y.double().cpu().numpy())
