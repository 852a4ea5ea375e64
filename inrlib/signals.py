"""Signals to fit: images (by name or file), audio clips (the book's are shipped with the package:
`data_file`, `load_audio("music")`), and image derivative targets."""
import importlib.resources
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .checks import flag, real, whole
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


def _range(name: str, value) -> tuple:
    """A (low, high) pair of finite numbers with low < high."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair of numbers, got {value!r}")
    lo, hi = (real(f"{name}[{i}]", v) for i, v in enumerate(value))
    if not hi > lo:
        raise ValueError(f"{name} must be (low, high) with low < high, got {tuple(value)}")
    return lo, hi


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
    lo, hi = _range("value_range", value_range)
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
    coord_range = _range("coord_range", coord_range)
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


def _data_folder() -> Path:
    """The folder of the shipped data files: inside the installed package (a wheel maps the
    repository's top-level data/ to inrlib/data, see pyproject.toml), else, in a repository
    checkout (editable install), the top-level data/ itself."""
    here = Path(str(importlib.resources.files("inrlib")))
    inside = here / "data"
    if inside.is_dir():
        return inside
    checkout = here.parent
    if (checkout / "data").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    raise FileNotFoundError(f"inrlib's data files are missing: neither {inside} (installed "
                            f"package) nor {checkout / 'data'} (repository checkout) exists; "
                            "reinstall inrlib")


def _shipped() -> list:
    return sorted(p.name for p in _data_folder().iterdir() if p.is_file())


def data_file(name: str) -> Path:
    """Path of a data file shipped with inrlib (the book's audio clips and the README with their
    provenance), by its plain file name, e.g. `data_file("music.wav")`. Only those files are
    served: a name with a folder in it ('../x', 'a/b') is refused. Works from a wheel and from a
    repository checkout (editable install)."""
    if not isinstance(name, str):
        raise TypeError(f"data_file takes a file name (str), got {name!r} ({type(name).__name__}); "
                        f"shipped files: {_shipped()}")
    if not name or name in (".", "..") or "/" in name or "\\" in name or Path(name).name != name:
        raise ValueError(f"data_file serves only inrlib's shipped data files by plain name, got "
                         f"{name!r}; shipped files: {_shipped()}")
    path = _data_folder() / name
    if not path.is_file():
        raise FileNotFoundError(f"no data file {name!r} in inrlib's data; shipped files: {_shipped()}")
    return path


def audio_names() -> tuple:
    """Names of the shipped audio clips that `load_audio` takes instead of a path ("music", ...)."""
    return tuple(sorted(p[:-4] for p in _shipped() if p.endswith(".wav")))


# Full scale of each integer WAV sample type: a sample s means (s - offset) / scale in [-1, 1].
# 8-bit WAV is unsigned with silence at 128; 16- and 32-bit are signed. scipy reads 24-bit
# samples into int32 shifted to the top bytes, so the int32 scale covers them too.
_INT_SCALE = {np.dtype(np.uint8): (128.0, 128.0), np.dtype(np.int16): (0.0, 2.0**15),
              np.dtype(np.int32): (0.0, 2.0**31), np.dtype(np.int64): (0.0, 2.0**63)}


def _wav_header(path: Path) -> dict | None:
    """What the RIFF header promises: the sample frame size (bytes) and the data chunk's declared
    and present sizes; None for a header this reader does not walk (RF64, big files) - scipy
    checks those itself."""
    raw = path.read_bytes()
    if len(raw) < 12 or raw[:4] not in (b"RIFF", b"RIFX") or raw[8:12] != b"WAVE":
        return None  # scipy gives the precise error for a non-WAV file
    order = "little" if raw[:4] == b"RIFF" else "big"
    pos, block_align = 12, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], int.from_bytes(raw[pos + 4:pos + 8], order)
        if cid == b"fmt " and pos + 22 <= len(raw):
            block_align = int.from_bytes(raw[pos + 20:pos + 22], order)
        if cid == b"data":
            return {"block_align": block_align, "declared": size,
                    "present": max(0, min(size, len(raw) - pos - 8))}
        pos += 8 + size + (size & 1)  # chunks are padded to an even size
    return None


def _read_wav(path: Path):
    """(rate, samples) of a WAV file, refusing a file shorter than its header says."""
    from scipy.io import wavfile

    try:
        header = _wav_header(path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    except Exception as err:
        raise ValueError(f"could not read {path} as a WAV file: {err}") from err
    for w in caught:
        if issubclass(w.category, wavfile.WavFileWarning) and "EOF" in str(w.message):
            raise ValueError(f"{path} is truncated: {w.message} Re-export or re-download the file")
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)  # pass others on
    data = np.asarray(data)
    if header is not None and header["block_align"]:
        frames, block = data.shape[0], header["block_align"]
        if header["present"] < header["declared"] or frames * block != header["declared"]:
            raise ValueError(
                f"{path} is truncated or malformed: its header declares "
                f"{header['declared'] // block} samples ({header['declared']} bytes), the file "
                f"holds {header['present'] // block} and {frames} were read; re-export the file")
    return rate, data


def _full_scale(data: np.ndarray, path: Path) -> np.ndarray:
    """Samples as float64 in [-1, 1] full scale (integer formats centred and scaled)."""
    if data.dtype in _INT_SCALE:
        offset, scale = _INT_SCALE[data.dtype]
        return (data.astype(np.float64) - offset) / scale
    if data.dtype.kind == "f":
        return data.astype(np.float64)
    raise ValueError(f"{path} holds {data.dtype} samples, which is no WAV sample format inrlib "
                     "reads (8-bit unsigned, 16/24/32-bit signed, 32/64-bit float)")


def load_audio(path, seconds=None, rate=None, coord_range=(-1.0, 1.0)) -> Signal:
    """A WAV file, or a shipped clip by name (`audio_names()`: "music", "speech"), as a mono
    Signal over time, peak-normalised to [-1, 1].

    Integer samples are first centred and scaled to full scale (8-bit WAV is unsigned around
    128); `meta["peak"]` keeps the clip's peak in full-scale units before normalisation.
    Stereo (or more channels) is mixed down, with a warning; `seconds` keeps only the start of
    the clip (at most its length); `rate` resamples it (polyphase filter, so no aliasing) to that
    many samples per second. Coordinates run over `coord_range` from the first sample to the
    last. A file shorter than its header says (truncated) is refused.
    """
    from scipy import signal

    if isinstance(path, str) and path in audio_names():
        path = data_file(path + ".wav")
    if not isinstance(path, (str, Path)):
        raise TypeError(f"load_audio takes a WAV file path or one of the shipped names "
                        f"{audio_names()}, got {path!r} ({type(path).__name__})")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no audio file at {path}; pass a WAV file path or one of the "
                                f"shipped names {audio_names()}")
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a WAV file")
    if seconds is not None:
        seconds = real("seconds", seconds, low=0.0)
    if rate is not None:
        rate = real("rate", rate, low=0.0)
        if rate != int(rate):  # a ValueError, as before: the number is of the right kind
            raise ValueError(f"rate must be a whole number of samples per second >= 1, got {rate:g}")
        rate = int(rate)
    lo, hi = _range("coord_range", coord_range)
    src_rate, data = _read_wav(path)
    data = _full_scale(data, path)
    if data.ndim == 2:
        warnings.warn(f"{path.name} has {data.shape[1]} channels; mixing down to mono", stacklevel=2)
        data = data.mean(axis=1)
    if seconds is not None:
        n = int(round(seconds * src_rate))
        if n > data.shape[0]:
            raise ValueError(f"seconds={seconds:g} is longer than {path.name} "
                             f"({data.shape[0] / src_rate:.3f} s): pass seconds=None for all of it")
        data = data[:n]
    if data.size == 0:
        raise ValueError(f"{path} holds no samples")
    if rate is not None and rate != src_rate:
        g = np.gcd(rate, int(src_rate))
        data = signal.resample_poly(data, rate // g, int(src_rate) // g)
    else:
        rate = src_rate
    if not np.isfinite(data).all():
        raise ValueError(f"{path} holds NaN or infinite samples")
    peak = float(np.abs(data).max())
    if peak == 0:
        raise ValueError(f"{path} is silent (every sample is zero)")
    data = (data / peak).astype(np.float32)
    return Signal(grid(len(data), (lo, hi)), torch.from_numpy(data)[:, None], (len(data),),
                  (-1.0, 1.0), (lo, hi), sample_rate=float(rate),
                  meta={"name": path.name, "source_rate": float(src_rate), "peak": peak})
