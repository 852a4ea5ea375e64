"""inrlib.book.shapes: shapes and samplers, the SDF loss, marching cubes, surface metrics."""
import math

import numpy as np
import pytest
import torch

import inrlib as inr
from inrlib.book import meshes, render, sdf, shapes


@pytest.fixture(scope="module")
def knot():
    return shapes.torus_knot()


@pytest.mark.parametrize("make", [shapes.sphere, shapes.torus, shapes.torus_knot])
def test_surface_samples_lie_on_the_surface_with_outward_normals(make):
    shape = make()
    p, n = shape.sample(3000, seed=1)
    assert p.shape == n.shape == (3000, 3) and p.dtype == torch.float32
    assert shape(p).abs().max() < 1e-5  # on the zero level set of the SDF
    assert torch.allclose(n.norm(dim=1), torch.ones(3000), atol=1e-5)
    outward = shape(p + 0.02 * n)  # a step along the normal leaves the shape by that much
    inward = shape(p - 0.02 * n)
    assert (outward - 0.02).abs().max() < 2e-3 and (inward + 0.02).abs().max() < 2e-3
    assert p.abs().max() < 1  # inside the box
    q, _ = shape.sample(3000, seed=1)
    assert torch.equal(p, q)  # seeded


def test_torus_samples_are_uniform_by_area():
    # the outer half (cos v > 0) of a torus has area pi r (2 pi R + 4 r)... its share is
    # (R pi + 2 r) / (2 pi R) of the whole; without area weighting it would be 1/2
    R, r = 0.6, 0.25
    p, n = shapes.torus(R, r).sample(40000, seed=0)
    outer = (p[:, :2].norm(dim=1) > R).float().mean().item()
    expected = (math.pi * R + 2 * r) / (2 * math.pi * R)
    assert abs(outer - expected) < 0.01, (outer, expected)


def test_knot_area_matches_its_mesh(knot):
    mesh = meshes.extract_mesh(meshes.evaluate_grid(knot, 72))
    assert abs(mesh.area / knot.area - 1) < 0.03, (mesh.area, knot.area)


def test_polyline_distance_is_exact_on_a_segment_and_a_square():
    sq = torch.tensor([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=torch.float64)
    pts = torch.tensor([[0.5, -0.3, 0.0], [0.5, 0.5, 0.4], [2.0, 2.0, 0.0], [0.2, 0.1, 0.0]])
    d = shapes.distance_to_polyline(pts, sq, closed=True, k=4)
    expected = [0.3, math.hypot(0.5, 0.4), math.sqrt(2), 0.1]
    assert np.allclose(d.numpy(), expected, atol=1e-6)
    # open polyline: the segment back to the start is not part of it
    d_open = shapes.distance_to_polyline(torch.tensor([[-0.3, 0.5, 0.0]]), sq, closed=False, k=4)
    assert abs(d_open.item() - math.hypot(0.3, 0.5)) < 1e-6


def test_sdf_loss_is_near_zero_on_a_spheres_analytic_sdf():
    sph = shapes.sphere(0.5)
    p, n = sph.sample(2000, seed=0)
    alpha = 100.0
    loss = sdf.sdf_loss(alpha=alpha, n_off=20000, seed=0)
    t = loss.terms(lambda x: sph.sdf(x.double()).float(), p, n)
    total = loss.total(t)
    assert t["surface"] < 1e-6 and t["normal"] < 1e-6 and t["eikonal"] < 1e-4, t
    # exp(-alpha|f|) is not 0 even for the exact SDF: uniform points within ~1/alpha of the
    # surface contribute, in expectation (area * 2/alpha) / box volume
    expected_off = 4 * math.pi * 0.25 * 2 / alpha / 8
    assert abs(t["off"] - expected_off) < 0.3 * expected_off, (t["off"], expected_off)
    # the total is that floor alone, far below a wrong sphere's
    wrong = loss(lambda x: shapes.sphere(0.4).sdf(x.double()).float(), p, n)
    assert total < sdf.WEIGHTS["off"] * 1.3 * expected_off and wrong > 20 * total, (total, wrong)


def test_sdf_loss_trains_a_siren_and_works_with_fit_many():
    sph = shapes.sphere(0.5)
    p, n = sph.sample(2000, seed=0)
    models = [inr.siren(in_features=3, width=32, depth=2, first_omega=w, seed=0) for w in (5, 10)]
    w = dict(sdf.WEIGHTS, eikonal=[50.0, 0.0])  # one weight per model
    hists = inr.fit_many(models, p, n, steps=150, lr=1e-3, loss=sdf.sdf_loss(w), batch_size=500,
                         progress=False)
    assert all(h.loss[-1] < 0.2 * h.loss[0] for h in hists), [(h.loss[0], h.loss[-1]) for h in hists]
    q, _ = sph.sample(500, seed=3)
    assert inr.predict(models[0], q).abs().mean() < 0.02


def test_sdf_loss_rejects_clouds_without_normals():
    loss = sdf.sdf_loss()
    net = inr.siren(in_features=3, width=8, depth=1)
    p = torch.rand(10, 3)
    with pytest.raises(ValueError, match="oriented cloud"):
        loss(net, p, None)
    with pytest.raises(ValueError, match="oriented cloud"):
        loss(net, p, torch.rand(10, 1))
    with pytest.raises(ValueError, match="unknown SDF loss terms"):
        sdf.sdf_loss({"surfce": 1.0})
    with pytest.raises(ValueError, match="normals missing"):
        shapes.check_cloud(p, None)


def test_bad_clouds_give_clear_errors():
    with pytest.raises(ValueError, match=r"\(N, 3\) cloud of 3-D points"):
        meshes.chamfer_distance(torch.rand(5, 2), torch.rand(5, 3))
    with pytest.raises(ValueError, match="empty"):
        meshes.chamfer_distance(torch.zeros(0, 3), torch.rand(5, 3))
    with pytest.raises(ValueError, match="normals missing"):
        meshes.normal_consistency(torch.rand(5, 3), None, torch.rand(5, 3), torch.rand(5, 3))
    with pytest.raises(ValueError, match="5 points but 4 normals"):
        shapes.check_cloud(torch.rand(5, 3), torch.rand(4, 3))
    with pytest.raises(ValueError, match="zero length"):
        shapes.check_cloud(torch.rand(2, 3), torch.zeros(2, 3))


def test_marching_cubes_recovers_an_analytic_surface():
    sph = shapes.sphere(0.6)
    mesh = meshes.extract_mesh(meshes.evaluate_grid(sph, 48))
    r = np.linalg.norm(mesh.vertices, axis=1)
    assert np.abs(r - 0.6).max() < 2e-3  # vertices on the sphere (linear interpolation error)
    assert abs(mesh.area - sph.area) < 0.01 * sph.area
    nrm, _ = mesh.face_normals()
    centres = mesh.vertices[mesh.faces].mean(1)
    cos = np.einsum("ij,ij->i", nrm, centres / np.linalg.norm(centres, axis=1, keepdims=True))
    assert cos.min() > 0.9  # faces oriented outwards
    m = meshes.surface_metrics(mesh, sph, n=20000)
    assert m["chamfer"] < 0.01 and m["normal_consistency"] > 0.995, m


def test_marching_cubes_on_a_network_grid_matches_predict():
    net = inr.siren(in_features=3, width=16, depth=2, seed=0)
    vol = meshes.evaluate_grid(net, 9)
    direct = inr.predict(net, inr.grid((9, 9, 9))).reshape(9, 9, 9).numpy()
    assert np.allclose(vol, direct, atol=1e-6)
    lo, hi = np.percentile(vol, [20, 80])
    mesh = meshes.extract_mesh(vol, level=float(np.median(vol)))
    assert len(mesh.faces) > 0 and lo < np.median(vol) < hi


def test_marching_cubes_rejects_bad_grids():
    with pytest.raises(ValueError, match="empty or flat"):
        meshes.extract_mesh(np.zeros((0, 0, 0)))
    with pytest.raises(ValueError, match="3-D grid"):
        meshes.extract_mesh(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="no surface"):
        meshes.extract_mesh(np.ones((4, 4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        meshes.extract_mesh(np.full((4, 4, 4), np.nan))
    with pytest.raises(ValueError, match="n >= 2"):
        meshes.evaluate_grid(shapes.sphere(), 1)


def test_chamfer_distance_on_known_shapes():
    sph = shapes.sphere(0.5)
    p, n = sph.sample(20000, seed=0)
    q, m = sph.sample(20000, seed=1)
    assert meshes.chamfer_distance(p, p) == 0
    assert meshes.chamfer_distance(p, q) < 0.01  # two dense samplings of one sphere
    # concentric spheres: every point is |r1 - r2| from the other sphere
    assert abs(meshes.chamfer_distance(p, 0.8 * q) - 0.1) < 0.005
    # a sphere against its centre: every distance is the radius, both ways
    assert meshes.chamfer_distance(p, [[0.0, 0.0, 0.0]]) == pytest.approx(0.5, abs=1e-6)
    # single points
    assert meshes.chamfer_distance([[0.0, 0, 0]], [[3.0, 4, 0]]) == pytest.approx(5.0)
    assert meshes.normal_consistency(p, n, q, m) > 0.99
    assert meshes.normal_consistency(p, n, q, torch.randn(20000, 3)) < 0.6


def test_render_shades_a_sphere_in_the_middle():
    vol = meshes.evaluate_grid(shapes.sphere(0.5), 32)
    img = render.render(vol, size=64)
    assert img.shape == (64, 64)
    assert img[32, 32] < 0.99 and img[0, 0] == 1 and img[63, 63] == 1
    covered = (img < 1).mean()
    # orthographic view of a radius-0.5 disc in a window of half-width sqrt(3)
    assert abs(covered - math.pi * 0.25 / (2 * math.sqrt(3)) ** 2) < 0.02
    with_net = render.render(vol, f=shapes.sphere(0.5), size=64)
    assert np.abs(with_net - img).max() < 0.05


def test_slices_and_gradient_norms_of_an_exact_sdf():
    sph = shapes.sphere(0.5)
    s = meshes.slice_field(sph, axis=2, value=0.0, n=5)
    assert s.shape == (5, 5) and s[2, 2] == pytest.approx(-0.5) and s[0, 2] == pytest.approx(0.5)
    g = meshes.gradient_norms(sph, torch.rand(100, 3) + 0.1)
    assert np.allclose(g, 1, atol=1e-5)


def test_score_volume_names_a_field_without_a_surface():
    """A field that never crosses 0 scores inf / 0 (no mesh to measure); one that does, finite."""
    from inrlib.book import meshes, shapes
    torus = shapes.torus()
    assert meshes.score_volume(np.ones((16, 16, 16)), torus, n=500) == {"chamfer": float("inf"),
                                                                           "normal_consistency": 0.0}
    good = meshes.score_volume(meshes.evaluate_grid(torus, 32), torus, n=2000)
    assert good["chamfer"] < 0.05 and good["normal_consistency"] > 0.9
