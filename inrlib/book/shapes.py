"""3-D shapes as signed distance functions (SDFs): procedural shapes with a known surface,
oriented point clouds, the SDF loss, mesh extraction, surface metrics and shaded renders.

Conventions: coordinates live in the box [-bound, bound]^3 (bound = 1); an SDF is negative
inside, positive outside, and its gradient is the outward unit normal on the surface.

- Shapes (`sphere`, `torus`, `torus_knot`) carry their signed distance (exact for the sphere
  and the torus; for the knot's tube, the distance to a dense polyline of the knot's curve,
  exact to ~1e-4) and an exact sampler of their surface: points uniform by area with their
  analytic outward normals.
- `sdf_loss` is the SIREN paper's loss for fitting an SDF to an oriented point cloud, with
  weights stated (`WEIGHTS`, chosen by the measurement the shapes chapter shows) and a fresh
  batch of off-surface points drawn inside the loss at every step.
- `evaluate_grid` + `extract_mesh` run scikit-image's marching cubes over a grid evaluated in
  chunks with `predict`; `surface_metrics` measures a mesh against a shape's surface (Chamfer
  distance, normal consistency); `render` shades the zero level set by ray marching.
"""
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..diffops import gradient
from ..grids import grid
from ..training import predict

# The SDF loss's weights, per term (see sdf_loss). Starting point: the SIREN paper's values
# (3e3, 1e2, 5e1, 1e2 with alpha = 100). Scaling each by 0.1 and by 10 in turn (SIRENs on the
# trefoil knot, width 32-64, 150-400 steps, three budgets) only the normal term's x10 was never
# worse: Chamfer 0.0086 vs 0.0090, 0.0105 vs 0.0099 and 0.0141 vs 0.0360; every other change
# was worse at the longer budgets. So the normal weight is 1e3; the shapes chapter repeats the
# measurement around these values and trains with the best variant it finds.
WEIGHTS = {"surface": 3e3, "normal": 1e3, "eikonal": 5e1, "off": 1e2}
ALPHA = 100.0  # off-surface penalty exp(-alpha |f|): |f| below ~1/alpha is penalised
TERMS = tuple(WEIGHTS)


# ---------------------------------------------------------------------------------------------
# Shapes

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
        pts = _as_points(points, "points")
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
    from scipy.spatial import cKDTree

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


# ---------------------------------------------------------------------------------------------
# Input checks

def _as_points(points, what="points"):
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
    p = _as_points(points, "points")
    if normals is None:
        raise ValueError("normals missing: fitting an SDF needs an oriented cloud, one outward "
                         "unit normal (N, 3) per point (Shape.sample returns both)")
    n = _as_points(normals, "normals")
    if n.shape[0] != p.shape[0]:
        raise ValueError(f"{p.shape[0]} points but {n.shape[0]} normals")
    length = n.norm(dim=-1)
    if (length < 1e-6).any():
        raise ValueError(f"{int((length < 1e-6).sum())} normals have zero length")
    return p.float(), (n / length[:, None]).float()


# ---------------------------------------------------------------------------------------------
# The SDF loss

def _weights(weights):
    """Each term's weight as a float tensor, () or (K,) (one per model of fit_many)."""
    unknown = set(weights) - set(TERMS)
    if unknown:
        raise ValueError(f"unknown SDF loss terms {sorted(unknown)}; the terms are {list(TERMS)}")
    w = {t: torch.as_tensor(weights.get(t, 0.0), dtype=torch.float32) for t in TERMS}
    sizes = {v.numel() for v in w.values() if v.dim() > 0}
    if any(v.dim() > 1 for v in w.values()) or len(sizes) > 1:
        raise ValueError("SDF loss weights must be numbers or equally long lists (one per model)")
    if any(not torch.isfinite(v).all() or (v < 0).any() for v in w.values()):
        raise ValueError(f"SDF loss weights must be finite and >= 0, got {weights}")
    return w


def sdf_terms(f, surface, normals, off_surface):
    """The four unweighted terms of the SDF loss for a field `f` (a network or any function
    of (..., N, 3) points returning (..., N, 1) or (..., N)), each a tensor over the leading
    (model) axes:

    - surface: mean |f| over the on-surface points (f = 0 on the surface);
    - normal: mean 1 - cos(grad f, n) over the on-surface points (grad f along the normal);
    - eikonal: mean | |grad f| - 1 | over all points (a distance function has |grad f| = 1);
    - off: mean exp(-alpha |f|) over the off-surface points (no spurious zero level set),
      returned before the exponential as |f| so that `sdf_loss` applies its alpha.
    """
    m = surface.shape[-2]
    x = torch.cat([surface, off_surface], dim=-2).detach().clone().requires_grad_(True)
    y = f(x)
    y = y if y.dim() == x.dim() else y.unsqueeze(-1)
    g = gradient(y, x)
    g_norm = g.norm(dim=-1)
    f_on, f_off = y[..., :m, 0], y[..., m:, 0]
    cos = (g[..., :m, :] * normals).sum(-1) / g_norm[..., :m].clamp_min(1e-12)
    return {"surface": f_on.abs().mean(-1), "normal": (1 - cos).mean(-1),
            "eikonal": (g_norm - 1).abs().mean(-1), "off_abs": f_off.abs()}


def sdf_loss(weights=None, alpha=ALPHA, n_off=None, bound=1.0, seed=0):
    """A loss for `inr.fit` / `inr.fit_many` on an oriented cloud: coords = surface points
    (N, 3), target = their outward normals (N, 3); with `batch_size` each step sees a fresh
    minibatch of them. Each step also draws `n_off` (default: as many as the batch) points
    uniform in [-bound, bound]^3 (seeded by `seed`, so a fit is reproducible), and returns

        w_surface mean|f| + w_normal mean(1 - cos(grad f, n)) + w_eikonal mean| |grad f| - 1 |
        + w_off mean exp(-alpha |f_off|)

    per model. `weights` maps term names to numbers (missing terms weigh 0), or to one number
    per model for fit_many; None uses `WEIGHTS`. The eikonal term covers the surface and the
    off-surface points. `loss.last` holds the last step's unweighted terms (detached).
    """
    w = _weights(WEIGHTS if weights is None else weights)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    gen = torch.Generator().manual_seed(int(seed))

    def loss(net, coords, target):
        if target is None or target.shape[-1] != 3 or target.shape[-2] != coords.shape[-2]:
            raise ValueError("the SDF loss needs an oriented cloud: coords (N, 3) surface points "
                             "and target (N, 3) their normals, got "
                             f"{None if target is None else tuple(target.shape)} for coords "
                             f"{tuple(coords.shape)}")
        n = n_off or coords.shape[-2]
        off = ((torch.rand(n, 3, generator=gen) * 2 - 1) * bound).to(coords.device)
        off = off.expand(*coords.shape[:-2], n, 3)
        t = sdf_terms(net, coords, target, off)
        t["off"] = torch.exp(-alpha * t.pop("off_abs")).mean(-1)
        loss.last = {k: v.detach() for k, v in t.items()}
        return sum(w[k].to(coords.device) * t[k] for k in TERMS)

    loss.own_coords = True  # differentiates the network: fit_many gives each model its copy
    loss.weights, loss.alpha, loss.last = w, alpha, None
    return loss


# ---------------------------------------------------------------------------------------------
# Grids, marching cubes

def evaluate_grid(f, n, bound=1.0, chunk=32768) -> np.ndarray:
    """f on an n x n x n grid spanning [-bound, bound]^3 ('ij' order: axis k is coordinate k),
    evaluated `chunk` points at a time (`predict` for a network), as a float32 array."""
    if int(n) != n or n < 2:
        raise ValueError(f"a grid needs n >= 2 samples a side, got {n}")
    coords = grid((int(n),) * 3, (-bound, bound))
    if isinstance(f, torch.nn.Module):
        values = predict(f, coords, chunk=chunk).cpu()
    else:
        with torch.no_grad():
            values = torch.cat([torch.as_tensor(f(coords[i:i + chunk])).reshape(-1).cpu()
                                for i in range(0, coords.shape[0], chunk)])
    return values.reshape((int(n),) * 3).float().numpy()


@dataclass
class Mesh:
    """A triangle mesh: vertices (V, 3) float, faces (F, 3) int, in box coordinates."""

    vertices: np.ndarray
    faces: np.ndarray

    def face_normals(self):
        """Unit normals (F, 3) by the faces' orientation, and the faces' areas (F,)."""
        v = self.vertices[self.faces]
        c = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
        a = np.linalg.norm(c, axis=1)
        return c / np.maximum(a, 1e-30)[:, None], a / 2

    @property
    def area(self) -> float:
        return float(self.face_normals()[1].sum())

    def sample(self, n, seed=0):
        """n points uniform by area on the mesh, with their faces' unit normals."""
        nrm, area = self.face_normals()
        rng = np.random.default_rng(seed)
        f = rng.choice(len(area), size=n, p=area / area.sum())
        r1, r2 = rng.random(n), rng.random(n)
        s = np.sqrt(r1)
        v = self.vertices[self.faces[f]]
        pts = (1 - s)[:, None] * v[:, 0] + (s * (1 - r2))[:, None] * v[:, 1] + (s * r2)[:, None] * v[:, 2]
        return pts, nrm[f]


def extract_mesh(volume, bound=1.0, level=0.0) -> Mesh:
    """The `level` set of a field sampled on a cubic grid over [-bound, bound]^3 (as from
    `evaluate_grid`), by scikit-image's marching cubes; faces are oriented so that their normals
    point towards increasing values (outwards for an SDF)."""
    from skimage import measure

    vol = np.asarray(volume, dtype=np.float32)
    if vol.ndim != 3:
        raise ValueError(f"marching cubes needs a 3-D grid of values, got shape {vol.shape}")
    if vol.size == 0 or min(vol.shape) < 2:
        raise ValueError(f"the grid is empty or flat (shape {vol.shape}): need >= 2 samples a side")
    if not np.isfinite(vol).all():
        raise ValueError("the grid holds NaN or infinite values")
    if not vol.min() < level < vol.max():
        raise ValueError(f"no surface: the field never crosses {level} on this grid (its values "
                         f"span [{vol.min():.3g}, {vol.max():.3g}])")
    spacing = tuple(2 * bound / (s - 1) for s in vol.shape)
    verts, faces, _, _ = measure.marching_cubes(vol, level, spacing=spacing,
                                                gradient_direction="ascent")
    mesh = Mesh(verts - bound, faces.astype(np.int64))
    # orient by the field's gradient (robust to the library's winding convention)
    nrm, _ = mesh.face_normals()
    centres = mesh.vertices[mesh.faces].mean(1)
    g = _grid_gradient(vol, bound, centres)
    if (np.einsum("ij,ij->i", nrm, g) < 0).mean() > 0.5:
        mesh.faces = mesh.faces[:, ::-1].copy()
    return mesh


def _grid_gradient(vol, bound, points):
    """Central-difference gradient of a grid field, at the grid samples nearest to points."""
    n = np.array(vol.shape)
    h = 2 * bound / (n - 1)
    idx = np.clip(np.rint((points + bound) / h).astype(int), 1, n - 2)
    g = np.empty_like(points)
    for k in range(3):
        up, dn = idx.copy(), idx.copy()
        up[:, k] += 1
        dn[:, k] -= 1
        g[:, k] = (vol[tuple(up.T)] - vol[tuple(dn.T)]) / (2 * h[k])
    return g


# ---------------------------------------------------------------------------------------------
# Metrics

def chamfer_distance(a, b) -> float:
    """Symmetric Chamfer distance between two point sets: the mean, over both directions, of
    the distance from each point to the nearest point of the other set (box units; 0 when the
    sets coincide, |r1 - r2| for two dense concentric spheres)."""
    from scipy.spatial import cKDTree

    a = _as_points(a, "first point set").double().numpy()
    b = _as_points(b, "second point set").double().numpy()
    return 0.5 * float(cKDTree(b).query(a)[0].mean() + cKDTree(a).query(b)[0].mean())


def normal_consistency(points_a, normals_a, points_b, normals_b) -> float:
    """Mean |cos| between each point's normal and its nearest neighbour's normal in the other
    set, averaged over both directions (1: the surfaces' orientations agree everywhere)."""
    from scipy.spatial import cKDTree

    pa, na = (t.double().numpy() for t in check_cloud(points_a, normals_a))
    pb, nb = (t.double().numpy() for t in check_cloud(points_b, normals_b))
    ab = np.abs(np.einsum("ij,ij->i", na, nb[cKDTree(pb).query(pa)[1]])).mean()
    ba = np.abs(np.einsum("ij,ij->i", nb, na[cKDTree(pa).query(pb)[1]])).mean()
    return float(0.5 * (ab + ba))


def surface_metrics(mesh: Mesh, shape: Shape, n=30000, seed=0) -> dict:
    """Chamfer distance and normal consistency of a mesh against a shape's exact surface,
    each side sampled uniformly by area with `n` points."""
    pm, nm = mesh.sample(n, seed=seed)
    ps, ns = shape.sample(n, seed=seed + 1)
    return {"chamfer": chamfer_distance(pm, ps),
            "normal_consistency": normal_consistency(pm, nm, ps, ns)}


def gradient_norms(f, points, chunk=16384) -> np.ndarray:
    """|grad f| at `points` (N, 3) (autograd, in chunks): 1 for a distance function."""
    pts = _as_points(points)
    dev = next(f.parameters()).device if isinstance(f, torch.nn.Module) else pts.device
    out = []
    for i in range(0, pts.shape[0], chunk):
        x = pts[i:i + chunk].float().to(dev).requires_grad_(True)
        out.append(gradient(f(x), x).norm(dim=-1).detach().cpu())
    return torch.cat(out).numpy()


def slice_field(f, axis=2, value=0.0, n=160, bound=1.0) -> np.ndarray:
    """f on the plane x_axis = value, an (n, n) array over the other two coordinates (in
    increasing order: e.g. axis 2 gives rows x0, columns x1)."""
    plane = grid((n, n), (-bound, bound))
    coords = torch.zeros(n * n, 3)
    others = [k for k in range(3) if k != axis]
    coords[:, others[0]], coords[:, others[1]] = plane[:, 0], plane[:, 1]
    coords[:, axis] = value
    if isinstance(f, torch.nn.Module):
        v = predict(f, coords).cpu()
    else:
        with torch.no_grad():
            v = torch.as_tensor(f(coords))
    return v.reshape(n, n).float().numpy()


# ---------------------------------------------------------------------------------------------
# Renders

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
    import torch.nn.functional as F

    vol = torch.as_tensor(np.asarray(volume, dtype=np.float32))
    if vol.dim() != 3 or min(vol.shape) < 2:
        raise ValueError(f"render needs a 3-D grid of values, got shape {tuple(vol.shape)}")
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
            nrm = torch.as_tensor(gradient_direction(f, p))
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


def gradient_direction(f, points, chunk=16384) -> np.ndarray:
    """grad f at points (N, 3), as an array (autograd through a network or a torch function)."""
    pts = torch.as_tensor(points).float()
    dev = next(f.parameters()).device if isinstance(f, torch.nn.Module) else pts.device
    out = []
    for i in range(0, pts.shape[0], chunk):
        x = pts[i:i + chunk].to(dev).requires_grad_(True)
        y = f(x)
        out.append(gradient(y if y.dim() == 2 else y[:, None], x).detach().cpu())
    return torch.cat(out).numpy()


def plot_renders(images: dict, ncols=None, size=2.6, suptitle=None):
    """Renders side by side, one titled panel each (titles are the dict's keys)."""
    import matplotlib.pyplot as plt

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
