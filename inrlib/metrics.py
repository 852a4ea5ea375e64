"""Reconstruction quality: MSE, PSNR with an explicit data range, SSIM, SNR."""
import numpy as np
import torch


def _np(a):
    return a.detach().float().cpu().numpy() if torch.is_tensor(a) else np.asarray(a, dtype=np.float64)


def mse(pred, target) -> float:
    pred, target = _np(pred), _np(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: prediction {pred.shape} vs target {target.shape}")
    return float(np.mean((pred - target) ** 2))


def psnr_from_mse(mse_value, data_range: float) -> float:
    """10 log10(data_range^2 / MSE), in dB."""
    return float(10 * np.log10(data_range**2 / max(float(mse_value), 1e-20)))


def psnr(pred, target, *, data_range: float) -> float:
    """Peak signal-to-noise ratio in dB; data_range is the width of the value range (2 for [-1, 1])."""
    return psnr_from_mse(mse(pred, target), data_range)


def ssim(pred_img, target_img, *, data_range: float) -> float:
    """Structural similarity of two (H, W) or (H, W, 3) images (scikit-image)."""
    from skimage.metrics import structural_similarity

    pred_img, target_img = _np(pred_img), _np(target_img)
    if pred_img.shape != target_img.shape:
        raise ValueError(f"shapes differ: {pred_img.shape} vs {target_img.shape}")
    channel_axis = -1 if pred_img.ndim == 3 else None
    return float(structural_similarity(pred_img, target_img, data_range=data_range,
                                       channel_axis=channel_axis))


def snr(pred, target) -> float:
    """Signal-to-noise ratio in dB: 10 log10(sum target^2 / sum (pred - target)^2)."""
    pred, target = _np(pred), _np(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: prediction {pred.shape} vs target {target.shape}")
    return float(10 * np.log10(np.sum(target**2) / max(np.sum((pred - target) ** 2), 1e-20)))
