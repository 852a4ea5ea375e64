"""Image-fitting helpers for the image chapter: held-out pixels, resolution-aligned query grids,
a model's derivative maps, and the live controls' checks (a configuration; a run's length)."""
import numpy as np
import torch

from ..diffops import derivatives
from ..models import siren
from ..training import fit

LIMIT_S = 60  # a live run estimated longer than this on the device at hand is refused


def every_other_pixel(shape) -> torch.Tensor:
    """Checkerboard mask over a grid of `shape` (flat, grid order): True where (i + j) is even.

    Train on `coords[mask]` and measure generalisation on `coords[~mask]`: each held-out pixel
    has its four neighbours in the training set.
    """
    if len(shape) != 2 or min(shape) < 2:
        raise ValueError(f"every_other_pixel needs a 2-d shape with sides >= 2, got {shape}")
    i, j = np.indices(shape)
    return torch.from_numpy(((i + j) % 2 == 0).reshape(-1))


def pixel_centres(shape, train_shape, coord_range=(-1.0, 1.0)) -> torch.Tensor:
    """Coordinates (N, 2) of the pixel centres of a `shape` picture of the same scene, in the
    coordinate system of a model fitted on `grid(train_shape, coord_range)`.

    `grid` puts train pixel 0 at `lo` and pixel n-1 at `hi`; a pixel covers 1/n of the scene, so
    a finer picture's pixel centres fall between (and, at the border, slightly outside) those.
    Query a fitted model here to compare it with an image resized by scikit-image (which uses
    the same pixel-area convention) at the higher resolution.
    """
    if len(shape) != 2 or len(train_shape) != 2:
        raise ValueError(f"pixel_centres needs 2-d shapes, got {shape} and {train_shape}")
    lo, hi = coord_range
    axes = []
    for n, m in zip(shape, train_shape):
        if n < 1 or m < 2:
            raise ValueError(f"sizes must be >= 1 (query) and >= 2 (train), got {n} and {m}")
        u = (torch.arange(n, dtype=torch.float32) + 0.5) / n  # scene position in [0, 1]
        idx = u * m - 0.5  # fractional train-pixel index
        axes.append(lo + (hi - lo) * idx / (m - 1))
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 2)


def derivative_maps(model, coords, shape, chunk=16384):
    """(|grad|, Laplacian) of a scalar-output model at `coords`, as two (H, W) numpy arrays in
    coordinate units (compare with image_gradient / image_laplacian given the grid's spacing)."""
    _, g, lap = derivatives(model, coords, chunk)
    return (g.norm(dim=-1).cpu().reshape(shape).numpy(), lap[:, 0].cpu().reshape(shape).numpy())


def check_config(model="SIREN", first_omega=30.0, hidden_omega=30.0, L=6, depth=3, width=64,
                 steps=200, image_size=64, max_cost=None, device="cpu"):
    """A problem with a live training configuration, as a sentence, or None when it is fine.

    Options a model does not use are not problems: ReLU networks ignore both ω0, and only
    ReLU + PE uses L (the live controls grey out the ones not used).

    `max_cost` bounds width^2 * depth * pixels * steps (a proxy for the run's time). By default
    it is about a minute of work on `device`: 5e10 on a laptop CPU, 100 times more on a GPU.
    """
    if model not in ("SIREN", "ReLU + PE", "ReLU"):
        return f"unknown model {model!r}: choose SIREN, ReLU + PE or ReLU"
    if not (1 <= depth <= 8) or int(depth) != depth:
        return f"depth must be a whole number from 1 to 8, got {depth}"
    if not (4 <= width <= 1024) or int(width) != width:
        return f"width must be a whole number from 4 to 1024, got {width}"
    if not (0 <= L <= 16) or int(L) != L:
        return f"L must be a whole number from 0 to 16, got {L}"
    if model == "SIREN" and not (first_omega > 0 and hidden_omega > 0):
        return f"SIREN needs positive omegas, got first {first_omega}, hidden {hidden_omega}"
    if model == "SIREN" and hidden_omega * max(depth - 1, 0) > 2000:
        return (f"hidden ω0 = {hidden_omega:g} over {depth} layers makes the sines too fast to "
                "train; lower hidden ω0 (30 is the paper's) or depth")
    if model == "ReLU + PE" and L == 0:
        return "ReLU + PE with L = 0 is the plain ReLU network: pick ReLU, or L >= 1"
    if max_cost is None:
        max_cost = 5e12 if str(device).startswith("cuda") else 5e10
    cost = width * width * depth * image_size * image_size * steps
    if cost > max_cost:
        return (f"width {width}, depth {depth}, {steps} steps on {image_size}² pixels is too slow "
                f"here ({cost:.1e} > {max_cost:.0e}): reduce width, depth or steps")
    return None


_rates = {}


def training_rate(device) -> float:
    """Multiply-adds a second of a SIREN's training steps on `device`, measured once (a few
    steps of width 256 on 8192 points), counted as `too_long` counts them."""
    key = str(device)
    if key not in _rates:
        n, width = 8192, 256
        model = siren(in_features=1, width=width, depth=2, seed=0).to(device)
        coords = torch.linspace(-1, 1, n, device=device)[:, None]
        hist = fit(model, coords, torch.sin(5 * coords), steps=6, lr=1e-4, progress=False)
        _rates[key] = 3 * n * width**2 / max(hist.seconds_per_step, 1e-9)
    return _rates[key]


def too_long(work: float, device, limit_s: float = LIMIT_S):
    """A refusal when `work` multiply-adds (3 N width² hidden-layers steps: forward and
    backward) would take more than `limit_s` seconds on `device`, or None. Calibrated by
    timing a few training steps there, so it refuses on a laptop what a GPU runs at once."""
    seconds = work / training_rate(device)
    if seconds <= limit_s:
        return None
    return (f"about {seconds:.0f} s on this {torch.device(device).type.upper()} ({work:.1e} "
            f"multiply-adds), over a live run's {limit_s:g} s: lower the depth, width or steps")
