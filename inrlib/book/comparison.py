"""Helpers of the "after SIREN" chapter: one protocol for comparing coordinate networks.

Parameter counts in real numbers (a complex weight is two), budget matching, derivative
scores against an image's Sobel gradient and five-point Laplacian, a noisy copy of a signal,
and the winner of each metric.
"""
import math

import numpy as np
import torch

from ..checks import real, whole
from ..signals import Signal, image_gradient, image_laplacian
from .images import derivative_maps


def count_parameters(model) -> int:
    """Trainable real numbers of a model: a complex parameter (WIRE's weights) counts twice."""
    return sum(p.numel() * (2 if p.is_complex() else 1) for p in model.parameters()
               if p.requires_grad)


def match_budget(build, budget, candidates):
    """The candidate value whose model `build(value)` has the parameter count closest to
    `budget`, with that count: `match_budget(lambda w: INR(width=w, ...), 8577, range(8, 200))`."""
    if not callable(build):
        raise TypeError(f"build must be a function value -> model, got {type(build).__name__}")
    budget = whole("budget", budget)
    candidates = list(candidates)
    if not candidates:
        raise ValueError("match_budget needs at least one candidate value")
    counts = [count_parameters(build(v)) for v in candidates]
    i = int(np.argmin([abs(c - budget) for c in counts]))
    return candidates[i], counts[i]


def correlation(a, b) -> float:
    """Pearson correlation of two maps; 0 when either is constant (a zero Laplacian)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.size < 2:
        raise ValueError(f"correlation compares two maps of one shape with >= 2 values, got "
                         f"{a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("correlation: the maps hold NaN or infinite values")
    a, b = a.ravel(), b.ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def derivative_scores(model, signal: Signal) -> dict:
    """How well a grey-image fit's derivatives match the image's: the correlation of its
    gradient magnitude with the Sobel gradient's, and of its Laplacian with the five-point
    Laplacian (both in coordinate units), plus the maps themselves."""
    if signal.channels != 1 or len(signal.shape) != 2:
        raise ValueError("derivative_scores needs a grey image Signal")
    img = signal.array()
    sobel = np.linalg.norm(image_gradient(img, signal.spacing), axis=-1)
    lap_img = image_laplacian(img, signal.spacing)
    grad, lap = derivative_maps(model, signal.coords, signal.shape)
    return {"gradient": correlation(grad, sobel), "laplacian": correlation(lap, lap_img),
            "grad_map": grad, "lap_map": lap, "sobel": sobel, "lap_img": lap_img}


def noisy_copy(signal: Signal, sigma: float, seed: int = 0) -> Signal:
    """The signal plus Gaussian noise of standard deviation `sigma` (value units), seeded."""
    sigma = real("sigma", sigma, low=0.0)
    gen = torch.Generator().manual_seed(whole("seed", seed, low=0))
    noise = sigma * torch.randn(signal.values.shape, generator=gen).to(signal.values.device)
    return Signal(signal.coords, signal.values + noise, signal.shape, signal.value_range,
                  signal.coord_range, meta={**signal.meta, "noise_sigma": sigma})


def winners(scores: dict, higher_is_better=True) -> list:
    """The method(s) with the best score (None values never win); ties share the win."""
    if not isinstance(scores, dict):
        raise TypeError(f"scores must be a dict method -> score, got {type(scores).__name__}")
    valid = {k: v for k, v in scores.items() if v is not None}
    if any(isinstance(v, float) and math.isnan(v) for v in valid.values()):
        raise ValueError(f"scores hold NaN (use None for a method without a score): {valid}")
    if not valid:
        return []
    best = max(valid.values()) if higher_is_better else min(valid.values())
    return [k for k, v in valid.items() if v == best]


# The main parameter of each method in the chapter's sliders and live controls:
# method -> (what it is, lowest, highest, whole numbers only)
MAIN_PARAMETERS = {
    "SIREN": ("first-layer ω0", 1.0, 300.0, False),
    "FINER": ("first-layer ω0", 1.0, 300.0, False),
    "WIRE": ("ω0 (every layer)", 1.0, 100.0, False),
    "Gauss": ("σ", 0.01, 1.0, False),
    "ReLU + FF": ("σ (cycles per unit)", 0.25, 64.0, False),
    "ReLU + PE": ("L (frequencies)", 1, 12, True),
    "hash grid": ("table size T", 16, 2**16, True),
}


def check_setting(method, value, steps, max_steps=3000):
    """A problem with a live setting, as a sentence, or None when it can run."""
    if method not in MAIN_PARAMETERS:
        return f"unknown method {method!r}: choose one of {list(MAIN_PARAMETERS)}"
    what, lo, hi, whole = MAIN_PARAMETERS[method]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return f"{method}: {what} must be a number, got {value!r}"
    if isinstance(steps, bool) or not isinstance(steps, (int, float)) or math.isnan(steps):
        return f"steps must be a whole number from 1 to {max_steps}, got {steps!r}"
    if not lo <= value <= hi:
        return f"{method}: {what} must be between {lo:g} and {hi:g}, got {value:g}"
    if whole and value != int(value):
        return f"{method}: {what} must be a whole number, got {value:g}"
    if int(steps) != steps or not 1 <= steps <= max_steps:
        return f"steps must be a whole number from 1 to {max_steps}, got {steps}"
    return None
