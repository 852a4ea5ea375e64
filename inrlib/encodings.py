"""Input encodings gamma(x) applied to coordinates before the first layer.

Each encoding owns its parameters (`options()`, what rebuilds it) and reports its output size
(`out_features`). Encodings hold no trainable parameters.
"""
import inspect
import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    """NeRF encoding: gamma(x) = [x, sin(2^k pi x), cos(2^k pi x)] for k = 0..L-1.

    Without the raw coordinates (`include_input=False`) gamma, and any network on top of it,
    is periodic with period 2.
    """

    def __init__(self, in_features: int, L: int = 10, include_input: bool = True):
        super().__init__()
        if int(L) != L or L < 1:
            raise ValueError(f"positional encoding needs a whole number of frequencies L >= 1, "
                             f"got {L} (L = 0 is no encoding: use encoding=None)")
        self.in_features, self.L, self.include_input = in_features, int(L), bool(include_input)
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(self.L, dtype=torch.float32))
        self.out_features = in_features * (2 * self.L + int(include_input))

    def options(self) -> dict:
        return {"L": self.L, "include_input": self.include_input}

    def forward(self, x):
        angles = (x[..., None, :] * self.freqs[:, None]).flatten(-2)  # (..., L*d)
        parts = [x] if self.include_input else []
        return torch.cat(parts + [torch.sin(angles), torch.cos(angles)], dim=-1)


class FourierFeatures(nn.Module):
    """Gaussian Fourier features: gamma(x) = [cos(2 pi B x), sin(2 pi B x)], B ~ N(0, sigma^2)."""

    def __init__(self, in_features: int, sigma: float = 10.0, n_features: int = 256, seed: int = 0):
        super().__init__()
        if not sigma > 0 or int(n_features) != n_features or n_features < 1:
            raise ValueError(f"Fourier features need sigma > 0 and a whole n_features >= 1, "
                             f"got sigma={sigma}, n_features={n_features}")
        gen = torch.Generator().manual_seed(int(seed))
        self.register_buffer("B", sigma * torch.randn(int(n_features), in_features, generator=gen))
        self.in_features, self.sigma, self.seed = in_features, float(sigma), int(seed)
        self.out_features = 2 * int(n_features)

    def options(self) -> dict:
        return {"sigma": self.sigma, "n_features": self.out_features // 2, "seed": self.seed}

    def forward(self, x):
        proj = 2 * math.pi * x @ self.B.T
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)


ENCODINGS = {"posenc": PositionalEncoding, "fourier": FourierFeatures}


def encoding_options(name) -> dict:
    """The options an encoding takes, with their defaults."""
    if name not in ENCODINGS:
        raise ValueError(f"unknown encoding {name!r}; choose one of {sorted(ENCODINGS)} or None")
    params = inspect.signature(ENCODINGS[name]).parameters
    return {k: p.default for k, p in params.items() if k != "in_features"}


def make_encoding(name, in_features, **options):
    """Build an encoding by name ('posenc', 'fourier') with its own options; None for None."""
    if name is None:
        if options:
            raise ValueError(f"{sorted(options)} apply to an encoding, but encoding is None")
        return None
    unknown = set(options) - set(encoding_options(name))
    if unknown:
        raise ValueError(f"encoding {name!r} takes {sorted(encoding_options(name))}, "
                         f"not {sorted(unknown)}")
    return ENCODINGS[name](in_features, **options)


def encoding_name(encoding) -> str | None:
    """The ENCODINGS name of an encoding module (None for None)."""
    if encoding is None:
        return None
    for name, cls in ENCODINGS.items():
        if type(encoding) is cls:
            return name
    raise ValueError(f"{type(encoding).__name__} is not one of inrlib's encodings {sorted(ENCODINGS)}")
