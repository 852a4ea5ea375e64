"""The in-page trainer: a SIREN / ReLU + PE / ReLU + FF / ReLU network trained in the reader's browser.

`playground(signal, models=..., controls=...)` returns a `Playground`, whose HTML output carries the
target, the coordinates and inrlib's initial weights (the browser starts from the weights `inr.fit`
would train) and mounts `playground_assets/inr_playground/trainer.js` on TensorFlow.js (vendored
there, pinned; `scripts/update_tfjs.sh` updates it). The engine comes from (`engine=`):
- "site": the built book, which carries it once in `inr_playground/` at its root (`_config.yml`:
  `html_extra_path`); works from file:// and from any server, offline;
- "inline": the output itself (about 1.7 MB): a notebook in JupyterLab or on Colab, a standalone page;
- "files": `inr_playground/` beside the page (`Playground.save(..., engine="files")` copies it);
- "auto" (the default): "site" while the book's chapters are executed (the executor sets
  INR_PROFILE), else "inline".
"""
from __future__ import annotations

import base64
import html
import itertools
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..signals import Signal

ASSETS = Path(__file__).with_name("playground_assets") / "inr_playground"
# Load order: the core defines the global `tf`, the backends register themselves on it.
ENGINE_FILES = ("tf-core.min.js", "tf-backend-cpu.min.js", "tf-backend-webgl.min.js",
                "tf-backend-wasm.min.js", "tfjs-backend-wasm-simd.wasm.js", "trainer.js")
KINDS = {"siren": "SIREN", "relu_pe": "ReLU + PE", "relu_ff": "ReLU + Gaussian FF", "relu": "ReLU"}
CONTROLS = ("model", "omega", "L", "sigma", "width", "depth", "lr", "steps", "seed", "view")
ENGINES = ("auto", "site", "inline", "files")
BACKENDS = (None, "wasm", "webgl", "cpu")
VIEWS = ("train", "wide", "fine")
# torch.optim.Adam's default, which inr.fit uses; the page's Adam takes it from the data.
ADAM_EPS = 1e-8
MAX_SAMPLES = 128 * 128  # a larger target would make the page's own data exceed 1 MB
_ids = itertools.count()


def _b64(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def model_kind(model: torch.nn.Module) -> str:
    """Which of the page's networks an inrlib INR is ('siren', 'relu_pe', 'relu_ff', 'relu'), or
    a ValueError that says what the page cannot train."""
    cfg = getattr(model, "config", None)
    if cfg is None:
        raise ValueError(f"models must be inrlib INR models (inr.siren, inr.relu_mlp, inr.INR), "
                         f"got {type(model).__name__}")
    act, enc = cfg.activation["name"], cfg.encoding and cfg.encoding["name"]
    kind = {("sine", None): "siren", ("relu", None): "relu", ("relu", "posenc"): "relu_pe",
            ("relu", "fourier"): "relu_ff"}.get((act, enc))
    if kind is None:
        raise ValueError(f"the page trains SIREN (no encoding) and ReLU networks (no encoding, "
                         f"'posenc' or 'fourier'), not activation {act!r} with encoding {enc!r}")
    want_init = "paper" if act == "sine" else "pytorch"
    if cfg.output != "linear" or not cfg.bias or cfg.init != want_init:
        raise ValueError(f"the page trains {act} networks with a linear output, biases and the "
                         f"{want_init!r} init, got output={cfg.output!r}, bias={cfg.bias}, "
                         f"init={cfg.init!r}")
    if cfg.in_features not in (1, 2):
        raise ValueError(f"the page trains 1-D and 2-D signals, got in_features={cfg.in_features}")
    return kind


def _spec(model) -> dict:
    cfg, enc = model.config, model.config.encoding
    if enc is not None:  # only what the page reads, as JSON numbers
        enc = ({"name": "fourier", "sigma": float(enc["sigma"]), "n_features": int(enc["n_features"])}
               if enc["name"] == "fourier" else
               {"name": "posenc", "L": int(enc["L"]), "include_input": bool(enc["include_input"])})
    return {"act": cfg.activation["name"], "enc": enc, "width": cfg.width, "depth": cfg.depth,
            "inF": cfg.in_features, "outF": cfg.out_features, "seed": int(cfg.seed or 0),
            **{k: float(cfg.activation.get(k, 30.0)) for k in ("first_omega", "hidden_omega")}}


def _init(model) -> dict:
    """inrlib's initial weights, each linear layer's (out, in) weight transposed to the page's
    (in, out); for Fourier features B itself and B / sigma (the unit normal draw inrlib scales by
    sigma), so that the page can rescale it when the reader changes sigma."""
    state = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
    n = len(model.linears)
    out = {"W": [_b64(state[f"linears.{i}.weight"].T) for i in range(n)],
           "b": [_b64(state[f"linears.{i}.bias"]) for i in range(n)]}
    if "encoding.B" in state:
        B = state["encoding.B"]
        out["B"] = _b64(B)
        out["Bunit"] = _b64(B / model.config.encoding["sigma"])
    return out


def default_models(in_features: int, out_features: int = 1, width: int = 64, depth: int = 3,
                   L: int = 6, sigma: float = 10.0, seed: int = 0) -> dict:
    """The page's four networks, as inrlib builds them (the chapters' small sizes)."""
    import inrlib as inr

    kw = dict(in_features=in_features, out_features=out_features, width=width, depth=depth, seed=seed)
    return {"SIREN": inr.siren(**kw), f"ReLU + PE (L={L})": inr.relu_mlp(L=L, **kw),
            f"ReLU + Gaussian FF (σ={sigma:g})": inr.INR(activation="relu", encoding="fourier",
                                                         sigma=sigma, n_features=width, **kw),
            "ReLU": inr.relu_mlp(**kw)}


@dataclass
class Playground:
    """A trainer for one page: `data` is what the page gets (JSON); `models` the inrlib models
    whose initial weights it carries. Shown by Jupyter through `_repr_html_`."""

    data: dict
    models: dict
    engine: str = "auto"
    element_id: str = field(default_factory=lambda: f"inr-playground-{next(_ids)}")

    def initial_state(self, label: str) -> dict:
        """The state_dict the page starts from for network `label` (a copy)."""
        if label not in self.models:
            raise ValueError(f"no network {label!r}; this playground has {sorted(self.models)}")
        return {k: v.detach().clone() for k, v in self.models[label].state_dict().items()}

    def data_json(self) -> str:
        # "</" would end the <script> element that carries the JSON
        return json.dumps(self.data, separators=(",", ":")).replace("</", "<\\/")

    def html(self, engine: str | None = None) -> str:
        """The output's HTML: the trainer's element, its data, and the engine (see the module)."""
        engine = _engine(self.engine if engine is None else engine)
        eid = self.element_id
        parts = [f"<style>{_asset('playground.css')}</style>",
                 f'<div id="{eid}" class="inr-playground">Loading the in-page trainer…</div>',
                 f'<script type="application/json" id="{eid}-data">{self.data_json()}</script>']
        if engine == "inline":
            # kept as text and run by the loader only if no earlier output on the page ran it:
            # TensorFlow.js must be set up once per page
            parts += [f'<script type="text/plain" id="{eid}-engine">{engine_source()}</script>']
        parts.append("<script>" + _asset("loader.js").replace("__ID__", eid).replace("__MODE__", engine)
                     .replace("__FILES__", json.dumps(list(ENGINE_FILES))) + "</script>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | Path, engine: str = "inline", title: str = "INR playground") -> Path:
        """A standalone page at `path`; engine "files" copies the engine beside it, once."""
        engine, path = _engine(engine), Path(path)
        if engine == "site":
            raise ValueError('engine="site" needs the built book; save with "inline" or "files"')
        if engine == "files":
            copy_engine(path.parent)
        path.write_text(f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}'
                        f"</title></head><body>\n{self.html(engine)}\n</body></html>\n", encoding="utf-8")
        return path


def _engine(engine) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    return ("site" if "INR_PROFILE" in os.environ else "inline") if engine == "auto" else engine


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def engine_source() -> str:
    """The engine's JavaScript, all files in load order (for an inline page)."""
    return "\n;\n".join(_asset(f) for f in ENGINE_FILES)


def engine_bytes() -> int:
    """Size of the engine as the site carries it (every file of the assets folder)."""
    return sum(p.stat().st_size for p in ASSETS.iterdir() if p.is_file())


def copy_engine(folder: str | Path) -> Path:
    """Copy the engine into `folder`/inr_playground (a page saved with engine="files")."""
    return Path(shutil.copytree(ASSETS, Path(folder) / "inr_playground", dirs_exist_ok=True))


def _positive(name, v, whole=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0 or (
            whole and int(v) != v):
        raise ValueError(f"{name} must be a {'whole ' if whole else ''}number > 0, got {v!r}")
    return int(v) if whole else float(v)


def playground(signal: Signal, models: dict | list | None = None, *, lr: float | dict | None = None,
               steps: int = 300, controls: list | None = None, freqs: list | None = None,
               extent: float = 3.0, finer: int = 4, view: str = "train", engine: str = "auto",
               backend: str | None = None, autostart: bool = False) -> Playground:
    """A trainer for the reader's browser on `signal` (an inrlib Signal: a 1-D signal or an image,
    grey or RGB, at most 128 x 128 samples; `inr.load_image("camera", size=64)`).

    models: inrlib INR models the page offers (SIREN, ReLU + PE, ReLU + Gaussian FF, ReLU; at most
        one of each kind), as a dict label -> model or a list; their initial weights go into the
        page. None: `default_models` (width 64, depth 3, seed 0).
    lr: the learning rate, one for all or a dict label -> lr; None: 1e-4 for SIREN, 1e-3 for ReLU.
    steps: the steps the page trains for (the reader can change it).
    controls: the controls shown, a subset of CONTROLS in any order; None: all of them.
    freqs: 1-D only: whole frequencies (cycles over the signal) whose residual the page follows
        as it trains; None: the signal's own (`dynamics.sum_of_sines` records them).
    extent: the "wider" view evaluates on `extent` times the training range (outside [-1, 1]).
    finer: the "finer" view evaluates on `finer` times as many samples per axis.
    view: the view shown first: "train" (the training grid), "wide" or "fine".
    engine: where the page gets TensorFlow.js ("auto", "site", "inline", "files"; module docstring).
    backend: None lets the page choose (WebGL on a GPU, else WASM); "wasm", "webgl" or "cpu" asks.
    autostart: start training as soon as the page has loaded.
    """
    values, coords = getattr(signal, "values", None), getattr(signal, "coords", None)
    if values is None or coords is None or not hasattr(signal, "shape"):
        raise ValueError(f"signal must be an inrlib Signal (inr.load_image, dynamics.sum_of_sines), "
                         f"got {type(signal).__name__}")
    shape = tuple(int(s) for s in signal.shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"the page trains 1-D signals and images, got a signal of shape {shape}")
    n, channels = values.shape
    if n > MAX_SAMPLES:
        raise ValueError(f"signal has {n} samples; the page takes at most {MAX_SAMPLES} (its data "
                         f"must stay under 1 MB): load it smaller, e.g. inr.load_image(..., size=64)")
    if channels not in ((1,) if len(shape) == 1 else (1, 3)):
        raise ValueError(f"the page shows grey or RGB images and one-channel 1-D signals, got "
                         f"{channels} channels on a {len(shape)}-D grid")
    steps, extent = _positive("steps", steps, whole=True), _positive("extent", extent)
    finer = _positive("finer", finer, whole=True)
    if extent < 1 or finer > 8:
        raise ValueError(f"extent must be >= 1 and finer at most 8, got extent={extent}, finer={finer}")
    for name, value, options in (("view", view, VIEWS), ("backend", backend, BACKENDS),
                                 ("engine", engine, ENGINES)):
        if value not in options:
            raise ValueError(f"{name} must be one of {options}, got {value!r}")

    models = default_models(len(shape), channels) if models is None else models
    pairs = list(models.items()) if isinstance(models, dict) else [(KINDS[model_kind(m)], m) for m in models]
    if not pairs:
        raise ValueError("models must name at least one network")
    by_kind = {}
    for label, m in pairs:
        kind = model_kind(m)
        if kind in by_kind:
            raise ValueError(f"models {by_kind[kind][0]!r} and {label!r} are both {KINDS[kind]}: the "
                             "page offers one network of each kind (the reader varies its settings)")
        if m.config.in_features != len(shape) or m.config.out_features != channels:
            raise ValueError(f"model {label!r} maps {m.config.in_features} -> {m.config.out_features}, "
                             f"but the signal has {len(shape)}-D coordinates and {channels} channel(s)")
        by_kind[kind] = (label, m)
    if isinstance(lr, dict):
        if set(lr) - {label for label, _ in pairs}:
            raise ValueError(f"lr names {sorted(set(lr) - {label for label, _ in pairs})}, which are "
                             f"not among the models {[label for label, _ in pairs]}")
    elif lr is not None:
        lr = _positive("lr", lr)

    def lr_of(label, m):  # given for this network, given for all, or inr's usual one
        if isinstance(lr, dict) and label in lr:
            return _positive(f"lr[{label!r}]", lr[label])
        return lr if isinstance(lr, float) else 1e-4 if m.config.activation["name"] == "sine" else 1e-3

    controls = list(CONTROLS if controls is None else controls)
    if any(c not in CONTROLS for c in controls):
        raise ValueError(f"controls {[c for c in controls if c not in CONTROLS]} are unknown; "
                         f"choose from {CONTROLS}")

    if freqs is None:
        freqs = signal.meta.get("freqs") if len(shape) == 1 and hasattr(signal, "meta") else None
    if freqs is not None:
        if len(shape) != 1:
            raise ValueError("freqs applies to 1-D signals (the per-frequency residual)")
        freqs = [int(f) for f in freqs]
        if any(f < 1 or 2 * f >= n for f in freqs):
            raise ValueError(f"freqs must be whole numbers in [1, n/2) for n = {n} samples, got {freqs}")

    specs = {kind: _spec(m) for kind, (label, m) in by_kind.items()}
    first = next(iter(by_kind))
    # each control starts at its network's own value (omega: SIREN's, L: ReLU + PE's, ...)
    defaults = {"model": first, "width": specs[first]["width"], "depth": specs[first]["depth"],
                "lr": lr_of(*by_kind[first]), "steps": steps, "seed": specs[first]["seed"], "view": view,
                "omega": specs.get("siren", {}).get("first_omega", 30.0),
                "L": (specs.get("relu_pe", {}).get("enc") or {}).get("L", 6),
                "sigma": (specs.get("relu_ff", {}).get("enc") or {}).get("sigma", 10.0)}
    data = {
        "shape": list(shape), "n": n, "channels": channels,
        "coords": _b64(coords.detach().float().cpu().numpy()),
        "target": _b64(values.detach().float().cpu().numpy()),
        "value_range": [float(v) for v in signal.value_range],
        "coord_range": [float(v) for v in signal.coord_range],
        # the PSNR's data range, as inr.fit takes it from a Signal: the width of its value range
        "data_range": float(signal.value_range[1] - signal.value_range[0]),
        "models": {kind: {"label": label, "spec": specs[kind], "lr": lr_of(label, m), "init": _init(m)}
                   for kind, (label, m) in by_kind.items()},
        "controls": controls, "defaults": defaults, "freqs": freqs, "extent": extent,
        "finer": finer, "adam_eps": ADAM_EPS, "backend": backend, "autostart": bool(autostart),
    }
    return Playground(data, dict(pairs), engine)
