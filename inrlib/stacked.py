"""K models of one batch key as one network (`StackedINR`): every parameter stacked to (K, ...),
each layer one batched product; how `fit_many` trains a sweep at the cost of a few large
operations per step."""
import copy

import torch
from torch import nn

from .activations import layer, output_head


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

    def param(self, name: str):
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
        return output_head(h, self.output)

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
