"""The coordinate MLP (`INR`), its configuration (`ModelConfig`, with the key that says which
models can train as one batch) and its batched form (`StackedINR`: K models as one network)."""
import copy
import json
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .activations import (activate, activation_options, default_init, fold_omega, is_complex,
                          make_activations)
from .encodings import encoding_options, make_encoding
from .init import apply_init

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
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {v}")
        if self.output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {self.output!r}")
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

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def batch_key(self) -> dict:
        """What must agree for models to train as one batch (`fit_many`, `sweep`): the functions
        applied and the shape and type of every tensor. Values may differ: seeds, init schemes,
        the activations' scalar parameters (omegas, WIRE's scale, the Gaussian's sigma), Fourier
        features' scale, a hash grid's resolutions at equal table sizes. Read off the model built
        on the meta device (no memory, no random numbers), so a new part needs no teaching here."""
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            model = INR.from_config(self)
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
        return cls(**json.loads(text))

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
    def from_config(cls, cfg: ModelConfig) -> "INR":
        model = cls.__new__(cls)
        nn.Module.__init__(model)
        model._build(cfg)
        return model

    def _build(self, cfg: ModelConfig):
        self.config = cfg
        self.in_features, self.out_features = cfg.in_features, cfg.out_features
        act = {k: v for k, v in cfg.activation.items() if k != "name"}
        with torch.random.fork_rng(devices=[]):
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

    def check_coords(self, x):
        if x.dim() < 2 or x.shape[-1] != self.in_features:
            raise ValueError(f"expected coordinates of shape (N, {self.in_features}), "
                             f"got {tuple(x.shape)}")

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
        y = _output(y, self.config.output)
        return (y, trace) if return_activations else y

    @staticmethod
    def stack(models) -> "StackedINR":
        """K models of one `batch_key` as one batched network (see StackedINR)."""
        return StackedINR(models)


def layer(h, weight, bias, act=None, keep_pre=False):
    """(pre, act(pre)) with pre = W h + b, for one model (weight (out, in), bias (out,)) or for K
    stacked ones (weight (K, out, in), bias (K, out); h (N, in) shared or (K, N, in)). The one
    implementation of a layer: `INR` and `StackedINR` both call it. A sine layer's omega is
    folded into W and b (see `fold_omega`); `keep_pre=False` lets a ReLU overwrite pre in place."""
    if weight.dim() == 2:
        if act is not None:
            weight, bias = fold_omega(act, weight, bias)
        pre = F.linear(h, weight, bias)
    else:
        weight = weight.transpose(1, 2)
        bias = None if bias is None else bias.unsqueeze(1)
        if act is not None:  # omega is (K, 1, 1) here: it broadcasts over (K, in, out)
            weight, bias = fold_omega(act, weight, bias)
        if h.dim() == 2:  # a shared (N, in) input broadcasts over the K models
            pre = torch.matmul(h, weight) if bias is None else torch.matmul(h, weight) + bias
        else:
            pre = torch.bmm(h, weight) if bias is None else torch.baddbmm(bias, h, weight)
    if act is None:
        return pre, pre
    return pre, activate(act, pre, inplace=not keep_pre)


def _output(y, output):
    y = y.real if y.is_complex() else y  # WIRE: the real part of the complex output
    return torch.sigmoid(y) if output == "sigmoid" else y


class StackedINR(nn.Module):
    """K models of one `ModelConfig.batch_key` as one network: each parameter stacked to (K, ...).

    Called on coordinates (N, d), shared, or (K, N, d), one set per model; returns (K, N, C).
    Each layer is one batched product for all K (`layer`), with each activation's scalar
    parameters (omega, scale, sigma) stacked as (K, 1, 1). A trainable encoding (the hash grid)
    is called with its stacked tables. `unstack()` copies the weights back into the models.
    """

    def __init__(self, models):
        super().__init__()
        self.models = list(models)
        if not self.models:
            raise ValueError("stacking needs at least one model")
        m0 = self.models[0]
        keys = [m.config.batch_key() for m in self.models]
        for i, key in enumerate(keys[1:], 1):
            diff = next((k for k in keys[0] if key.get(k) != keys[0][k]), None)
            if diff is not None:
                raise ValueError(f"models of one batch must agree in their batch key: model {i} "
                                 f"has {diff} {key.get(diff)!r}, model 0 {keys[0][diff]!r}; train "
                                 "differently shaped models separately (fit)")
        self.names = [n for n, _ in m0.named_parameters()]
        self.stacked = nn.ParameterList(
            [torch.stack([dict(m.named_parameters())[n].detach() for m in self.models]).clone()
             for n in self.names])
        self.n_lin, self.output = len(m0.linears), m0.config.output
        same = all(m.config.encoding == m0.config.encoding for m in self.models)
        self.encodings = [m0.encoding] if same else [m.encoding for m in self.models]
        self.acts = [_stack_scalars([m.acts[i] for m in self.models]) for i in range(self.n_lin - 1)]
        self._cache = (None, None)  # the last encoded input: full-batch fits reuse it each step

    def param(self, name):
        """The stacked (K, ...) tensor of the models' parameter `name` (None if they have none)."""
        return self.stacked[self.names.index(name)] if name in self.names else None

    def _encode(self, x):
        own = {n.split(".", 1)[1]: self.param(n) for n in self.names if n.startswith("encoding.")}
        if own:  # trainable: the stacked parameters change at every step
            if len(self.encodings) == 1:
                return self.encodings[0](x, **own)
            return torch.stack([e(x if x.dim() == 2 else x[i], **{n: p[i] for n, p in own.items()})
                                for i, e in enumerate(self.encodings)])
        if self._cache[0] is x and not x.requires_grad:
            return self._cache[1]
        if self.encodings[0] is None:
            h = x
        elif len(self.encodings) == 1:
            h = self.encodings[0](x)
        else:
            h = torch.stack([e(x if x.dim() == 2 else x[i]) for i, e in enumerate(self.encodings)])
        self._cache = (x, h)
        return h

    def forward(self, x):
        h = self._encode(x)
        for i in range(self.n_lin):
            act = self.acts[i] if i < self.n_lin - 1 else None
            h = layer(h, self.param(f"linears.{i}.weight"), self.param(f"linears.{i}.bias"), act)[1]
        return _output(h, self.output)

    @torch.no_grad()
    def unstack(self) -> list:
        """Copy each model's slice of the stacked weights back into it; returns the models."""
        for name, p in zip(self.names, self.stacked):
            for i, m in enumerate(self.models):
                dict(m.named_parameters())[name].copy_(p[i])
        return self.models


def _stack_scalars(acts):
    """One activation module for K models: the first one's function (the batch key made them
    agree), each of its scalar buffers replaced by the K models' values as (K, 1, 1)."""
    scalars = [n for n, b in acts[0].named_buffers() if b.dim() == 0]
    if not scalars:
        return acts[0]  # stateless: ReLU, GELU, ...
    act = copy.deepcopy(acts[0])
    for n in scalars:
        setattr(act, n, torch.stack([getattr(a, n) for a in acts]).reshape(-1, 1, 1))
    return act


def siren(**kw) -> INR:
    """SIREN with the paper's defaults (omega_0 = 30, paper init); keywords as for INR."""
    return INR(activation="sine", **kw)


def relu_mlp(L=None, **kw) -> INR:
    """ReLU MLP; with NeRF positional encoding of L frequencies when L >= 1 (None or 0: none)."""
    if not L:
        return INR(activation="relu", **kw)
    return INR(activation="relu", encoding="posenc", L=L, **kw)
