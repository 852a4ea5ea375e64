"""Training: `fit` one model, `fit_many` K same-shaped models as one batch, `predict` in chunks.

Both fits run the same loop (`_train`) and take the same losses: the MSE on values by default, or
any `loss(net, coords, target)` that returns one loss per model (e.g. a derivative loss).

Speed (measured in bench/, see bench/README.md):
- On a CPU, `fit` and `fit_many` call `fast_cpu()` once per process unless `fast=False` or the
  environment variable INR_FAST=0: it tunes glibc's malloc so that large activations are not
  handed back to the kernel and page-faulted in again at every step (1.5-1.9x per step for a
  256x256 SIREN on 2 cores, bit-identical results, at the cost of a higher peak RSS).
- `fit_many` trains K INR models of one architecture as one network of batched matrix
  products (torch.baddbmm over stacked weights): a sweep costs a few large operations per step
  instead of K times many small ones.
- The losses are kept on the model's device and read every `_sync_every(device)` steps (every
  step on a CPU, where reading costs nothing), so a GPU's queue is not drained at each step.
"""
import contextlib
import copy
import ctypes
import ctypes.util
import functools
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .activations import activate, fold_omega
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


def _nan_error(loss, step, lr, model=None):
    who = "" if model is None else f"model {model}: "
    return FloatingPointError(
        f"{who}loss became {loss} at step {step}: training diverged. Likely causes: a learning "
        f"rate too high for this model (lr={lr:g}), omega too large, or non-finite targets.")


def _make_optimizer(name, params, lr, weight_decay):
    opts = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if name not in opts:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(opts)}")
    # On a GPU, one fused kernel updates every parameter instead of a few kernels per tensor.
    # PyTorch's fused Adam takes real floating-point tensors only (WIRE's weights are complex).
    fused = all(p.is_cuda and p.is_floating_point() for p in params) or None
    return opts[name](params, lr=lr, weight_decay=weight_decay, fused=fused)


def mse_loss(net, coords, target):
    """The default loss: mean squared error of the values, one per model ((K,) for a batch)."""
    return ((net(coords) - target) ** 2).mean(dim=(-2, -1))


def _sync_every(dev) -> int:
    """Steps between reads of the losses: every step on a CPU (free), in blocks on a GPU."""
    return 1 if dev.type == "cpu" else 50


def _unpack(coords, target, data_range):
    if isinstance(coords, Signal):
        if target is not None:
            raise ValueError("give either a Signal or coords and target, not both")
        return coords.coords, coords.values, data_range or coords.data_range
    if target is None:
        raise ValueError("a fit needs a target: fit(model, coords, target, ...) or fit(model, signal, ...)")
    return coords, target, data_range


def _use_tf32(dev, loss, tf32) -> bool:
    """TF32 when asked; by default on a GPU for value fits, never for a derivative loss (one
    with `own_coords`): the network's derivatives lose precision with a 10-bit mantissa."""
    if tf32 is not None:
        if not isinstance(tf32, bool):
            raise ValueError(f"tf32 must be True, False or None (the default), got {tf32!r}")
        return tf32
    return dev.type == "cuda" and not getattr(loss, "own_coords", False)


def _train(net, params, coords, target, *, k, steps, lr, loss, batch_size, optimizer,
           weight_decay, lr_decay, data_range, seed, progress, desc, fast, tf32, callback=None,
           callback_every=None):
    """The one training loop of `fit` and `fit_many`: `net(coords) -> (N, C)` or `(K, N, C)`,
    `loss` -> () or (K,) per-model losses; returns one History per model. Samples are along
    axis -2 of coords and target (shared (N, .) or per model (K, N, .))."""
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps}")
    if coords.shape[-2] != target.shape[-2]:
        raise ValueError(f"{coords.shape[-2]} coordinates but {target.shape[-2]} target values")
    _check_targets(target)
    dev = params[0].device
    coords, target = coords.to(dev), target.to(dev)
    value_fit = loss is None
    tf32 = _use_tf32(dev, loss, tf32)
    loss = loss or mse_loss
    opt = _make_optimizer(optimizer, params, lr, weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, *lr_decay) if lr_decay else None
    n = coords.shape[-2]
    batch_size = min(int(batch_size or n), n)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    order, pos = None, n
    hists = [History() for _ in range(k)]
    losses = torch.empty(steps, k, device=dev)
    sync, every = _sync_every(dev), max(1, steps // 100)
    bar = tqdm(total=steps, desc=desc, disable=not progress_enabled(progress), leave=False)
    done, clock = 0, 0.0  # steps read back so far, and the time when they were

    def read_back(step):
        nonlocal done, clock
        block = losses[done:step].to("cpu", torch.float64)
        now = time.perf_counter() - start
        bad = (~torch.isfinite(block)).nonzero()
        if len(bad):
            row, col = bad[0].tolist()
            raise _nan_error(block[row, col].item(), done + row + 1, lr, col if k > 1 else None)
        for j, row in enumerate(block.tolist()):  # steps of a block share its time evenly
            t = clock + (now - clock) * (j + 1) / (step - done)
            for h, v in zip(hists, row):
                h.step.append(done + j + 1)
                h.loss.append(v)
                h.psnr.append(psnr_from_mse(v, data_range) if value_fit and data_range else None)
                h.seconds.append(t)
        done, clock = step, now
        if step // every > bar.n // every or step == steps:
            bar.update(step - bar.n)
            psnr = hists[0].psnr[-1]
            bar.set_postfix(loss=f"{hists[0].loss[-1]:.2e}", **({"psnr": f"{psnr:.1f}dB"} if psnr else {}))

    with _training(dev, fast, tf32), contextlib.closing(bar):
        start = time.perf_counter()
        for step in range(1, steps + 1):
            if batch_size < n:
                if pos + batch_size > n:
                    order, pos = torch.randperm(n, generator=gen).to(dev), 0
                idx = order[pos:pos + batch_size]
                pos += batch_size
                xb = coords[..., idx, :]
                yb = target[..., idx, :]
            else:
                xb, yb = coords, target
            per_model = loss(net, xb, yb)
            if step == 1 and per_model.numel() != k:
                raise ValueError(f"the loss must return one value per model ({k}), got shape "
                                 f"{tuple(per_model.shape)}: reduce over samples only")
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()  # models share no parameters: each gets its own gradient
            opt.step()
            if sched:
                sched.step()
            losses[step - 1] = per_model.detach()
            due = callback and callback_every and (step % callback_every == 0 or step == steps)
            if step % sync == 0 or step == steps or due:
                read_back(step)
            if due:
                callback(step, net, hists[0])
    return hists


def fit(model, coords, target=None, *, steps, lr=1e-4, loss=None, batch_size=None,
        optimizer="adam", weight_decay=0.0, lr_decay=None, data_range=None, seed=0,
        progress=None, callback=None, callback_every=None, desc=None, fast=None,
        tf32=None) -> History:
    """Train `model` on coords (N, d) -> target (N, C) and return its History.

    `coords` may be a Signal (its values are the target and its data range the PSNR's).
    Full batch unless `batch_size` (samples drawn without replacement, seeded by `seed`);
    `lr_decay=(every, gamma)` multiplies the learning rate by gamma every `every` steps.
    `loss(model, coords, target)` replaces the MSE on values (PSNR is then not recorded); a loss
    whose `own_coords` is True (a derivative loss) gets coordinates it may differentiate.
    `callback(step, model, history)` runs every `callback_every` steps. A NaN or infinite loss
    stops training with an error naming the step. On a CPU, `fast` (default: on unless
    INR_FAST=0) applies `fast_cpu()`: a process-wide malloc setting that makes large steps
    faster without changing any result. `tf32` lets a GPU multiply float32 with a 10-bit mantissa
    during this fit. By default it is on for value fits on a GPU (on an H200: 1.4x per step for
    SIREN and 1.3x for ReLU + PE at 256², PSNR after 2000 steps within 0.2 dB of float32:
    bench/README.md) and off for derivative losses, whose derivatives lose precision with it;
    True or False forces it.
    """
    coords, target, data_range = _unpack(coords, target, data_range)
    if hasattr(model, "check_coords"):
        model.check_coords(coords)
    params = list(model.parameters())
    return _train(model, params, coords, target, k=1, steps=steps, lr=lr, loss=loss,
                  batch_size=batch_size, optimizer=optimizer, weight_decay=weight_decay,
                  lr_decay=lr_decay, data_range=data_range, seed=seed, progress=progress,
                  desc=desc or "fit", fast=fast, tf32=tf32, callback=callback,
                  callback_every=callback_every)[0]


def fit_many(models, coords, target=None, *, steps, lr=1e-4, loss=None, batch_size=None,
             optimizer="adam", weight_decay=0.0, lr_decay=None, data_range=None, seed=0,
             progress=None, desc=None, fast=None, tf32=None) -> list:
    """Train K INR models of one architecture at once, as one batched network; one History each.

    They may differ in their weights, seeds, init, the activation's scalar parameters (omegas,
    WIRE's scale, the Gaussian's sigma) and encoding parameters that keep its size (Fourier
    features' sigma; a hash grid's resolutions, at equal table sizes). Trainable encodings (hash
    grids) are trained too: their tables are stacked like the weights. `target` is (N, C), shared, or (K, N, C), one per model;
    `coords` may be a Signal. Each model gets exactly the update it would get from `fit` with
    the same arguments (Adam acts element by element) and is left holding its trained weights.
    `loss` as in `fit`, returning (K,) losses: a derivative loss gets (K, N, d) coordinates, one
    copy per model, so that autograd gives each model its own derivatives.
    Models of different architectures are an error that names the difference; modules that
    are not INRs are trained one after another with `fit`, with a warning.
    """
    models = list(models)
    coords, target, data_range = _unpack(coords, target, data_range)
    if not models:
        raise ValueError("fit_many needs at least one model")
    kw = dict(steps=steps, lr=lr, loss=loss, batch_size=batch_size, optimizer=optimizer,
              weight_decay=weight_decay, lr_decay=lr_decay, data_range=data_range, seed=seed,
              progress=progress, fast=fast, tf32=tf32)
    k = len(models)
    if target.dim() == 3 and target.shape[0] != k:
        raise ValueError(f"{target.shape[0]} targets for {k} models")
    if not all(_is_inr(m) for m in models):
        other = next(type(m).__name__ for m in models if not _is_inr(m))
        warnings.warn(f"fit_many batches inrlib INR models; {other} is not one, so the {k} models "
                      "are trained one after another with fit", stacklevel=2)
        targets = target if target.dim() == 3 else [target] * k
        return [fit(m, coords, t, desc=desc, **kw) for m, t in zip(models, targets)]
    _check_same_architecture(models)
    models[0].check_coords(coords)
    net = _StackedINR(models)
    if getattr(loss, "own_coords", False):
        coords = coords.expand(k, *coords.shape[-2:])
    hists = _train(net, list(net.params.values()), coords, target, k=k,
                   desc=desc or f"fit {k} models", **kw)
    with torch.no_grad():
        for i, m in enumerate(models):
            for name, p in m.named_parameters():
                p.copy_(net.params[name][i])
    return hists


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
# The batched network of fit_many.

def _is_inr(m):
    from .models import INR

    return type(m) is INR


_SHAPE_FIELDS = ("in_features", "out_features", "width", "depth", "bias", "output")


def _architecture(m) -> dict:
    """What must agree for models to be stacked, with names a user recognises."""
    cfg = m.config
    arch = {f: getattr(cfg, f) for f in _SHAPE_FIELDS}
    arch["activation"] = cfg.activation["name"]
    arch["n_modes"] = cfg.activation.get("n_modes")
    arch["encoding"] = None if cfg.encoding is None else cfg.encoding["name"]
    arch["encoding size"] = None if m.encoding is None else m.encoding.out_features
    arch["mode (train/eval)"] = m.training
    arch["parameters"] = [(n, tuple(p.shape)) for n, p in m.named_parameters()]
    return arch


def _check_same_architecture(models):
    first = _architecture(models[0])
    for i, m in enumerate(models[1:], 1):
        arch = _architecture(m)
        for key, v in first.items():
            if arch[key] != v:
                raise ValueError(f"fit_many needs models of one architecture: model {i} has "
                                 f"{key} {arch[key]!r}, model 0 {v!r}; train differently-shaped "
                                 "models with fit()")


class _StackedINR:
    """K INRs of one architecture as stacked tensors: weights (K, in, out), biases (K, 1, out).

    Called on coordinates (N, d), shared, or (K, N, d), one set per model; returns (K, N, C).
    Layer l is one torch.baddbmm for all K; each layer goes through the same `fold_omega` and
    `activate` as INR.forward, with each scalar parameter of the activations (omega, scale,
    sigma) stacked as (K, 1, 1). An encoding with trainable parameters (the hash grid) is called
    with them stacked, `encoding(x, table=(K, ...))`, and is evaluated at every call.
    """

    def __init__(self, models):
        m0 = models[0]
        self.params = {n: torch.stack([dict(m.named_parameters())[n].detach() for m in models]
                                      ).clone().requires_grad_(True)
                       for n, _ in m0.named_parameters()}
        self.n_lin, self.output = len(m0.linears), m0.config.output
        same_encoding = all(m.config.encoding == m0.config.encoding for m in models)
        self.encodings = [m0.encoding] if same_encoding else [m.encoding for m in models]
        self.enc_params = [n for n, _ in m0.named_parameters() if n.startswith("encoding.")]
        self.acts = [self._stack([m.acts[i] for m in models]) for i in range(self.n_lin - 1)]
        self._cache = (None, None)  # the last encoded input: full-batch fits reuse it each step

    @staticmethod
    def _stack(acts):
        scalars = [n for n, b in acts[0].named_buffers() if b.dim() == 0]
        if not scalars:
            return acts[0]  # stateless: ReLU, GELU, ...
        act = copy.deepcopy(acts[0])  # the same function (n_modes checked), its scalars stacked
        for n in scalars:
            setattr(act, n, torch.stack([getattr(a, n) for a in acts]).reshape(-1, 1, 1))
        return act

    def _encode(self, x):
        if self.enc_params:  # trainable: the stacked parameters change at every step
            own = {n.split(".", 1)[1]: self.params[n] for n in self.enc_params}
            if len(self.encodings) == 1:
                return self.encodings[0](x, **own)
            return torch.stack([e(x if x.dim() == 2 else x[i], **{n: p[i] for n, p in own.items()})
                                for i, e in enumerate(self.encodings)])
        if self._cache[0] is x and not x.requires_grad:
            return self._cache[1]
        if self.encodings[0] is None:
            h = x
        elif len(self.encodings) == 1:
            h = self.encodings[0](x)
        else:
            h = torch.stack([e(x if x.dim() == 2 else x[i]) for i, e in enumerate(self.encodings)])
        self._cache = (x, h)
        return h

    def __call__(self, x):
        h = self._encode(x)
        for i in range(self.n_lin):
            w = self.params[f"linears.{i}.weight"].transpose(1, 2)
            b = self.params.get(f"linears.{i}.bias")
            b = None if b is None else b.unsqueeze(1)
            if i < self.n_lin - 1:
                w, b = fold_omega(self.acts[i], w, b)
            if h.dim() == 2:  # a shared (N, in) input broadcasts over the K models
                h = torch.matmul(h, w) if b is None else torch.matmul(h, w) + b
            else:
                h = torch.bmm(h, w) if b is None else torch.baddbmm(b, h, w)
            if i < self.n_lin - 1:
                h = activate(self.acts[i], h, inplace=True)
        h = h.real if h.is_complex() else h  # WIRE, as in INR.forward
        return torch.sigmoid(h) if self.output == "sigmoid" else h
