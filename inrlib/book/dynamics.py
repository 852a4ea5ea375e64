"""Training-dynamics analysis for coordinate MLPs: spectral bias and ReLU activation regions.

- `sum_of_sines`, `frequency_amplitudes`, `frequency_convergence`: how fast each frequency of a
  1D target is learnt (the residual's Fourier amplitude at each target frequency, over steps).
- `fit_tracked`: `inr.fit` with probes evaluated every few steps (and before the first step).
- `activation_patterns`, `pattern_ids`, `count_patterns`, `region_image`, `dead_neurons`:
  which ReLUs are on at each input, how many distinct on/off patterns (linear regions) a grid
  crosses, and a picture of them.
- `encoding_slice`: a 2D plane through the positional-encoding space, to look at regions there.
- `sample_pairs`, `hamming_distances`, `per_sample_gradients`, `gradient_confusion`:
  how different the patterns, and how aligned the loss gradients, are for pairs of nearby
  (local) or distant inputs.
- `spectral_norms`: the largest singular value of each layer's weight matrix.
"""
import math

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from ..grids import grid
from ..signals import Signal
from ..training import fit


# ---------------------------------------------------------------- 1D spectral bias

def sum_of_sines(n, freqs, amplitudes=1.0, seed=0, coord_range=(-1.0, 1.0)) -> Signal:
    """y(x) = sum_k A_k sin(2 pi f_k t + phi_k), t = (x - lo) / (hi - lo), on n periodic samples.

    `freqs` are whole numbers of cycles over the coordinate range; phases are uniform random
    (seeded). Samples are x_j = lo + (hi - lo) j / n (the right end is left out, so the signal
    is exactly periodic and each frequency falls on one FFT bin).
    """
    freqs = np.asarray(freqs, dtype=np.int64)
    if freqs.ndim != 1 or freqs.size == 0 or (freqs < 1).any():
        raise ValueError(f"freqs must be a non-empty list of whole numbers >= 1, got {freqs}")
    if 2 * freqs.max() >= n:
        raise ValueError(f"{n} samples cannot represent frequency {freqs.max()} "
                         f"(needs n > {2 * freqs.max()}, the Nyquist limit)")
    amps = np.broadcast_to(np.asarray(amplitudes, dtype=np.float64), freqs.shape)
    lo, hi = coord_range
    if not hi > lo:
        raise ValueError(f"coord_range must be (low, high) with low < high, got {coord_range}")
    phases = np.random.default_rng(seed).uniform(0, 2 * math.pi, freqs.size)
    t = np.arange(n) / n
    y = (amps[:, None] * np.sin(2 * math.pi * freqs[:, None] * t + phases[:, None])).sum(0)
    x = torch.from_numpy(lo + (hi - lo) * t).float()[:, None]
    peak = float(np.abs(amps).sum())
    return Signal(x, torch.from_numpy(y).float()[:, None], (n,), (-peak, peak), tuple(coord_range),
                  meta={"name": "sum of sines", "freqs": freqs.tolist(),
                        "amplitudes": amps.tolist(), "phases": phases.tolist()})


def frequency_amplitudes(values, freqs) -> np.ndarray:
    """Amplitude of each whole frequency in periodic samples: 2 |DFT_k| / n.

    `values` is (n,), (n, 1) or (batch, n); returns (K,) or (batch, K). A unit sine at
    frequency k gives 1 at k and 0 elsewhere.
    """
    v = values.detach().float().cpu().numpy() if torch.is_tensor(values) else np.asarray(values, float)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim not in (1, 2):
        raise ValueError(f"expected samples of shape (n,), (n, 1) or (batch, n), got {v.shape}")
    n = v.shape[-1]
    freqs = np.asarray(freqs, dtype=np.int64)
    if (freqs < 0).any() or (2 * freqs >= n).any():
        raise ValueError(f"frequencies must lie in [0, n/2) for n = {n} samples, got {freqs}")
    spec = np.abs(np.fft.rfft(v, axis=-1)) * 2 / n
    spec[..., 0] /= 2  # the mean is not doubled
    return spec[..., freqs]


def fit_tracked(model, signal, *, steps, every, probes, **fit_kw):
    """`inr.fit(model, signal, steps=...)`, evaluating `probes` before training and every `every` steps.

    probes: {name: fn(model) -> value}. Returns (history, record) where record["step"] holds
    the steps (0 first) and record[name] the values, one per step listed.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    if not probes:
        raise ValueError("fit_tracked needs at least one probe")
    record = {"step": [0], **{name: [fn(model)] for name, fn in probes.items()}}

    def callback(step, m, history):
        record["step"].append(step)
        for name, fn in probes.items():
            record[name].append(fn(m))

    history = fit(model, signal, steps=steps, callback=callback, callback_every=every, **fit_kw)
    return history, record


def frequency_convergence(model, signal, *, steps, every, lr=1e-3, freqs=None, **fit_kw):
    """Train on a `sum_of_sines` signal and follow the residual at each of its frequencies.

    Returns (steps (T,), relative residual amplitudes (T, K), history): entry [t, k] is the
    amplitude of (target - prediction) at frequency k after steps[t] steps, divided by the
    target's own amplitude there (1 = not learnt at all, 0 = learnt exactly).
    """
    freqs = signal.meta.get("freqs") if freqs is None else freqs
    if freqs is None:
        raise ValueError("give freqs=, or a signal made by sum_of_sines")
    target = signal.values.detach().cpu()
    ref = frequency_amplitudes(target, freqs)

    def residual_amps(m):
        with torch.no_grad():
            was = m.training
            m.eval()
            pred = m(signal.coords.to(next(m.parameters()).device)).cpu()
            m.train(was)
        return frequency_amplitudes(target - pred, freqs) / ref

    history, rec = fit_tracked(model, signal, steps=steps, every=every, lr=lr,
                               probes={"amp": residual_amps}, **fit_kw)
    return np.array(rec["step"]), np.stack(rec["amp"]), history


def steps_to_learn(steps, rel_amps, threshold=0.5) -> np.ndarray:
    """For each frequency (column of rel_amps), the first recorded step whose relative residual
    amplitude is below `threshold`; inf if it never is."""
    rel_amps = np.asarray(rel_amps)
    out = np.full(rel_amps.shape[1], np.inf)
    for k in range(rel_amps.shape[1]):
        below = np.nonzero(rel_amps[:, k] < threshold)[0]
        if below.size:
            out[k] = steps[below[0]]
    return out


# ---------------------------------------------------------------- ReLU activation regions

def random_image(size, channels=3, seed=0, coord_range=(-1.0, 1.0)) -> Signal:
    """A size x size image of independent uniform [0, 1] pixels (every frequency equally present)."""
    if int(size) != size or size < 2:
        raise ValueError(f"size must be a whole number >= 2, got {size}")
    gen = torch.Generator().manual_seed(seed)
    img = torch.rand(size * size, channels, generator=gen)
    return Signal(grid((size, size), coord_range), img, (size, size), (0.0, 1.0),
                  tuple(coord_range), meta={"name": "random", "seed": seed})


def _check_relu(model):
    acts = getattr(model, "acts", None)
    if acts is None or not all(isinstance(a, nn.ReLU) for a in acts):
        raise ValueError("activation patterns need an inrlib INR with ReLU activations "
                         "(e.g. inr.relu_mlp(...)); this model has "
                         f"{[type(a).__name__ for a in acts] if acts is not None else 'no .acts'}")


@torch.no_grad()
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
    out = []
    for i in range(0, inputs.shape[0], chunk):
        h = inputs[i:i + chunk].to(dev)
        if not encoded and model.encoding is not None:
            h = model.encoding(h)
        bits = []
        for linear in model.linears[:-1]:
            pre = linear(h)
            bits.append(pre > 0)
            h = torch.relu(pre)
        out.append(torch.cat(bits, dim=1).cpu())
    return torch.cat(out)


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
    if ids.size != int(np.prod(shape)):
        raise ValueError(f"{ids.size} patterns do not fill a grid of shape {tuple(shape)}")
    perm = np.random.default_rng(seed).permutation(n)
    return perm[ids].reshape(shape)


def dead_neurons(patterns, per_layer=None) -> int:
    """Number of ReLUs that are off at every input (dead on this set of inputs).

    With `per_layer=width` (int), returns a list of counts, one per layer of that width."""
    p = torch.as_tensor(patterns)
    dead = ~p.any(dim=0)
    if per_layer is None:
        return int(dead.sum())
    if dead.numel() % per_layer:
        raise ValueError(f"{dead.numel()} neurons do not split into layers of {per_layer}")
    return dead.reshape(-1, per_layer).sum(1).tolist()


def encoding_slice(model, point, dims, n=128, span=(-1.0, 1.0)) -> torch.Tensor:
    """Points of the plane through encode(point) in which encoding features dims=(i, j) vary over
    `span` and the others stay fixed: (n*n, features), row-major with feature i along axis 0."""
    if model.encoding is None:
        raise ValueError("this model has no input encoding; its input space is the coordinate space")
    point = torch.as_tensor(point, dtype=torch.float32).reshape(1, -1)
    with torch.no_grad():
        base = model.encoding(point.to(next(model.parameters()).device)).cpu()[0]
    i, j = dims
    f = base.numel()
    if not (0 <= i < f and 0 <= j < f) or i == j:
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
    h, w = shape
    rng = np.random.default_rng(seed)
    if kind == "local":
        patch = patch or max(2, min(h, w) // 10)
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
    return (p[a] != p[b]).sum(1).numpy()


def per_sample_gradients(model, coords, target, chunk=1024) -> torch.Tensor:
    """Gradient of each sample's squared error w.r.t. all parameters, flattened: (N, n_params).

    Computed with torch.func (vmap of grad over the samples), `chunk` samples at a time.
    """
    if coords.shape[0] != target.shape[0]:
        raise ValueError(f"{coords.shape[0]} coordinates but {target.shape[0]} targets")
    dev = next(model.parameters()).device
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss(p, x, y):
        out = functional_call(model, (p, buffers), (x[None],))
        return ((out[0] - y) ** 2).mean()

    g = vmap(grad(loss), in_dims=(None, 0, 0))
    parts = []
    for i in range(0, coords.shape[0], chunk):
        gi = g(params, coords[i:i + chunk].to(dev), target[i:i + chunk].to(dev))
        parts.append(torch.cat([gi[k].reshape(gi[k].shape[0], -1) for k in params], 1))
    return torch.cat(parts)


def gradient_confusion(model, coords, target, idx_a, idx_b, chunk=512) -> np.ndarray:
    """Cosine similarity of the per-sample loss gradients at coords[idx_a[p]] and coords[idx_b[p]].

    Near 1: an update for one point moves the other the same way; near 0 or negative: the two
    points pull the parameters apart (gradient confusion)."""
    idx_a, idx_b = torch.as_tensor(idx_a), torch.as_tensor(idx_b)
    if idx_a.shape != idx_b.shape:
        raise ValueError(f"idx_a and idx_b must have the same length, got {idx_a.shape}, {idx_b.shape}")
    out = []
    for i in range(0, idx_a.numel(), chunk):
        a, b = idx_a[i:i + chunk], idx_b[i:i + chunk]
        ga = per_sample_gradients(model, coords[a], target[a], chunk)
        gb = per_sample_gradients(model, coords[b], target[b], chunk)
        out.append(torch.nn.functional.cosine_similarity(ga, gb, dim=1, eps=1e-12).cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def spectral_norms(model) -> list:
    """Largest singular value of each Linear layer's weight, input to output (their product
    bounds the Lipschitz constant of a ReLU network on its encoded input)."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("the model has no nn.Linear layers")
    return [float(torch.linalg.matrix_norm(m.weight.float(), ord=2)) for m in layers]
