"""What came after SIREN: FINER, WIRE's Gabor wavelet, Gaussian activations, hash grids."""

import pytest
import torch

import inrlib as inr
from inrlib.activations import activation_options, default_init, make_activations
from inrlib.encodings import HASH_PRIMES, HashGrid, spatial_hash


# --- activations ------------------------------------------------------------------------------

def test_options_come_from_each_class_with_first_and_hidden_variants():
    assert activation_options("gabor") == {"first_omega": 20.0, "hidden_omega": 20.0, "scale": 10.0}
    assert activation_options("gauss") == {"sigma": 0.07}
    assert activation_options("finer") == {"first_omega": 30.0, "hidden_omega": 30.0}
    assert activation_options("relu") == {}
    acts = make_activations("gabor", 3, first_omega=5.0, scale=2.0)
    assert [a.omega.item() for a in acts] == [5.0, 20.0, 20.0] and all(a.scale == 2.0 for a in acts)
    with pytest.raises(ValueError, match="takes"):
        make_activations("gauss", 2, omega=3.0)
    assert (default_init("finer"), default_init("gabor"), default_init("gauss")) == \
        ("paper", "pytorch", "pytorch")


def test_finer_is_the_variable_periodic_sine_with_its_true_derivative():
    x = torch.linspace(-2, 2, 101, requires_grad=True)
    act = inr.ACTIVATIONS["finer"](omega=3.0)
    y = act(x)
    assert torch.allclose(y, torch.sin(3.0 * (x.abs() + 1) * x), atol=1e-6)
    g = torch.autograd.grad(y.sum(), x)[0]
    want = 3.0 * (2 * x.abs() + 1) * torch.cos(3.0 * (x.abs() + 1) * x)
    assert torch.allclose(g, want, atol=1e-4)


def test_finer_network_uses_siren_init_and_is_the_layerwise_formula():
    m = inr.INR(activation="finer", width=16, depth=3, seed=0, first_omega=10.0)
    assert m.config.init == "paper"
    assert m.linears[0].weight.abs().max() <= 1 / 2  # SIREN's U(+-1/n), n = 2
    x = torch.rand(40, 2) * 2 - 1
    h = x
    for lin, act in zip(m.linears[:-1], m.acts):
        z = h @ lin.weight.T + lin.bias
        h = torch.sin(act.omega * (z.abs() + 1) * z)
    assert torch.allclose(m(x), m.linears[-1](h), atol=1e-5)


def test_gabor_and_gauss_formulas():
    x = torch.linspace(-1, 1, 21)
    g = inr.ACTIVATIONS["gabor"](omega=7.0, scale=3.0)(x)
    assert g.is_complex()
    assert torch.allclose(g, torch.exp(1j * 7.0 * x) * torch.exp(-(3.0 * x) ** 2), atol=1e-6)
    z = torch.complex(x, 0.5 * x)  # later layers: exp(j omega z - scale^2 |z|^2)
    want = torch.exp(1j * 7.0 * z - 9.0 * (z.abs() ** 2))
    assert torch.allclose(inr.ACTIVATIONS["gabor"](7.0, 3.0)(z), want, atol=1e-5)
    s = inr.ACTIVATIONS["gauss"](sigma=0.5)(x)
    assert torch.allclose(s, torch.exp(-x**2 / (2 * 0.25)), atol=1e-6)


def test_wire_network_is_complex_inside_and_real_outside():
    m = inr.INR(activation="gabor", width=12, depth=2, out_features=3, seed=0)
    assert not m.linears[0].weight.is_complex()
    assert all(l.weight.is_complex() and l.bias.is_complex() for l in m.linears[1:])
    y = m(torch.rand(9, 2))
    assert y.shape == (9, 3) and not y.is_complex()


@pytest.mark.parametrize("activation", ["gabor", "finer", "gauss"])
def test_derivatives_match_finite_differences(activation):
    opts = {"gauss": dict(sigma=0.5)}.get(activation, dict(first_omega=5.0, hidden_omega=5.0))
    m = inr.INR(activation=activation, width=16, depth=2, seed=1, **opts).double()
    for p in m.parameters():  # .double() leaves complex weights single precision
        if p.is_complex():
            p.data = p.data.to(torch.complex128)
    x = (torch.rand(20, 2, dtype=torch.float64) * 1.6 - 0.8).requires_grad_(True)
    y = m(x)
    g, lap = inr.diffops.gradient_and_laplacian(y, x)
    eps = 1e-5
    fd_g, fd_lap = torch.zeros_like(x), torch.zeros(20, 1, dtype=torch.float64)
    with torch.no_grad():
        y0 = m(x)
        for k in range(2):
            e = torch.zeros(2, dtype=torch.float64)
            e[k] = eps
            yp, ym = m(x + e), m(x - e)
            fd_g[:, k] = ((yp - ym) / (2 * eps))[:, 0]
            fd_lap += (yp - 2 * y0 + ym) / eps**2
    assert (g - fd_g).abs().max() < 1e-5 * fd_g.abs().max(), (g - fd_g).abs().max()
    assert (lap - fd_lap).abs().max() < 1e-3 * fd_lap.abs().max(), (lap - fd_lap).abs().max()


# --- the hash encoding ------------------------------------------------------------------------

@pytest.mark.parametrize("d", [2, 3])
def test_hash_grid_shapes_and_resolutions(d):
    h = HashGrid(d, levels=6, table_size=2**10, features=3, min_res=4, max_res=64)
    assert h.resolutions[0] == 4 and h.resolutions[-1] == 64
    assert h.resolutions == sorted(h.resolutions)
    assert h.out_features == 18 and h(torch.rand(7, d) * 2 - 1).shape == (7, 18)
    assert h.table.shape == (sum(min(2**10, (n + 1) ** d) for n in h.resolutions), 3)
    assert h.table.abs().max() <= 1e-4  # the paper's U(+-1e-4)
    m = inr.INR(in_features=d, encoding="hash", activation="relu", width=8, depth=2, levels=3,
                table_size=256, features=2, max_res=16)
    assert m(torch.rand(5, d)).shape == (5, 1)


def test_hash_is_the_papers_formula_and_deterministic():
    cells = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 1, 0], [3, 5, 7], [1000, 2000, 3000]])
    T_ = 2**14
    got = spatial_hash(cells, T_)
    want = [((a * HASH_PRIMES[0]) ^ (b * HASH_PRIMES[1]) ^ (c * HASH_PRIMES[2])) % T_
            for a, b, c in cells.tolist()]
    assert got.tolist() == want and torch.equal(spatial_hash(cells, T_), got)
    assert ((got >= 0) & (got < T_)).all()
    # power-of-two T: the same slots as 32-bit unsigned arithmetic (the authors' CUDA code)
    u32 = [(((a * HASH_PRIMES[0]) & 0xFFFFFFFF) ^ ((b * HASH_PRIMES[1]) & 0xFFFFFFFF)
            ^ ((c * HASH_PRIMES[2]) & 0xFFFFFFFF)) % T_ for a, b, c in cells.tolist()]
    assert got.tolist() == u32
    # two grids made from the same seed have the same table and encode alike
    torch.manual_seed(3)
    a = HashGrid(2)
    torch.manual_seed(3)
    b = HashGrid(2)
    x = torch.rand(50, 2) * 2 - 1
    assert torch.equal(a(x), b(x))


@pytest.mark.parametrize("d, table_size", [(2, 2**16), (2, 64), (3, 2**16), (3, 64)])
def test_interpolation_is_exact_at_grid_points(d, table_size):
    # one level of resolution 8: vertex i sits at coordinate -1 + 2 i / 8; dense when the
    # 9^d vertices fit the table, hashed otherwise: either way a vertex returns its own row
    h = HashGrid(d, levels=1, table_size=table_size, features=2, min_res=8, max_res=8)
    with torch.no_grad():
        h.table.normal_()
    idx = torch.randint(0, 9, (30, d))
    x = -1 + 2 * idx.float() / 8
    out = h(x)
    if h.hashed[0]:
        rows = spatial_hash(idx, table_size)
    else:
        rows = torch.zeros(30, dtype=torch.long)
        for k in range(d):
            rows = rows * 9 + idx[:, k]
    assert torch.allclose(out, h.table[rows], atol=1e-6)
    # between two vertices along one axis, the encoding is the linear blend
    mid = x.clone()
    mid[:, 0] = torch.where(idx[:, 0] < 8, x[:, 0] + 0.25 * 2 / 8, x[:, 0])
    nxt = idx.clone()
    nxt[:, 0] = (idx[:, 0] + 1).clamp(max=8)
    out_next = h(-1 + 2 * nxt.float() / 8)
    blend = torch.where((idx[:, 0] < 8)[:, None], 0.75 * out + 0.25 * out_next, out)
    assert torch.allclose(h(mid), blend, atol=1e-5)


def test_gradients_reach_the_hash_table_and_fit_trains_it():
    img = inr.load_image("camera", size=16)
    m = inr.INR(encoding="hash", activation="relu", width=16, depth=2, seed=0, levels=4,
                table_size=2**8, max_res=16)
    assert "encoding.table" in dict(m.named_parameters())
    loss = ((m(img.coords) - img.values) ** 2).mean()
    loss.backward()
    g = m.encoding.table.grad
    assert g is not None and (g != 0).any() and torch.isfinite(g).all()
    before = m.encoding.table.detach().clone()
    h = inr.fit(m, img, steps=60, lr=1e-2)
    assert not torch.equal(before, m.encoding.table) and h.psnr[-1] > h.psnr[0] + 5


@pytest.mark.parametrize("kw, match", [
    (dict(levels=0), "levels must be"),
    (dict(table_size=1), "table_size must be"),
    (dict(features=0), "features must be"),
    (dict(min_res=32, max_res=8), "max_res"),
    (dict(levels=2.5), "levels must be"),
])
def test_bad_hash_parameters_give_a_clear_error(kw, match):
    with pytest.raises(ValueError, match=match):
        inr.INR(encoding="hash", activation="relu", **kw)


def test_hash_grid_dimension_is_checked():
    with pytest.raises(ValueError, match="1 to 3 dimensions"):
        HashGrid(4)
    with pytest.raises(ValueError, match="1 to 3 dimensions"):
        spatial_hash(torch.zeros(2, 5, dtype=torch.long), 16)


# --- configs and batching ---------------------------------------------------------------------

@pytest.mark.parametrize("kw", [
    dict(activation="gabor", first_omega=15.0, scale=5.0),
    dict(activation="gauss", sigma=0.2),
    dict(activation="finer", hidden_omega=20.0),
    dict(activation="relu", encoding="hash", levels=3, table_size=128, max_res=32),
])
def test_new_parts_round_trip_through_json(kw):
    m = inr.INR(width=8, depth=2, seed=4, **kw)
    cfg = inr.ModelConfig.from_json(m.config.to_json())
    assert cfg == m.config
    rebuilt = inr.INR.from_config(cfg)
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), rebuilt.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(m.buffers(), rebuilt.buffers()))


@pytest.mark.parametrize("kw, vary", [
    (dict(activation="gabor"), "first_omega"),
    (dict(activation="gabor"), "scale"),
    (dict(activation="gauss"), "sigma"),
    (dict(activation="finer"), "first_omega"),
    (dict(activation="relu", encoding="hash", levels=3, table_size=64, max_res=16), None),
    (dict(activation="relu", encoding="hash", levels=3, table_size=64, min_res=8), "max_res"),
])
def test_batched_network_computes_each_models_own_function(kw, vary):
    base = {"first_omega": 10.0, "scale": 3.0, "sigma": 0.3, "max_res": 16}  # equal table sizes
    models = [inr.INR(width=8, depth=2, seed=i, **kw, **({vary: base[vary] * (i + 1)} if vary else {}))
              for i in range(3)]
    for m in models:  # tables far from their init, so that the hash grids differ visibly
        if m.encoding is not None:
            with torch.no_grad():
                m.encoding.table.normal_()
    x = torch.rand(30, 2) * 2 - 1
    net = inr.INR.stack(models)
    want = torch.stack([m(x) for m in models]).detach()
    got = net(x)
    assert not got.is_complex() and torch.allclose(got.detach(), want, atol=1e-5)
    own = torch.stack([x, -x, 0.5 * x])
    want = torch.stack([m(xi) for m, xi in zip(models, own)]).detach()
    assert torch.allclose(net(own).detach(), want, atol=1e-5)


@pytest.mark.parametrize("kw", [
    dict(activation="relu", encoding="hash", levels=3, table_size=64, max_res=16),
    dict(activation="gabor"),
])
def test_fit_many_trains_hash_tables_and_complex_weights_like_fit(kw):
    img = inr.load_image("camera", size=12)
    make = lambda: [inr.INR(width=8, depth=2, seed=i, **kw) for i in range(2)]
    batch, alone = make(), make()
    hb = inr.fit_many(batch, img, steps=15, lr=5e-3)
    hs = [inr.fit(m, img, steps=15, lr=5e-3) for m in alone]
    for a, b, ma, mb in zip(hb, hs, batch, alone):
        assert a.loss == pytest.approx(b.loss, rel=1e-4)
        for (n, p), q in zip(ma.named_parameters(), mb.parameters()):
            assert torch.allclose(p, q, atol=1e-5), n
    if kw.get("encoding") == "hash":
        assert not torch.equal(batch[0].encoding.table, make()[0].encoding.table)


# --- the chapter's helpers (inrlib.book.comparison) ------------------------------------------

def test_comparison_helpers():
    from inrlib.book import comparison as cmp

    wire = inr.INR(activation="gabor", width=8, depth=2, seed=0)
    real = sum(p.numel() for p in wire.parameters())
    assert cmp.count_parameters(wire) == real + sum(p.numel() for p in wire.parameters() if p.is_complex())
    budget = cmp.count_parameters(inr.siren(width=32, depth=3))
    w, n = cmp.match_budget(lambda w: inr.INR(activation="gabor", width=w, depth=3), budget, range(8, 64))
    assert abs(n - budget) / budget < 0.05 and 20 < w < 32  # about 32 / sqrt(2)
    with pytest.raises(ValueError, match="at least one"):
        cmp.match_budget(lambda w: None, 10, [])
    img = inr.load_image("camera", size=16)
    noisy = cmp.noisy_copy(img, 0.1, seed=1)
    assert (noisy.values - img.values).std().item() == pytest.approx(0.1, rel=0.15)
    assert torch.equal(noisy.values, cmp.noisy_copy(img, 0.1, seed=1).values)
    assert cmp.winners({"a": 1.0, "b": 3.0, "c": None}) == ["b"]
    assert cmp.winners({"a": 1, "b": 1, "c": 2}, higher_is_better=False) == ["a", "b"]
    assert cmp.check_setting("SIREN", 30, 100) is None
    assert "between" in cmp.check_setting("ReLU + PE", 30, 100)
    assert "whole number" in cmp.check_setting("hash grid", 100.5, 100)
    assert "unknown method" in cmp.check_setting("MLP", 1, 1)
    d = cmp.derivative_scores(inr.relu_mlp(width=8, depth=2, seed=0), img)
    assert d["laplacian"] == 0.0 and -1 <= d["gradient"] <= 1
