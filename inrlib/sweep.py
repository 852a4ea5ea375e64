"""Sweeps of many fits: configs grouped into `fit_many` batches, run here or on a Ray cluster.

    results = inr.sweep(configs, image, steps=1000, lr=1e-4)                  # in this process
    results = inr.sweep(configs, image, steps=1000, lr=1e-4, backend="ray")   # one task per GPU

Configs of one batch key (`ModelConfig.batch_key`: they may differ in omegas, init, seed,
Fourier-feature scale, ...) are trained together, `batch` at a time, as `fit_many` trains them; each batch is one task. With
backend="ray" (`pip install "inrlib[ray]"`), each task asks the cluster for one GPU when it has
GPUs, else for one CPU. It joins the cluster that `ray start` made on this machine, or the one
RAY_ADDRESS names (ray://HEAD:10001 from another machine, with "ray[client]"), or one you
connected to with `ray.init(...)`; with none of these, Ray starts a cluster on this machine.
"""
import json
from dataclasses import dataclass

from .device import device
from .models import INR, ModelConfig
from .training import History, fit_many


@dataclass
class SweepResult:
    """One trained configuration: its History and its trained weights (on the CPU)."""

    config: ModelConfig
    history: History
    state: dict

    def model(self) -> INR:
        """The trained model, rebuilt from the config and the weights."""
        m = INR.from_config(self.config)
        m.load_state_dict(self.state)
        return m


def _batches(configs, batch):
    groups = {}
    for i, cfg in enumerate(configs):
        groups.setdefault(json.dumps(cfg.batch_key(), sort_keys=True), []).append(i)
    return [idx[j:j + batch] for idx in groups.values() for j in range(0, len(idx), batch)]


def _fit_batch(configs, coords, target, fit_kw):
    """One task: build the models on this worker's device, train them as one batch."""
    dev = device()
    models = [INR.from_config(c).to(dev) for c in configs]
    hists = fit_many(models, coords, target, progress=False, **fit_kw)
    return [(h, {k: v.detach().cpu() for k, v in m.state_dict().items()})
            for h, m in zip(hists, models)]


def sweep(configs, coords, target=None, *, steps, batch=16, backend="local", **fit_kw) -> list:
    """Train every ModelConfig in `configs` on coords (or a Signal) -> target; one SweepResult
    per config, in order. `fit_kw` goes to `fit_many` (lr, loss, batch_size, data_range, ...)."""
    configs = list(configs)
    if not configs:
        raise ValueError("sweep needs at least one config")
    bad = [type(c).__name__ for c in configs if not isinstance(c, ModelConfig)]
    if bad:
        raise TypeError(f"sweep takes ModelConfig objects (model.config), got {bad[0]}")
    if int(batch) != batch or batch < 1:
        raise ValueError(f"batch must be a whole number >= 1, got {batch}")
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    if hasattr(coords, "coords"):  # a Signal: plain tensors travel to workers
        fit_kw.setdefault("data_range", coords.data_range)
        coords, target = coords.coords.cpu(), coords.values.cpu()
    fit_kw["steps"] = steps
    batches = _batches(configs, int(batch))
    if backend == "local":
        outs = [_fit_batch([configs[i] for i in b], coords, target, fit_kw) for b in batches]
    else:
        outs = _run_on_ray(batches, configs, coords, target, fit_kw)
    results = [None] * len(configs)
    for b, out in zip(batches, outs):
        for i, (hist, state) in zip(b, out):
            results[i] = SweepResult(configs[i], hist, state)
    return results


def _run_on_ray(batches, configs, coords, target, fit_kw):
    try:
        import ray
    except ImportError as err:
        raise ImportError('backend="ray" needs Ray: pip install "inrlib[ray]"') from err
    if not ray.is_initialized():
        ray.init()  # RAY_ADDRESS if set, else a cluster on this machine
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    task = ray.remote(num_gpus=gpus, num_cpus=0 if gpus else 1)(_fit_batch)
    refs = [ray.put(coords), ray.put(target)]
    return ray.get([task.remote([configs[i] for i in b], *refs, fit_kw) for b in batches])
