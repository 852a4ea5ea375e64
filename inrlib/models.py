"""The coordinate MLP (`INR`) and its configuration (`ModelConfig`, with the key that says which
models can train as one batch, `INR.stack`)."""
import contextlib
import json
import os
from dataclasses import asdict, dataclass, field, fields

import torch
from torch import nn

from .activations import (activation_options, default_init, is_complex, layer, make_activations,
                          output_head)
from .checks import flag, one_of, whole
from .encodings import encoding_options, make_encoding
from .init import INITS, apply_init
from .stacked import StackedINR

OUTPUTS = ("linear", "sigmoid")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that defines an INR. `activation` and `encoding` are dicts holding their own
    options, e.g. {"name": "sine", "first_omega": 30.0, "hidden_omega": 30.0} and
    {"name": "posenc", "L": 10, "include_input": True}; `encoding` is None for raw coordinates.
    `seed` (None: the global RNG) makes the initial weights reproducible."""

    in_features: int = 2
    out_features: int = 1
    width: int = 256
    depth: int = 4
    activation: dict = field(default_factory=lambda: {"name": "sine", "first_omega": 30.0,
                                                      "hidden_omega": 30.0})
    encoding: dict | None = None
    init: str = "paper"
    output: str = "linear"
    bias: bool = True
    seed: int | None = None

    def __post_init__(self):
        for name in ("in_features", "out_features", "width", "depth"):
            whole(name, getattr(self, name))
        one_of("output", self.output, OUTPUTS)
        flag("bias", self.bias)
        if not isinstance(self.init, str) or self.init not in INITS:
            raise ValueError(f"unknown init scheme {self.init!r}; choose one of {sorted(INITS)} "
                             "or add one with inrlib.register_init")
        if self.seed is not None:
            whole("seed", self.seed, low=0)
        for part, options_of in (("activation", activation_options), ("encoding", encoding_options)):
            spec = getattr(self, part)
            if spec is None and part == "encoding":
                continue
            if not isinstance(spec, dict) or "name" not in spec:
                raise ValueError(f"{part} must be a dict with a 'name', got {spec!r}")
            unknown = set(spec) - {"name"} - set(options_of(spec["name"]))
            if unknown:
                raise ValueError(f"{part} {spec['name']!r} takes {sorted(options_of(spec['name']))}, "
                                 f"not {sorted(unknown)}")
        _check_fits_in_memory(self, self._meta_model())  # also checks every option's value

    def _meta_model(self) -> "INR":
        """This config's model built on the meta device: every part's checks run, but no memory
        is allocated and no random number drawn."""
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            return INR.from_config(self)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def batch_key(self) -> dict:
        """What must agree for models to train as one batch (`fit_many`, `sweep`): the functions
        applied and the shape and type of every tensor. Values may differ: seeds, init schemes,
        the activations' scalar parameters (omegas, WIRE's scale, the Gaussian's sigma), Fourier
        features' scale, a hash grid's resolutions at equal table sizes. Read off the model built
        on the meta device (no memory, no random numbers), so a new part needs no teaching here."""
        model = self._meta_model()
        scalars = {n.rsplit(".", 1)[1] for n, b in model.acts.named_buffers() if b.dim() == 0}
        structural = {k: v for k, v in self.activation.items()
                      if k != "name" and k.removeprefix("first_").removeprefix("hidden_") not in scalars}
        return {**{f: getattr(self, f) for f in ("in_features", "out_features", "width", "depth",
                                                 "bias", "output")},
                "activation": self.activation["name"], **structural,
                "encoding": None if self.encoding is None else self.encoding["name"],
                "encoding size": None if model.encoding is None else model.encoding.out_features,
                **{f"tensor {n}": f"{tuple(t.shape)} {t.dtype}"
                   for n, t in [*model.named_parameters(), *model.named_buffers()]}}

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        """The config a `to_json` text describes (unknown keys are an error)."""
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"not a ModelConfig JSON text ({err}): pass model.config.to_json()") from err
        if not isinstance(data, dict):
            raise ValueError(f"a ModelConfig JSON text holds an object, got {type(data).__name__}")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown ModelConfig keys {sorted(unknown)}; the keys are "
                             f"{[f.name for f in fields(cls)]}")
        return cls(**data)

    @classmethod
    def build(cls, activation="sine", encoding=None, init=None, seed=None, **kw) -> "ModelConfig":
        """A config from the keywords readers know (`INR(activation="sine", first_omega=30,
        encoding="posenc", L=10, ...)`): each option goes to the part that takes it, with that
        part's defaults filled in; an option that no part of this model takes is an error."""
        act = activation if isinstance(activation, dict) else {"name": activation}
        encoding = None if encoding == "none" else encoding
        enc = encoding if isinstance(encoding, dict) or encoding is None else {"name": encoding}
        act_opts = activation_options(act["name"])
        enc_opts = encoding_options(enc["name"]) if enc else {}
        own = {k: kw.pop(k) for k in list(kw) if k in cls.__dataclass_fields__}
        both = sorted(set(kw) & set(act_opts) & set(enc_opts))
        if both:
            raise ValueError(f"{both} is an option of both activation {act['name']!r} and encoding "
                             f"{enc['name']!r}: give it inside activation={{'name': ...}} or "
                             "encoding={'name': ...} instead")
        for k in list(kw):
            if k in act_opts:
                act = {**act, k: kw.pop(k)}
            elif k in enc_opts:
                enc = {**enc, k: kw.pop(k)}
        if kw:
            takes = sorted(set(act_opts) | set(enc_opts))
            raise ValueError(f"{sorted(kw)} do not apply to activation {act['name']!r} with "
                             f"encoding {enc['name'] if enc else None!r} (it takes {takes})")
        act = {"name": act["name"], **{k: act.get(k, v) for k, v in act_opts.items()}}
        if enc:
            if enc["name"] == "fourier" and "seed" not in enc:
                enc = {**enc, "seed": 0 if seed is None else seed}
            enc = {"name": enc["name"], **{k: enc.get(k, v) for k, v in enc_opts.items()}}
        init = init or default_init(act["name"])
        return cls(activation=act, encoding=enc, init=init, seed=seed, **own)


class INR(nn.Module):
    """Phi(x) = W_out s_D(... s_1(W_1 gamma(x) + b_1) ...) + b_out, encoding gamma, activation s.

    `depth` counts the activated (hidden) layers of `width` units: the SIREN colab's
    "hidden_layers=3" network is depth=4. Sine-family activations compute sin(omega (W h + b)),
    with `first_omega` in the first layer and `hidden_omega` after it; init=None picks the
    scheme of the activation's paper (SIREN's for the sine family and FINER, PyTorch's default
    otherwise). After WIRE's complex Gabor activation the layers are complex and the output is
    the real part. `bias=False` drops every bias (the
    network is then odd when its activation is); `output="sigmoid"` squashes the output to (0, 1).
    Options of the activation (first_omega, hidden_omega, n_modes; scale for "gabor", sigma
    for "gauss") and of the encoding (L, include_input; sigma, n_features; levels, table_size,
    features, min_res, max_res for "hash") are keywords too; `INR.from_config` rebuilds a model from
    its `config`.
    """

    def __init__(self, in_features=2, out_features=1, width=256, depth=4, activation="sine",
                 encoding=None, init=None, output="linear", bias=True, seed=None, **options):
        super().__init__()
        cfg = ModelConfig.build(activation=activation, encoding=encoding, init=init, seed=seed,
                                in_features=in_features, out_features=out_features, width=width,
                                depth=depth, output=output, bias=bias, **options)
        self._build(cfg)

    @classmethod
    def from_config(cls, cfg) -> "INR":
        """The model a config describes: a ModelConfig, its `to_json()` text or its dict."""
        if isinstance(cfg, str):
            cfg = ModelConfig.from_json(cfg)
        elif isinstance(cfg, dict):
            cfg = ModelConfig.from_json(json.dumps(cfg))
        elif not isinstance(cfg, ModelConfig):
            raise TypeError(f"from_config takes a ModelConfig, its JSON text or its dict, got "
                            f"{type(cfg).__name__}")
        model = cls.__new__(cls)
        nn.Module.__init__(model)
        model._build(cfg)
        return model

    def _build(self, cfg: ModelConfig):
        self.config = cfg
        self.in_features, self.out_features = cfg.in_features, cfg.out_features
        act = {k: v for k, v in cfg.activation.items() if k != "name"}
        # Seeded: the same weights on every machine, the global generator left as it was.
        # Unseeded: drawn from the global generator, so two builds differ and
        # torch.manual_seed(...) before building reproduces one.
        seeded = torch.random.fork_rng(devices=[]) if cfg.seed is not None else contextlib.nullcontext()
        with seeded:
            if cfg.seed is not None:
                torch.manual_seed(cfg.seed)
            enc = dict(cfg.encoding or {})
            self.encoding = make_encoding(enc.pop("name", None), cfg.in_features, **enc)
            n_in = self.encoding.out_features if self.encoding is not None else cfg.in_features
            sizes = [n_in] + [cfg.width] * cfg.depth + [cfg.out_features]
            # after a complex activation (WIRE) every layer has complex weights
            cplx = is_complex(cfg.activation["name"])
            self.linears = nn.ModuleList(
                [nn.Linear(a, b, bias=cfg.bias, dtype=torch.cfloat if cplx and i > 0 else None)
                 for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))])
            self.acts = nn.ModuleList(make_activations(cfg.activation["name"], cfg.depth, **act))
            apply_init(self.linears, cfg.init, act.get("first_omega", 30.0),
                       act.get("hidden_omega", 30.0))

    def check_coords(self, x) -> None:
        """Coordinates this model can take: a real float tensor (..., N, in_features) of its
        parameters' dtype, on their device; else an error that says how to convert them."""
        if not torch.is_tensor(x):
            raise TypeError(f"coordinates must be a torch tensor, got {type(x).__name__}: "
                            "use torch.as_tensor(x, dtype=torch.float32)")
        w = self.linears[0].weight
        if x.dtype != w.dtype:
            raise TypeError(f"coordinates are {x.dtype} but the model computes in {w.dtype}: "
                            f"pass x.to({w.dtype})")
        if x.dim() < 2 or x.shape[-1] != self.in_features:
            raise ValueError(f"expected coordinates of shape (N, {self.in_features}), "
                             f"got {tuple(x.shape)}")
        if x.device != w.device and w.device.type != "meta":
            raise ValueError(f"coordinates are on {x.device}, the model on {w.device}: "
                             f"pass x.to('{w.device}')")

    def forward(self, x, return_activations=False):
        """Output (N, out_features); with return_activations also the per-layer
        (pre-activation, activation) pairs (for sines, pre is the argument omega (W h + b))."""
        self.check_coords(x)
        h = self.encoding(x) if self.encoding is not None else x
        trace = []
        for linear, act in zip(self.linears[:-1], self.acts):
            pre, h = layer(h, linear.weight, linear.bias, act, keep_pre=return_activations)
            if return_activations:
                trace.append((pre, h))
        y = layer(h, self.linears[-1].weight, self.linears[-1].bias)[1]
        y = output_head(y, self.config.output)
        return (y, trace) if return_activations else y

    @staticmethod
    def stack(models) -> "StackedINR":
        """K models of one `batch_key` as one batched network (see StackedINR)."""
        return StackedINR(models)


def _check_fits_in_memory(cfg, meta_model):
    """Refuse a config whose parameters alone exceed this machine's memory (with the estimate)."""
    nbytes = sum(p.numel() * p.element_size() for p in meta_model.parameters())
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: nothing to compare with
        return
    if nbytes > ram:
        raise ValueError(f"a model of width {cfg.width} and depth {cfg.depth} has "
                         f"{nbytes / 4:,.0f} parameters ({nbytes / 2**30:,.1f} GiB), more than this "
                         f"machine's {ram / 2**30:,.1f} GiB of memory: choose a smaller width, depth "
                         "or encoding")


def siren(**kw) -> INR:
    """SIREN with the paper's defaults (omega_0 = 30, paper init); keywords as for INR."""
    return INR(activation="sine", **kw)


def relu_mlp(L=None, **kw) -> INR:
    """ReLU MLP; with NeRF positional encoding of L frequencies when L >= 1 (None or 0: none)."""
    if not L:
        return INR(activation="relu", **kw)
    return INR(activation="relu", encoding="posenc", L=L, **kw)
