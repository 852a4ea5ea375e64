"""3-D shapes with a known surface, as signed distance functions (SDFs), and their sampling.

Conventions (shared by `sdf`, `meshes` and `render`): coordinates live in the box
[-bound, bound]^3 (bound = 1); an SDF is negative inside, positive outside, and its gradient is
the outward unit normal on the surface. The shapes (`sphere`, `torus`, `torus_knot`) carry their
signed distance (exact for the sphere and the torus; for the knot's tube, the distance to a dense
polyline of the knot's curve, exact to ~1e-4) and an exact sampler of their surface: points
uniform by area with their analytic outward normals. `check_cloud` validates an oriented cloud.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Shape:
    """A closed surface: `sdf(points (N, 3)) -> (N,)` signed distances (float64 math),
    `sampler(n, generator) -> (points (n, 3), normals (n, 3))` uniform by area, exact normals."""

    name: str
    sdf: Callable
    sampler: Callable
    area: float  # surface area, in box units^2

    def sample(self, n: int, seed: int = 0):
        """n points uniform by area on the surface and their outward unit normals (float32)."""
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a whole number >= 1, got {n}")
        gen = torch.Generator().manual_seed(int(seed))
        p, nrm = self.sampler(int(n), gen)
        return p.float(), nrm.float()

    def __call__(self, points):
        pts = as_points(points, "points")
        return self.sdf(pts.double()).to(pts.dtype)


def _rejection(propose, accept_prob, n, gen):
    """Draw candidates with `propose(m, gen)` (a tuple of tensors) until n are accepted, each
    with probability `accept_prob(*candidate)` (area-weighted sampling of a parametrisation)."""
    parts, got = [], 0
    while got < n:
        cand = propose(2 * (n - got) + 64, gen)
        keep = torch.rand(cand[0].shape[0], generator=gen, dtype=torch.float64) < accept_prob(*cand)
        parts.append([c[keep] for c in cand])
        got += int(keep.sum())
    return [torch.cat(c)[:n] for c in zip(*parts)]


def sphere(radius=0.6) -> Shape:
    """A sphere of `radius` centred at the origin (exact SDF |x| - r)."""
    def sdf(x):
        return x.norm(dim=-1) - radius

    def sampler(n, gen):
        nrm = torch.randn(n, 3, generator=gen, dtype=torch.float64)
        nrm = nrm / nrm.norm(dim=-1, keepdim=True)
        return radius * nrm, nrm

    return Shape("sphere", sdf, sampler, 4 * math.pi * radius**2)


def torus(major=0.6, minor=0.25) -> Shape:
    """A torus around the x2 axis: tube of radius `minor` around a circle of radius `major`
    (exact SDF sqrt((sqrt(x0^2 + x1^2) - R)^2 + x2^2) - r)."""
    if not 0 < minor < major:
        raise ValueError(f"need 0 < minor < major, got minor={minor}, major={major}")

    def sdf(x):
        q = x[:, :2].norm(dim=-1) - major
        return torch.sqrt(q**2 + x[:, 2] ** 2) - minor

    def propose(m, gen):
        return torch.rand(m, 2, generator=gen, dtype=torch.float64).mul(2 * math.pi).unbind(1)

    def sampler(n, gen):  # area element (R + r cos v) du dv
        u, v = _rejection(propose, lambda u, v: (major + minor * torch.cos(v)) / (major + minor),
                          n, gen)
        nrm = torch.stack([torch.cos(v) * torch.cos(u), torch.cos(v) * torch.sin(u), torch.sin(v)], 1)
        centre = torch.stack([major * torch.cos(u), major * torch.sin(u), torch.zeros_like(u)], 1)
        return centre + minor * nrm, nrm

    return Shape("torus", sdf, sampler, 4 * math.pi**2 * major * minor)


def torus_knot(p=2, q=3, scale=0.27, tube=0.09, segments=3000) -> Shape:
    """A tube of radius `tube` around the (p, q) torus knot
    c(t) = scale ((2 + cos qt) cos pt, (2 + cos qt) sin pt, -sin qt), t in [0, 2 pi)
    (p=2, q=3: the trefoil). Its SDF is the distance to a closed polyline of `segments` points
    on c minus `tube` (the polyline is within ~1e-4 of the curve for the defaults); the sampler
    places points on the exact tube, uniform by area, with exact normals."""
    if math.gcd(int(p), int(q)) != 1:
        raise ValueError(f"p and q must be coprime for a knot, got p={p}, q={q}")

    def curve(t):
        r = 2 + torch.cos(q * t)
        return scale * torch.stack([r * torch.cos(p * t), r * torch.sin(p * t), -torch.sin(q * t)], -1)

    def velocity(t):
        r, dr = 2 + torch.cos(q * t), -q * torch.sin(q * t)
        return scale * torch.stack([dr * torch.cos(p * t) - p * r * torch.sin(p * t),
                                    dr * torch.sin(p * t) + p * r * torch.cos(p * t),
                                    -q * torch.cos(q * t)], -1)

    def frame(t, h=1e-4):
        """Speed |c'|, unit tangent T and curvature vector dT/ds at t."""
        v = velocity(t)
        speed = v.norm(dim=-1, keepdim=True)

        def unit_tangent(s):
            w = velocity(s)
            return w / w.norm(dim=-1, keepdim=True)

        k = (unit_tangent(t + h) - unit_tangent(t - h)) / (2 * h * speed)
        return speed[:, 0], v / speed, k

    poly = curve(torch.linspace(0, 2 * math.pi, segments + 1, dtype=torch.float64)[:-1])
    t_dense = torch.linspace(0, 2 * math.pi, 4000, dtype=torch.float64)
    s_dense, _, k_dense = frame(t_dense)
    w_max = float((s_dense * (1 + tube * k_dense.norm(dim=-1))).max())
    area = float(2 * math.pi * tube * s_dense.mean() * 2 * math.pi)  # Pappus: 2 pi rho * length

    def sdf(x):
        return distance_to_polyline(x, poly, closed=True) - tube

    def propose(m, gen):
        t = torch.rand(m, generator=gen, dtype=torch.float64) * 2 * math.pi
        return t, torch.randn(m, 3, generator=gen, dtype=torch.float64)

    def sampler(n, gen):
        def accept(t, g):
            speed, tan, k = frame(t)
            u = g - (g * tan).sum(-1, keepdim=True) * tan
            u = u / u.norm(dim=-1, keepdim=True)
            return speed * (1 - tube * (k * u).sum(-1)) / w_max  # area element of the tube

        t, g = _rejection(propose, accept, n, gen)
        _, tan, _ = frame(t)
        u = g - (g * tan).sum(-1, keepdim=True) * tan
        u = u / u.norm(dim=-1, keepdim=True)  # uniform direction around the tangent
        return curve(t) + tube * u, u

    return Shape(f"torus knot ({p},{q})", sdf, sampler, area)


def distance_to_polyline(points, vertices, closed=True, k=8) -> torch.Tensor:
    """Euclidean distance (N,) from each point to a fine polyline through `vertices` (M, 3):
    the nearest distance to the segments next to each point's k nearest vertices (a k-d tree),
    which is the exact distance to the polyline whenever its closest point lies on one of them
    (always, for a polyline much finer than its curvature radius and than the distances
    between its strands)."""
    v = torch.as_tensor(vertices, dtype=torch.float64).numpy()
    x = torch.as_tensor(points).double().cpu().numpy()
    m = len(v)
    _, idx = cKDTree(v).query(x, k=min(k, m))
    idx = idx.reshape(len(x), -1)
    best = np.full(len(x), np.inf)
    for shift in (-1, 0):  # the segments (i-1, i) and (i, i+1) around each near vertex
        i0 = idx + shift
        i1 = i0 + 1
        if closed:
            i0, i1 = i0 % m, i1 % m
        else:
            ok = (i0 >= 0) & (i1 < m)
            i0, i1 = np.clip(i0, 0, m - 1), np.clip(i1, 0, m - 1)
        a, b = v[i0], v[i1]
        ab = b - a
        s = np.clip(np.einsum("nkj,nkj->nk", x[:, None] - a, ab)
                    / np.maximum(np.einsum("nkj,nkj->nk", ab, ab), 1e-30), 0, 1)
        d = np.linalg.norm(x[:, None] - a - s[..., None] * ab, axis=-1)
        if not closed:
            d = np.where(ok, d, np.inf)
        best = np.minimum(best, d.min(1))
    return torch.from_numpy(best)


def as_points(points, what="points"):
    if points is None:
        raise ValueError(f"{what} missing: expected an (N, 3) array of 3-D points")
    x = torch.as_tensor(points)
    if x.dim() != 2 or x.shape[1] != 3:
        raise ValueError(f"{what} must be an (N, 3) cloud of 3-D points, got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise ValueError(f"{what} is empty: need at least one 3-D point")
    if not torch.isfinite(x).all():
        raise ValueError(f"{what} contains NaN or infinite coordinates")
    return x


def check_cloud(points, normals):
    """An oriented point cloud as float tensors ((N, 3) points, (N, 3) unit normals), or a
    ValueError that says what is wrong (missing normals, not 3-D, sizes differ, zero normals)."""
    p = as_points(points, "points")
    if normals is None:
        raise ValueError("normals missing: fitting an SDF needs an oriented cloud, one outward "
                         "unit normal (N, 3) per point (Shape.sample returns both)")
    n = as_points(normals, "normals")
    if n.shape[0] != p.shape[0]:
        raise ValueError(f"{p.shape[0]} points but {n.shape[0]} normals")
    length = n.norm(dim=-1)
    if (length < 1e-6).any():
        raise ValueError(f"{int((length < 1e-6).sum())} normals have zero length")
    return p.float(), (n / length[:, None]).float()


