"""Count a chapter's training work without doing it, for `execute_chapters.py --estimate`.

Installed in the kernel (an IPython startup file), `install(log)` replaces inrlib's one training
loop (`inrlib.training._train`, which `fit`, `fit_many` and `sweep` all use) by one that runs
two steps under a FLOP and operator counter and logs, per fit: the models, the steps asked for,
and the FLOPs and operators (views left out) of the second step. The rest of the chapter runs as
written (its evaluations at full size included), so results are wrong and claims fail: the
estimate tolerates errors and reports the cells that raised something other than a failed claim.

A GPU step is modelled as max(FLOPs / R, operators x T): R is the rate the H200 reached on the
benchmark's SIREN step (bench/results, inrlib at its defaults), T the eager cost of launching one
operator. Small fits are launch-bound, large ones compute-bound; neither term alone is right.
"""
import dataclasses
import json
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

LAUNCH_S = 8e-6  # eager PyTorch on an H100/H200: ~5-10 µs of host work per operator


class _Count(TorchDispatchMode):
    """Counts the aten operators that run (each is about one kernel launch on a GPU) and their
    FLOPs by torch's own formulas (matrix products and convolutions; elementwise work counts 0).
    torch's FlopCounterMode would do the FLOPs, but its module hooks break under autograd.grad,
    which every derivative loss (Poisson, SDF) calls."""

    def __init__(self):
        super().__init__()
        self.ops, self.flops = 0, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.ops += not func.is_view  # a view launches nothing
        formula = flop_registry.get(func.overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


def one_step(fn):
    """(result, FLOPs, operators) of fn() run once."""
    with _Count() as count:
        out = fn()
    return out, count.flops, count.ops


def install(log: str) -> None:
    from inrlib import training

    real = training._train

    def counted(net, coords, target, loss, k, opts):
        # Two steps, counted from the end of the first to the end of the second: a fit's
        # one-off work (the start-up checks, the optimizer's state) is not a step's.
        points = min(int(opts.batch_size or coords.shape[-2]), coords.shape[-2])
        marks, theirs = {}, opts.callback

        def mark(step, model, history):
            marks[step] = (count.ops, count.flops)
            if theirs and step % opts.callback_every == 0:
                theirs(step, model, history)

        with _Count() as count:
            out = real(net, coords, target, loss, k,
                       dataclasses.replace(opts, steps=2, callback=mark, callback_every=1))
        ops, flops = (b - a for a, b in zip(marks[1], marks[2]))
        with open(log, "a") as f:
            f.write(json.dumps({"models": k, "steps": opts.steps, "points": points,
                                "flops": flops, "ops": ops, "desc": opts.desc}) + "\n")
        return out

    training._train = counted


def seconds(fits: list, rate: float, launch_s: float = LAUNCH_S) -> float:
    """Estimated GPU seconds of the logged fits (see the module's docstring)."""
    return sum(f["steps"] * max(f["flops"] / rate, f["ops"] * launch_s) for f in fits)


def benchmark_rate(results: Path) -> tuple:
    """(FLOP/s, where it came from): the benchmark's SIREN 256² step (inrlib, its defaults)
    over that step's FLOPs, counted here on the meta device."""
    import inrlib as inr

    rows = json.loads(results.read_text())
    row = next(c for c in rows["configs"] if c["name"] == "siren 256" and c["precision"] == "tf32")
    with torch.device("meta"):  # the colab's SIREN, as the benchmark trains it; no memory used
        model = inr.INR(in_features=2, out_features=1, width=256, depth=4)
    coords = torch.zeros(256 * 256, 2, device="meta")

    def step():
        model(coords).square().mean().backward()

    _, flops, _ = one_step(step)
    return flops / (row["inrlib_ms"] / 1e3), f"{rows['device']}, {row['inrlib_ms']:.2f} ms per SIREN 256² step"
