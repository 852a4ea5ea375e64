"""Training: `fit` one model, `fit_many` several identical-shape models as one batch, `predict` in chunks.

Speed (measured in bench/, see bench/README.md):
- On a CPU, `fit` and `fit_many` call `fast_cpu()` once per process unless `fast=False` or the
  environment variable INR_FAST=0: it tunes glibc's malloc so that large activations are not
  handed back to the kernel and page-faulted in again at every step (1.5-1.9x per step for a
  256x256 SIREN on 2 cores, bit-identical results, at the cost of a higher peak RSS).
- `fit_many` trains K identically-shaped INR models as one network of batched matrix
  products (torch.baddbmm over stacked weights), so a sweep costs a few large operations per
  step instead of K times many small ones; other models fall back to torch.func.vmap.
"""
import contextlib
import ctypes
import ctypes.util
import functools
import math
import os
import sys
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.func import functional_call, stack_module_state
from tqdm.auto import tqdm

from .metrics import psnr_from_mse
from .signals import Signal


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


@contextlib.contextmanager
def _training(dev, fast, tf32):
    """Around a training loop: fast_cpu() on a CPU (unless opted out) and TF32 if asked;
    afterwards, also after an error, the matmul precision is restored and the heap's free memory
    handed back to the system (malloc_trim), so a kernel does not keep a large fit's peak."""
    if dev.type == "cpu" and fast_enabled(fast):
        fast_cpu()
    old = torch.get_float32_matmul_precision()
    if tf32:
        torch.set_float32_matmul_precision("high")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(old)
        if _FAST_STATE["settings"]:
            _libc().malloc_trim(0)


def progress_enabled(progress=None) -> bool:
    """Progress bars are on unless turned off here or with INR_PROGRESS=0 (the book build does)."""
    if progress is not None:
        return bool(progress)
    return os.environ.get("INR_PROGRESS", "1") not in ("0", "false", "no")


@dataclass
class History:
    """Per-step record of a fit: loss, PSNR (when the loss is an MSE on values) and wall time."""

    step: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    psnr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)  # cumulative wall-clock time after the step

    def _first(self, values, ok):
        for i, v in enumerate(values):
            if ok(v):
                return i
        return None

    def steps_to(self, psnr=None, mse=None):
        """First step (1-based count) at which PSNR >= psnr or loss <= mse; None if never."""
        i = self._index(psnr, mse)
        return None if i is None else self.step[i]

    def seconds_to(self, psnr=None, mse=None):
        i = self._index(psnr, mse)
        return None if i is None else self.seconds[i]

    def _index(self, psnr, mse):
        if (psnr is None) == (mse is None):
            raise ValueError("give exactly one of psnr= or mse=")
        if psnr is not None:
            return self._first(self.psnr, lambda v: v is not None and v >= psnr)
        return self._first(self.loss, lambda v: v <= mse)

    @property
    def final_psnr(self):
        return self.psnr[-1] if self.psnr else None

    @property
    def seconds_per_step(self):
        d = [b - a for a, b in zip([0.0] + self.seconds[:-1], self.seconds)]
        d = sorted(d[1:] or d)  # the first step pays for warm-up
        return d[len(d) // 2]


def _check_targets(target):
    if not torch.isfinite(target).all():
        bad = int((~torch.isfinite(target)).sum())
        raise ValueError(f"targets contain {bad} NaN or infinite values; clean the signal first")


def _nan_error(loss, step, lr):
    return FloatingPointError(
        f"loss became {loss} at step {step}: training diverged. Likely causes: a learning rate "
        f"too high for this model (lr={lr:g}), omega too large, or non-finite targets.")


def _make_optimizer(name, params, lr, weight_decay):
    opts = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if name not in opts:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(opts)}")
    return opts[name](params, lr=lr, weight_decay=weight_decay)


def fit(model, coords, target=None, *, steps, lr=1e-4, batch_size=None, optimizer="adam",
        weight_decay=0.0, lr_decay=None, loss_fn=None, data_range=None, seed=0, progress=None,
        callback=None, callback_every=None, desc=None, fast=None, tf32=False) -> History:
    """Train `model` on coords (N, d) -> target (N, C) and return its History.

    `coords` may be a Signal (its values are the target and its data range the PSNR's).
    Full batch unless `batch_size`; `lr_decay=(every, gamma)` multiplies the learning rate by
    gamma every `every` steps. `loss_fn(model, coords, target)` replaces the MSE on values (PSNR
    is then not recorded). `callback(step, model, history)` runs every `callback_every` steps.
    A NaN or infinite loss stops training with an error naming the step.
    On a CPU, `fast` (default: on unless INR_FAST=0) applies `fast_cpu()` first: a
    process-wide malloc setting that makes large steps faster without changing any result.
    `tf32=True` lets a GPU's matrix units multiply float32 with a 10-bit mantissa during this fit
    (1.3-1.9x per step on an H100, < 0.1 dB PSNR after 500 steps: bench/README.md); off by
    default because derivatives of the fitted network (Poisson chapter) lose precision with it.
    """
    if isinstance(coords, Signal):
        coords, target, data_range = coords.coords, coords.values, data_range or coords.data_range
    if target is None:
        raise ValueError("fit needs a target: fit(model, coords, target, ...) or fit(model, signal, ...)")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if coords.shape[0] != target.shape[0]:
        raise ValueError(f"{coords.shape[0]} coordinates but {target.shape[0]} target values")
    model.check_coords(coords) if hasattr(model, "check_coords") else None
    _check_targets(target)
    dev = next(model.parameters()).device
    coords, target = coords.to(dev), target.to(dev)
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, *lr_decay) if lr_decay else None
    gen = torch.Generator(device="cpu").manual_seed(seed)
    n = coords.shape[0]
    batch_size = batch_size or n
    hist = History()
    order, pos = None, n
    bar = tqdm(total=steps, desc=desc or "fit", disable=not progress_enabled(progress), leave=False)
    every = max(1, steps // 100)
    with _training(dev, fast, tf32):
        start = time.perf_counter()
        for step in range(1, steps + 1):
            if batch_size < n:
                if pos + batch_size > n:
                    order, pos = torch.randperm(n, generator=gen).to(dev), 0
                idx = order[pos:pos + batch_size]
                pos += batch_size
                xb, yb = coords[idx], target[idx]
            else:
                xb, yb = coords, target
            loss = loss_fn(model, xb, yb) if loss_fn else torch.mean((model(xb) - yb) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            value = loss.item()
            if not math.isfinite(value):
                bar.close()
                raise _nan_error(value, step, lr)
            hist.step.append(step)
            hist.loss.append(value)
            hist.psnr.append(psnr_from_mse(value, data_range) if data_range and not loss_fn else None)
            hist.seconds.append(time.perf_counter() - start)
            if step % every == 0 or step == steps:
                bar.update(step - bar.n)
                bar.set_postfix(loss=f"{value:.2e}", **({"psnr": f"{hist.psnr[-1]:.1f}dB"} if hist.psnr[-1] else {}))
            if callback and callback_every and (step % callback_every == 0 or step == steps):
                callback(step, model, hist)
        bar.close()
    return hist


@torch.no_grad()
def predict(model, coords, chunk=65536) -> torch.Tensor:
    """model(coords) evaluated `chunk` points at a time, so huge grids fit in bounded memory.

    Peak memory is the (N, C) output plus one chunk's activations, whatever N is (a 2048^2
    render of a width-256 network needs ~17 MB of output instead of ~4 GB per activation).
    Returns the output on the model's device; the model's train/eval mode is restored.
    """
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk must be a whole number >= 1, got {chunk}")
    chunk = int(chunk)
    if coords.dim() < 1 or coords.shape[0] == 0:
        raise ValueError(f"predict needs at least one coordinate, got shape {tuple(coords.shape)}")
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        n, out = coords.shape[0], None
        for i in range(0, n, chunk):
            y = model(coords[i:i + chunk].to(dev))
            if out is None:  # preallocate once: no list of chunks plus a concatenated copy
                out = torch.empty((n,) + tuple(y.shape[1:]), dtype=y.dtype, device=y.device)
            out[i:i + y.shape[0]] = y
    finally:
        model.train(was_training)
    return out


# ---------------------------------------------------------------------------------------------
# fit_many: K identically-shaped models trained as one batched network.

class _Unbatchable(Exception):
    """The models are not plain INRs that the direct batched path understands (use vmap)."""


def _stack_activation(acts):
    """(omega (K, 1, 1) or None, f) for the i-th activation of K models: the layer computes
    f(omega * (W h + b)), with omega folded into the stacked weights as INR.forward does."""
    from .activations import Sine

    kinds = {type(a) for a in acts}
    if len(kinds) != 1:
        raise _Unbatchable("different activation types")
    kind = kinds.pop()
    if issubclass(kind, Sine):
        a0 = acts[0]
        def shape_buffers(a):  # everything but omega: harmonics and coefficients of the waves
            return {n: b for n, b in a.named_buffers() if n != "omega"}

        b0 = shape_buffers(a0)
        for a in acts:
            b = shape_buffers(a)
            if b.keys() != b0.keys() or not all(torch.equal(b[n], b0[n]) for n in b0):
                raise _Unbatchable("different numbers of modes")
        return torch.stack([a.omega for a in acts]).reshape(-1, 1, 1), a0.wave
    # stateless elementwise modules (ReLU, GELU, ELU, Tanh): identical settings, no state
    if any(list(a.parameters()) or list(a.buffers()) for a in acts) or \
            len({a.extra_repr() for a in acts}) != 1 or kind.__module__ != "torch.nn.modules.activation":
        raise _Unbatchable(f"activation {kind.__name__} not supported by the batched path")
    if kind is nn.ReLU:
        return None, torch.relu_  # in place: nothing else reads the pre-activation
    return None, acts[0]


class _BatchedINR:
    """K INR models as stacked tensors: weights (K, out, in), biases (K, out).

    The encodings have no trainable parameters and the coordinates are fixed (full batch), so
    each model's encoded input is computed once; layer l is then one torch.baddbmm for all K.
    """

    def __init__(self, models, coords):
        from .models import INR

        m0 = models[0]
        if not all(type(m) is INR for m in models):
            raise _Unbatchable("not INR models")
        if any(m.training != m0.training or m.sigmoid_output != m0.sigmoid_output for m in models):
            raise _Unbatchable("different output settings")
        n_lin = len(m0.linears)
        expected = {f"linears.{i}.{w}" for i in range(n_lin) for w in ("weight", "bias")}
        for m in models:
            names = {n for n, _ in m.named_parameters()}
            if not names <= expected or len(m.acts) != n_lin - 1:
                raise _Unbatchable("parameters outside the linear layers")
        with torch.no_grad():
            enc = [m.encoding(coords) if m.encoding is not None else coords for m in models]
            self.x = enc[0] if all(torch.equal(e, enc[0]) for e in enc[1:]) else torch.stack(enc)
        self.params = {}
        for n, p in m0.named_parameters():
            self.params[n] = torch.stack([dict(m.named_parameters())[n].detach() for m in models]
                                         ).clone().requires_grad_(True)
        self.n_lin, self.sigmoid = n_lin, m0.sigmoid_output
        self.acts = [_stack_activation([m.acts[i] for m in models]) for i in range(n_lin - 1)]
        self.acts.append((None, None))  # the output layer
        self.has_bias = [f"linears.{i}.bias" in self.params for i in range(n_lin)]

    def __call__(self, x=None):
        h = self.x if x is None else x
        for i, (omega, act) in enumerate(self.acts):
            w = self.params[f"linears.{i}.weight"].transpose(1, 2)  # (K, in, out)
            b = self.params[f"linears.{i}.bias"].unsqueeze(1) if self.has_bias[i] else None  # (K, 1, out)
            if omega is not None:
                w, b = omega * w, None if b is None else omega * b
            if b is not None:
                # a shared (N, in) input (the first layer) broadcasts over the K models
                h = torch.baddbmm(b, h, w) if h.dim() == 3 else torch.matmul(h, w) + b
            else:
                h = torch.bmm(h, w) if h.dim() == 3 else torch.matmul(h, w)
            if act is not None:
                h = act(h)
        return torch.sigmoid(h) if self.sigmoid else h


def _vmap_network(models, coords):
    params, buffers = stack_module_state(models)
    params = {n: p.detach().requires_grad_(True) for n, p in params.items()}
    base = models[0]

    def one(p, b, x):
        return functional_call(base, (p, b), (x,))

    batched = torch.vmap(one, in_dims=(0, 0, None))
    return params, lambda: batched(params, buffers, coords)


def _batched_network(models, coords, check=True):
    """(params dict of stacked tensors, forward() -> (K, N, C), which path was taken)."""
    try:
        net = _BatchedINR(models, coords)
    except _Unbatchable:
        return (*_vmap_network(models, coords), "vmap")
    if check:  # guard against model code the batched path does not know: compare outputs
        with torch.no_grad():
            n = min(coords.shape[0], 64)
            x = net.x[..., :n, :]
            got = net(x)
            want = torch.stack([m(coords[:n]) for m in models])
            if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
                return (*_vmap_network(models, coords), "vmap")
    return net.params, net, "bmm"


def fit_many(models, coords, target, *, steps, lr=1e-4, data_range=None, progress=None,
             desc=None, fast=None, tf32=False) -> list:
    """Train K models of identical shape at once, as one batched network (full batch, Adam, MSE).

    They may differ in their weights, seeds, omegas and init; `target` is (N, C), shared, or
    (K, N, C), one per model. Each model gets exactly the update it would get alone (Adam acts
    element by element), and is left holding its trained weights. Returns one History each.

    INR models (any activation of inrlib, any encoding) are trained with batched matrix
    products over stacked weights; any other identically-shaped modules with torch.func.vmap.
    `fast` and `tf32` as in `fit`.
    """
    models = list(models)
    k = len(models)
    if k == 0:
        raise ValueError("fit_many needs at least one model")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    shapes = {tuple((n, tuple(p.shape)) for n, p in m.named_parameters()) for m in models}
    if len(shapes) != 1:
        raise ValueError("fit_many needs models of identical architecture (same widths, depth, "
                         "encoding size); train differently-shaped ones with fit()")
    dev = next(models[0].parameters()).device
    if hasattr(models[0], "check_coords"):
        models[0].check_coords(coords)
    coords, target = coords.to(dev), target.to(dev)
    _check_targets(target)
    targets = target.expand(k, *target.shape) if target.dim() == 2 else target
    if targets.shape[0] != k:
        raise ValueError(f"{targets.shape[0]} targets for {k} models")
    if targets.shape[1] != coords.shape[0]:
        raise ValueError(f"{coords.shape[0]} coordinates but {targets.shape[1]} target values")
    params, forward, _ = _batched_network(models, coords)
    opt = torch.optim.Adam(params.values(), lr=lr)
    hists = [History() for _ in range(k)]
    bar = tqdm(total=steps, desc=desc or f"fit {k} models", disable=not progress_enabled(progress),
               leave=False)
    losses = torch.empty(steps, k, dtype=torch.float64)
    every = max(1, steps // 100)
    seconds = []
    with _training(dev, fast, tf32):
        start = time.perf_counter()
        for step in range(1, steps + 1):
            per_model = ((forward() - targets) ** 2).mean(dim=(1, 2))
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()  # models share no parameters, so each gets its own gradient
            opt.step()
            losses[step - 1] = per_model.detach().to("cpu", torch.float64)  # one sync per step
            seconds.append(time.perf_counter() - start)
            if not torch.isfinite(losses[step - 1]).all():
                bar.close()
                i = int((~torch.isfinite(losses[step - 1])).nonzero()[0])
                raise FloatingPointError(f"model {i}: " + str(_nan_error(float(losses[step - 1, i]), step, lr)))
            if step % every == 0 or step == steps:
                bar.update(step - bar.n)
        bar.close()
    table = losses.T.tolist()
    for h, values in zip(hists, table):
        h.step = list(range(1, steps + 1))
        h.loss = values
        h.psnr = [psnr_from_mse(v, data_range) for v in values] if data_range else [None] * steps
        h.seconds = list(seconds)
    with torch.no_grad():
        for i, m in enumerate(models):
            for name, p in m.named_parameters():
                p.copy_(params[name][i])
    return hists
