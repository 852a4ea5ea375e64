"""The training loop: `fit` one model, `fit_many` K models of one batch key as one batched
network; each returns the `History` of every model (`inrlib.history`).

Both fits run the same loop (`_train`) on any `Loss` (`inrlib.losses`): the MSE on values by
default. Speed (measured in bench/, see bench/README.md):
- On a CPU the loop applies `allocator.fast_cpu()` once per process unless `fast=False` or
  INR_FAST=0 (1.5-1.9x per step for a 256x256 SIREN on 2 cores, bit-identical results).
- `fit_many` trains K models as one `StackedINR`: a few large batched products per step
  instead of K times many small ones.
- The losses stay on the model's device and are read every `_sync_every(device)` steps (every
  step on a CPU, where reading costs nothing), so a GPU's queue is not drained at each step.
- `compile` runs each step's forward, loss and backward compiled (`inrlib.compiled`).
"""
import contextlib
import time
import warnings
from dataclasses import dataclass

import torch

from .allocator import fast_cpu, fast_enabled, release
from .checks import real, whole
from .compiled import Step, check_mode
from .guard import Guard, clip_grads
from .history import History, Recorder
from .losses import MSE, Loss, as_loss, check_finite
from .models import INR
from .signals import Signal

@dataclass(frozen=True)
class Options:
    """How to train, as `fit` and `fit_many` take it (see `fit` for each)."""

    steps: int
    lr: float = 1e-4
    batch_size: int | None = None
    optimizer: str = "adam"
    weight_decay: float = 0.0
    lr_decay: tuple | None = None
    data_range: float | None = None
    seed: int = 0
    progress: bool | None = None
    desc: str | None = None
    fast: bool | None = None
    tf32: bool | None = None
    compile: bool | None = None
    clip_grad_norm: float | None = None
    callback: object = None
    callback_every: int | None = None

    def __post_init__(self):
        whole("steps", self.steps)
        real("lr", self.lr, low=0.0)
        real("weight_decay", self.weight_decay, low=0.0, strict=False)
        if self.batch_size is not None:
            whole("batch_size", self.batch_size)
        if self.lr_decay is not None:
            if not isinstance(self.lr_decay, (tuple, list)) or len(self.lr_decay) != 2:
                raise ValueError(f"lr_decay must be (every, gamma), got {self.lr_decay!r}")
            whole("lr_decay's every", self.lr_decay[0])
            if not 0 < real("lr_decay's gamma", self.lr_decay[1]) <= 1:
                raise ValueError(f"lr_decay's gamma must be in (0, 1], got {self.lr_decay[1]!r}")
        if self.data_range is not None:
            real("data_range", self.data_range, low=0.0)
        whole("seed", self.seed, low=0)
        if self.tf32 is not None and not isinstance(self.tf32, bool):
            raise ValueError(f"tf32 must be True, False or None (the default), got {self.tf32!r}")
        check_mode(self.compile)
        if self.clip_grad_norm is not None:
            real("clip_grad_norm", self.clip_grad_norm, low=0.0)
        if (self.callback is None) != (self.callback_every is None):
            raise ValueError("give callback and callback_every together (callback(step, model, "
                             "history) runs every callback_every steps)")
        if self.callback is not None:
            if not callable(self.callback):
                raise TypeError(f"callback must be a function, got {type(self.callback).__name__}")
            whole("callback_every", self.callback_every)


def _nan_error(loss, step, lr, model=None):
    who = "" if model is None else f"model {model}: "
    return FloatingPointError(
        f"{who}loss became {loss} at step {step}: training diverged and stopped before that step "
        f"(the model keeps its last weights with a finite loss). Likely causes: a learning rate "
        f"too high for this model (lr={lr:g}), omega too large, or targets too large.")


def _check_start(params):
    bad = [i for i, p in enumerate(params) if not torch.isfinite(p).all()]
    if bad:
        raise ValueError(f"the model's weights hold NaN or infinite values before training "
                         f"(parameter tensors {bad}): build a fresh model or load finite weights")


def _make_optimizer(name, params, lr, weight_decay):
    opts = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if name not in opts:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(opts)}")
    # On a GPU, one fused kernel updates every parameter instead of a few kernels per tensor.
    # PyTorch's fused Adam takes real floating-point tensors only (WIRE's weights are complex).
    fused = all(p.is_cuda and p.is_floating_point() for p in params) or None
    return opts[name](params, lr=lr, weight_decay=weight_decay, fused=fused)


def _check_outputs(model, target, loss):
    """The value MSE compares outputs with targets channel for channel: no broadcasting."""
    out = getattr(model, "out_features", None)
    if isinstance(loss, MSE) and out is not None and target.dim() >= 2 and target.shape[-1] != out:
        raise ValueError(f"the model has {out} output(s) but the target has {target.shape[-1]} "
                         f"channel(s): build the model with out_features={target.shape[-1]}")


def _sync_every(dev) -> int:
    """Steps between reads of the losses: every step on a CPU (free), in blocks on a GPU."""
    return 1 if dev.type == "cpu" else 50


def _unpack(coords, target, data_range):
    if isinstance(coords, Signal):
        if target is not None:
            raise ValueError("give either a Signal or coords and target, not both")
        return coords.coords, coords.values, coords.data_range if data_range is None else data_range
    if target is None:
        raise ValueError("a fit needs a target: fit(model, coords, target, ...) or fit(model, signal, ...)")
    return coords, target, data_range


def _use_tf32(dev, loss: Loss, tf32) -> bool:
    """TF32 when asked; by default on a GPU for losses that do not differentiate the network."""
    if tf32 is not None:
        return tf32
    return dev.type == "cuda" and not loss.differentiates


@contextlib.contextmanager
def _training(dev, fast, tf32):
    """Around a training loop: fast_cpu() on a CPU (unless opted out) and TF32 if asked;
    afterwards, also after an error, the matmul precision is restored and the allocator's
    memory handed back."""
    if dev.type == "cpu" and fast_enabled(fast):
        fast_cpu()
    old = torch.get_float32_matmul_precision()
    if tf32:
        torch.set_float32_matmul_precision("high")
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(old)
        release()


class _Batches:
    """Samples along axis -2 of coords and target: all of them, or minibatches drawn without
    replacement (a new permutation, seeded, whenever the current one runs out)."""

    def __init__(self, coords, target, batch_size, seed):
        self.coords, self.target, self.n = coords, target, coords.shape[-2]
        self.size = min(int(batch_size or self.n), self.n)
        self.gen = torch.Generator(device="cpu").manual_seed(seed)
        self.order, self.pos = None, self.n

    def next(self):
        if self.size == self.n:
            return self.coords, self.target
        if self.pos + self.size > self.n:
            self.order, self.pos = torch.randperm(self.n, generator=self.gen).to(self.coords.device), 0
        idx = self.order[self.pos:self.pos + self.size]
        self.pos += self.size
        return self.coords[..., idx, :], self.target[..., idx, :]


def _train(net, coords, target, loss: Loss, k: int, opts: Options) -> list:
    """The one training loop of `fit` and `fit_many`: `net(coords) -> (N, C)` or `(K, N, C)`,
    `loss.terms` -> () or (K,) per model and term; returns one History per model. A model whose
    loss becomes non-finite keeps its last good weights and stops (`History.diverged_at`); an
    interrupt (KeyboardInterrupt) leaves the last finished step's weights and carries the
    Histories so far (`err.history`, `err.step`)."""
    if target.dim() < 2 or coords.shape[-2] != target.shape[-2]:
        raise ValueError(f"{coords.shape[-2]} coordinates but target of shape {tuple(target.shape)}:"
                         " the target must be (N, C), one row per coordinate")
    check_finite(target)
    params = list(net.parameters())
    _check_start(params)
    dev = params[0].device
    coords, target = coords.to(dev), target.to(dev)
    tf32 = _use_tf32(dev, loss, opts.tf32)
    psnr_range = opts.data_range if isinstance(loss, MSE) else None
    opt = _make_optimizer(opts.optimizer, params, opts.lr, opts.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, *opts.lr_decay) if opts.lr_decay else None
    batches = _Batches(coords, target, opts.batch_size, opts.seed)
    rec = Recorder(k, opts.steps, dev, opts.desc, opts.progress, psnr_range)
    guard = Guard(params, k, dev)
    step_fn = Step(net, loss, k, opts.compile, dev, opts.steps)
    sync, finished, phase = _sync_every(dev), 0, None
    with _training(dev, opts.fast, tf32), contextlib.closing(rec.bar):
        rec.start = time.perf_counter()
        try:
            for step in range(1, opts.steps + 1):
                opt.zero_grad(set_to_none=True)  # models share no parameters: one backward
                terms, per_model = step_fn(*batches.next(), guard.masked)
                if opts.clip_grad_norm:
                    clip_grads(params, k, opts.clip_grad_norm)
                phase = "update"
                opt.step()
                guard.keep()
                phase, finished = None, step
                if sched:
                    sched.step()
                rec.record(step, per_model, terms, guard.alive)
                due = opts.callback and (step % opts.callback_every == 0 or step == opts.steps)
                if (step % sync == 0 or step == opts.steps or due) and not rec.read_back(step):
                    break  # every model diverged
                if due:
                    opts.callback(step, net, rec.hists[0])
        except KeyboardInterrupt as err:
            if phase == "update":  # stopped inside an update: back to the last finished step
                guard.restore()
            rec.read_back(finished) if finished > rec.done else None
            err.history, err.step = rec.hists if k > 1 else rec.hists[0], finished
            raise
        finally:
            step_fn.annotate(rec.hists)
    return rec.hists, rec.deaths


def fit(model, coords, target=None, *, steps, lr=1e-4, loss=None, batch_size=None,
        optimizer="adam", weight_decay=0.0, lr_decay=None, data_range=None, seed=0,
        progress=None, callback=None, callback_every=None, desc=None, fast=None,
        tf32=None, compile=None, clip_grad_norm=None) -> History:
    """Train `model` on coords (N, d) -> target (N, C) and return its History.

    `coords` may be a Signal (its values are the target and its data range the PSNR's).
    Full batch unless `batch_size` (samples drawn without replacement, seeded by `seed`);
    `lr_decay=(every, gamma)` multiplies the learning rate by gamma every `every` steps.
    `loss`: an `inrlib.losses.Loss` (or a function `loss(model, coords, target)`) replaces the MSE
    on values (PSNR is then not recorded; the loss's named terms are, in `History.terms`).
    `callback(step, model, history)` runs every `callback_every` steps. A NaN or infinite loss is
    checked before the update it would drive: training stops there, the model keeps its last
    weights with a finite loss, and a FloatingPointError names the step and carries the History
    so far (`err.history`); an interrupt (Ctrl+C) leaves the last finished step's weights and
    carries it too. On a CPU, `fast` (default: on unless
    INR_FAST=0) applies `allocator.fast_cpu()`: a process-wide malloc setting that makes large
    steps faster without changing any result. `tf32` lets a GPU multiply float32 with a 10-bit
    mantissa during this fit. By default it is on for value fits on a GPU (on an H200: 1.4x per
    step for SIREN and 1.3x for ReLU + PE at 256², PSNR after 2000 steps within 0.2 dB of
    float32: bench/README.md) and off for losses that differentiate the network; True or False
    forces it. `compile=True` compiles the forward, loss and backward (torch.compile; on CUDA as
    CUDA graphs), False keeps them eager, None (default) compiles on CUDA for fits of at least
    `compiled.BREAK_EVEN_STEPS` steps; a step that cannot compile runs eagerly and the History
    says why (`compiled`, `compile_seconds`, `eager_reason`; warned when compile=True).
    `clip_grad_norm` scales the gradient down to that norm before each update when it is larger
    (as the official SIREN training does with 1).
    """
    coords, target, data_range = _unpack(coords, target, data_range)
    if hasattr(model, "check_coords"):
        model.check_coords(coords)
    opts = Options(steps=steps, lr=lr, batch_size=batch_size, optimizer=optimizer,
                   weight_decay=weight_decay, lr_decay=lr_decay, data_range=data_range, seed=seed,
                   progress=progress, desc=desc or "fit", fast=fast, tf32=tf32, compile=compile,
                   clip_grad_norm=clip_grad_norm, callback=callback, callback_every=callback_every)
    loss = as_loss(loss)
    _check_outputs(model, target, loss)
    (hist,), diverged = _train(model, coords, target, loss, 1, opts)
    if diverged:
        _, step, value = diverged[0]
        err = _nan_error(value, step, lr)
        err.history, err.step = hist, step
        raise err
    return hist


def fit_many(models, coords, target=None, *, steps, lr=1e-4, loss=None, batch_size=None,
             optimizer="adam", weight_decay=0.0, lr_decay=None, data_range=None, seed=0,
             progress=None, desc=None, fast=None, tf32=None, compile=None,
             clip_grad_norm=None) -> list:
    """Train K INR models of one batch key (`ModelConfig.batch_key`) at once, as one
    `StackedINR`; one History each.

    They may differ in their weights, seeds, init, the activation's scalar parameters (omegas,
    WIRE's scale, the Gaussian's sigma) and encoding parameters that keep its size (Fourier
    features' sigma; a hash grid's resolutions, at equal table sizes). Trainable encodings (hash
    grids) are trained too. `target` is (N, C), shared, or (K, N, C), one per model; `coords`
    may be a Signal. Each model gets exactly the update it would get from `fit` with the same
    arguments (Adam acts element by element) and is left holding its trained weights. `loss` as
    in `fit`; a loss that differentiates the network gets (K, N, d) coordinates, one copy per
    model, so that autograd gives each model its own derivatives. Models of different batch keys
    are an error that names the difference; modules that are not INRs are trained one after
    another with `fit`, with a warning. `compile` as in `fit`; `clip_grad_norm` clips each model's
    own gradient norm, as `fit` would.
    """
    models = list(models)
    coords, target, data_range = _unpack(coords, target, data_range)
    if not models:
        raise ValueError("fit_many needs at least one model")
    kw = dict(steps=steps, lr=lr, batch_size=batch_size, optimizer=optimizer,
              weight_decay=weight_decay, lr_decay=lr_decay, data_range=data_range, seed=seed,
              progress=progress, fast=fast, tf32=tf32, compile=compile,
              clip_grad_norm=clip_grad_norm)
    k = len(models)
    if target.dim() == 3 and target.shape[0] != k:
        raise ValueError(f"{target.shape[0]} targets for {k} models")
    if not all(type(m) is INR for m in models):
        other = next(type(m).__name__ for m in models if type(m) is not INR)
        warnings.warn(f"fit_many batches inrlib INR models; {other} is not one, so the {k} models "
                      "are trained one after another with fit", stacklevel=2)
        targets = target if target.dim() == 3 else [target] * k
        return [fit(m, coords, t, loss=loss, desc=desc, **kw) for m, t in zip(models, targets)]
    loss = as_loss(loss)
    net = INR.stack(models)
    models[0].check_coords(coords)
    _check_outputs(models[0], target, loss)
    if loss.differentiates:
        coords = coords.expand(k, *coords.shape[-2:])
    try:
        hists, diverged = _train(net, coords, target, loss, k, Options(desc=desc or f"fit {k} models", **kw))
    finally:  # also after an interrupt: each model holds its last finished step's weights
        net.unstack()
    for i, step, value in diverged:
        warnings.warn(str(_nan_error(value, step, lr, i)), RuntimeWarning, stacklevel=2)
    return hists
