"""Training: `fit` one model, `fit_many` several identical-shape models as one batch, `predict` in chunks."""
import math
import os
import time
from dataclasses import dataclass, field

import torch
from torch.func import functional_call, stack_module_state
from tqdm.auto import tqdm

from .metrics import psnr_from_mse
from .signals import Signal


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
        callback=None, callback_every=None, desc=None) -> History:
    """Train `model` on coords (N, d) -> target (N, C) and return its History.

    `coords` may be a Signal (its values are the target and its data range the PSNR's).
    Full batch unless `batch_size`; `lr_decay=(every, gamma)` multiplies the learning rate by
    gamma every `every` steps. `loss_fn(model, coords, target)` replaces the MSE on values (PSNR
    is then not recorded). `callback(step, model, history)` runs every `callback_every` steps.
    A NaN or infinite loss stops training with an error naming the step.
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
    """model(coords) evaluated `chunk` points at a time, so huge grids fit in bounded memory."""
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = [model(coords[i:i + chunk].to(dev)) for i in range(0, coords.shape[0], chunk)]
    model.train(was_training)
    return torch.cat(out)


def fit_many(models, coords, target, *, steps, lr=1e-4, data_range=None, progress=None,
             desc=None) -> list:
    """Train K models of identical shape at once, as one batched network (full batch, Adam, MSE).

    They may differ in their weights, seeds, omegas and init; `target` is (N, C), shared, or
    (K, N, C), one per model. Each model gets exactly the update it would get alone (Adam acts
    element by element), and is left holding its trained weights. Returns one History each.
    """
    models = list(models)
    k = len(models)
    if k == 0:
        raise ValueError("fit_many needs at least one model")
    shapes = {tuple((n, tuple(p.shape)) for n, p in m.named_parameters()) for m in models}
    if len(shapes) != 1:
        raise ValueError("fit_many needs models of identical architecture (same widths, depth, "
                         "encoding size); train differently-shaped ones with fit()")
    dev = next(models[0].parameters()).device
    coords, target = coords.to(dev), target.to(dev)
    _check_targets(target)
    targets = target.expand(k, *target.shape) if target.dim() == 2 else target
    if targets.shape[0] != k:
        raise ValueError(f"{targets.shape[0]} targets for {k} models")
    params, buffers = stack_module_state(models)
    params = {n: p.detach().requires_grad_(True) for n, p in params.items()}
    base = models[0]

    def one(p, b, x):
        return functional_call(base, (p, b), (x,))

    batched = torch.vmap(one, in_dims=(0, 0, None))
    opt = torch.optim.Adam(params.values(), lr=lr)
    hists = [History() for _ in range(k)]
    bar = tqdm(total=steps, desc=desc or f"fit {k} models", disable=not progress_enabled(progress),
               leave=False)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        per_model = ((batched(params, buffers, coords) - targets) ** 2).mean(dim=(1, 2))
        opt.zero_grad(set_to_none=True)
        per_model.sum().backward()  # models share no parameters, so each gets its own gradient
        opt.step()
        values = per_model.tolist()
        now = time.perf_counter() - start
        for i, (h, v) in enumerate(zip(hists, values)):
            if not math.isfinite(v):
                bar.close()
                raise FloatingPointError(f"model {i}: " + str(_nan_error(v, step, lr)))
            h.step.append(step)
            h.loss.append(v)
            h.psnr.append(psnr_from_mse(v, data_range) if data_range else None)
            h.seconds.append(now)
        bar.update(1)
    bar.close()
    with torch.no_grad():
        for i, m in enumerate(models):
            for name, p in m.named_parameters():
                p.copy_(params[name][i])
    return hists
