"""What a fit records: `History` (loss, PSNR, wall time and named loss terms per step), and the
recorder that fills it from values kept on the device."""
import os
import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .metrics import psnr_from_mse

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
    diverged_at: int | None = None  # the step whose loss was not finite; training stopped before it
    compiled: bool = False  # whether the step ran compiled (inrlib.compiled)
    compile_seconds: float | None = None  # wall time of the first compiled step, compilation included
    eager_reason: str | None = None  # why the step ran eagerly, when it did

    def steps_to(self, psnr=None, mse=None) -> int | None:
        """First step (1-based count) at which PSNR >= psnr or loss <= mse; None if never."""
        i = self._index(psnr, mse)
        return None if i is None else self.step[i]

    def seconds_to(self, psnr=None, mse=None) -> float | None:
        i = self._index(psnr, mse)
        return None if i is None else self.seconds[i]

    def _index(self, psnr, mse):
        if (psnr is None) == (mse is None):
            raise ValueError("give exactly one of psnr= or mse=")
        if psnr is not None:
            return next((i for i, v in enumerate(self.psnr) if v is not None and v >= psnr), None)
        return next((i for i, v in enumerate(self.loss) if v <= mse), None)

    @property
    def final_psnr(self) -> float | None:
        return self.psnr[-1] if self.psnr else None

    @property
    def seconds_per_step(self) -> float:
        d = [b - a for a, b in zip([0.0] + self.seconds[:-1], self.seconds)]
        d = sorted(d[1:] or d)  # the first step pays for warm-up
        return d[len(d) // 2]


class Recorder:
    """Keeps each step's losses, terms and surviving models on the device and moves them into
    the Histories in blocks (`read_back`); drives the progress bar."""

    def __init__(self, k, steps, dev, desc, progress, psnr_range):
        self.k, self.steps, self.psnr_range = k, steps, psnr_range
        self.hists = [History() for _ in range(k)]
        self.losses = torch.empty(steps, k, device=dev)
        self.alive = torch.empty(steps, k, dtype=torch.bool, device=dev)
        self.terms = None  # {name: (steps, k)}, made at the first step
        self.deaths = []  # (model, step, loss) of each model stopped because it diverged
        self.done, self.clock, self.start = 0, 0.0, time.perf_counter()
        self.every = max(1, steps // 100)
        self.bar = tqdm(total=steps, desc=desc, disable=not progress_enabled(progress),
                        leave=False)

    def record(self, step, total, terms, alive) -> None:
        if self.terms is None:
            self.terms = {n: torch.empty_like(self.losses) for n in terms}
            for h in self.hists:
                h.terms.update({n: [] for n in terms})
        self.losses[step - 1] = total.detach()
        self.alive[step - 1] = alive
        for n, v in terms.items():
            self.terms[n][step - 1] = v.detach()

    def read_back(self, step) -> bool:
        """Move the steps up to `step` into the Histories; True while some model trains."""
        block = self.losses[self.done:step].to("cpu", torch.float64).tolist()
        alive = self.alive[self.done:step].cpu().tolist()
        now = time.perf_counter() - self.start
        terms = {n: t[self.done:step].to("cpu", torch.float64).tolist() for n, t in self.terms.items()}
        for j, row in enumerate(block):  # steps of a block share its time evenly
            t = self.clock + (now - self.clock) * (j + 1) / (step - self.done)
            for i, (h, v) in enumerate(zip(self.hists, row)):
                if h.diverged_at is not None:
                    continue
                if not alive[j][i]:
                    h.diverged_at = self.done + j + 1
                    self.deaths.append((i, h.diverged_at, v))
                    continue
                h.step.append(self.done + j + 1)
                h.loss.append(v)
                h.psnr.append(psnr_from_mse(v, self.psnr_range) if self.psnr_range else None)
                h.seconds.append(t)
                for n, values in terms.items():
                    h.terms[n].append(values[j][i])
        self.done, self.clock = step, now
        if step // self.every > self.bar.n // self.every or step == self.steps:
            self._show(step)
        return any(h.diverged_at is None for h in self.hists)

    def _show(self, step):
        self.bar.update(step - self.bar.n)
        h = next((h for h in self.hists if h.loss), None)
        if h is not None:
            psnr = h.psnr[-1]
            self.bar.set_postfix(loss=f"{h.loss[-1]:.2e}", **({"psnr": f"{psnr:.1f}dB"} if psnr else {}))
