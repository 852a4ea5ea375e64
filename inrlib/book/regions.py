"""ReLU activation regions and gradient confusion: which ReLUs are on at each input, how many
distinct on/off patterns (linear regions) a grid crosses, and how aligned the loss gradients are
for nearby (local) and distant pairs of inputs.

- `activation_patterns`, `pattern_ids`, `count_patterns`, `region_image`, `dead_neurons`;
- `encoding_slice`: a 2D plane through the positional-encoding space, to look at regions there;
- `sample_pairs`, `hamming_distances`, `per_sample_gradients`, `gradient_confusion`;
- `spectral_norms`: the largest singular value of each layer's weight matrix.
"""
import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from ..checks import whole
from ..evaluation import predict
from ..grids import grid


def _check_relu(model):
    acts = getattr(model, "acts", None)
    if acts is None or not all(isinstance(a, nn.ReLU) for a in acts):
        raise ValueError("activation patterns need an inrlib INR with ReLU activations "
                         "(e.g. inr.relu_mlp(...)); this model has "
                         f"{[type(a).__name__ for a in acts] if acts is not None else 'no .acts'}")


def activation_patterns(model, inputs, encoded=False, chunk=16384) -> torch.Tensor:
    """On/off state (pre-activation > 0) of every hidden ReLU at each input: bool (N, width*depth).

    `inputs` are coordinates, or with `encoded=True` points of the encoding space fed straight
    to the first layer (for cross-sections of that space). Layers are concatenated in order.
    """
    _check_relu(model)
    dev = next(model.parameters()).device
    n_in = model.linears[0].in_features
    if encoded and inputs.shape[-1] != n_in:
        raise ValueError(f"encoded inputs must have {n_in} features, got {inputs.shape[-1]}")
    if not encoded:
        model.check_coords(inputs)

    def bits(x):
        h = model.encoding(x) if not encoded and model.encoding is not None else x
        out = []
        for linear in model.linears[:-1]:
            pre = linear(h)
            out.append(pre > 0)
            h = torch.relu(pre)
        return torch.cat(out, dim=1)

    return predict(bits, inputs.to(dev), chunk=chunk).cpu()


def pattern_ids(patterns):
    """Label each row of a bool pattern matrix by its distinct pattern: (ids (N,), n_distinct).

    Ids run over 0..n_distinct-1 (in the sorted order of the packed bit patterns)."""
    p = patterns.cpu().numpy() if torch.is_tensor(patterns) else np.asarray(patterns)
    if p.ndim != 2 or p.dtype != bool:
        raise ValueError(f"patterns must be a bool (N, neurons) array, got {p.dtype} {p.shape}")
    packed = np.ascontiguousarray(np.packbits(p, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, ids = np.unique(keys, return_inverse=True)
    ids = ids.ravel()
    return ids, int(ids.max()) + 1 if ids.size else 0


def count_patterns(patterns) -> int:
    """Number of distinct activation patterns (activation regions met by the inputs)."""
    return pattern_ids(patterns)[1]


def region_image(patterns, shape, seed=0) -> np.ndarray:
    """Pattern ids on a grid of `shape`, relabelled in random order so that neighbouring regions
    get unrelated colours; plot with a cyclic or qualitative colour map."""
    ids, n = pattern_ids(patterns)
    shape = tuple(whole(f"shape[{i}]", s) for i, s in enumerate(shape))
    if ids.size != int(np.prod(shape)):
        raise ValueError(f"{ids.size} patterns do not fill a grid of shape {tuple(shape)}")
    perm = np.random.default_rng(seed).permutation(n)
    return perm[ids].reshape(shape)


def dead_neurons(patterns, per_layer=None) -> int:
    """Number of ReLUs that are off at every input (dead on this set of inputs).

    With `per_layer=width` (int), returns a list of counts, one per layer of that width."""
    p = torch.as_tensor(patterns)
    if p.dtype != torch.bool or p.dim() != 2:
        raise ValueError(f"patterns must be a bool (N, neurons) array, got {p.dtype} {tuple(p.shape)}")
    dead = ~p.any(dim=0)
    if per_layer is None:
        return int(dead.sum())
    per_layer = whole("per_layer", per_layer)
    if dead.numel() % per_layer:
        raise ValueError(f"{dead.numel()} neurons do not split into layers of {per_layer}")
    return dead.reshape(-1, per_layer).sum(1).tolist()


def encoding_slice(model, point, dims, n=128, span=(-1.0, 1.0)) -> torch.Tensor:
    """Points of the plane through encode(point) in which encoding features dims=(i, j) vary over
    `span` and the others stay fixed: (n*n, features), row-major with feature i along axis 0."""
    if model.encoding is None:
        raise ValueError("this model has no input encoding; its input space is the coordinate space")
    n = whole("n", n, low=2)
    point = torch.as_tensor(point, dtype=torch.float32).reshape(1, -1)
    if point.shape[1] != model.in_features:
        raise ValueError(f"point must have {model.in_features} coordinates, got {point.shape[1]}")
    with torch.no_grad():
        base = model.encoding(point.to(next(model.parameters()).device)).cpu()[0]
    i, j = dims
    f = base.numel()
    if not (isinstance(i, int) and isinstance(j, int)) or not (0 <= i < f and 0 <= j < f) or i == j:
        raise ValueError(f"dims must be two different feature indices in [0, {f}), got {dims}")
    plane = grid((n, n), span)
    out = base.repeat(n * n, 1)
    out[:, i], out[:, j] = plane[:, 0], plane[:, 1]
    return out


# ---------------------------------------------------------------- pairs: Hamming, confusion

def sample_pairs(shape, n_pairs, kind, patch=None, seed=0):
    """Random pairs of grid indices (row-major) on a 2D grid of `shape`.

    kind="local": both points in the same random patch x patch square (default: 1/10 of the
    side, at least 2); kind="distant": points in opposite quadrants, more than a quarter of the
    side apart along each axis. Returns (idx_a, idx_b), int64 arrays of n_pairs.
    """
    h, w = (whole(f"shape[{i}]", s) for i, s in enumerate(shape))
    n_pairs = whole("n_pairs", n_pairs)
    rng = np.random.default_rng(whole("seed", seed, low=0))
    if kind == "local":
        patch = max(2, min(h, w) // 10) if patch is None else whole("patch", patch)
        if not 2 <= patch <= min(h, w):
            raise ValueError(f"patch must be between 2 and {min(h, w)}, got {patch}")
        r0 = rng.integers(0, h - patch + 1, n_pairs)
        c0 = rng.integers(0, w - patch + 1, n_pairs)
        ra, rb = r0 + rng.integers(0, patch, n_pairs), r0 + rng.integers(0, patch, n_pairs)
        ca, cb = c0 + rng.integers(0, patch, n_pairs), c0 + rng.integers(0, patch, n_pairs)
    elif kind == "distant":
        qh, qw = h * 3 // 8, w * 3 // 8  # corner blocks of 3/8 of the side: gap of 1/4
        if qh < 1 or qw < 1:
            raise ValueError(f"grid {shape} too small for distant pairs")
        ra, ca = rng.integers(0, qh, n_pairs), rng.integers(0, qw, n_pairs)
        rb, cb = h - 1 - rng.integers(0, qh, n_pairs), w - 1 - rng.integers(0, qw, n_pairs)
        flip = rng.random(n_pairs) < 0.5  # half the pairs on the other diagonal
        ca, cb = np.where(flip, w - 1 - ca, ca), np.where(flip, w - 1 - cb, cb)
    else:
        raise ValueError(f"kind must be 'local' or 'distant', got {kind!r}")
    return ra * w + ca, rb * w + cb


def hamming_distances(patterns, idx_a, idx_b) -> np.ndarray:
    """Number of ReLUs whose on/off state differs between inputs idx_a[p] and idx_b[p]."""
    p = torch.as_tensor(patterns)
    a, b = torch.as_tensor(idx_a), torch.as_tensor(idx_b)
    if a.shape != b.shape or a.dim() != 1:
        raise ValueError(f"idx_a and idx_b must be 1-d and of one length, got {tuple(a.shape)}, "
                         f"{tuple(b.shape)}")
    return (p[a] != p[b]).sum(1).numpy()


def per_sample_gradients(model, coords, target, chunk=1024) -> torch.Tensor:
    """Gradient of each sample's squared error w.r.t. all parameters, flattened: (N, n_params).

    Computed with torch.func (vmap of grad over the samples), `chunk` samples at a time.
    """
    if coords.dim() != 2 or target.dim() != 2 or coords.shape[0] != target.shape[0]:
        raise ValueError(f"per_sample_gradients needs coords (N, d) and target (N, C), got "
                         f"{tuple(coords.shape)} and {tuple(target.shape)}")
    chunk = whole("chunk", chunk)
    dev = next(model.parameters()).device
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss(p, x, y):
        out = functional_call(model, (p, buffers), (x[None],))
        return ((out[0] - y) ** 2).mean()

    g = vmap(grad(loss), in_dims=(None, 0, 0))
    d = coords.shape[1]

    def flat(rows):  # rows: [coordinates, target] side by side
        gi = g(params, rows[:, :d], rows[:, d:])
        return torch.cat([gi[k].reshape(gi[k].shape[0], -1) for k in params], 1)

    return predict(flat, torch.cat([coords, target], 1).to(dev), chunk=chunk, autograd=True)


def gradient_confusion(model, coords, target, idx_a, idx_b, chunk=512) -> np.ndarray:
    """Cosine similarity of the per-sample loss gradients at coords[idx_a[p]] and coords[idx_b[p]].

    Near 1: an update for one point moves the other the same way; near 0 or negative: the two
    points pull the parameters apart (gradient confusion)."""
    idx_a, idx_b = torch.as_tensor(idx_a), torch.as_tensor(idx_b)
    if idx_a.shape != idx_b.shape:
        raise ValueError(f"idx_a and idx_b must have the same length, got {idx_a.shape}, {idx_b.shape}")

    def cosines(pairs):
        ga = per_sample_gradients(model, coords[pairs[:, 0]], target[pairs[:, 0]], chunk)
        gb = per_sample_gradients(model, coords[pairs[:, 1]], target[pairs[:, 1]], chunk)
        return torch.nn.functional.cosine_similarity(ga, gb, dim=1, eps=1e-12)

    return predict(cosines, torch.stack([idx_a, idx_b], 1), chunk=chunk, autograd=True).cpu().numpy()


@torch.no_grad()
def spectral_norms(model) -> list:
    """Largest singular value of each Linear layer's weight, input to output (their product
    bounds the Lipschitz constant of a ReLU network on its encoded input)."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("the model has no nn.Linear layers")
    return [float(torch.linalg.matrix_norm(m.weight.float(), ord=2)) for m in layers]
