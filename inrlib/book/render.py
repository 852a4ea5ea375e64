"""Shaded renders of a field's zero level set (ray marching a grid), and a figure of several."""
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from ..checks import real, whole
from .meshes import gradient_field

def _camera(elev, azim):
    """Orthographic camera: viewing direction d (towards the scene), right and up vectors."""
    e, a = math.radians(elev), math.radians(azim)
    eye = np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
    d = -eye
    right = np.cross(d, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, d)
    return d, right, up


def render(volume, bound=1.0, f=None, size=200, elev=30.0, azim=35.0, step=None,
           light=(0.4, 0.3, 1.0)) -> np.ndarray:
    """A shaded (size, size) grey image in [0, 1] of the zero level set of a grid field
    (`evaluate_grid`), orthographic view from elevation/azimuth in degrees; background 1.

    Each pixel's ray marches the trilinearly interpolated grid in steps of half a voxel up to
    the first sign change from + to -, and takes the crossing by linear interpolation. The
    shading normal there is grad f of the network `f` when given (autograd: the field's own
    detail, finer than the grid), else the grid's gradient. Lambert shading, headlight fill.
    Works for any field, distance function or not (no sphere-tracing steps of size f).
    """
    vol = torch.as_tensor(np.asarray(volume, dtype=np.float32))
    if vol.dim() != 3 or min(vol.shape) < 2:
        raise ValueError(f"render needs a 3-D grid of values, got shape {tuple(vol.shape)}")
    if len(set(vol.shape)) != 1:
        raise ValueError(f"render needs a cubic grid (n, n, n) as from evaluate_grid, got "
                         f"{tuple(vol.shape)}")
    if not torch.isfinite(vol).all():
        raise ValueError("render: the grid holds NaN or infinite values")
    bound, size = real("bound", bound, low=0.0), whole("size", size, low=2)
    elev, azim = real("elev", elev), real("azim", azim)
    if abs(elev) >= 90:
        raise ValueError(f"elev must be strictly between -90 and 90 degrees, got {elev}")
    if step is not None:
        step = real("step", step, low=0.0)
    if len(light) != 3 or not any(float(v) for v in light):
        raise ValueError(f"light must be a non-zero (right, up, towards-viewer) triple, got {light!r}")
    n = vol.shape[0]
    step = step or bound / (n - 1)
    d, right, up = (torch.tensor(v, dtype=torch.float32) for v in _camera(elev, azim))
    half = bound * math.sqrt(3)
    s = torch.linspace(-half, half, size)
    origin = (-half * d + s[None, :, None] * right - s[:, None, None] * up).reshape(-1, 3)
    ts = torch.arange(0, 2 * half + step, step)
    field = vol[None, None]  # grid_sample reads (D, H, W) = axes (0, 1, 2) at grid (x, y, z) = (p2, p1, p0)

    def sample(points):
        g = (points / bound).flip(-1).reshape(1, 1, 1, -1, 3)
        v = F.grid_sample(field, g, align_corners=True, padding_mode="border").reshape(points.shape[:-1])
        outside = (points.abs() > bound).any(-1)
        return torch.where(outside, torch.ones_like(v), v)

    hit_t = torch.full((origin.shape[0],), float("nan"))
    for i in range(0, len(ts), 32):  # blocks of steps: bounded memory
        t = ts[i:i + 33]
        vals = sample(origin[:, None, :] + t[None, :, None] * d)
        cross = (vals[:, :-1] > 0) & (vals[:, 1:] <= 0)
        first = torch.where(cross.any(1), cross.float().argmax(1), torch.full_like(hit_t, -1).long())
        todo = torch.isnan(hit_t) & (first >= 0)
        j = first[todo]
        v0, v1 = vals[todo, j], vals[todo, j + 1]
        frac = v0 / (v0 - v1).clamp_min(1e-12)
        hit_t[todo] = t[j] + frac * step
        if not torch.isnan(hit_t).any():
            break
    img = torch.ones(origin.shape[0])
    hit = ~torch.isnan(hit_t)
    if hit.any():
        p = origin[hit] + hit_t[hit, None] * d
        if f is not None:
            nrm = torch.as_tensor(gradient_field(f, p))
        else:
            h = step
            nrm = torch.stack([sample(p + h * e) - sample(p - h * e) for e in torch.eye(3)], -1)
        nrm = nrm / nrm.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        lvec = torch.tensor(light, dtype=torch.float32)
        lvec = (lvec[0] * right + lvec[1] * up - lvec[2] * d)
        lvec = lvec / lvec.norm()
        key = (nrm @ lvec).clamp_min(0)
        fill = (nrm @ -d).clamp_min(0)
        img[hit] = (0.12 + 0.63 * key + 0.25 * fill).clamp(0, 1)
    return img.reshape(size, size).numpy()


def plot_renders(images: dict, ncols=None, size=2.6, suptitle=None):
    """Renders side by side, one titled panel each (titles are the dict's keys)."""
    ncols = ncols or len(images)
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, img) in zip(axes.flat, images.items()):
        ax.imshow(img, cmap="bone", vmin=0, vmax=1.05, interpolation="bilinear")
        ax.set_title(title, fontsize=9)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig
