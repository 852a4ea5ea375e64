"""Input encodings gamma(x) applied to coordinates before the first layer.

Each encoding owns its parameters (`options()`, what rebuilds it) and reports its output size
(`out_features`). Only the hash grid holds trainable parameters (its feature table); it also
accepts a stack of K tables, which is how `fit_many` trains K of them at once.
"""
import inspect
import math
import numbers
import os

import torch
from torch import nn

from .checks import flag, real


def _count(owner: str, name: str, v, low: int) -> int:
    """A whole number >= low: a str or bool is a TypeError, 2.5 or 0 a ValueError (8.0 too:
    nothing is rounded)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a whole number >= {low}, got {v!r} "
                        f"({type(v).__name__})")
    if not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"{owner}: {name} must be a whole number >= {low}, got {v!r}")
    return int(v)


class PositionalEncoding(nn.Module):
    """NeRF encoding: gamma(x) = [x, sin(2^k pi x), cos(2^k pi x)] for k = 0..L-1.

    Without the raw coordinates (`include_input=False`) gamma, and any network on top of it,
    is periodic with period 2.
    """

    def __init__(self, in_features: int, L: int = 10, include_input: bool = True):
        super().__init__()
        in_features = _count("positional encoding", "in_features", in_features, 1)
        if isinstance(L, bool) or not isinstance(L, numbers.Integral) or L < 1:
            err = TypeError if isinstance(L, bool) or not isinstance(L, numbers.Real) else ValueError
            raise err(f"positional encoding needs a whole number of frequencies L >= 1, "
                      f"got {L!r} (L = 0 is no encoding: use encoding=None)")
        include_input = flag("include_input", include_input)
        self.in_features, self.L, self.include_input = in_features, int(L), include_input
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
        in_features = _count("Fourier features", "in_features", in_features, 1)
        sigma = real("Fourier features: sigma", sigma, low=0.0)
        n_features = _count("Fourier features", "n_features", n_features, 1)
        seed = _count("Fourier features", "seed", seed, 0)
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("B", sigma * torch.randn(int(n_features), in_features, generator=gen))
        self.in_features, self.sigma, self.seed = in_features, float(sigma), int(seed)
        self.out_features = 2 * int(n_features)

    def options(self) -> dict:
        return {"sigma": self.sigma, "n_features": self.out_features // 2, "seed": self.seed}

    def forward(self, x):
        proj = 2 * math.pi * x @ self.B.T
        return torch.cat([torch.cos(proj), torch.sin(proj)], dim=-1)


# The spatial hash's primes (Mueller et al. 2022, Sec. 3): pi_1 = 1 keeps neighbouring cells
# along the first axis in neighbouring (cache-friendly) slots.
HASH_PRIMES = (1, 2654435761, 805459861)


def spatial_hash(cells: torch.Tensor, table_size: int) -> torch.Tensor:
    """h(x) = (x_1 pi_1 XOR x_2 pi_2 XOR x_3 pi_3) mod T for integer cells (..., d), d <= 3.

    Computed in int64, exact for cells below 2^31 (a product then stays below 2^63); for a
    power-of-two T it equals the uint32 arithmetic of the authors' CUDA code, whose wrap-around
    only drops bits above those that T keeps.
    """
    if not torch.is_tensor(cells) or cells.is_floating_point() or cells.is_complex() \
            or cells.dtype == torch.bool:
        raise TypeError(f"spatial_hash takes integer cells (a long tensor), got "
                        f"{cells.dtype if torch.is_tensor(cells) else type(cells).__name__}: "
                        "floor the coordinates first (a float would be truncated)")
    table_size = _count("spatial_hash", "table_size", table_size, 1)
    d = cells.shape[-1]
    if not 1 <= d <= len(HASH_PRIMES):
        raise ValueError(f"the spatial hash has primes for 1 to {len(HASH_PRIMES)} dimensions, got {d}")
    h = cells[..., 0].long() * HASH_PRIMES[0]
    for k in range(1, d):
        h = torch.bitwise_xor(h, cells[..., k].long() * HASH_PRIMES[k])
    return torch.remainder(h, int(table_size))


def _whole(name, v, low):
    return _count("hash grid", name, v, low)


# Cells are hashed in int64, exact while a cell index times a prime stays below 2^63.
MAX_HASH_RES = 2**31 - 1


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


class HashGrid(nn.Module):
    """Multiresolution hash encoding (Mueller et al. 2022, Instant-NGP), in plain PyTorch.

    `levels` grids with resolutions N_l = floor(min_res * b^l), b = exp((ln max_res - ln min_res)
    / (levels - 1)), from coarse to fine. Each level owns a table of trainable feature vectors
    (`features` numbers each) at its grid's vertices: a dense 1:1 table when the level has at
    most `table_size` vertices ((N_l + 1)^d), else `table_size` slots addressed by the paper's
    spatial hash (collisions are left to training to sort out). A point's encoding is, per
    level, the d-linear interpolation of the 2^d vertex features of its cell; the levels are
    concatenated: out_features = levels * features. The table is one nn.Parameter, `table`
    (sum of the levels' sizes, features), initialised U(+-1e-4) as in the paper.

    Coordinates are expected in [-1, 1] (the book's grids) and mapped to [0, 1]; points outside
    are clamped to the border. Derivatives: the encoding is continuous and piecewise d-linear,
    so its gradient jumps at cell borders and its Laplacian is zero inside every cell.
    The paper's defaults are 16 levels, T = 2^14 to 2^24, F = 2, N_min = 16, N_max = 512 to
    524288 (and a small ReLU MLP, lr 1e-2); the defaults here are smaller, for small images.
    """

    def __init__(self, in_features: int, levels: int = 8, table_size: int = 2**12,
                 features: int = 2, min_res: int = 4, max_res: int = 64):
        super().__init__()
        if isinstance(in_features, bool) or not isinstance(in_features, numbers.Integral) \
                or not 1 <= in_features <= len(HASH_PRIMES):
            raise ValueError(f"hash grid: works in 1 to {len(HASH_PRIMES)} dimensions, "
                             f"got in_features={in_features}")
        self.in_features = in_features
        self.levels = _whole("levels", levels, 1)
        self.table_size = _whole("table_size", table_size, 2)
        self.features = _whole("features", features, 1)
        self.min_res = _whole("min_res", min_res, 1)
        self.max_res = _whole("max_res", max_res, 1)
        if self.max_res < self.min_res:
            raise ValueError(f"hash grid: max_res ({max_res}) must be >= min_res ({min_res})")
        if self.max_res > MAX_HASH_RES:
            raise ValueError(f"hash grid: max_res must be <= 2^31 - 1 (the hash is exact in int64 "
                             f"below that), got {max_res}")
        growth = (math.exp((math.log(self.max_res) - math.log(self.min_res)) / (self.levels - 1))
                  if self.levels > 1 else 1.0)
        # a tiny epsilon so that floor(16 * 2^k) stays 16 * 2^k despite rounding
        self.resolutions = [int(math.floor(self.min_res * growth**l + 1e-9)) for l in range(self.levels)]
        sizes = [min(self.table_size, (n + 1) ** in_features) for n in self.resolutions]
        self.hashed = [(n + 1) ** in_features > self.table_size for n in self.resolutions]
        self.sizes = sizes
        nbytes, ram = 4 * sum(sizes) * self.features, _memory_bytes()
        if ram is not None and nbytes > ram:  # refuse before the allocation is tried
            raise ValueError(f"hash grid: {self.levels} levels of up to {self.table_size:,} rows of "
                             f"{self.features} features need {nbytes / 2**30:,.1f} GiB, more than "
                             f"this machine's {ram / 2**30:,.1f} GiB of memory: lower table_size "
                             "(the paper uses 2^14 to 2^24), levels or features")
        self.register_buffer("offsets", torch.tensor([0] + sizes[:-1]).cumsum(0), persistent=False)
        self.table = nn.Parameter(torch.empty(sum(sizes), self.features).uniform_(-1e-4, 1e-4))
        self.out_features = self.levels * self.features
        corners = torch.tensor([[(c >> k) & 1 for k in range(in_features)]
                                for c in range(2**in_features)])
        self.register_buffer("corners", corners, persistent=False)  # (2^d, d) of 0/1
        self.register_buffer("res", torch.tensor(self.resolutions), persistent=False)
        self.register_buffer("is_hashed", torch.tensor(self.hashed), persistent=False)
        strides = [[(n + 1) ** (in_features - 1 - k) for k in range(in_features)]
                   for n in self.resolutions]
        self.register_buffer("strides", torch.tensor(strides), persistent=False)  # (L, d)
        self._cache = None

    def options(self) -> dict:
        return {"levels": self.levels, "table_size": self.table_size, "features": self.features,
                "min_res": self.min_res, "max_res": self.max_res}

    def lookup(self, x: torch.Tensor) -> tuple:
        """Per level and corner: the table row (..., levels, 2^d) and the d-linear weight.
        A full-batch fit calls this with the same (gradient-free) coordinates at every step,
        so the last answer is kept and reused for the same tensor."""
        cached = self._cache
        if cached is not None and cached[0] is x and not x.requires_grad:
            return cached[1], cached[2]
        u = ((x + 1) / 2).clamp(0, 1)  # (..., d) in [0, 1]
        pos = u[..., None, :] * self.res[:, None].to(u.dtype)  # (..., L, d)
        cell = pos.floor().clamp(max=self.res[:, None] - 1)  # lower corner; u = 1 -> last cell
        frac = pos - cell  # in [0, 1]; its gradient is the encoding's
        vert = cell.long()[..., None, :] + self.corners  # (..., L, 2^d, d)
        w = torch.where(self.corners.bool(), frac[..., None, :], 1 - frac[..., None, :]).prod(-1)
        dense = (vert * self.strides[:, None, :]).sum(-1)  # row-major over (N_l + 1)^d vertices
        rows = torch.where(self.is_hashed[:, None], spatial_hash(vert, self.table_size), dense)
        rows = rows + self.offsets[:, None]
        self._cache = None if x.requires_grad else (x, rows, w)
        return rows, w  # (..., L, 2^d) each

    def forward(self, x, table=None):
        """(N, d) -> (N, levels * features); with a stack of K tables (K, rows, features), or
        with K tables and (K, N, d) coordinates, -> (K, N, levels * features)."""
        table = self.table if table is None else table
        rows, w = self.lookup(x)
        if table.dim() == 2:
            f = table[rows]  # (..., L, 2^d, F)
        elif rows.dim() == 3:  # K tables, shared coordinates
            f = table[:, rows]
        else:  # K tables, coordinates (K, N, d)
            f = table[torch.arange(table.shape[0], device=table.device)[:, None, None, None], rows]
        out = (f * w[..., None]).sum(-2)  # (..., L, F)
        return out.flatten(-2)


ENCODINGS = {"posenc": PositionalEncoding, "fourier": FourierFeatures, "hash": HashGrid}


def encoding_options(name: str) -> dict:
    """The options an encoding takes, with their defaults."""
    if not isinstance(name, str) or name not in ENCODINGS:
        raise ValueError(f"unknown encoding {name!r}; choose one of {sorted(ENCODINGS)} or None")
    params = inspect.signature(ENCODINGS[name]).parameters
    return {k: p.default for k, p in params.items() if k != "in_features"}


def make_encoding(name: str | None, in_features: int, **options) -> nn.Module | None:
    """Build an encoding by name ('posenc', 'fourier', 'hash') with its own options; None for None."""
    if name is None:
        if options:
            raise ValueError(f"{sorted(options)} apply to an encoding, but encoding is None")
        return None
    unknown = set(options) - set(encoding_options(name))
    if unknown:
        raise ValueError(f"encoding {name!r} takes {sorted(encoding_options(name))}, "
                         f"not {sorted(unknown)}")
    return ENCODINGS[name](in_features, **options)

