"""Spectral bias over training: how fast each frequency of a target is learnt.

- `sum_of_sines`, `frequency_amplitudes`, `frequency_convergence`, `steps_to_learn`: the
  residual's Fourier amplitude at each target frequency of a 1D signal, over steps.
- `fit_tracked`: `inr.fit` with probes evaluated every few steps (and before the first step).
- `random_image`: independent uniform pixels (every frequency equally present).
"""
import math

import numpy as np
import torch

from ..grids import grid
from ..signals import Signal
from ..training import fit


# ---------------------------------------------------------------- 1D spectral bias

def sum_of_sines(n, freqs, amplitudes=1.0, seed=0, coord_range=(-1.0, 1.0)) -> Signal:
    """y(x) = sum_k A_k sin(2 pi f_k t + phi_k), t = (x - lo) / (hi - lo), on n periodic samples.

    `freqs` are whole numbers of cycles over the coordinate range; phases are uniform random
    (seeded). Samples are x_j = lo + (hi - lo) j / n (the right end is left out, so the signal
    is exactly periodic and each frequency falls on one FFT bin).
    """
    freqs = np.asarray(freqs, dtype=np.int64)
    if freqs.ndim != 1 or freqs.size == 0 or (freqs < 1).any():
        raise ValueError(f"freqs must be a non-empty list of whole numbers >= 1, got {freqs}")
    if 2 * freqs.max() >= n:
        raise ValueError(f"{n} samples cannot represent frequency {freqs.max()} "
                         f"(needs n > {2 * freqs.max()}, the Nyquist limit)")
    amps = np.broadcast_to(np.asarray(amplitudes, dtype=np.float64), freqs.shape)
    lo, hi = coord_range
    if not hi > lo:
        raise ValueError(f"coord_range must be (low, high) with low < high, got {coord_range}")
    phases = np.random.default_rng(seed).uniform(0, 2 * math.pi, freqs.size)
    t = np.arange(n) / n
    y = (amps[:, None] * np.sin(2 * math.pi * freqs[:, None] * t + phases[:, None])).sum(0)
    x = torch.from_numpy(lo + (hi - lo) * t).float()[:, None]
    peak = float(np.abs(amps).sum())
    return Signal(x, torch.from_numpy(y).float()[:, None], (n,), (-peak, peak), tuple(coord_range),
                  meta={"name": "sum of sines", "freqs": freqs.tolist(),
                        "amplitudes": amps.tolist(), "phases": phases.tolist()})


def frequency_amplitudes(values, freqs) -> np.ndarray:
    """Amplitude of each whole frequency in periodic samples: 2 |DFT_k| / n.

    `values` is (n,), (n, 1) or (batch, n); returns (K,) or (batch, K). A unit sine at
    frequency k gives 1 at k and 0 elsewhere.
    """
    v = values.detach().float().cpu().numpy() if torch.is_tensor(values) else np.asarray(values, float)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim not in (1, 2):
        raise ValueError(f"expected samples of shape (n,), (n, 1) or (batch, n), got {v.shape}")
    n = v.shape[-1]
    freqs = np.asarray(freqs, dtype=np.int64)
    if (freqs < 0).any() or (2 * freqs >= n).any():
        raise ValueError(f"frequencies must lie in [0, n/2) for n = {n} samples, got {freqs}")
    spec = np.abs(np.fft.rfft(v, axis=-1)) * 2 / n
    spec[..., 0] /= 2  # the mean is not doubled
    return spec[..., freqs]


def fit_tracked(model, signal, *, steps, every, probes, **fit_kw):
    """`inr.fit(model, signal, steps=...)`, evaluating `probes` before training and every `every` steps.

    probes: {name: fn(model) -> value}. Returns (history, record) where record["step"] holds
    the steps (0 first) and record[name] the values, one per step listed.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if not probes:
        raise ValueError("fit_tracked needs at least one probe")
    record = {"step": [0], **{name: [fn(model)] for name, fn in probes.items()}}

    def callback(step, m, history):
        record["step"].append(step)
        for name, fn in probes.items():
            record[name].append(fn(m))

    history = fit(model, signal, steps=steps, callback=callback, callback_every=every, **fit_kw)
    return history, record


def frequency_convergence(model, signal, *, steps, every, lr=1e-3, freqs=None, **fit_kw):
    """Train on a `sum_of_sines` signal and follow the residual at each of its frequencies.

    Returns (steps (T,), relative residual amplitudes (T, K), history): entry [t, k] is the
    amplitude of (target - prediction) at frequency k after steps[t] steps, divided by the
    target's own amplitude there (1 = not learnt at all, 0 = learnt exactly).
    """
    freqs = signal.meta.get("freqs") if freqs is None else freqs
    if freqs is None:
        raise ValueError("give freqs=, or a signal made by sum_of_sines")
    target = signal.values.detach().cpu()
    ref = frequency_amplitudes(target, freqs)

    def residual_amps(m):
        with torch.no_grad():
            was = m.training
            m.eval()
            pred = m(signal.coords.to(next(m.parameters()).device)).cpu()
            m.train(was)
        return frequency_amplitudes(target - pred, freqs) / ref

    history, rec = fit_tracked(model, signal, steps=steps, every=every, lr=lr,
                               probes={"amp": residual_amps}, **fit_kw)
    return np.array(rec["step"]), np.stack(rec["amp"]), history


def steps_to_learn(steps, rel_amps, threshold=0.5) -> np.ndarray:
    """For each frequency (column of rel_amps), the first recorded step whose relative residual
    amplitude is below `threshold`; inf if it never is."""
    rel_amps = np.asarray(rel_amps)
    out = np.full(rel_amps.shape[1], np.inf)
    for k in range(rel_amps.shape[1]):
        below = np.nonzero(rel_amps[:, k] < threshold)[0]
        if below.size:
            out[k] = steps[below[0]]
    return out


# ---------------------------------------------------------------- ReLU activation regions

def random_image(size, channels=3, seed=0, coord_range=(-1.0, 1.0)) -> Signal:
    """A size x size image of independent uniform [0, 1] pixels (every frequency equally present)."""
    if int(size) != size or size < 2:
        raise ValueError(f"size must be a whole number >= 2, got {size}")
    gen = torch.Generator().manual_seed(seed)
    img = torch.rand(size * size, channels, generator=gen)
    return Signal(grid((size, size), coord_range), img, (size, size), (0.0, 1.0),
                  tuple(coord_range), meta={"name": "random", "seed": seed})
