"""Reconstruction quality: MSE, PSNR with an explicit data range, SSIM, SNR.

Every metric compares two arrays of exactly the same shape (nothing is broadcast: a (N, 1)
prediction against a (N,) target is an error, not an (N, N) comparison) holding finite numbers.
"""
import math
import numbers

import numpy as np
import torch


def _np(a, name: str) -> np.ndarray:
    if torch.is_tensor(a):
        if a.is_complex():
            raise TypeError(f"{name} is a complex tensor; compare real values (e.g. .real)")
        return a.detach().float().cpu().numpy()  # float32, as the chapters' numbers were made
    try:
        out = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a tensor or array of real numbers, got "
                        f"{type(a).__name__}: {err}") from err
    return out


def _pair(pred, target, fn: str):
    """Both arrays as float64, of one shape, finite and non-empty."""
    p, t = _np(pred, "prediction"), _np(target, "target")
    if p.shape != t.shape:
        raise ValueError(f"{fn}: shapes differ, prediction {p.shape} vs target {t.shape}; "
                         "nothing is broadcast: reshape one to the other (e.g. .reshape(-1, 1))")
    if p.size == 0:
        raise ValueError(f"{fn}: prediction and target are empty (shape {p.shape})")
    for name, a in (("prediction", p), ("target", t)):
        if not np.isfinite(a).all():
            raise ValueError(f"{fn}: {name} holds {int((~np.isfinite(a)).sum())} NaN or infinite "
                             "values")
    return p, t


def _data_range(data_range) -> float:
    if isinstance(data_range, bool) or not isinstance(data_range, numbers.Real):
        raise TypeError(f"data_range must be a number > 0 (the width of the value range, 2 for "
                        f"[-1, 1]), got {data_range!r} ({type(data_range).__name__})")
    v = float(data_range)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"data_range must be finite and > 0 (the width of the value range, 2 "
                         f"for [-1, 1]), got {data_range!r}")
    return v


def mse(pred, target) -> float:
    """Mean squared error of two arrays (tensors or numpy) of the same shape."""
    p, t = _pair(pred, target, "mse")
    return float(np.mean((p - t) ** 2))


def psnr_from_mse(mse_value, data_range: float) -> float:
    """Peak signal-to-noise ratio in dB from a mean squared error: 10 log10(data_range^2 / MSE).

    `data_range` is the width of the value range (2 for values in [-1, 1], 1 for [0, 1]); it must
    be finite and > 0. An MSE of 0 (a perfect fit) gives inf; the MSE must be finite and >= 0.
    """
    data_range = _data_range(data_range)
    if torch.is_tensor(mse_value):
        if mse_value.numel() != 1:
            raise ValueError(f"mse_value must be one number, got a tensor of shape "
                             f"{tuple(mse_value.shape)}")
        mse_value = mse_value.item()
    if isinstance(mse_value, bool) or not isinstance(mse_value, numbers.Real):
        raise TypeError(f"mse_value must be a number, got {mse_value!r} ({type(mse_value).__name__})")
    m = float(mse_value)
    if not (math.isfinite(m) and m >= 0):
        raise ValueError(f"mse_value must be finite and >= 0, got {mse_value!r}")
    return math.inf if m == 0 else float(10 * math.log10(data_range**2 / m))


def psnr(pred, target, *, data_range: float) -> float:
    """Peak signal-to-noise ratio in dB; data_range is the width of the value range (2 for [-1, 1])."""
    data_range = _data_range(data_range)
    return psnr_from_mse(mse(pred, target), data_range)


def ssim(pred_img, target_img, *, data_range: float) -> float:
    """Structural similarity of two (H, W) or (H, W, 3) images (scikit-image), sides >= 7."""
    from skimage.metrics import structural_similarity

    data_range = _data_range(data_range)
    p, t = _pair(pred_img, target_img, "ssim")
    if p.ndim not in (2, 3) or (p.ndim == 3 and p.shape[-1] != 3):
        raise ValueError(f"ssim compares (H, W) or (H, W, 3) images, got shape {p.shape}: "
                         "pass signal.array(values), not the flat (N, C) values")
    if min(p.shape[:2]) < 7:
        raise ValueError(f"ssim needs images of at least 7 x 7 pixels (its window), got {p.shape}; "
                         "for a Signal's flat (N, C) values pass signal.array(values)")
    channel_axis = -1 if p.ndim == 3 else None
    return float(structural_similarity(p, t, data_range=data_range, channel_axis=channel_axis))


def snr(pred, target) -> float:
    """Signal-to-noise ratio in dB: 10 log10(sum target^2 / sum (pred - target)^2); inf for an
    exact match. The target must not be all zero (no signal)."""
    p, t = _pair(pred, target, "snr")
    signal, noise = float(np.sum(t**2)), float(np.sum((p - t) ** 2))
    if signal == 0:
        raise ValueError("snr: the target is all zero (no signal to compare the error with)")
    return math.inf if noise == 0 else float(10 * np.log10(signal / noise))
