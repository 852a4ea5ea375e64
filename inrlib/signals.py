"""Signals to fit: images (by name or file), audio clips (the book's are shipped in the package:
`data_file`), and image derivative targets."""
import importlib.resources
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

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

    def to(self, device):
        self.coords, self.values = self.coords.to(device), self.values.to(device)
        return self


def _square_crop(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return img[top:top + s, left:left + s]


def _read_image(source) -> np.ndarray:
    import skimage

    if isinstance(source, np.ndarray):
        return source
    if isinstance(source, str) and source in IMAGE_NAMES:
        return getattr(skimage.data, source)()
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"no image file at {path}; pass a file path or one of the bundled names {IMAGE_NAMES}")
    try:
        return skimage.io.imread(path)
    except Exception as err:  # imageio raises many types for a non-image
        raise ValueError(f"could not read {path} as an image: {err}") from err


def image_array(source="camera", size=None, grey=True, value_range=(-1.0, 1.0)) -> np.ndarray:
    """An image as a float array in `value_range`: (H, W) grey or (H, W, 3) RGB.

    `size` (int or (H, W)) centre-crops to a square when an int, then resizes with
    anti-aliasing.
    """
    from skimage.color import gray2rgb, rgb2gray, rgba2rgb
    from skimage.transform import resize
    from skimage.util import img_as_float

    img = img_as_float(_read_image(source))
    if img.ndim == 3 and img.shape[-1] == 4:
        img = rgba2rgb(img)
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] != 3):
        raise ValueError(f"expected a grey (H, W) or colour (H, W, 3) image, got shape {img.shape}")
    img = rgb2gray(img) if grey and img.ndim == 3 else img
    img = gray2rgb(img) if not grey and img.ndim == 2 else img
    if size is not None:
        if isinstance(size, int):
            if size < 1:
                raise ValueError(f"image size must be positive, got {size}")
            img, size = _square_crop(img), (size, size)
        img = resize(img, tuple(size) + img.shape[2:], anti_aliasing=True)
    lo, hi = value_range
    return (lo + (hi - lo) * np.clip(img, 0, 1)).astype(np.float32)


def load_image(source="camera", size=None, grey=True, value_range=(-1.0, 1.0),
               coord_range=(-1.0, 1.0)) -> Signal:
    """An image as a Signal: a bundled scikit-image name, a file path, or an array in [0, 1]."""
    img = image_array(source, size, grey, value_range)
    shape = img.shape[:2]
    return Signal(grid(shape, coord_range), to_flat(torch.from_numpy(img), 2), shape,
                  tuple(value_range), tuple(coord_range),
                  meta={"name": source if isinstance(source, str) else "array"})


def image_gradient(img: np.ndarray, spacing=(1.0, 1.0)) -> np.ndarray:
    """Sobel estimate of (d/dx0, d/dx1) in coordinate units, shape (H, W, 2) (grey images).

    scipy's Sobel kernel is a central difference (2 samples apart) smoothed by [1, 2, 1]
    (sum 4), so it returns 8 * spacing * derivative; dividing that out puts the target in the
    same units as an autograd gradient with respect to the coordinates.
    """
    from scipy import ndimage

    if img.ndim != 2:
        raise ValueError(f"image_gradient takes a grey (H, W) image, got shape {img.shape}")
    return np.stack([ndimage.sobel(img, axis=k, mode="reflect") / (8 * spacing[k])
                     for k in range(2)], axis=-1).astype(np.float32)


def image_laplacian(img: np.ndarray, spacing=(1.0, 1.0)) -> np.ndarray:
    """Five-point Laplacian in coordinate units (the stencil returns spacing**2 * Laplacian)."""
    from scipy import ndimage

    if img.ndim != 2:
        raise ValueError(f"image_laplacian takes a grey (H, W) image, got shape {img.shape}")
    if abs(spacing[0] - spacing[1]) > 1e-9 * spacing[0]:
        raise ValueError(f"image_laplacian needs equal spacing on both axes, got {spacing}")
    return (ndimage.laplace(img, mode="reflect") / spacing[0] ** 2).astype(np.float32)


def data_file(name) -> Path:
    """Path of a data file shipped inside the inrlib package (inrlib/data: the book's audio
    clips, see its README for their provenance); works from a wheel and an editable install."""
    folder = importlib.resources.files("inrlib") / "data"
    path = folder / name
    if not path.is_file():
        have = sorted(p.name for p in folder.iterdir() if p.name != "README.md")
        raise FileNotFoundError(f"no data file {name!r} in inrlib's data; available: {have}")
    return Path(str(path))


def load_audio(path, seconds=None, rate=None, coord_range=(-1.0, 1.0)) -> Signal:
    """A WAV file as a mono Signal over time, peak-normalised to [-1, 1].

    Stereo (or more channels) is mixed down, with a warning; `seconds` keeps only the start of
    the clip; `rate` resamples it (polyphase filter, so no aliasing) to that many samples per
    second. Coordinates run over `coord_range` from the first sample to the last.
    """
    from scipy import signal
    from scipy.io import wavfile

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no audio file at {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a WAV file")
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds}")
    if rate is not None and (int(rate) != rate or rate < 1):
        raise ValueError(f"rate must be a whole number of samples per second >= 1, got {rate}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # e.g. odd metadata chunks
            src_rate, data = wavfile.read(path)
    except Exception as err:
        raise ValueError(f"could not read {path} as a WAV file: {err}") from err
    data = np.asarray(data)
    if data.ndim == 2:
        warnings.warn(f"{path.name} has {data.shape[1]} channels; mixing down to mono", stacklevel=2)
        data = data.astype(np.float64).mean(axis=1)
    if seconds is not None:
        data = data[: int(round(seconds * src_rate))]
    if data.size == 0:
        raise ValueError(f"{path} holds no samples")
    data = data.astype(np.float64)
    if rate is not None and int(rate) != src_rate:
        g = np.gcd(int(rate), int(src_rate))
        data = signal.resample_poly(data, int(rate) // g, int(src_rate) // g)
    else:
        rate = src_rate
    if not np.isfinite(data).all():
        raise ValueError(f"{path} holds NaN or infinite samples")
    peak = np.abs(data).max()
    if peak == 0:
        raise ValueError(f"{path} is silent (every sample is zero)")
    data = (data / peak).astype(np.float32)
    return Signal(grid(len(data), coord_range), torch.from_numpy(data)[:, None], (len(data),),
                  (-1.0, 1.0), tuple(coord_range), sample_rate=float(rate),
                  meta={"name": path.name, "source_rate": float(src_rate)})
