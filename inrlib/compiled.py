"""The training step's forward, loss and backward (`Step`): compiled, CUDA-graphed, or eager."""
import contextlib
import time
import warnings

import torch

# When `compile=None` (automatic) compiles: on CUDA, for fits of at least this many steps.
# Compiling costs seconds once per architecture and process (this CPU, warm inductor cache: 13 s
# for the first graph of a process, about 1 s for each further one; a cold cache 25-120 s), and
# saves a share of each step (H100, compiled alone on the plain loop: 0.7 ms of 4.0 ms at 256²,
# 2.3 of 12.3 ms at 512²). 5 s of compilation over about 1 ms saved per step is 5000 steps; the
# chapters' fits are shorter, so they stay eager by default. bench/README.md, "Compiled step".
BREAK_EVEN_STEPS = 5000


def check_mode(compile) -> None:
    if compile is not None and not isinstance(compile, bool):
        raise ValueError(f"compile must be True, False or None (the default: compile on a GPU for "
                         f"fits of at least {BREAK_EVEN_STEPS} steps), got {compile!r}")


def plan(compile, dev, differentiates: bool, steps: int) -> str | None:
    """None to compile, or why the step stays eager."""
    if compile is False:
        return "compile=False"
    if differentiates:  # AOTAutograd: "torch.compile ... does not currently support double backward"
        return "the loss differentiates the network, and torch.compile has no double backward"
    if compile is None and dev.type != "cuda":
        return f"automatic mode compiles on CUDA only (this fit runs on {dev.type})"
    if compile is None and steps < BREAK_EVEN_STEPS:
        return f"{steps} steps are too few to repay compiling (automatic mode: >= {BREAK_EVEN_STEPS})"
    return None


class Step:
    """`step(coords, target, masked)`: the loss terms and per-model totals of `net` on a batch,
    and the backward of `masked(totals).sum()`. Compiled (forward and loss by torch.compile with
    inductor, so the backward is compiled too; on CUDA captured as CUDA graphs, mode
    "reduce-overhead") unless `plan` says why not. Falls back to eager, for the rest of the fit
    and with the same weights, when compiling fails at the first step or the batch shapes change.
    Reasons are warned when `compile=True` asked for the compiled path or compiling failed."""

    def __init__(self, net, loss, k: int, compile, dev, steps: int):
        self.net, self.loss, self.k, self.asked = net, loss, k, compile is True
        self.reason = plan(compile, dev, loss.differentiates, steps)
        self.fn, self.shapes, self.seconds = None, None, None
        self.graphs = dev.type == "cuda"
        if self.reason is None:
            try:
                self.fn = torch.compile(self.forward, dynamic=False,
                                        mode="reduce-overhead" if self.graphs else None)
            except Exception as err:  # e.g. a Python version Dynamo does not support
                self._eager(f"torch.compile is unavailable ({_first_line(err)})", warn=True)
        elif self.asked:
            self._eager(self.reason, warn=True)

    @property
    def compiled(self) -> bool:
        return self.fn is not None

    def forward(self, coords, target):
        terms = self.loss.terms(self.net, coords, target)
        return terms, self.loss.total(terms)

    def _eager(self, reason, warn):
        self.fn, self.reason = None, reason
        if warn:
            warnings.warn(f"training eagerly: {reason}", RuntimeWarning, stacklevel=4)

    def __call__(self, coords, target, masked):
        shapes = (tuple(coords.shape), tuple(target.shape))
        if self.fn is not None and self.shapes not in (None, shapes):
            self._eager(f"the batch shapes changed from {self.shapes} to {shapes}", warn=True)
        first, start = self.fn is not None and self.shapes is None, time.perf_counter()
        self.shapes = shapes
        if self.fn is None:
            terms, per_model = self.forward(coords, target)
            self._check(per_model)
            masked(per_model).sum().backward()
            return terms, per_model
        try:
            if self.graphs:  # a new step: the graphs may overwrite the last step's outputs
                torch.compiler.cudagraph_mark_step_begin()
            with _room() if first else contextlib.nullcontext():
                terms, per_model = self.fn(coords, target)
        except Exception as err:
            return self._failed(err, first, coords, target, masked)
        self._check(per_model)
        if self.graphs:  # CUDA-graph outputs are overwritten at the next replay: keep copies
            terms, per_model = {n: v.clone() for n, v in terms.items()}, per_model.clone()
        try:
            masked(per_model).sum().backward()  # the compiled backward is built here, lazily
        except Exception as err:
            return self._failed(err, first, coords, target, masked)
        if first:
            self.seconds = time.perf_counter() - start
        return terms, per_model

    def _failed(self, err, first, coords, target, masked):
        if not first:
            raise err
        for p in self.net.parameters():  # nothing of the failed attempt reaches the update
            p.grad = None
        self._eager(f"torch.compile failed ({_first_line(err)})", warn=True)
        return self(coords, target, masked)

    def _check(self, per_model):
        if per_model.numel() != self.k:
            raise ValueError(f"the loss must return one value per model ({self.k}), got shape "
                             f"{tuple(per_model.shape)}: reduce over samples only")

    def annotate(self, hists) -> None:
        """Say in each History whether the step ran compiled, its compile seconds, or why not."""
        for h in hists:
            h.compiled, h.compile_seconds, h.eager_reason = self.compiled, self.seconds, self.reason


def _room():
    """Dynamo compiles a function for at most `recompile_limit` (8) variants, then runs it eagerly
    without saying so here; `Step.forward` is one function for every architecture of a process,
    so its first call in each fit may add a variant up to 64 (tested by hand with the limit at 1)."""
    try:
        return torch._dynamo.config.patch(recompile_limit=64)
    except (AttributeError, KeyError, RuntimeError):  # a torch without this setting: its default
        return contextlib.nullcontext()


def _first_line(err) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0][:160]}" if text else type(err).__name__
