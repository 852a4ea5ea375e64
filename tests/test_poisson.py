import copy

import numpy as np
import pytest
import torch

import inrlib as inr
from inrlib.book import poisson as po


def _ramp_image(n=17):
    x0, x1 = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n), indexing="ij")
    return x0, x1


def _zero_output(model):
    with torch.no_grad():
        model.linears[-1].weight.zero_()
        model.linears[-1].bias.zero_()
    return model


def test_derivative_targets_are_in_coordinate_units():
    x0, x1 = _ramp_image()
    img = inr.load_image(np.zeros((17, 17)), value_range=(0, 1))  # only for shape and grid
    img.values = torch.from_numpy((0.3 * x0 - 0.2 * x1 + 0.25 * x0**2).astype(np.float32)).reshape(-1, 1)
    t = po.derivative_targets(img).reshape(17, 17, 4)
    inner = (slice(2, -2), slice(2, -2))
    assert np.allclose(t[..., 1].numpy()[inner], (0.3 + 0.5 * x0)[inner], atol=1e-4)
    assert np.allclose(t[..., 2].numpy()[inner], -0.2, atol=1e-4)
    assert np.allclose(t[..., 3].numpy()[inner], 0.5, atol=1e-3)  # Laplacian of 0.25 x0^2


def test_normalised_loss_of_a_zero_network_is_the_sum_of_weights():
    img = inr.load_image("camera", size=16)
    t = po.derivative_targets(img)
    model = _zero_output(inr.siren(width=16, depth=2, seed=0))
    for w in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 2, 0.5)]:
        loss = po.derivative_loss(t, *w)(model, img.coords, t)
        assert loss.item() == pytest.approx(sum(w), rel=1e-5)
    raw = po.derivative_loss(t, 0, 1, 0, normalise=False)(model, img.coords, t)
    assert raw.item() == pytest.approx(po.target_scales(t)["grad"], rel=1e-5)
    # orders of magnitude apart: the reason for normalising
    s = po.target_scales(t)
    assert s["lap"] > 10 * s["grad"] > 10 * s["value"]


def test_value_weight_column_masks_the_value_term():
    img = inr.load_image("camera", size=16)
    w = np.zeros((16, 16), bool)
    w[:4] = True
    t = po.derivative_targets(img, value_weight=w)
    model = _zero_output(inr.siren(width=8, depth=1, seed=0))
    loss = po.derivative_loss(t, 1, 0, 0, normalise=False)(model, img.coords, t)
    assert loss.item() == pytest.approx(float(img.values[:64].pow(2).mean()), rel=1e-5)


def test_batched_fit_matches_separate_fits():
    img = inr.load_image("camera", size=16)
    t = po.derivative_targets(img)
    models = [inr.siren(width=16, depth=2, seed=s, first_omega=om) for s, om in [(0, 30), (1, 20), (2, 30)]]
    alone = [copy.deepcopy(m) for m in models]
    weights = [(0, 1, 0), (0, 0, 1), (1, 1, 1)]
    per_model = [list(c) for c in zip(*weights)]  # value, grad, lap: one weight per model each
    hists = inr.fit_many(models, img.coords, t, steps=4, lr=1e-3,
                         loss=po.derivative_loss(t, *per_model))
    for m, a, w, h in zip(models, alone, weights, hists):
        ha = inr.fit(a, img.coords, t, steps=4, lr=1e-3, loss=po.derivative_loss(t, *w))
        assert h.loss == pytest.approx(ha.loss, rel=1e-4)
        for p, q in zip(m.parameters(), a.parameters()):
            assert torch.allclose(p, q, atol=1e-5)


def test_batched_fit_rejects_different_shapes_and_bad_weights():
    img = inr.load_image("camera", size=8)
    t = po.derivative_targets(img)
    a = inr.INR(activation="square", n_modes=2, width=8, depth=1)
    b = inr.INR(activation="square", n_modes=3, width=8, depth=1)
    with pytest.raises(ValueError, match="model 1 has n_modes 3, model 0 2"):
        inr.fit_many([a, b], img.coords, t, steps=1, loss=po.derivative_loss(t, 0, 1, 0))
    with pytest.raises(ValueError, match="weights"):
        po.derivative_loss(t, 0, 0, 0)
    with pytest.raises(ValueError, match="weights"):
        po.derivative_loss(t, [0, 1], [1, 0, 1], 0)
    with pytest.raises(ValueError, match="steps must be"):
        inr.fit_many([a, a], img.coords, t, steps=0, loss=po.derivative_loss(t, 0, 1, 0))
    with pytest.raises(ValueError, match="packed targets"):
        po.derivative_loss(t[:, :2])


def test_gradient_fit_recovers_the_image_up_to_a_constant():
    img = inr.load_image("camera", size=24)
    t = po.derivative_targets(img)
    model = inr.siren(width=32, depth=2, seed=0)
    before = po.aligned_psnr(model, img)
    inr.fit(model, img.coords, t, steps=100, lr=1e-3, loss=po.derivative_loss(t, value=0, grad=1))
    assert po.aligned_psnr(model, img) > before + 4
    raw = inr.psnr(inr.predict(model, img.coords), img.values, data_range=2)
    assert po.aligned_psnr(model, img) >= raw  # aligning never hurts


def test_relu_network_gets_no_gradient_from_a_laplacian_loss():
    img = inr.load_image("camera", size=12)
    t = po.derivative_targets(img)
    model = inr.relu_mlp(width=16, depth=2, seed=0)  # no encoding: piecewise linear in x
    loss = po.derivative_loss(t, 0, 0, 1)(model, img.coords, t)
    loss.backward()
    assert loss.item() == pytest.approx(1.0, rel=1e-5)  # Laplacian identically zero
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in model.parameters())


def test_align_removes_harmonic_offsets_only():
    c = inr.grid((20, 20))
    x0, x1 = c[:, 0:1], c[:, 1:2]
    target = torch.sin(3 * x0) * x1
    harmonic = 0.4 - 0.3 * x0 + 0.2 * (x0**2 - x1**2) + 0.1 * x0 * x1
    aligned, coef = po.align(target + harmonic, target, c, degree=2)
    assert torch.allclose(aligned, target, atol=1e-5)
    assert coef[0].item() == pytest.approx(-0.4, abs=1e-6)
    aligned0, _ = po.align(target + 0.7, target, c, degree=0)
    assert torch.allclose(aligned0, target, atol=1e-5)
    # x0^2 is not harmonic: it cannot be removed, only reduced
    nonh, _ = po.align(target + x0**2, target, c, degree=2)
    assert (nonh - target).abs().max() > 0.1
    with pytest.raises(ValueError):
        po.harmonic_basis(c, -1)


def test_clone_targets_and_reference_blend():
    dst = inr.load_image("camera", size=24)
    src = inr.load_image("astronaut", size=24)
    mask = np.zeros((24, 24), bool)
    mask[6:18, 8:20] = True
    t = po.clone_targets(dst, src, mask)
    td, ts = po.derivative_targets(dst), po.derivative_targets(src)
    inside = torch.from_numpy(mask.reshape(-1))
    assert torch.equal(t[inside, 1:3], ts[inside, 1:3])
    assert torch.equal(t[~inside, 1:3], td[~inside, 1:3])
    assert torch.equal(t[:, 4], (~inside).float())
    # a source that differs from the destination by a constant changes nothing
    d, s = dst.array(), src.array()
    assert np.allclose(po.poisson_blend_reference(d, d + 0.3, mask), d, atol=1e-6)
    blend = po.poisson_blend_reference(d, s, mask)
    assert np.array_equal(blend[~mask], d[~mask])
    with pytest.raises(ValueError, match="same shape"):
        po.clone_targets(dst, inr.load_image("astronaut", size=20), mask)


def test_layer_outputs_and_sparsity():
    x = torch.rand(256, 2) * 2 - 1
    model = inr.INR(activation="triangle", width=64, depth=3, seed=0)
    outs = po.layer_outputs(model, x)
    assert len(outs) == 3 and outs[0].size == 256 * 64
    assert po.near_zero_fraction(np.array([0.0, 0.05, 0.5, -1.0]), 0.1) == 0.5
