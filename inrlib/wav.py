"""Audio clips as Signals: WAV files read and scaled exactly (every integer sample format), and
the data files shipped with inrlib (`data_file`, `load_audio("music")`)."""
import importlib.resources
import warnings
from pathlib import Path

import numpy as np
import torch

from .checks import real, span
from .grids import grid
from .signals import Signal


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
    lo, hi = span("coord_range", coord_range)
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
