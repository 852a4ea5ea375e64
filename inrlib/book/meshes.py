"""From a field to a mesh and back: grid evaluation, marching cubes, and surface metrics
(Chamfer distance, normal consistency, |grad f|, slices) against a shape's exact surface."""
import numbers
from dataclasses import dataclass

import numpy as np
import torch
from scipy.spatial import cKDTree
from skimage import measure

from ..checks import real, whole
from ..diffops import gradient
from ..evaluation import predict
from ..grids import grid
from .shapes import Shape, as_points, check_cloud

def evaluate_grid(f, n, bound=1.0, chunk=32768) -> np.ndarray:
    """f on an n x n x n grid spanning [-bound, bound]^3 ('ij' order: axis k is coordinate k),
    evaluated `chunk` points at a time (`predict` for a network), as a float32 array."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"a grid needs a whole number n >= 2 samples a side, got {n!r}")
    if n < 2:
        raise ValueError(f"a grid needs n >= 2 samples a side, got {n}")
    n = int(n)
    bound = real("bound", bound, low=0.0)
    coords = grid((n,) * 3, (-bound, bound))
    values = predict(f, coords, chunk=chunk).cpu()
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
        n = whole("n", n)
        nrm, area = self.face_normals()
        if len(area) == 0 or not area.sum() > 0:
            raise ValueError("the mesh has no faces of positive area to sample")
        rng = np.random.default_rng(whole("seed", seed, low=0))
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
    bound, level = real("bound", bound, low=0.0), real("level", level)
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


def chamfer_distance(a, b) -> float:
    """Symmetric Chamfer distance between two point sets: the mean, over both directions, of
    the distance from each point to the nearest point of the other set (box units; 0 when the
    sets coincide, |r1 - r2| for two dense concentric spheres)."""
    a = as_points(a, "first point set").double().numpy()
    b = as_points(b, "second point set").double().numpy()
    return 0.5 * float(cKDTree(b).query(a)[0].mean() + cKDTree(a).query(b)[0].mean())


def normal_consistency(points_a, normals_a, points_b, normals_b) -> float:
    """Mean |cos| between each point's normal and its nearest neighbour's normal in the other
    set, averaged over both directions (1: the surfaces' orientations agree everywhere)."""
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


def score_volume(volume, shape: Shape, n=30000, bound=1.0) -> dict:
    """surface_metrics of the level-0 mesh of a sampled field; a field that never crosses 0 on
    the grid has no surface: Chamfer inf, normal consistency 0 (callers say so in words)."""
    try:
        mesh = extract_mesh(volume, bound)
    except ValueError:
        return {"chamfer": float("inf"), "normal_consistency": 0.0}
    return surface_metrics(mesh, shape, n=n)


def gradient_field(f, points, chunk=16384) -> np.ndarray:
    """grad f at `points` (N, 3), (N, 3) as an array (autograd through a network or a torch
    function, `chunk` points at a time)."""
    pts = as_points(points).float()
    first = next(f.parameters(), None) if isinstance(f, torch.nn.Module) else None

    def grad_of(x):
        x = x.detach().requires_grad_(True)
        y = f(x)
        return gradient(y if y.dim() == 2 else y[:, None], x)

    pts = pts if first is None else pts.to(first.device)
    return predict(grad_of, pts, chunk=chunk, autograd=True).cpu().numpy()


def gradient_norms(f, points, chunk=16384) -> np.ndarray:
    """|grad f| at `points` (N, 3): 1 for a distance function."""
    return np.linalg.norm(gradient_field(f, points, chunk), axis=-1)


def slice_field(f, axis=2, value=0.0, n=160, bound=1.0) -> np.ndarray:
    """f on the plane x_axis = value, an (n, n) array over the other two coordinates (in
    increasing order: e.g. axis 2 gives rows x0, columns x1)."""
    if isinstance(axis, bool) or axis not in (0, 1, 2):
        raise ValueError(f"axis must be 0, 1 or 2 (the coordinate held at `value`), got {axis!r}")
    value, bound = real("value", value), real("bound", bound, low=0.0)
    n = whole("n", n, low=2)
    plane = grid((n, n), (-bound, bound))
    coords = torch.zeros(n * n, 3)
    others = [k for k in range(3) if k != axis]
    coords[:, others[0]], coords[:, others[1]] = plane[:, 0], plane[:, 1]
    coords[:, axis] = value
    return predict(f, coords).cpu().reshape(n, n).float().numpy()


