import math

import numpy as np
import pytest
import torch
from scipy import stats

import inrlib as inr


ENCODING_KW = {None: {}, "posenc": dict(L=3), "fourier": dict(sigma=2.0, n_features=8)}


@pytest.mark.parametrize("activation", sorted(inr.ACTIVATIONS))
@pytest.mark.parametrize("encoding", sorted(ENCODING_KW, key=str))
def test_every_model_builds_and_runs(activation, encoding):
    # the encoding's options inside its dict: "sigma" is also the Gaussian activation's option
    enc = None if encoding is None else {"name": encoding, **ENCODING_KW[encoding]}
    m = inr.INR(in_features=2, out_features=3, width=16, depth=2, activation=activation,
                encoding=enc)
    y = m(torch.rand(5, 2))
    assert y.shape == (5, 3) and y.dtype == torch.float32


@pytest.mark.parametrize("kw", [
    dict(),
    dict(activation="square", n_modes=3, first_omega=20.0, encoding="posenc", L=2),
    dict(activation="relu", encoding="fourier", sigma=3.0, n_features=16, output="sigmoid"),
    dict(activation="tanh", bias=False, init="pytorch", in_features=1, out_features=3),
])
def test_config_round_trips_through_json_and_rebuilds_the_model(kw):
    m = inr.INR(width=16, depth=2, seed=7, **kw)
    cfg = inr.ModelConfig.from_json(m.config.to_json())
    assert cfg == m.config and cfg.seed == 7
    rebuilt = inr.INR.from_config(cfg)
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), rebuilt.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(m.buffers(), rebuilt.buffers()))
    with pytest.raises(Exception):  # frozen
        cfg.width = 3


def test_config_groups_each_part_with_its_own_options():
    cfg = inr.INR(activation="relu", encoding="posenc", L=4, width=8, depth=1).config
    assert cfg.activation == {"name": "relu"}
    assert cfg.encoding == {"name": "posenc", "L": 4, "include_input": True}
    assert cfg.init == "pytorch"
    cfg = inr.siren(width=8, depth=1, first_omega=3000).config
    assert cfg.activation == {"name": "sine", "first_omega": 3000, "hidden_omega": 30.0}
    assert cfg.encoding is None and cfg.init == "paper"
    assert inr.relu_mlp(width=8, depth=1).config.encoding is None
    assert inr.relu_mlp(L=0, width=8, depth=1).config.encoding is None  # L = 0: no encoding


def test_depth_counts_activated_layers():
    m = inr.siren(width=8, depth=3)
    assert len(m.acts) == 3 and len(m.linears) == 4


def test_sigmoid_output_range():
    m = inr.relu_mlp(width=8, depth=2, output="sigmoid")
    y = m(torch.randn(100, 2) * 10)
    assert (y > 0).all() and (y < 1).all()


def test_paper_init_bounds_and_omegas():
    m = inr.siren(width=64, depth=3, first_omega=20, hidden_omega=30)
    w0, w1, wout = m.linears[0].weight, m.linears[1].weight, m.linears[-1].weight
    assert w0.abs().max() <= 1 / 2 and w0.abs().max() > 0.4  # U(+-1/n), n = 2
    bound = math.sqrt(6 / 64) / 30
    assert w1.abs().max() <= bound and w1.abs().max() > 0.9 * bound
    assert wout.abs().max() <= bound
    assert m.acts[0].omega.item() == 20 and m.acts[1].omega.item() == 30


def test_positional_encoding_shape_and_frequencies():
    pe = inr.PositionalEncoding(2, L=4)
    assert pe.out_features == 2 * (1 + 2 * 4)
    assert torch.allclose(pe.freqs, math.pi * torch.tensor([1.0, 2, 4, 8]))
    x = torch.tensor([[0.25, -0.5]])
    out = pe(x)
    assert torch.allclose(out[0, :2], x[0])
    # sin block: frequency k for coordinate d sits at 2 + 2k + d
    assert torch.isclose(out[0, 2 + 2 * 3 + 0], torch.sin(torch.tensor(8 * math.pi * 0.25)), atol=1e-6)
    with pytest.raises(ValueError, match="L >= 1"):
        inr.PositionalEncoding(3, L=0)


def test_fourier_features_are_seeded_gaussian():
    a, b = inr.FourierFeatures(2, sigma=5.0, n_features=4000, seed=1), inr.FourierFeatures(2, 5.0, 4000, seed=1)
    assert torch.equal(a.B, b.B) and a.out_features == 8000
    assert a.B.std().item() == pytest.approx(5.0, rel=0.05)


def test_fourier_series_activations():
    x = torch.linspace(-0.1, 0.1, 1001)
    sq = inr.SquareWave(omega=30, n_modes=50)(x)
    tri = inr.TriangleWave(omega=30, n_modes=50)(x)
    inside = (30 * x).remainder(2 * math.pi)
    mid = (inside > 0.3) & (inside < math.pi - 0.3)
    assert torch.allclose(sq[mid], torch.ones_like(sq[mid]), atol=0.05)  # square wave = 1 there
    # triangle wave with peak 1 at omega x = pi/2, linear through 0
    assert tri.max().item() == pytest.approx(1.0, abs=0.01)
    assert torch.allclose(inr.SquareWave(30, 1)(x), 4 / math.pi * torch.sin(30 * x))


def test_seed_makes_models_identical():
    a, b = inr.siren(width=16, depth=2, seed=3), inr.siren(width=16, depth=2, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = inr.siren(width=16, depth=2, seed=4)
    assert not torch.equal(a.linears[1].weight, c.linears[1].weight)


def test_register_init_extends_the_registry():
    @inr.register_init("test_zeros")
    def zeros(linear, is_first, is_last, omega):
        torch.nn.init.zeros_(linear.weight)

    m = inr.siren(width=8, depth=2, init="test_zeros")
    assert all((l.weight == 0).all() for l in m.linears)
    inr.INITS.pop("test_zeros")


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="swish"), "unknown activation 'swish'"),
    (dict(encoding="octree"), "unknown encoding 'octree'"),
    (dict(activation="gauss", encoding="fourier", sigma=3), "option of both"),
    (dict(activation="gabor", scale=0), "scale must be > 0"),
    (dict(activation="gauss", sigma=-1), "sigma must be > 0"),
    (dict(activation="finer", n_modes=2), "do not apply"),
    (dict(init="xavier-ish"), "unknown init scheme"),
    (dict(encoding="posenc", L=-1), "L >= 1"),
    (dict(L=4), r"\['L'\] do not apply to activation 'sine' with encoding None"),
    (dict(activation="relu", first_omega=30), "do not apply to activation 'relu'"),
    (dict(activation="sine", n_modes=3), "do not apply"),
    (dict(encoding="posenc", sigma=3), "do not apply"),
    (dict(output="softmax"), "output must be one of"),
    (dict(activation="sine", first_omega=0), "omega must be > 0"),
    (dict(width=-4), "width must be"),
    (dict(depth=0), "depth must be"),
    (dict(activation="square", n_modes=0), "n_modes"),
])
def test_bad_configuration_names_the_problem(kwargs, match):
    with pytest.raises(ValueError, match=match):
        inr.INR(**kwargs)


def test_wrong_coordinate_dimension():
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(10, 3\)"):
        inr.siren(width=8, depth=1)(torch.rand(10, 3))


def _layer_stats(init):
    m = inr.siren(width=1024, depth=6, init=init, seed=0)
    x = torch.rand(4096, 2) * 2 - 1
    with torch.no_grad():
        _, trace = m(x, return_activations=True)
    arcsine = stats.arcsine(loc=-1, scale=2).cdf
    out = []
    for pre, post in trace[1:]:  # the first layer sees raw coordinates, not a sine's output
        p, q = pre.flatten()[::5].numpy(), post.flatten()[::5].numpy()
        out.append((stats.kstest(p, "norm").statistic, stats.kstest(q, arcsine).statistic))
    return np.array(out)


def test_siren_activation_statistics_at_paper_init():
    """Paper, Sec. 3.2: at its init the sine's argument is ~N(0, 1) and its output ~arcsine, at every depth.

    Kolmogorov-Smirnov distances stay small. PyTorch's default init makes the argument far wider
    than N(0, 1) (its sine output still looks arcsine: the sine of a wide variable has a uniform phase)."""
    paper = _layer_stats("paper")
    assert paper.max() < 0.06, paper
    default = _layer_stats("pytorch")
    assert default[:, 0].min() > 0.2, default


@pytest.mark.parametrize("activation", ["sine", "square", "relu", "tanh"])
def test_forward_is_the_layerwise_formula(activation):
    # INR folds omega into the weights and applies ReLU in place: still act(omega (W h + b)) per layer
    options = {"sine": dict(first_omega=20.0, hidden_omega=25.0),
               "square": dict(first_omega=20.0, hidden_omega=25.0, n_modes=3)}.get(activation, {})
    m = inr.INR(width=16, depth=3, activation=activation, seed=0, **options)
    x = torch.rand(50, 2) * 2 - 1
    h = x
    for lin, act in zip(m.linears[:-1], m.acts):
        h = act(h @ lin.weight.T + lin.bias)  # the modules' own forward: act(x) = wave(omega x)
    want = h @ m.linears[-1].weight.T + m.linears[-1].bias
    assert torch.allclose(m(x), want, atol=1e-5)
    y, trace = m(x, return_activations=True)
    assert torch.allclose(y, want, atol=1e-5) and len(trace) == 3
    if activation == "sine":  # the traced pre-activation is the sine's argument omega (W h + b)
        assert torch.allclose(torch.sin(trace[0][0]), trace[0][1], atol=1e-6)
    if activation == "relu":  # the in-place ReLU keeps the graph intact: input gradients agree
        xg = x.clone().requires_grad_(True)
        g = torch.autograd.grad(m(xg).sum(), xg)[0]
        xr = x.clone().requires_grad_(True)
        g2 = torch.autograd.grad(m(xr, return_activations=True)[0].sum(), xr)[0]
        assert torch.allclose(g, g2)
