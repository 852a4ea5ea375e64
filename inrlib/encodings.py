"""Input encodings gamma(x) applied to coordinates before the first layer."""
import math

import torch
from torch import nn


class PositionalEncoding(nn.Module):
    """NeRF encoding: gamma(x) = [x, sin(2^k pi x), cos(2^k pi x)] for k = 0..L-1."""

    def __init__(self, in_features: int, L: int, include_input: bool = True):
        super().__init__()
        if int(L) != L or L < 0:
            raise ValueError(f"positional encoding needs a whole number of frequencies L >= 0, got {L}")
        self.in_features, self.L, self.include_input = in_features, int(L), include_input
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(self.L, dtype=torch.float32))
        self.out_features = in_features * (2 * self.L + int(include_input))

    def forward(self, x):
        angles = (x[..., None, :] * self.freqs[:, None]).flatten(-2)  # (..., L*d)
        parts = [x] if self.include_input else []
        return torch.cat(parts + [torch.sin(angles), torch.cos(angles)], dim=-1)


class FourierFeatures(nn.Module):
    """Gaussian Fourier features: gamma(x) = [cos(2 pi B x), sin(2 pi B x)], B ~ N(0, sigma^2)."""

    def __init__(self, in_features: int, sigma: float, n_features: int = 256, seed: int = 0):
        super().__init__()
        if not sigma > 0 or n_features < 1:
            raise ValueError(f"Fourier features need sigma > 0 and n_features >= 1, "
                             f"got sigma={sigma}, n_features={n_features}")
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("B", sigma * torch.randn(n_features, in_features, generator=gen))
        self.in_features, self.sigma, self.out_features = in_features, sigma, 2 * n_features

    def forward(self, x):
        proj = 2 * math.pi * x @ self.B.T
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)


ENCODINGS = {"none": None, "posenc": PositionalEncoding, "fourier": FourierFeatures}


def make_encoding(name, in_features, L=10, sigma=10.0, n_features=256, seed=0, include_input=True):
    """Build an encoding by name ('none', 'posenc', 'fourier'); None means no encoding.

    include_input (posenc only): keep the raw coordinates x in gamma(x). Without them a
    positional encoding, and any network on top of it, is periodic with period 2.
    """
    if name in (None, "none"):
        return None
    if name == "posenc":
        return PositionalEncoding(in_features, L, include_input=include_input)
    if name == "fourier":
        return FourierFeatures(in_features, sigma, n_features, seed)
    raise ValueError(f"unknown encoding {name!r}; choose one of {sorted(ENCODINGS)}")
