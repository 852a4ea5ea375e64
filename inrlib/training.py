"""The training loop: `fit` one model, `fit_many` K models of one batch key as one batched
network, and the `History` each fit returns (its loss, PSNR and named loss terms per step).

Both fits run the same loop (`_train`) on any `Loss` (`inrlib.losses`): the MSE on values by
default. Speed (measured in bench/, see bench/README.md):
- On a CPU the loop applies `allocator.fast_cpu()` once per process unless `fast=False` or
  INR_FAST=0 (1.5-1.9x per step for a 256x256 SIREN on 2 cores, bit-identical results).
- `fit_many` trains K models as one `StackedINR`: a few large batched products per step
  instead of K times many small ones.
- The losses stay on the model's device and are read every `_sync_every(device)` steps (every
  step on a CPU, where reading costs nothing), so a GPU's queue is not drained at each step.
"""
import contextlib
import os
import time
import warnings
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .allocator import fast_cpu, fast_enabled, release
from .losses import MSE, Loss, as_loss, check_finite
from .metrics import psnr_from_mse
from .models import INR
from .signals import Signal

PROGRESS_ENV = "INR_PROGRESS"


def progress_enabled(progress=None) -> bool:
    """Progress bars are on unless turned off here or with INR_PROGRESS=0 (the book build does)."""
    if progress is not None:
        return bool(progress)
    return os.environ.get(PROGRESS_ENV, "1") not in ("0", "false", "no")


@dataclass
class History:
    """Per-step record of a fit: the loss, PSNR (when the loss is the MSE on values), wall time,
    and each named term of the loss (`terms[name][i]`, unweighted)."""

    step: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    psnr: list = field(default_factory=list)
    seconds: list = field(default_factory=list)  # cumulative wall-clock time after the step
    terms: dict = field(default_factory=dict)

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
            return next((i for i, v in enumerate(self.psnr) if v is not None and v >= psnr), None)
        return next((i for i, v in enumerate(self.loss) if v <= mse), None)

    @property
    def final_psnr(self):
        return self.psnr[-1] if self.psnr else None

    @property
    def seconds_per_step(self):
        d = [b - a for a, b in zip([0.0] + self.seconds[:-1], self.seconds)]
        d = sorted(d[1:] or d)  # the first step pays for warm-up
        return d[len(d) // 2]


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
    callback: object = None
    callback_every: int | None = None

    def __post_init__(self):
        if isinstance(self.steps, bool) or int(self.steps) != self.steps or self.steps < 1:
            raise ValueError(f"steps must be a whole number >= 1, got {self.steps}")
        if self.tf32 is not None and not isinstance(self.tf32, bool):
            raise ValueError(f"tf32 must be True, False or None (the default), got {self.tf32!r}")


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


class _Recorder:
    """Keeps each step's losses and terms on the device and moves them into the Histories in
    blocks (`read_back`), checking them for NaN; drives the progress bar."""

    def __init__(self, k, steps, dev, opts: Options, psnr_range):
        self.k, self.steps, self.lr, self.psnr_range = k, steps, opts.lr, psnr_range
        self.hists = [History() for _ in range(k)]
        self.losses = torch.empty(steps, k, device=dev)
        self.terms = None  # {name: (steps, k)}, made at the first step
        self.done, self.clock, self.start = 0, 0.0, time.perf_counter()
        self.every = max(1, steps // 100)
        self.bar = tqdm(total=steps, desc=opts.desc, disable=not progress_enabled(opts.progress),
                        leave=False)

    def record(self, step, total, terms):
        if self.terms is None:
            self.terms = {n: torch.empty_like(self.losses) for n in terms}
            for h in self.hists:
                h.terms.update({n: [] for n in terms})
        self.losses[step - 1] = total.detach()
        for n, v in terms.items():
            self.terms[n][step - 1] = v.detach()

    def read_back(self, step):
        block = self.losses[self.done:step].to("cpu", torch.float64)
        now = time.perf_counter() - self.start
        bad = (~torch.isfinite(block)).nonzero()
        if len(bad):
            row, col = bad[0].tolist()
            raise _nan_error(block[row, col].item(), self.done + row + 1, self.lr,
                             col if self.k > 1 else None)
        terms = {n: t[self.done:step].to("cpu", torch.float64).tolist() for n, t in self.terms.items()}
        for j, row in enumerate(block.tolist()):  # steps of a block share its time evenly
            t = self.clock + (now - self.clock) * (j + 1) / (step - self.done)
            for i, (h, v) in enumerate(zip(self.hists, row)):
                h.step.append(self.done + j + 1)
                h.loss.append(v)
                h.psnr.append(psnr_from_mse(v, self.psnr_range) if self.psnr_range else None)
                h.seconds.append(t)
                for n, values in terms.items():
                    h.terms[n].append(values[j][i])
        self.done, self.clock = step, now
        if step // self.every > self.bar.n // self.every or step == self.steps:
            self._show(step)

    def _show(self, step):
        self.bar.update(step - self.bar.n)
        psnr = self.hists[0].psnr[-1]
        self.bar.set_postfix(loss=f"{self.hists[0].loss[-1]:.2e}",
                             **({"psnr": f"{psnr:.1f}dB"} if psnr else {}))


def _train(net, coords, target, loss: Loss, k: int, opts: Options) -> list:
    """The one training loop of `fit` and `fit_many`: `net(coords) -> (N, C)` or `(K, N, C)`,
    `loss.terms` -> () or (K,) per model and term; returns one History per model."""
    if coords.shape[-2] != target.shape[-2]:
        raise ValueError(f"{coords.shape[-2]} coordinates but {target.shape[-2]} target values")
    check_finite(target)
    params = list(net.parameters())
    dev = params[0].device
    coords, target = coords.to(dev), target.to(dev)
    tf32 = _use_tf32(dev, loss, opts.tf32)
    psnr_range = opts.data_range if isinstance(loss, MSE) else None
    opt = _make_optimizer(opts.optimizer, params, opts.lr, opts.weight_decay)
    sched = torch.optim.lr_scheduler.StepLR(opt, *opts.lr_decay) if opts.lr_decay else None
    batches = _Batches(coords, target, opts.batch_size, opts.seed)
    rec = _Recorder(k, opts.steps, dev, opts, psnr_range)
    sync = _sync_every(dev)
    with _training(dev, opts.fast, tf32), contextlib.closing(rec.bar):
        rec.start = time.perf_counter()
        for step in range(1, opts.steps + 1):
            terms = loss.terms(net, *batches.next())
            per_model = loss.total(terms)
            if step == 1 and per_model.numel() != k:
                raise ValueError(f"the loss must return one value per model ({k}), got shape "
                                 f"{tuple(per_model.shape)}: reduce over samples only")
            opt.zero_grad(set_to_none=True)
            per_model.sum().backward()  # models share no parameters: each gets its own gradient
            opt.step()
            if sched:
                sched.step()
            rec.record(step, per_model, terms)
            due = opts.callback and opts.callback_every and (
                step % opts.callback_every == 0 or step == opts.steps)
            if step % sync == 0 or step == opts.steps or due:
                rec.read_back(step)
            if due:
                opts.callback(step, net, rec.hists[0])
    return rec.hists


def fit(model, coords, target=None, *, steps, lr=1e-4, loss=None, batch_size=None,
        optimizer="adam", weight_decay=0.0, lr_decay=None, data_range=None, seed=0,
        progress=None, callback=None, callback_every=None, desc=None, fast=None,
        tf32=None) -> History:
    """Train `model` on coords (N, d) -> target (N, C) and return its History.

    `coords` may be a Signal (its values are the target and its data range the PSNR's).
    Full batch unless `batch_size` (samples drawn without replacement, seeded by `seed`);
    `lr_decay=(every, gamma)` multiplies the learning rate by gamma every `every` steps.
    `loss`: an `inrlib.losses.Loss` (or a function `loss(model, coords, target)`) replaces the MSE
    on values (PSNR is then not recorded; the loss's named terms are, in `History.terms`).
    `callback(step, model, history)` runs every `callback_every` steps. A NaN or infinite loss
    stops training with an error naming the step. On a CPU, `fast` (default: on unless
    INR_FAST=0) applies `allocator.fast_cpu()`: a process-wide malloc setting that makes large
    steps faster without changing any result. `tf32` lets a GPU multiply float32 with a 10-bit
    mantissa during this fit. By default it is on for value fits on a GPU (on an H200: 1.4x per
    step for SIREN and 1.3x for ReLU + PE at 256², PSNR after 2000 steps within 0.2 dB of
    float32: bench/README.md) and off for losses that differentiate the network; True or False
    forces it.
    """
    coords, target, data_range = _unpack(coords, target, data_range)
    if hasattr(model, "check_coords"):
        model.check_coords(coords)
    opts = Options(steps=steps, lr=lr, batch_size=batch_size, optimizer=optimizer,
                   weight_decay=weight_decay, lr_decay=lr_decay, data_range=data_range, seed=seed,
                   progress=progress, desc=desc or "fit", fast=fast, tf32=tf32, callback=callback,
                   callback_every=callback_every)
    return _train(model, coords, target, as_loss(loss), 1, opts)[0]


def fit_many(models, coords, target=None, *, steps, lr=1e-4, loss=None, batch_size=None,
             optimizer="adam", weight_decay=0.0, lr_decay=None, data_range=None, seed=0,
             progress=None, desc=None, fast=None, tf32=None) -> list:
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
    another with `fit`, with a warning.
    """
    models = list(models)
    coords, target, data_range = _unpack(coords, target, data_range)
    if not models:
        raise ValueError("fit_many needs at least one model")
    kw = dict(steps=steps, lr=lr, batch_size=batch_size, optimizer=optimizer,
              weight_decay=weight_decay, lr_decay=lr_decay, data_range=data_range, seed=seed,
              progress=progress, fast=fast, tf32=tf32)
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
    if loss.differentiates:
        coords = coords.expand(k, *coords.shape[-2:])
    hists = _train(net, coords, target, loss, k, Options(desc=desc or f"fit {k} models", **kw))
    net.unstack()
    return hists
