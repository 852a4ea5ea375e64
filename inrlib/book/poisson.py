"""Fitting a signal from its derivatives (Poisson reconstruction) and Poisson image editing.

Targets are packed into one (N, 4) tensor, columns [value, d/dx0, d/dx1, Laplacian], optionally
with a fifth column weighting the value term per sample, so that they go through `inr.fit` and
`inr.fit_many` (and their minibatching) unchanged; `DerivativeLoss` is the matching loss.

A function known only through its gradient is defined up to a constant, and through its
Laplacian up to a harmonic function: `align` removes those before a PSNR is measured.
"""
import numpy as np
import torch

from ..checks import flag, real, whole
from ..diffops import gradient, laplacian
from ..evaluation import predict
from ..losses import Loss, check_finite, check_weights
from ..metrics import psnr
from ..signals import Signal, image_gradient, image_laplacian

TERMS = ("value", "grad", "lap")


def derivative_targets(image: Signal, value_weight=None) -> torch.Tensor:
    """(N, 4) [value, d/dx0, d/dx1, Laplacian] of a grey image Signal, in coordinate units.

    The derivatives are the Sobel gradient and five-point Laplacian of `inr.image_gradient` /
    `inr.image_laplacian`, divided by the grid spacing so that they compare with autograd
    derivatives of a network of the coordinates. `value_weight` (H, W) or (N,), optional, is
    appended as a fifth column: the per-pixel weight of the value term (0 = no value there).
    """
    if image.channels != 1 or len(image.shape) != 2:
        raise ValueError(f"derivative targets need a grey 2-d image, got shape {image.shape} "
                         f"with {image.channels} channels")
    img = image.array()
    cols = [torch.from_numpy(img.reshape(-1, 1)),
            torch.from_numpy(image_gradient(img, image.spacing).reshape(-1, 2)),
            torch.from_numpy(image_laplacian(img, image.spacing).reshape(-1, 1))]
    if value_weight is not None:
        w = torch.as_tensor(np.asarray(value_weight, dtype=np.float32)).reshape(-1, 1)
        if w.shape[0] != img.size:
            raise ValueError(f"value_weight has {w.shape[0]} entries for {img.size} pixels")
        if not torch.isfinite(w).all() or (w < 0).any():
            raise ValueError("value_weight must be finite and >= 0 (0: no value term at a pixel)")
        cols.append(w)
    return torch.cat(cols, dim=1).float().to(image.values.device)


def target_scales(targets: torch.Tensor) -> dict:
    """Mean square of each target term: value, gradient (|g|^2) and Laplacian."""
    _check_packed(targets)
    return {"value": float(targets[:, 0].pow(2).mean()),
            "grad": float(targets[:, 1:3].pow(2).sum(1).mean()),
            "lap": float(targets[:, 3].pow(2).mean())}


def _check_packed(targets):
    if not torch.is_tensor(targets):
        raise TypeError(f"targets must be a tensor from derivative_targets, got {type(targets).__name__}")
    if targets.dim() != 2 or targets.shape[1] not in (4, 5):
        raise ValueError("expected packed targets (N, 4) [value, g0, g1, lap] or (N, 5) with a "
                         f"value-weight column, got {tuple(targets.shape)}; use derivative_targets")


def _terms(y, x, target, need_grad, need_lap):
    """Per-term squared errors (unreduced means over samples) of y(x) against packed targets."""
    out = {}
    vw = target[..., 4:5] if target.shape[-1] == 5 else None
    err = (y - target[..., 0:1]) ** 2
    out["value"] = (err * vw).sum(-2) / vw.sum(-2).clamp_min(1) if vw is not None else err.mean(-2)
    if need_grad or need_lap:
        g = gradient(y, x)
        if need_grad:
            out["grad"] = ((g - target[..., 1:3]) ** 2).sum(-1, keepdim=True).mean(-2)
        if need_lap:  # reuses g's graph
            out["lap"] = ((laplacian(y, x, grad=g) - target[..., 3:4]) ** 2).mean(-2)
    return {k: v[..., 0] for k, v in out.items()}


class DerivativeLoss(Loss):
    """A Loss for `inr.fit` and `inr.fit_many`: the weighted sum of MSEs on the values, the
    gradient and the Laplacian of the network (terms "value", "grad", "lap", logged by name),
    each divided by its target's mean square (`normalise`), so that the weights compare terms
    whose raw sizes differ by orders.

    Each weight is a number, or one number per model for `fit_many` (one supervision each).
    Derivatives are taken with autograd; the Laplacian reuses the gradient's graph. Only the
    terms with a non-zero weight are computed.
    """

    differentiates = True

    def __init__(self, targets: torch.Tensor, value=1.0, grad=0.0, lap=0.0, normalise=True):
        _check_packed(targets)
        check_finite(targets)
        normalise = flag("normalise", normalise)
        w = check_weights({"value": value, "grad": grad, "lap": lap}, TERMS)
        self.scales = target_scales(targets) if normalise else dict.fromkeys(TERMS, 1.0)
        self.need = {t: bool((w[t] > 0).any()) for t in TERMS}
        self.weights = {t: w[t] / max(self.scales[t], 1e-12) for t in TERMS}

    def terms(self, net, coords, target) -> dict:
        x = coords.detach().clone().requires_grad_(True)
        return _terms(net(x), x, target, self.need["grad"], self.need["lap"])


def derivative_loss(targets: torch.Tensor, value=1.0, grad=0.0, lap=0.0,
                    normalise=True) -> DerivativeLoss:
    """The derivative loss (see DerivativeLoss)."""
    return DerivativeLoss(targets, value, grad, lap, normalise)


def harmonic_basis(coords, degree: int) -> torch.Tensor:
    """(N, 2 degree + 1) harmonic polynomials of 2-d coords: 1, Re and Im of (x0 + i x1)^n, n <= degree."""
    degree = whole("degree", degree, low=0)
    c = torch.as_tensor(coords).detach().double().cpu()
    if c.dim() != 2 or c.shape[1] != 2:
        raise ValueError(f"harmonic_basis needs (N, 2) coordinates, got {tuple(c.shape)}")
    z = torch.complex(c[:, 0], c[:, 1])
    cols = [torch.ones_like(c[:, 0])]
    for n in range(1, int(degree) + 1):
        zn = z**n
        cols += [zn.real, zn.imag]
    return torch.stack(cols, dim=1)


def align(pred, target, coords, degree: int = 0):
    """`pred` plus the harmonic polynomial of degree <= `degree` that best matches `target`
    (least squares): degree 0 adds the best constant (what a gradient fit leaves undefined),
    higher degrees also remove the low-order part of the harmonic function a Laplacian fit
    leaves undefined. Returns (aligned prediction (N, 1) tensor, coefficients)."""
    p = torch.as_tensor(pred).detach().double().cpu().reshape(-1)
    t = torch.as_tensor(target).detach().double().cpu().reshape(-1)
    if p.shape != t.shape:
        raise ValueError(f"prediction has {p.numel()} values, target {t.numel()}")
    basis = harmonic_basis(coords, degree)
    if basis.shape[0] != p.numel():
        raise ValueError(f"{basis.shape[0]} coordinates for {p.numel()} values")
    coef = torch.linalg.lstsq(basis, (t - p)[:, None]).solution
    return (p + (basis @ coef)[:, 0]).float()[:, None], coef[:, 0]


def aligned_psnr(model, image: Signal, degree: int = 0) -> float:
    """PSNR of `model`'s reconstruction of `image` after `align`: its quality up to what its
    supervision leaves free (a constant for a gradient fit, a harmonic function for a Laplacian)."""
    aligned, _ = align(predict(model, image.coords), image.values, image.coords, degree)
    return psnr(aligned, image.values.detach().float().cpu(), data_range=image.data_range)


def clone_targets(dst: Signal, src: Signal, mask) -> torch.Tensor:
    """Packed (N, 5) targets for seamless cloning (Perez et al. 2003): the gradient is the
    source's inside `mask` and the destination's outside, the values are the destination's,
    weighted only outside the mask. Fitting gradient + values then pastes the source's detail
    into the destination while its mean level is set by the surroundings."""
    m = np.asarray(mask, dtype=bool)
    if tuple(dst.shape) != tuple(src.shape) or m.shape != tuple(dst.shape):
        raise ValueError(f"destination {dst.shape}, source {src.shape} and mask {m.shape} "
                         "must have the same shape")
    if not m.any() or m.all():
        raise ValueError("the mask must select some pixels and leave some outside")
    t_dst = derivative_targets(dst, value_weight=~m)
    t_src = derivative_targets(src)
    inside = torch.from_numpy(m.reshape(-1)).to(t_dst.device)
    t = t_dst.clone()
    t[inside, 1:4] = t_src[inside, 1:4]
    return t


def poisson_blend_reference(dst, src, mask) -> np.ndarray:
    """Classic discrete seamless cloning: inside `mask` solve the five-point Poisson equation
    Lap f = Lap src with f = dst on and outside the mask's border (sparse direct solve)."""
    from scipy.sparse import lil_matrix
    from scipy.sparse.linalg import spsolve

    dst, src, m = np.asarray(dst, float), np.asarray(src, float), np.asarray(mask, bool)
    if dst.shape != src.shape or m.shape != dst.shape or dst.ndim != 2:
        raise ValueError(f"need equal (H, W) shapes, got {dst.shape}, {src.shape}, {m.shape}")
    inner = m.copy()
    inner[0, :] = inner[-1, :] = inner[:, 0] = inner[:, -1] = False  # the image border is fixed
    idx = -np.ones(m.shape, int)
    pts = np.argwhere(inner)
    if len(pts) == 0:
        raise ValueError("the mask has no interior pixel")
    idx[inner] = np.arange(len(pts))
    a, b = lil_matrix((len(pts), len(pts))), np.zeros(len(pts))
    for n, (i, j) in enumerate(pts):
        a[n, n] = 4
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            q = (i + di, j + dj)
            b[n] += src[i, j] - src[q]
            if inner[q]:
                a[n, idx[q]] = -1
            else:
                b[n] += dst[q]
    out = dst.copy()
    out[inner] = spsolve(a.tocsr(), b)
    return out


def layer_outputs(model, coords) -> list:
    """Per hidden layer, the activation outputs of `model` at `coords`, as flat numpy arrays."""
    with torch.no_grad():
        _, trace = model(coords, return_activations=True)
    return [h.flatten().cpu().numpy() for _, h in trace]


def near_zero_fraction(values, threshold=0.1) -> float:
    """Fraction of |values| below `threshold`: how sparse a layer's outputs are."""
    v = np.asarray(values)
    threshold = real("threshold", threshold, low=0.0)
    if v.size == 0:
        raise ValueError("near_zero_fraction: no values")
    if not np.isfinite(v).all():
        raise ValueError("near_zero_fraction: the values hold NaN or infinite entries")
    return float(np.mean(np.abs(v) < threshold))


