"""Signals to fit (`Signal`): images by name or file, and image derivative targets. Audio clips
are read by `inrlib.wav`."""
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .checks import flag, real, span, whole
from .grids import grid, to_flat, to_signal

# scikit-image's bundled pictures that need no download.
IMAGE_NAMES = ("camera", "astronaut", "chelsea", "coffee", "text", "moon", "coins", "page",
               "horse", "rocket", "grass", "gravel", "brick", "retina", "immunohistochemistry")


@dataclass
class Signal:
    """A sampled signal: `coords` (N, d) -> `values` (N, C) on a grid of `shape`."""

    coords: torch.Tensor
    values: torch.Tensor
    shape: tuple
    value_range: tuple = (-1.0, 1.0)
    coord_range: tuple = (-1.0, 1.0)
    sample_rate: float | None = None  # samples per second, for audio
    meta: dict = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return self.values.shape[1]

    @property
    def data_range(self) -> float:
        """Width of the value range: the `data_range` of PSNR and SSIM."""
        return float(self.value_range[1] - self.value_range[0])

    @property
    def spacing(self) -> tuple:
        """Distance between neighbouring samples along each axis, in coordinate units."""
        lo, hi = self.coord_range
        return tuple((hi - lo) / max(n - 1, 1) for n in self.shape)

    def array(self, values=None) -> np.ndarray:
        """Values (the signal's own, or a model's (N, C) output) as a (*shape[, C]) array."""
        values = self.values if values is None else values
        return to_signal(torch.as_tensor(values).detach().float().cpu(), self.shape).numpy()

    def to(self, device) -> "Signal":
        self.coords, self.values = self.coords.to(device), self.values.to(device)
        return self


def _square_crop(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return img[top:top + s, left:left + s]


def _check_array_image(img: np.ndarray) -> np.ndarray:
    """An image array as given: uint8/uint16 (full scale) or floats in [0, 1]; nothing else is
    guessed at (an int64 array could be 0..255 or 0..65535)."""
    if img.dtype == bool or img.dtype in (np.uint8, np.uint16):
        return img
    if img.dtype.kind != "f":
        raise TypeError(f"an image array must be uint8, uint16 or float in [0, 1], got {img.dtype}: "
                        "convert it, e.g. img.astype(np.float32) / 255")
    if img.size == 0 or not np.isfinite(img).all():
        raise ValueError(f"an image array must be non-empty and finite, got shape {img.shape}")
    if img.min() < 0 or img.max() > 1:
        raise ValueError(f"a float image array must lie in [0, 1], got values in "
                         f"[{img.min():.3g}, {img.max():.3g}]: rescale it first")
    return img


def _read_image(source) -> np.ndarray:
    import skimage

    if isinstance(source, np.ndarray):
        return _check_array_image(source)
    if isinstance(source, str) and source in IMAGE_NAMES:
        return getattr(skimage.data, source)()
    if not isinstance(source, (str, Path)):
        raise TypeError(f"image source must be a bundled name {IMAGE_NAMES}, a file path or an "
                        f"array, got {type(source).__name__}")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"no image file at {path}; pass a file path or one of the bundled names {IMAGE_NAMES}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not an image file")
    try:
        img = skimage.io.imread(path)
    except Exception as err:  # imageio raises many types for a non-image or a truncated one
        raise ValueError(f"could not read {path} as an image (malformed or truncated?): {err}") from err
    return img


def _size(size):
    """None, a side (int, centre-cropped square) or an (H, W) pair of whole numbers >= 1."""
    if size is None:
        return None
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if size < 1:
            raise ValueError(f"size must be positive (a whole number of pixels >= 1), got {size}")
        return int(size)
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return tuple(whole(f"size[{i}]", v) for i, v in enumerate(size))
    raise TypeError(f"size must be None, a whole number or an (H, W) pair, got {size!r}")


def image_array(source="camera", size=None, grey: bool = True,
                value_range=(-1.0, 1.0)) -> np.ndarray:
    """An image as a float array in `value_range`: (H, W) grey or (H, W, 3) RGB.

    `size` (int or (H, W)) centre-crops to a square when an int, then resizes with
    anti-aliasing.
    """
    from skimage.color import gray2rgb, rgb2gray, rgba2rgb
    from skimage.transform import resize
    from skimage.util import img_as_float

    size, grey = _size(size), flag("grey", grey)
    lo, hi = span("value_range", value_range)
    img = img_as_float(_read_image(source))
    if img.ndim == 3 and img.shape[-1] == 4:
        img = rgba2rgb(img)
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] != 3):
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3) image, got shape {img.shape}")
    img = rgb2gray(img) if grey and img.ndim == 3 else img
    img = gray2rgb(img) if not grey and img.ndim == 2 else img
    if size is not None:
        if isinstance(size, int):
            img, size = _square_crop(img), (size, size)
        img = resize(img, tuple(size) + img.shape[2:], anti_aliasing=True)
    # the clip only removes resize's rounding (its linear interpolation stays within [0, 1]);
    # out-of-range input was refused above
    return (lo + (hi - lo) * np.clip(img, 0, 1)).astype(np.float32)


def load_image(source="camera", size=None, grey=True, value_range=(-1.0, 1.0),
               coord_range=(-1.0, 1.0)) -> Signal:
    """An image as a Signal: a bundled scikit-image name, a file path, or an array in [0, 1]."""
    img = image_array(source, size, grey, value_range)
    coord_range = span("coord_range", coord_range)
    shape = img.shape[:2]
    return Signal(grid(shape, coord_range), to_flat(torch.from_numpy(img), 2), shape,
                  tuple(value_range), tuple(coord_range),
                  meta={"name": source if isinstance(source, str) else "array"})


def _grey_image(fn: str, img) -> np.ndarray:
    img = img.detach().cpu().numpy() if torch.is_tensor(img) else np.asarray(img)
    if img.ndim != 2 or min(img.shape) < 2:
        raise ValueError(f"{fn} takes a grey (H, W) image with sides >= 2, got shape {img.shape}")
    if img.dtype.kind not in "fiu" or not np.isfinite(img).all():
        raise ValueError(f"{fn} takes a finite real image, got {img.dtype} with NaN, inf or non-numbers")
    return img.astype(np.float64) if img.dtype.kind != "f" else img


def _spacing(spacing) -> tuple:
    if isinstance(spacing, (str, bytes)) or not hasattr(spacing, "__len__") or len(spacing) != 2:
        raise TypeError(f"spacing must be a (d0, d1) pair of numbers > 0, got {spacing!r}")
    return tuple(real(f"spacing[{i}]", v, low=0.0) for i, v in enumerate(spacing))


def image_gradient(img: np.ndarray, spacing=(1.0, 1.0)) -> np.ndarray:
    """Sobel estimate of (d/dx0, d/dx1) in coordinate units, shape (H, W, 2) (grey images).

    scipy's Sobel kernel is a central difference (2 samples apart) smoothed by [1, 2, 1]
    (sum 4), so it returns 8 * spacing * derivative; dividing that out puts the target in the
    same units as an autograd gradient with respect to the coordinates.
    """
    from scipy import ndimage

    img = _grey_image("image_gradient", img)
    spacing = _spacing(spacing)
    return np.stack([ndimage.sobel(img, axis=k, mode="reflect") / (8 * spacing[k])
                     for k in range(2)], axis=-1).astype(np.float32)


def image_laplacian(img: np.ndarray, spacing=(1.0, 1.0)) -> np.ndarray:
    """Five-point Laplacian in coordinate units (the stencil returns spacing**2 * Laplacian)."""
    from scipy import ndimage

    img = _grey_image("image_laplacian", img)
    spacing = _spacing(spacing)
    if abs(spacing[0] - spacing[1]) > 1e-9 * spacing[0]:
        raise ValueError(f"image_laplacian needs equal spacing on both axes, got {spacing}")
    return (ndimage.laplace(img, mode="reflect") / spacing[0] ** 2).astype(np.float32)
