"""Coordinate grids, and the mapping between a flat list of values and a signal's shape."""
import torch


def grid(shape, coord_range=(-1.0, 1.0), device=None) -> torch.Tensor:
    """Coordinates of every sample of a regular grid, shape (prod(shape), len(shape)).

    Axis k of the signal becomes coordinate k ('ij' indexing); both ends of the range are
    sample positions, so a 256-pixel side maps pixel 0 to -1 and pixel 255 to +1.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not shape or any(int(n) < 1 for n in shape):
        raise ValueError(f"grid shape must be a non-empty tuple of positive sizes, got {shape}")
    lo, hi = coord_range
    if not hi > lo:
        raise ValueError(f"coord_range must be (low, high) with low < high, got {coord_range}")
    axes = [torch.linspace(lo, hi, int(n), device=device) for n in shape]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(shape))


def to_flat(signal: torch.Tensor, ndim: int) -> torch.Tensor:
    """(*shape) or (*shape, C) array -> (N, C) values in grid order; ndim is len(shape)."""
    signal = torch.as_tensor(signal)
    if signal.dim() == ndim:
        signal = signal.unsqueeze(-1)
    if signal.dim() != ndim + 1:
        raise ValueError(f"expected a {ndim}-d signal with an optional channel axis, "
                         f"got shape {tuple(signal.shape)}")
    return signal.reshape(-1, signal.shape[-1])


def to_signal(values: torch.Tensor, shape) -> torch.Tensor:
    """(N, C) values in grid order -> (*shape, C), or (*shape) when C == 1."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = 1
    for s in shape:
        n *= s
    if values.shape[0] != n:
        raise ValueError(f"{values.shape[0]} values do not fill a grid of shape {shape} ({n} samples)")
    out = values.reshape(*shape, -1)
    return out[..., 0] if out.shape[-1] == 1 else out
