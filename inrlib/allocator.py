"""CPU memory-allocator tuning for training: glibc malloc settings that keep large activations
in the heap between steps (`fast_cpu`), and handing the memory back afterwards (`release`)."""
import ctypes
import ctypes.util
import functools
import os
import sys

FAST_ENV = "INR_FAST"
_FAST_STATE = {"applied": False, "settings": None}

# glibc mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def fast_enabled(fast=None) -> bool:
    """The fast CPU settings apply unless `fast=False` or INR_FAST=0 (or false/no)."""
    if fast is not None:
        return bool(fast)
    return os.environ.get(FAST_ENV, "1").lower() not in ("0", "false", "no")


def fast_cpu(mmap_threshold=1 << 30, trim_threshold=2**31 - 1) -> dict:
    """Tune this process's glibc malloc for training on a CPU; returns what was set.

    Why: PyTorch's CPU tensors come straight from malloc, and glibc serves every block above
    its mmap threshold (at most 32 MiB, dynamically) with a fresh mmap and unmaps it on free;
    smaller blocks come from the heap, whose free top is handed back to the kernel once it
    exceeds the trim threshold (128 KiB by default). A 256x256 SIREN step allocates about twenty
    64 MiB activations and gradients and frees them all at its end, so every step page-faults
    ~1.8 GB of zeroed pages in again (~460,000 faults per step measured here): a third of the
    step time on 2 cores. Raising the mmap threshold to `mmap_threshold` and the trim threshold
    to `trim_threshold` keeps that memory in the heap, to be reused. (mallopt takes a C int: 2 GiB
    - 1 is the largest trim threshold; 256 MiB, tried first, was below one step's ~1 GB and
    left ~150,000 faults per step.)

    The setting is process-wide and lasts until the process ends (it changes where memory comes
    from, never a result). Cost: during a fit freed memory stays in the process, so its peak
    resident memory can be up to ~2x higher; `fit` and `fit_many` hand it back when they end
    (malloc_trim). They call this on CPU unless `fast=False` or INR_FAST=0. It does nothing
    (returns {}) outside Linux/glibc. `torch.set_float32_matmul_precision` is deliberately not
    touched: it made no real difference on the benchmark CPU, and on a GPU it enables TF32,
    which changes results (see bench/README.md).
    """
    if _FAST_STATE["applied"]:
        return _FAST_STATE["settings"]
    settings = {}
    libc = _libc()
    if libc is not None:
        if libc.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1:
            settings["M_MMAP_THRESHOLD"] = int(mmap_threshold)
        if libc.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1:
            settings["M_TRIM_THRESHOLD"] = int(trim_threshold)
    _FAST_STATE.update(applied=True, settings=settings)
    return settings


@functools.cache
def _libc():
    """glibc through ctypes, or None (not Linux, musl, ...): then there is nothing to tune."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 (both must exist)
    except (OSError, AttributeError):
        return None
    return libc


def release() -> None:
    """Hand the heap's free memory back to the system (malloc_trim) if `fast_cpu` tuned it, so
    that a kernel does not keep a large fit's peak."""
    if _FAST_STATE["settings"]:
        _libc().malloc_trim(0)
