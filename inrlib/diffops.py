"""Differential operators of a network's output with respect to its input coordinates (autograd).

All of them keep the graph (create_graph=True) so that a loss on a derivative can be trained.
`coords` must have requires_grad=True before the forward pass: `coords.requires_grad_(True)`.
"""
import torch


def _check(y, x):
    if not x.requires_grad:
        raise ValueError("coords must require grad before the forward pass: "
                         "call coords.requires_grad_(True) and evaluate the model again")


def gradient(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """dy/dx: (N, d) for a scalar field y of shape (N, 1) or (N,); (N, C, d) for C > 1 channels."""
    _check(y, x)
    if y.dim() == 1 or y.shape[-1] == 1:
        return torch.autograd.grad(y, x, torch.ones_like(y), create_graph=True)[0]
    return torch.stack([gradient(y[:, c:c + 1], x) for c in range(y.shape[-1])], dim=1)


def divergence(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sum_i dv_i/dx_i of a vector field v (..., N, d), shape (..., N, 1)."""
    _check(v, x)
    if v.shape[-1] != x.shape[-1]:
        raise ValueError(f"divergence needs a field with one component per coordinate: "
                         f"v {tuple(v.shape)} vs coords {tuple(x.shape)}")
    div = 0.0
    for i in range(v.shape[-1]):
        div = div + torch.autograd.grad(v[..., i], x, torch.ones_like(v[..., i]),
                                        create_graph=True)[0][..., i:i + 1]
    return div


def laplacian(y: torch.Tensor, x: torch.Tensor, grad: torch.Tensor | None = None) -> torch.Tensor:
    """Laplacian of a scalar field y (N, 1), shape (N, 1).

    Pass the `grad` you already have from `gradient(y, x)`: the Laplacian then reuses its graph
    instead of differentiating y a second time.
    """
    return divergence(gradient(y, x) if grad is None else grad, x)


def gradient_and_laplacian(y: torch.Tensor, x: torch.Tensor):
    """(gradient (N, d), Laplacian (N, 1)) of a scalar field, sharing the first derivative."""
    g = gradient(y, x)
    return g, laplacian(y, x, grad=g)


def derivatives(model, coords, chunk=16384):
    """(values (N, 1), gradient (N, d), Laplacian (N, 1)) of a scalar network, detached,
    evaluated `chunk` points at a time so large grids stay in bounded memory."""
    dev = next(model.parameters()).device
    outs = []
    for i in range(0, coords.shape[0], chunk):
        x = coords[i:i + chunk].to(dev).detach().requires_grad_(True)
        y = model(x)
        if y.shape[-1] != 1:
            raise ValueError(f"derivatives needs a scalar (one-channel) network, got {y.shape[-1]} outputs")
        g, lap = gradient_and_laplacian(y, x)
        outs.append((y.detach(), g.detach(), lap.detach()))
    return tuple(torch.cat(parts) for parts in zip(*outs))
