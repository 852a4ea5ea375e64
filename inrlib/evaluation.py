"""Evaluating a network (or any function of coordinates) on many points in bounded memory."""
import torch
from torch import nn


def predict(f, coords: torch.Tensor, chunk: int = 65536, autograd: bool = False) -> torch.Tensor:
    """f(coords) evaluated `chunk` points at a time, so huge grids fit in bounded memory.

    `f` is a model (it runs in eval mode on its own device, its mode restored afterwards) or any
    function of (n, d) points. Peak memory is the (N, ...) output plus one chunk's activations,
    whatever N is (a 2048^2 render of a width-256 network needs ~17 MB of output instead of
    ~4 GB per activation). Returns the output on the device f computed it on. `autograd=True`
    keeps autograd on within each chunk, for an f that differentiates itself (a gradient field);
    the output is detached either way.
    """
    if isinstance(chunk, bool) or int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a whole number >= 1, got {chunk!r}")
    if not torch.is_tensor(coords) or coords.dim() < 1 or coords.shape[0] == 0:
        shape = tuple(coords.shape) if torch.is_tensor(coords) else type(coords).__name__
        raise ValueError(f"predict needs a tensor of at least one coordinate, got {shape}")
    module = isinstance(f, nn.Module)
    first = next(f.parameters(), None) if module else None
    dev = first.device if first is not None else coords.device
    was_training = f.training if module else None
    if module:
        f.eval()
    try:
        with torch.set_grad_enabled(autograd):
            n, out = coords.shape[0], None
            for i in range(0, n, int(chunk)):
                y = torch.as_tensor(f(coords[i:i + int(chunk)].to(dev))).detach()
                if out is None:  # preallocate once: no list of chunks plus a concatenated copy
                    out = torch.empty((n,) + tuple(y.shape[1:]), dtype=y.dtype, device=y.device)
                out[i:i + y.shape[0]] = y
    finally:
        if module:
            f.train(was_training)
    return out
