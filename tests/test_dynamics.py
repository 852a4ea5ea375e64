"""inrlib.book.dynamics: spectral measurements, activation regions, Hamming distances, confusion."""
import math

import numpy as np
import pytest
import torch
from torch import nn

import inrlib as inr
import inrlib.book.dynamics as dyn
from inrlib.book import regions


def hand_net():
    """1 hidden layer of 2 ReLUs on 2D input: neuron 0 = x0 > 0, neuron 1 = x1 > 0.
    Its activation regions are the four quadrants; output = relu(x0) - relu(x1)."""
    m = inr.relu_mlp(width=2, depth=1, seed=0)
    with torch.no_grad():
        m.linears[0].weight.copy_(torch.eye(2))
        m.linears[0].bias.zero_()
        m.linears[1].weight.copy_(torch.tensor([[1.0, -1.0]]))
        m.linears[1].bias.zero_()
    return m


# ---------------------------------------------------------------- 1D spectral

def test_sum_of_sines_amplitudes_are_exact():
    s = dyn.sum_of_sines(64, [3, 7], amplitudes=[1.0, 0.5], seed=2)
    amps = dyn.frequency_amplitudes(s.values, [1, 3, 5, 7, 0])
    np.testing.assert_allclose(amps, [0, 1.0, 0, 0.5, 0], atol=1e-5)
    assert s.coords.shape == (64, 1) and s.coords[0, 0] == -1 and s.coords[-1, 0] < 1
    # the phases are the seeded ones: the signal at x=-1 is sum A sin(phi)
    phi = s.meta["phases"]
    assert float(s.values[0, 0]) == pytest.approx(math.sin(phi[0]) + 0.5 * math.sin(phi[1]), abs=1e-5)


def test_frequency_amplitudes_batch_and_errors():
    t = np.arange(32) / 32
    batch = np.stack([2 * np.cos(2 * np.pi * 4 * t), 3 + 0 * t])
    np.testing.assert_allclose(dyn.frequency_amplitudes(batch, [0, 4]), [[0, 2], [3, 0]], atol=1e-9)
    with pytest.raises(ValueError, match="Nyquist"):
        dyn.sum_of_sines(16, [8])
    with pytest.raises(ValueError, match=r"\[0, n/2\)"):
        dyn.frequency_amplitudes(t, [16])


def test_fit_tracked_records_before_and_every():
    s = dyn.sum_of_sines(32, [1], seed=0)
    m = inr.relu_mlp(in_features=1, width=8, depth=1, seed=0)
    hist, rec = dyn.fit_tracked(m, s, steps=10, every=4, lr=1e-3,
                                probes={"w": lambda mm: float(mm.linears[0].weight.detach().sum())})
    assert rec["step"] == [0, 4, 8, 10] and len(rec["w"]) == 4 and len(hist.loss) == 10
    assert rec["w"][0] != rec["w"][-1]  # the probe saw the weights change


def test_frequency_convergence_relu_learns_low_first():
    torch.manual_seed(0)
    s = dyn.sum_of_sines(64, [1, 6], seed=0)
    m = inr.relu_mlp(in_features=1, width=32, depth=2, seed=0)
    steps, rel, _ = dyn.frequency_convergence(m, s, steps=300, every=10, lr=3e-3)
    assert rel.shape == (31, 2) and steps[0] == 0
    np.testing.assert_allclose(rel[0], 1.0, atol=0.35)  # an untrained net barely matches the target
    learnt = dyn.steps_to_learn(steps, rel, 0.5)
    assert learnt[0] < learnt[1]


def test_steps_to_learn():
    rel = np.array([[1, 1], [0.4, 1], [0.3, 0.6], [0.1, 0.45]])
    np.testing.assert_array_equal(dyn.steps_to_learn(np.array([0, 5, 10, 15]), rel), [5, 15])
    assert dyn.steps_to_learn(np.array([0]), np.array([[0.9]]))[0] == np.inf


# ---------------------------------------------------------------- regions

def test_hand_built_net_has_four_quadrant_regions():
    m = hand_net()
    pts = torch.tensor([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [0.2, 0.9]])
    pats = regions.activation_patterns(m, pts)
    assert pats.tolist() == [[True, True], [False, True], [False, False], [True, False], [True, True]]
    ids, n = regions.pattern_ids(pats)
    assert n == 4 and ids[0] == ids[4] and len(set(ids[:4].tolist())) == 4
    g = inr.grid((8, 8))  # 8 points per side: none on the axes, two per quadrant side
    assert regions.count_patterns(regions.activation_patterns(m, g)) == 4
    assert regions.dead_neurons(regions.activation_patterns(m, g)) == 0
    # on the negative quadrant both neurons are dead; on x0 < 0 < x1 only neuron 0 is
    assert regions.dead_neurons(regions.activation_patterns(m, -torch.rand(50, 2))) == 2
    assert regions.dead_neurons(regions.activation_patterns(m, torch.rand(50, 2) * torch.tensor([-1.0, 1.0]))) == 1


def test_region_image_is_a_relabelling():
    m = hand_net()
    pats = regions.activation_patterns(m, inr.grid((6, 6)))
    img = regions.region_image(pats, (6, 6), seed=3)
    assert img.shape == (6, 6) and len(np.unique(img)) == 4
    # constant on each quadrant block, different across blocks
    assert len(np.unique(img[:3, :3])) == 1 and img[0, 0] != img[0, 5] != img[5, 5]
    with pytest.raises(ValueError, match="do not fill"):
        regions.region_image(pats, (5, 5))


def test_patterns_match_return_activations_in_deep_nets():
    m = inr.relu_mlp(L=3, width=16, depth=3, seed=1)
    x = torch.rand(200, 2) * 2 - 1
    _, trace = m(x, return_activations=True)
    ref = torch.cat([pre > 0 for pre, _ in trace], 1)
    assert torch.equal(regions.activation_patterns(m, x, chunk=37), ref)
    # encoded=True with the encoding applied by hand gives the same patterns
    assert torch.equal(regions.activation_patterns(m, m.encoding(x), encoded=True), ref)
    assert regions.count_patterns(ref) == len({tuple(r) for r in ref.tolist()})


def test_dead_neurons_per_layer():
    pats = torch.tensor([[True, False, False, False], [True, False, True, False]])
    assert regions.dead_neurons(pats) == 2
    assert regions.dead_neurons(pats, per_layer=2) == [1, 1]
    with pytest.raises(ValueError, match="layers of 3"):
        regions.dead_neurons(pats, per_layer=3)


def test_relu_only_and_shape_errors():
    with pytest.raises(ValueError, match="ReLU"):
        regions.activation_patterns(inr.siren(width=4, depth=1), torch.rand(3, 2))
    m = inr.relu_mlp(L=2, width=4, depth=1)
    with pytest.raises(ValueError, match="features"):
        regions.activation_patterns(m, torch.rand(3, 2), encoded=True)
    with pytest.raises(ValueError, match="bool"):
        regions.pattern_ids(np.zeros((3, 2)))


def test_encoding_slice_plane():
    m = inr.relu_mlp(L=2, width=4, depth=1)
    plane = regions.encoding_slice(m, [0.25, -0.5], dims=(2, 6), n=5, span=(-1, 1))
    base = m.encoding(torch.tensor([[0.25, -0.5]]))[0]
    assert plane.shape == (25, base.numel())
    keep = [k for k in range(base.numel()) if k not in (2, 6)]
    assert torch.allclose(plane[:, keep], base[keep].expand(25, -1))
    assert plane[:, 2].unique().numel() == 5 and plane[0, 2] == -1 and plane[-1, 6] == 1
    with pytest.raises(ValueError, match="no input encoding"):
        regions.encoding_slice(inr.relu_mlp(width=4, depth=1), [0, 0], dims=(0, 1))
    # the hand-built net's first layer on a plane of raw inputs: lines x0 = 0, x1 = 0
    # give exactly 1 + m + m(m-1)/2 = 4 cells for m = 2 lines in general position
    assert regions.count_patterns(regions.activation_patterns(hand_net(), inr.grid((10, 10)))) == 4


# ---------------------------------------------------------------- pairs

def test_sample_pairs_local_and_distant():
    a, b = regions.sample_pairs((40, 50), 500, "local", patch=4, seed=0)
    ra, ca, rb, cb = a // 50, a % 50, b // 50, b % 50
    assert (np.abs(ra - rb) < 4).all() and (np.abs(ca - cb) < 4).all()
    a, b = regions.sample_pairs((40, 40), 500, "distant", seed=0)
    ra, ca, rb, cb = a // 40, a % 40, b // 40, b % 40
    assert (np.abs(ra - rb) > 40 // 4).all() and (np.abs(ca - cb) > 40 // 4).all()
    assert len(set(zip(ca < 20, ra < 20))) >= 2  # both diagonals used
    with pytest.raises(ValueError, match="kind"):
        regions.sample_pairs((8, 8), 3, "near")


def test_hamming_distances_hand_net():
    m = hand_net()
    pts = torch.tensor([[0.5, 0.5], [-0.5, -0.5], [0.5, -0.5], [0.3, 0.1]])
    pats = regions.activation_patterns(m, pts)
    np.testing.assert_array_equal(regions.hamming_distances(pats, [0, 0, 0, 1], [1, 2, 3, 2]), [2, 1, 0, 1])


def test_per_sample_gradients_match_autograd():
    m = inr.relu_mlp(L=2, width=8, depth=2, out_features=2, seed=0)
    x, y = torch.rand(5, 2), torch.rand(5, 2)
    g = regions.per_sample_gradients(m, x, y, chunk=2)
    assert g.shape == (5, sum(p.numel() for p in m.parameters()))
    for i in range(5):
        m.zero_grad()
        ((m(x[i:i + 1]) - y[i:i + 1]) ** 2).mean().backward()
        ref = torch.cat([p.grad.reshape(-1) for p in m.parameters()])
        assert torch.allclose(g[i], ref, atol=1e-6)


def test_gradient_confusion_known_values():
    # output = relu(x0) - relu(x1); the loss gradient is 2 (f - y) df/dtheta.
    m = hand_net()
    x = torch.tensor([[0.5, -0.5], [0.5, -0.5], [0.5, -0.5], [-0.5, 0.5]])
    y = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    # residuals: f=0.5: +0.5 for targets 0, -0.5 for target 1 -> identical point, opposite gradient
    c = regions.gradient_confusion(m, x, y, [0, 0, 0], [2, 1, 3])
    np.testing.assert_allclose(c[:2], [1.0, -1.0], atol=1e-6)
    # other quadrant: only the output bias is shared. Output gradients there are
    # (W0 row0, b0, w_out, b_out) = (.5, -.5, 1, .5, 0, 1) and (W0 row1, b1, w_out, b_out) =
    # (.5, -.5, -1, 0, .5, 1), squared norm 2.75 each, dot 1 (the bias); residuals +.5 and -.5
    assert c[2] == pytest.approx(-1 / 2.75, abs=1e-6)
    with pytest.raises(ValueError, match="same length"):
        regions.gradient_confusion(m, x, y, [0, 1], [2])


def test_spectral_norms():
    m = hand_net()
    with torch.no_grad():
        m.linears[0].weight.copy_(torch.tensor([[3.0, 0.0], [0.0, -2.0]]))
    norms = regions.spectral_norms(m)
    assert norms == pytest.approx([3.0, math.sqrt(2)])
    with pytest.raises(ValueError, match="no nn.Linear"):
        regions.spectral_norms(nn.ReLU())


def test_random_image():
    s = dyn.random_image(16, channels=3, seed=4, coord_range=(0, 1))
    assert s.values.shape == (256, 3) and 0 <= s.values.min() and s.values.max() <= 1
    assert s.coords.min() == 0 and s.coords.max() == 1
    assert torch.equal(s.values, dyn.random_image(16, seed=4).values)
    with pytest.raises(ValueError, match="size"):
        dyn.random_image(1)
