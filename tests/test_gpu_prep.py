"""What prepares a GPU session on the CPU: the work counter behind `execute_chapters.py
--estimate` and the wheel closure that scripts/paper_size.sh installs there."""
import json
import sys
from pathlib import Path

import pytest
import torch

import inrlib as inr
from inrlib import training

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import gpu_wheels  # noqa: E402
import work_count  # noqa: E402


@pytest.fixture
def counted(tmp_path, monkeypatch):
    log = tmp_path / "fits.jsonl"
    monkeypatch.setattr(training, "_train", training._train)  # undone after the test
    work_count.install(str(log))
    return lambda: [json.loads(line) for line in log.read_text().splitlines()]


def _fit(n, steps, k=1):
    coords, target = torch.rand(n, 2), torch.rand(n, 1)
    models = [inr.INR(width=16, depth=2, seed=s) for s in range(k)]
    if k == 1:
        return inr.fit(models[0], coords, target, steps=steps, progress=False)
    return inr.fit_many(models, coords, target, steps=steps, progress=False)


def test_a_counted_fit_runs_two_steps_and_logs_the_steps_asked_for(counted):
    hist = _fit(64, steps=300)
    assert len(hist.loss) == 2  # cut to two steps: the estimate must not do the work
    (fit,) = counted()
    assert fit["steps"] == 300 and fit["models"] == 1 and fit["points"] == 64
    assert fit["flops"] > 0 and fit["ops"] > 10


def test_a_step_is_counted_without_the_fits_one_off_work(tmp_path, monkeypatch):
    """The start-up checks (a NaN test per parameter, with a read-back each) are not part of
    a step: the logged count is the second step's, less than a whole one-step fit's."""
    _, _, whole_fit_of_one_step = work_count.one_step(lambda: _fit(64, steps=1))
    monkeypatch.setattr(training, "_train", training._train)
    work_count.install(str(tmp_path / "fits.jsonl"))
    _fit(64, steps=10)
    fit = json.loads((tmp_path / "fits.jsonl").read_text())
    assert 0 < fit["ops"] < 0.8 * whole_fit_of_one_step, (fit["ops"], whole_fit_of_one_step)


def test_flops_grow_with_points_and_models(counted):
    _fit(64, steps=10)
    _fit(128, steps=10)
    _fit(64, steps=10, k=4)
    one, two, four = counted()
    assert two["flops"] == pytest.approx(2 * one["flops"], rel=0.05)
    assert four["flops"] == pytest.approx(4 * one["flops"], rel=0.05) and four["models"] == 4


def test_seconds_take_the_larger_of_compute_and_launches():
    fits = [{"steps": 100, "flops": 1e12, "ops": 10}, {"steps": 1000, "flops": 1.0, "ops": 50}]
    assert work_count.seconds(fits, rate=1e13, launch_s=1e-5) == pytest.approx(100 * 0.1 + 1000 * 5e-4)


def test_benchmark_rate_comes_from_the_recorded_siren_step():
    results = sorted(Path(__file__).resolve().parents[1].glob("bench/results/*.json"))
    rate, source = work_count.benchmark_rate(results[-1])
    assert 1e12 < rate < 1e15 and "SIREN" in source


def test_wheel_closure_holds_what_executes_a_notebook_and_no_extras():
    found = gpu_wheels.closure(["nbclient"])
    assert {"nbclient", "jupyter-client", "nbformat", "traitlets"} <= set(found)
    assert all(v for v in found.values())
    assert "sphinx" not in found  # nbclient's [docs] extra must not be followed


def test_a_derivative_loss_is_counted_too(counted):
    """Poisson and SDF losses call autograd.grad inside the step (torch's FlopCounterMode
    raised there: its module hooks do not support it)."""
    from inrlib.book import poisson

    coords, targets = torch.rand(64, 2) * 2 - 1, torch.rand(64, 4)
    inr.fit(inr.INR(width=16, depth=2, seed=0), coords, targets, steps=50, progress=False,
            loss=poisson.derivative_loss(targets, 1.0, 1.0, 1.0))
    (fit,) = counted()
    assert fit["steps"] == 50 and fit["flops"] > 0
