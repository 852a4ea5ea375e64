"""Coordinate grids, and the mapping between a flat list of values and a signal's shape."""
import math
import numbers

import torch


def _shape(shape, what="grid shape") -> tuple:
    """A non-empty tuple of whole sizes >= 1 (an int is a 1-d shape); floats, bools and strings
    are refused rather than rounded or parsed."""
    dims = (shape,) if isinstance(shape, numbers.Integral) else shape
    if isinstance(dims, (str, bytes)) or not isinstance(dims, (tuple, list, torch.Size)):
        raise TypeError(f"{what} must be a whole number or a tuple of them, got {shape!r} "
                        f"({type(shape).__name__})")
    dims = tuple(dims)
    bad = [n for n in dims if isinstance(n, bool) or not isinstance(n, numbers.Integral)]
    if bad:
        raise TypeError(f"{what} must hold whole numbers, got {shape!r} ({bad[0]!r} is "
                        f"{type(bad[0]).__name__})")
    if not dims or any(n < 1 for n in dims):
        raise ValueError(f"{what} must be a non-empty tuple of positive sizes, got {shape!r}")
    return tuple(int(n) for n in dims)


def _coord_range(coord_range) -> tuple:
    if isinstance(coord_range, (str, bytes)) or not hasattr(coord_range, "__len__") \
            or len(coord_range) != 2:
        raise TypeError(f"coord_range must be a (low, high) pair of numbers, got {coord_range!r}")
    lo, hi = coord_range
    for v in (lo, hi):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"coord_range must hold two finite numbers, got {coord_range!r}")
    if not hi > lo:
        raise ValueError(f"coord_range must be (low, high) with low < high, got {coord_range}")
    return float(lo), float(hi)


def grid(shape, coord_range=(-1.0, 1.0), device=None) -> torch.Tensor:
    """Coordinates of every sample of a regular grid, shape (prod(shape), len(shape)).

    Axis k of the signal becomes coordinate k ('ij' indexing); both ends of the range are
    sample positions, so a 256-pixel side maps pixel 0 to -1 and pixel 255 to +1.
    """
    shape = _shape(shape)
    lo, hi = _coord_range(coord_range)
    axes = [torch.linspace(lo, hi, n, device=device) for n in shape]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(shape))


def to_flat(signal: torch.Tensor, ndim: int) -> torch.Tensor:
    """(*shape) or (*shape, C) array -> (N, C) values in grid order; ndim is len(shape)."""
    if isinstance(ndim, bool) or not isinstance(ndim, numbers.Integral) or ndim < 1:
        raise ValueError(f"ndim must be a whole number >= 1 (the signal's number of axes), got {ndim!r}")
    signal = torch.as_tensor(signal)
    if signal.dim() == ndim:
        signal = signal.unsqueeze(-1)
    if signal.dim() != ndim + 1:
        raise ValueError(f"expected a {ndim}-d signal with an optional channel axis, "
                         f"got shape {tuple(signal.shape)}")
    return signal.reshape(-1, signal.shape[-1])


def to_signal(values: torch.Tensor, shape) -> torch.Tensor:
    """(N, C) values in grid order -> (*shape, C), or (*shape) when C == 1."""
    shape = _shape(shape, "shape")
    values = torch.as_tensor(values)
    if values.dim() != 2:
        raise ValueError(f"to_signal takes (N, C) values in grid order, got shape "
                         f"{tuple(values.shape)}: use values.reshape(-1, C)")
    n = math.prod(shape)
    if values.shape[0] != n:
        raise ValueError(f"{values.shape[0]} values do not fill a grid of shape {shape} ({n} samples)")
    out = values.reshape(*shape, -1)
    return out[..., 0] if out.shape[-1] == 1 else out
