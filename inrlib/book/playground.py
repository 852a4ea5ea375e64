"""The in-page trainer: a SIREN / ReLU + PE / ReLU + FF / ReLU network trained in the reader's browser.

`playground(signal, models=..., controls=...)` returns a `Playground`, whose HTML output carries the
target, the coordinates and inrlib's initial weights (so that the browser starts from exactly the
weights `inr.fit` would train) and mounts the trainer of `playground_assets/inr_playground/trainer.js`
on TensorFlow.js (vendored there, pinned; `scripts/update_tfjs.sh` updates it).

Where the engine comes from (`engine=`):
- "site": the built book carries it once, in `inr_playground/` at the site's root (`_config.yml`
  copies `inrlib/book/playground_assets` there with `html_extra_path`); the page loads it from
  there, which works from file:// and from any server, offline.
- "inline": the engine (about 1.6 MB) is written into the output itself: a notebook on Colab or in
  JupyterLab, or a standalone page.
- "files": the page loads it from `inr_playground/` next to itself (`Playground.save(..., engine=
  "files")` copies it there).
- "auto" (the default): "site" while the book's chapters are executed for the site (the executor
  sets INR_PROFILE), else "inline".
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

ASSETS = Path(__file__).with_name("playground_assets") / "inr_playground"
# Load order: the core defines the global `tf`, the backends register themselves on it.
ENGINE_FILES = ("tf-core.min.js", "tf-backend-cpu.min.js", "tf-backend-webgl.min.js",
                "tf-backend-wasm.min.js", "tfjs-backend-wasm-simd.wasm.js", "trainer.js")
KINDS = {"siren": "SIREN", "relu_pe": "ReLU + PE", "relu_ff": "ReLU + Gaussian FF", "relu": "ReLU"}
CONTROLS = ("model", "omega", "L", "sigma", "width", "depth", "lr", "steps", "seed", "view")
ENGINES = ("auto", "site", "inline", "files")
VIEWS = ("train", "wide", "fine")
# torch.optim.Adam's default, which inr.fit uses; the page's Adam takes it from the data.
ADAM_EPS = 1e-8
MAX_SAMPLES = 128 * 128  # a larger target would make the page's own data exceed 1 MB
_ids = itertools.count()


def _b64(a) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def model_kind(model) -> str:
    """Which of the page's networks an inrlib INR is ('siren', 'relu_pe', 'relu_ff', 'relu'), or
    a ValueError that says what the page cannot train."""
    cfg = getattr(model, "config", None)
    if cfg is None:
        raise ValueError(f"models must be inrlib INR models (inr.siren, inr.relu_mlp, inr.INR), "
                         f"got {type(model).__name__}")
    act, enc = cfg.activation["name"], cfg.encoding
    if act not in ("sine", "relu"):
        raise ValueError(f"the page trains sine and ReLU networks, not activation {act!r}")
    if cfg.output != "linear" or not cfg.bias:
        raise ValueError(f"the page trains networks with a linear output and biases, got "
                         f"output={cfg.output!r}, bias={cfg.bias}")
    want_init = "paper" if act == "sine" else "pytorch"
    if cfg.init != want_init:
        raise ValueError(f"the page draws {act} networks with the {want_init!r} init, got "
                         f"init={cfg.init!r}")
    if cfg.in_features not in (1, 2):
        raise ValueError(f"the page trains 1-D and 2-D signals, got in_features={cfg.in_features}")
    if act == "sine":
        if enc is not None:
            raise ValueError(f"the page's SIREN takes raw coordinates, got encoding {enc['name']!r}")
        return "siren"
    if enc is None:
        return "relu"
    if enc["name"] == "posenc":
        return "relu_pe"
    if enc["name"] == "fourier":
        return "relu_ff"
    raise ValueError(f"the page's ReLU networks take no encoding, 'posenc' or 'fourier', "
                     f"got {enc['name']!r}")


def _spec(model) -> dict:
    cfg = model.config
    act = cfg.activation
    enc = None if cfg.encoding is None else dict(cfg.encoding)
    if enc is not None and enc["name"] == "fourier":
        enc = {"name": "fourier", "sigma": float(enc["sigma"]), "n_features": int(enc["n_features"])}
    elif enc is not None:
        enc = {"name": "posenc", "L": int(enc["L"]), "include_input": bool(enc["include_input"])}
    return {"act": act["name"], "enc": enc, "width": cfg.width, "depth": cfg.depth,
            "inF": cfg.in_features, "outF": cfg.out_features,
            "first_omega": float(act.get("first_omega", 30.0)),
            "hidden_omega": float(act.get("hidden_omega", 30.0)),
            "seed": 0 if cfg.seed is None else int(cfg.seed)}


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
        parts = [_STYLE, f'<div id="{eid}" class="inr-playground">Loading the in-page trainer…</div>',
                 f'<script type="application/json" id="{eid}-data">{self.data_json()}</script>']
        if engine == "inline":
            # kept as text and run by the loader only if no earlier output on the page ran it:
            # TensorFlow.js must be set up once per page
            parts += [f'<script type="text/plain" id="{eid}-engine">{engine_source()}</script>']
        parts.append("<script>" + _LOADER.replace("__ID__", eid).replace("__MODE__", engine)
                     .replace("__FILES__", json.dumps(list(ENGINE_FILES))) + "</script>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path, engine: str = "inline", title: str = "INR playground") -> Path:
        """A standalone page at `path`; engine "files" copies the engine beside it, once."""
        engine = _engine(engine)
        if engine == "site":
            raise ValueError('engine="site" needs the built book; save with "inline" or "files"')
        path = Path(path)
        if engine == "files":
            copy_engine(path.parent)
        path.write_text(f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}'
                        f"</title></head><body>\n{self.html(engine)}\n</body></html>\n", encoding="utf-8")
        return path


def _engine(engine) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "auto":
        return "site" if "INR_PROFILE" in os.environ else "inline"
    return engine


def engine_source() -> str:
    """The engine's JavaScript, all files in load order (for an inline page)."""
    return "\n;\n".join((ASSETS / f).read_text(encoding="utf-8") for f in ENGINE_FILES)


def engine_bytes() -> int:
    """Size of the engine as the site carries it (every file of the assets folder)."""
    return sum(p.stat().st_size for p in ASSETS.iterdir() if p.is_file())


def copy_engine(folder) -> Path:
    """Copy the engine into `folder`/inr_playground (a page saved with engine="files")."""
    dest = Path(folder) / "inr_playground"
    shutil.copytree(ASSETS, dest, dirs_exist_ok=True)
    return dest


def _positive(name, v, whole=False):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0 \
            or (whole and int(v) != v):
        raise ValueError(f"{name} must be a {'whole ' if whole else ''}number > 0, got {v!r}")
    return int(v) if whole else float(v)


def playground(signal, models=None, *, lr=None, steps: int = 300, controls=None, freqs=None,
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
    if len(shape) == 1 and channels != 1:
        raise ValueError(f"a 1-D signal must have one channel, got {channels}")
    if channels not in (1, 3):
        raise ValueError(f"the page shows grey or RGB signals, got {channels} channels")
    steps = _positive("steps", steps, whole=True)
    extent = _positive("extent", extent)
    finer = _positive("finer", finer, whole=True)
    if extent < 1 or finer > 8:
        raise ValueError(f"extent must be >= 1 and finer at most 8, got extent={extent}, finer={finer}")
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if backend not in (None, "wasm", "webgl", "cpu"):
        raise ValueError(f'backend must be None, "wasm", "webgl" or "cpu", got {backend!r}')
    _engine(engine)

    if models is None:
        models = default_models(len(shape), channels)
    elif not isinstance(models, dict):
        listed = list(models)
        models = {}
        for m in listed:
            label = KINDS[model_kind(m)]
            if label in models:  # two of a kind: refused below, not silently dropped here
                label = f"{label} ({len(models) + 1})"
            models[label] = m
    if not models:
        raise ValueError("models must name at least one network")
    by_kind = {}
    for label, m in models.items():
        kind = model_kind(m)
        if kind in by_kind:
            raise ValueError(f"models {by_kind[kind][0]!r} and {label!r} are both {KINDS[kind]}: the "
                             "page offers one network of each kind (the reader varies its settings)")
        if m.config.in_features != len(shape) or m.config.out_features != channels:
            raise ValueError(f"model {label!r} maps {m.config.in_features} -> {m.config.out_features}, "
                             f"but the signal has {len(shape)}-D coordinates and {channels} channel(s)")
        by_kind[kind] = (label, m)
    if isinstance(lr, dict):
        unknown = set(lr) - set(models)
        if unknown:
            raise ValueError(f"lr names {sorted(unknown)}, which are not among models {sorted(models)}")
    elif lr is not None:
        lr = _positive("lr", lr)

    def lr_of(label, m):
        if isinstance(lr, dict) and label in lr:
            return _positive(f"lr[{label!r}]", lr[label])
        if lr is not None and not isinstance(lr, dict):
            return lr
        return 1e-4 if m.config.activation["name"] == "sine" else 1e-3

    if controls is None:
        controls = list(CONTROLS)
    else:
        controls = list(controls)
        bad = [c for c in controls if c not in CONTROLS]
        if bad:
            raise ValueError(f"controls {bad} are unknown; choose from {CONTROLS}")

    if freqs is None:
        freqs = signal.meta.get("freqs") if len(shape) == 1 and hasattr(signal, "meta") else None
    if freqs is not None:
        if len(shape) != 1:
            raise ValueError("freqs applies to 1-D signals (the per-frequency residual)")
        freqs = [int(f) for f in freqs]
        if any(f < 1 or 2 * f >= n for f in freqs):
            raise ValueError(f"freqs must be whole numbers in [1, n/2) for n = {n} samples, got {freqs}")

    first_kind = next(iter(by_kind))
    first = by_kind[first_kind][1]
    spec0 = _spec(first)
    defaults = {"model": first_kind, "omega": 30.0, "L": 6, "sigma": 10.0, "width": spec0["width"],
                "depth": spec0["depth"], "lr": lr_of(*by_kind[first_kind]), "steps": steps,
                "seed": spec0["seed"], "view": view}
    for kind, (label, m) in by_kind.items():
        s = _spec(m)
        if kind == "siren":
            defaults["omega"] = s["first_omega"]
        elif kind == "relu_pe":
            defaults["L"] = s["enc"]["L"]
        elif kind == "relu_ff":
            defaults["sigma"] = s["enc"]["sigma"]
    data = {
        "shape": list(shape), "n": n, "channels": channels,
        "coords": _b64(coords.detach().float().cpu().numpy()),
        "target": _b64(values.detach().float().cpu().numpy()),
        "value_range": [float(v) for v in signal.value_range],
        "coord_range": [float(v) for v in signal.coord_range],
        # the PSNR's data range, as inr.fit takes it from a Signal: the width of its value range
        "data_range": float(signal.value_range[1] - signal.value_range[0]),
        "models": {kind: {"label": label, "spec": _spec(m), "lr": lr_of(label, m), "init": _init(m)}
                   for kind, (label, m) in by_kind.items()},
        "controls": controls, "defaults": defaults, "freqs": freqs, "extent": extent,
        "finer": finer, "adam_eps": ADAM_EPS, "backend": backend, "autostart": bool(autostart),
    }
    return Playground(data, dict(models), engine)


_STYLE = """<style>
.inr-playground{font:13px/1.4 system-ui,sans-serif;border:1px solid #ddd;border-radius:6px;padding:.6em;margin:.8em 0}
.inr-pg-controls{display:flex;flex-wrap:wrap;gap:.3em .9em;align-items:center;margin-bottom:.5em}
.inr-pg-field input[type=number]{width:5.5em}.inr-pg-field input[type=range]{width:7em;vertical-align:middle}
.inr-pg-panels{display:flex;flex-wrap:wrap;gap:.6em}.inr-pg-panel{margin:0}
.inr-pg-panel figcaption{font-size:11px;color:#555;max-width:420px}
.inr-pg-status{font-size:12px;color:#333;margin-top:.4em}.inr-pg-note{color:#a94442;margin-top:.2em}
</style>"""

# Runs in the output: finds the engine (inline: already there; site: at the site's root, found
# from the attribute Sphinx puts on <html>; files: beside the page), loads it once per page,
# then mounts this trainer.
_LOADER = r"""(function(){
var id="__ID__", mode="__MODE__", files=__FILES__;
var root=document.getElementById(id), data=JSON.parse(document.getElementById(id+"-data").textContent);
function mount(){ window.INRPlayground.mount(root, data); }
if (window.INRPlayground) { mount(); return; }
(window.__inrPlaygroundQueue = window.__inrPlaygroundQueue || []).push([root, data]);
if (window.__inrPlaygroundLoading) return;
var base=null;
if (mode==="inline") { window.__inrPlaygroundLoading=true; var e=document.createElement("script");
  e.textContent=document.getElementById(id+"-engine").textContent; document.head.appendChild(e); return; }
if (mode==="files") base="inr_playground/";
else if (mode==="site") {
  var cr=document.documentElement.getAttribute("data-content_root");
  if (cr===null) { var s=document.querySelector('script[src*="documentation_options.js"]');
    if (s) cr=s.getAttribute("src").replace(/_static\/documentation_options\.js.*$/,""); }
  if (cr!==null) base=cr+"inr_playground/";
}
if (base===null) { root.textContent="The in-page trainer's engine is carried by the built book. "+
  "In a notebook, show it with engine=\"inline\": playground(..., engine=\"inline\")."; return; }
window.__inrPlaygroundLoading=true;
(function next(i){ if (i>=files.length) return;
  var s=document.createElement("script"); s.src=base+files[i];
  s.onload=function(){ next(i+1); };
  s.onerror=function(){ root.textContent="Could not load the in-page trainer ("+base+files[i]+")."; };
  document.head.appendChild(s); })(0);
})();"""
