"""Statistics of a network at initialisation, and of training runs (the initialisation chapter).

- Through depth: per layer, the sine's argument omega (W x + b) (which the SIREN paper shows is
  close to N(0, 1)), the sine's output (close to the arcsine law on [-1, 1]), their gradients,
  and their spectra along a 1-D input (`layer_stats`).
- Goodness of fit: the Kolmogorov-Smirnov distance sup |F_n - F| to the normal and arcsine laws
  (`ks_normal`, `ks_arcsine`); an effect size (0 = identical, 1 = disjoint), not a p-value:
  values of one layer are correlated, so p-values would mean little.
- Training runs: steps (or seconds) to reach loss thresholds, with mean and spread over seeds
  (`steps_to_thresholds`, `summarize_thresholds`).
"""
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats as _st

from ..activations import Sine
from ..checks import real, whole


def _np1d(x, max_samples=None, seed=0) -> np.ndarray:
    x = x.detach().float().cpu().numpy() if torch.is_tensor(x) else np.asarray(x, dtype=np.float64)
    x = x.reshape(-1)
    if x.size == 0:
        raise ValueError("no values to test")
    if not np.isfinite(x).all():
        raise ValueError(f"{int((~np.isfinite(x)).sum())} values are NaN or infinite")
    if max_samples is not None and x.size > max_samples:
        x = x[np.random.default_rng(seed).integers(0, x.size, max_samples)]  # with replacement: fast
    return x


def normal_pdf(x, mean=0.0, std=1.0):
    return _st.norm.pdf(x, mean, std)


def arcsine_pdf(y):
    """Density of sin(U), U uniform over a period: 1 / (pi sqrt(1 - y^2)) on (-1, 1)."""
    y = np.asarray(y, dtype=np.float64)
    out = np.zeros_like(y)
    inside = np.abs(y) < 1
    out[inside] = 1 / (math.pi * np.sqrt(1 - y[inside] ** 2))
    return out


def arcsine_cdf(y):
    return 0.5 + np.arcsin(np.clip(y, -1, 1)) / math.pi


def ks_distance(x, cdf, max_samples=200_000) -> float:
    """sup_t |F_n(t) - cdf(t)|, the Kolmogorov-Smirnov statistic (no p-value: that is costly
    and, for correlated values, meaningless)."""
    if not callable(cdf):
        raise TypeError(f"cdf must be a function t -> F(t), got {type(cdf).__name__}")
    max_samples = whole("max_samples", max_samples)
    x = np.sort(_np1d(x, max_samples))
    f = cdf(x)
    n = x.size
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def ks_normal(x, mean=0.0, std=1.0, max_samples=200_000) -> float:
    """Kolmogorov-Smirnov distance between the values' distribution and N(mean, std^2)."""
    mean, std = real("mean", mean), real("std", std, low=0.0)
    return ks_distance(x, lambda t: _st.norm.cdf(t, mean, std), max_samples)


def ks_arcsine(y, max_samples=200_000) -> float:
    """Kolmogorov-Smirnov distance between the values' distribution and the arcsine law on [-1, 1]."""
    return ks_distance(y, arcsine_cdf, max_samples)


def spectrum(values, spacing: float):
    """Mean power spectrum of the columns of `values` (N samples on a uniform 1-D grid, K units).

    Returns (frequencies in cycles per coordinate unit, power): each unit's mean is removed,
    power = mean over units of |rfft|^2 / N.
    """
    v = values.detach().float().cpu() if torch.is_tensor(values) else torch.as_tensor(values, dtype=torch.float32)
    if v.dim() == 1:
        v = v[:, None]
    if v.dim() != 2 or v.shape[0] < 4:
        raise ValueError(f"spectrum needs (N >= 4 samples, K units), got shape {tuple(v.shape)}")
    spacing = real("spacing", spacing, low=0.0)
    v = v - v.mean(0, keepdim=True)
    power = (torch.fft.rfft(v, dim=0).abs() ** 2).mean(1) / v.shape[0]
    return np.fft.rfftfreq(v.shape[0], d=spacing), power.double().numpy()


@dataclass
class LayerStats:
    """What one hidden layer does at the given input: subsamples of its values for histograms,
    summary numbers, and (for a 1-D input grid) spectra along the input."""

    layer: int  # 1-based
    arg: np.ndarray  # subsample of the sine's argument omega (W h + b)
    out: np.ndarray  # subsample of the activation sin(arg)
    out_grad: np.ndarray  # subsample of d mean(network output) / d out
    arg_grad: np.ndarray | None  # subsample of d mean(network output) / d arg (sine only)
    arg_mean: float
    arg_std: float
    ks_normal: float  # KS distance of arg to N(0, 1)
    ks_arcsine: float  # KS distance of out to the arcsine law
    ks_normal_own: float  # KS distance of arg to the normal law of its own mean and std (shape only)
    freqs: np.ndarray | None = None  # cycles per coordinate unit
    arg_power: np.ndarray | None = None
    out_power: np.ndarray | None = None
    grad_power: np.ndarray | None = None  # of out_grad


def layer_stats(model, coords, max_samples=100_000, seed=0) -> list:
    """LayerStats of every hidden layer of an INR (sine activations) evaluated at `coords`.

    Gradients are those of the mean network output, as in the SIREN paper's figure; with respect
    to the argument they are grad_out * cos(arg) (plain sines only). With a 1-D input on
    a uniform grid (in_features=1, sorted coords) the spectra are computed too.
    """
    if not hasattr(model, "acts") or not all(hasattr(a, "omega") for a in model.acts):
        raise ValueError("layer_stats needs an INR with sine-family activations (they carry omega)")
    dev = next(model.parameters()).device
    coords = coords.to(dev)
    y, trace = model(coords, return_activations=True)
    y = y[:, :1]  # first output channel
    for _, h in trace:
        h.retain_grad()
    y.mean().backward()
    spacing = None
    if coords.shape[-1] == 1 and coords.shape[0] >= 4:
        d = torch.diff(coords[:, 0])
        if torch.allclose(d, d[0].expand_as(d), rtol=1e-3, atol=1e-6) and d[0] > 0:
            spacing = float(d[0])
    model.zero_grad(set_to_none=True)
    out = []
    plain = [type(act) is Sine for act in model.acts]  # d/du sin(u) = cos(u): plain sines only
    for i, (a, s) in enumerate(trace):
        ga = s.grad * torch.cos(a) if plain[i] else None
        rec = LayerStats(
            layer=i + 1, arg=_np1d(a, max_samples, seed), out=_np1d(s, max_samples, seed),
            out_grad=_np1d(s.grad, max_samples, seed),
            arg_grad=None if ga is None else _np1d(ga, max_samples, seed), arg_mean=float(a.detach().mean()),
            arg_std=float(a.detach().std()), ks_normal=ks_normal(a, max_samples=max_samples),
            ks_arcsine=ks_arcsine(s, max_samples=max_samples),
            ks_normal_own=ks_normal(a, float(a.detach().mean()), float(a.detach().std()), max_samples))
        if spacing is not None:
            rec.freqs, rec.arg_power = spectrum(a, spacing)
            rec.out_power = spectrum(s, spacing)[1]
            rec.grad_power = spectrum(s.grad, spacing)[1]
        out.append(rec)
    return out


# --- training runs -------------------------------------------------------------------------


def steps_to_thresholds(histories, thresholds) -> np.ndarray:
    """(runs, thresholds) array: first step at which each run's loss <= threshold; NaN if never."""
    if not len(thresholds):
        raise ValueError("give at least one threshold")
    for t in thresholds:
        real("threshold", t, low=0.0)
    return np.array([[np.nan if (s := h.steps_to(mse=t)) is None else s for t in thresholds]
                     for h in histories], dtype=float)


def summarize_thresholds(groups: dict, thresholds, seconds_per_step=None) -> list:
    """One row per group {name: [History, ...]}: mean and std over runs of the steps to each
    threshold (runs that never reach it are counted apart, not averaged), and the final loss.

    Rows: dict(name, runs, steps=[(mean, std, reached), ...], seconds=[mean, ...] (steps times
    `seconds_per_step`, when given), final_loss=(mean, std)).
    """
    rows = []
    for name, hs in groups.items():
        if not hs:
            raise ValueError(f"group {name!r} has no runs")
        s = steps_to_thresholds(hs, thresholds)
        cols = []
        for j in range(len(thresholds)):
            ok = s[~np.isnan(s[:, j]), j]
            cols.append((float(ok.mean()) if ok.size else math.nan,
                         float(ok.std()) if ok.size else math.nan, int(ok.size)))
        final = np.array([h.loss[-1] for h in hs])
        rows.append(dict(name=name, runs=len(hs), steps=cols, final_loss=(float(final.mean()), float(final.std())),
                         seconds=[c[0] * seconds_per_step for c in cols] if seconds_per_step else None))
    return rows


def median_frequency(freqs, power) -> float:
    """Frequency below which half of the power lies (the zero frequency left out)."""
    freqs, power = np.asarray(freqs), np.asarray(power)
    if freqs.shape != power.shape or freqs.ndim != 1:
        raise ValueError(f"freqs and power must be 1-d of one length, got {freqs.shape}, {power.shape}")
    if not (np.isfinite(freqs).all() and np.isfinite(power).all()):
        raise ValueError("median_frequency: freqs or power hold NaN or infinite values")
    freqs, power = freqs[1:], power[1:]
    if freqs.size == 0 or not np.all(power >= 0) or power.sum() <= 0:
        raise ValueError("median_frequency needs a non-negative spectrum with some power above zero frequency")
    c = np.cumsum(power)
    return float(freqs[np.searchsorted(c, c[-1] / 2)])


def plot_layer_stats(stats, title, layers=None):
    """One row per layer (all, or the 1-based `layers`): the argument against N(0, 1), the
    sine's output against the arcsine law, the output's power spectrum along x, and the gradient
    of the mean output in units of its own std (no offset text). 7 in wide, for the page."""
    import matplotlib.pyplot as plt

    layers = layers or [s.layer for s in stats]
    rows = [s for s in stats if s.layer in layers]
    if not rows:
        raise ValueError(f"none of the layers {layers} is in these statistics")
    fig, axes = plt.subplots(len(rows), 4, figsize=(7, 1.55 * len(rows) + 0.9), squeeze=False)
    z, y = np.linspace(-4, 4, 400), np.linspace(-0.995, 0.995, 400)
    for ax, s in zip(axes, rows):
        ax[0].hist(np.clip(s.arg, -4, 4), bins=80, range=(-4, 4), density=True, color="C0")
        ax[0].plot(z, normal_pdf(z), "k--", lw=1)
        ax[0].set_ylabel(f"layer {s.layer}")
        ax[0].set_title(f"std {s.arg_std:.2f}, KS {s.ks_normal:.3f}", fontsize=9)
        ax[1].hist(s.out, bins=80, range=(-1, 1), density=True, color="C1")
        ax[1].plot(y, arcsine_pdf(y), "k--", lw=1)
        ax[1].set_ylim(0, 3)
        ax[1].set_title(f"KS to arcsine {s.ks_arcsine:.3f}", fontsize=9)
        if s.freqs is not None:
            ax[2].loglog(s.freqs[1:], s.out_power[1:], color="C2", lw=0.8)
            ax[2].set_title(f"median freq. {median_frequency(s.freqs, s.out_power):.0f}", fontsize=9)
        g = s.arg_grad if s.arg_grad is not None else s.out_grad
        ax[3].hist(g / g.std(), bins=80, range=(-5, 5), density=True, color="C3")
        ax[3].set_title(f"gradient std {g.std():.1e}", fontsize=9)
        for a in ax:  # densities and powers: their shapes matter, not the numbers on the y axis
            a.tick_params(axis="x", which="both", labelsize=8)
            a.tick_params(axis="y", which="both", left=False, labelleft=False)
    for a, label in zip(axes[-1], ["argument (±4)", "sin(argument)", "frequency along x",
                                   "gradient / its std"]):
        a.set_xlabel(label, fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
