"""Differential operators of a network's output with respect to its input coordinates (autograd).

All of them keep the graph (create_graph=True) so that a loss on a derivative can be trained.
`coords` must have requires_grad=True before the forward pass: `coords.requires_grad_(True)`.
"""
import torch

from .evaluation import predict


def _check(y, x, name="y"):
    if not torch.is_tensor(y) or not torch.is_tensor(x):
        raise TypeError(f"{name} and coords must be torch tensors, got {type(y).__name__} and "
                        f"{type(x).__name__}")
    if not x.requires_grad:
        raise ValueError("coords must require grad before the forward pass: "
                         "call coords.requires_grad_(True) and evaluate the model again")
    if x.dim() < 1 or y.dim() < 1 or y.shape[:x.dim() - 1] != x.shape[:-1]:
        raise ValueError(f"{name} {tuple(y.shape)} does not hold one value per point of coords "
                         f"{tuple(x.shape)}: pass the model's output at exactly these coords")
    if not y.requires_grad:
        raise ValueError(f"{name} does not depend on coords through autograd: evaluate the model "
                         "on coords (with requires_grad) and pass its output, not a detached copy")


def _grad(y, x, name):
    g = torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True, allow_unused=True)[0]
    if g is None:
        raise ValueError(f"{name} does not depend on coords: pass the output of a model "
                         "evaluated on these coords")
    return g


def gradient(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """dy/dx: (..., N, d) for a scalar field y of shape (..., N, 1) or (N,); (..., N, C, d) for
    C > 1 channels (one gradient per channel, the Jacobian)."""
    _check(y, x)
    if y.dim() == x.dim() - 1 or y.shape[-1] == 1:
        return _grad(y, x, "y")
    return torch.stack([gradient(y[..., c:c + 1], x) for c in range(y.shape[-1])], dim=-2)


def divergence(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_i dv_i/dx_i of one vector field v (..., N, d), shape (..., N, 1).

    For the Jacobian of a C-channel field (..., N, C, d) take one channel at a time
    (`divergence(J[..., c, :], x)`) or use `laplacian`, which does so."""
    _check(v, x, "v")
    if v.shape != x.shape:
        raise ValueError(f"divergence takes one vector field with a component per coordinate, "
                         f"shape {tuple(x.shape)} like coords, got v {tuple(v.shape)}; for a "
                         "C-channel Jacobian (N, C, d) take divergence(J[:, c], x) per channel")
    return _div(v, x)


def _div(v, x):
    div = torch.zeros(v.shape[:-1] + (1,), dtype=v.dtype, device=v.device)
    for i in range(v.shape[-1]):
        if not v.requires_grad:  # a constant field (the gradient of a linear function)
            break
        g = torch.autograd.grad(v[..., i], x, torch.ones_like(v[..., i]), create_graph=True,
                                allow_unused=True)[0]
        if g is not None:  # None: this component is constant in x (derivative 0)
            div = div + g[..., i:i + 1]
    return div


def laplacian(y: torch.Tensor, x: torch.Tensor, grad: torch.Tensor | None = None) -> torch.Tensor:
    """Laplacian of a field y (..., N, C) per channel, shape (..., N, C) ((N, 1) for a scalar
    field); channels are never summed.

    Pass the `grad` you already have from `gradient(y, x)`: the Laplacian then reuses its graph
    instead of differentiating y a second time.
    """
    _check(y, x)
    g = gradient(y, x) if grad is None else grad
    channels = 1 if y.dim() == x.dim() - 1 else y.shape[-1]
    want = x.shape if channels == 1 else x.shape[:-1] + (channels, x.shape[-1])
    if not torch.is_tensor(g) or g.shape != want:
        raise ValueError(f"grad must be gradient(y, x), of shape {tuple(want)}, got "
                         f"{tuple(g.shape) if torch.is_tensor(g) else type(g).__name__}")
    if channels == 1:
        return _div(g, x)
    return torch.cat([_div(g[..., c, :], x) for c in range(channels)], dim=-1)


def gradient_and_laplacian(y: torch.Tensor, x: torch.Tensor) -> tuple:
    """(gradient, Laplacian) of a field, sharing the first derivative: (N, d) and (N, 1) for a
    scalar field, (N, C, d) and (N, C) for C channels."""
    g = gradient(y, x)
    return g, laplacian(y, x, grad=g)


def derivatives(model, coords: torch.Tensor, chunk: int = 16384) -> tuple:
    """(values (N, 1), gradient (N, d), Laplacian (N, 1)) of a scalar network, detached,
    evaluated `chunk` points at a time so large grids stay in bounded memory."""
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a whole number >= 1, got {chunk!r}")
    if not torch.is_tensor(coords) or coords.dim() != 2 or coords.shape[0] == 0:
        raise ValueError(f"derivatives needs an (N, d) tensor of coordinates, got "
                         f"{tuple(coords.shape) if torch.is_tensor(coords) else type(coords).__name__}")
    first = next(model.parameters(), None)
    if first is None:
        raise ValueError("derivatives needs a model with parameters (an inrlib INR)")
    d = coords.shape[1]

    def value_gradient_laplacian(x):
        x = x.detach().requires_grad_(True)
        y = model(x)
        if y.shape[-1] != 1:
            raise ValueError(f"derivatives needs a scalar (one-channel) network, got {y.shape[-1]} outputs")
        g, lap = gradient_and_laplacian(y, x)
        return torch.cat([y, g, lap], dim=1)

    out = predict(value_gradient_laplacian, coords.to(first.device), chunk=chunk, autograd=True)
    return out[:, :1], out[:, 1:1 + d], out[:, 1 + d:]
