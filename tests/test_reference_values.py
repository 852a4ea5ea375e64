"""Values written down from the sources, not from inrlib's own constants: the spatial hash's
primes (Mueller et al. 2022, Instant-NGP, Sec. 3), SIREN's initialisation bounds (Sitzmann et
al. 2020, Sec. 3.2 and the supplement), NeRF's positional-encoding frequencies 2^k pi
(Mildenhall et al. 2020, Eq. 4), and each model kind's output against a hand computation of a
small network (2 units a layer) from its weights, read through the public API.
"""
import math

import numpy as np
import pytest
import torch

import inrlib as inr
from inrlib.encodings import spatial_hash

# Instant-NGP, Sec. 3: pi_1 = 1, pi_2 = 2654435761, pi_3 = 805459861 (written out here on purpose)
PRIMES = (1, 2654435761, 805459861)
X = torch.tensor([[0.1, -0.3], [0.7, 0.2], [-0.9, 0.95], [0.0, 0.0]])


def _hash(cell, table_size):
    """The paper's hash in the authors' uint32 arithmetic: XOR of x_i pi_i, mod T."""
    h = 0
    for x, p in zip(cell, PRIMES):
        h ^= (int(x) * p) & 0xFFFFFFFF
    return h % table_size


@pytest.mark.parametrize("d", [1, 2, 3])
def test_spatial_hash_uses_the_papers_primes(d):
    cells = torch.randint(0, 5000, (200, d), generator=torch.Generator().manual_seed(d))
    for table in (2**10, 2**14, 2**19):  # powers of two, as in the paper
        want = [_hash(c.tolist(), table) for c in cells]
        assert spatial_hash(cells, table).tolist() == want


def test_siren_initialisation_bounds():
    """First layer U(+-1/n), hidden and output layers U(+-sqrt(6/n)/omega_hidden), n = fan_in."""
    m = inr.siren(in_features=2, width=256, depth=3, first_omega=10.0, hidden_omega=20.0, seed=3)
    for i, lin in enumerate(m.linears):
        w = lin.weight.detach().double()
        n = w.shape[1]
        bound = 1 / n if i == 0 else math.sqrt(6 / n) / 20.0
        assert w.abs().max() <= bound * (1 + 1e-6), (i, float(w.abs().max()), bound)
        assert w.abs().max() > 0.9 * bound, (i, float(w.abs().max()), bound)  # fills the range
        if w.numel() >= 500:  # uniform: std = bound / sqrt(3)
            assert float(w.std()) == pytest.approx(bound / math.sqrt(3), rel=0.1), i


def test_positional_encoding_frequencies_are_powers_of_two_times_pi():
    enc = inr.PositionalEncoding(1, L=4)
    x = torch.tensor([[0.25]])
    out = enc(x)[0].double()
    freqs = [math.pi, 2 * math.pi, 4 * math.pi, 8 * math.pi]  # 2^k pi, k = 0..3
    want = [0.25] + [math.sin(f * 0.25) for f in freqs] + [math.cos(f * 0.25) for f in freqs]
    assert out.tolist() == pytest.approx(want, abs=1e-6)


# ---------------------------------------------------------------- each model kind, by hand

def _w(lin):
    return lin.weight.detach().numpy().astype(np.complex128 if lin.weight.is_complex() else np.float64)


def _b(lin):
    return lin.bias.detach().numpy().astype(np.complex128 if lin.bias.is_complex() else np.float64)


def _mlp(model, h, act):
    """Hidden layers with act(z, layer index), then the linear output layer (real part)."""
    for i, lin in enumerate(model.linears[:-1]):
        h = act(h @ _w(lin).T + _b(lin), i)
    out = h @ _w(model.linears[-1]).T + _b(model.linears[-1])
    return np.real(out)


def _posenc(x, L):
    angles = np.concatenate([2.0**k * math.pi * x for k in range(L)], axis=1)  # k-major, as documented
    return np.concatenate([x, np.sin(angles), np.cos(angles)], axis=1)


def _hash_encoding(x, enc, levels, min_res, max_res, table_size, features):
    """Instant-NGP's encoding written out: per level, N_l = floor(N_min b^l), the cell's four
    corners' rows (dense row-major when (N_l + 1)^2 <= T, else the hash), bilinear weights."""
    b = math.exp((math.log(max_res) - math.log(min_res)) / (levels - 1))
    table = enc.table.detach().double().numpy()
    out, offset = [], 0
    for lvl in range(levels):
        n = math.floor(min_res * b**lvl + 1e-9)
        dense = (n + 1) ** 2 <= table_size
        rows_here = (n + 1) ** 2 if dense else table_size
        feats = np.zeros((x.shape[0], features))
        for p, pt in enumerate(x):
            pos = (pt + 1) / 2 * n
            cell = np.minimum(np.floor(pos), n - 1).astype(int)
            frac = pos - cell
            for c0 in (0, 1):
                for c1 in (0, 1):
                    v = (cell[0] + c0, cell[1] + c1)
                    row = v[0] * (n + 1) + v[1] if dense else _hash(v, table_size)
                    weight = (frac[0] if c0 else 1 - frac[0]) * (frac[1] if c1 else 1 - frac[1])
                    feats[p] += weight * table[offset + row]
        out.append(feats)
        offset += rows_here
    return np.concatenate(out, axis=1)


def _by_hand(kind, model):
    x = X.double().numpy()
    act = model.config.activation
    if kind in ("sine", "finer"):
        omegas = (act["first_omega"], act["hidden_omega"])

        def f(z, i):
            u = omegas[min(i, 1)] * z
            return np.sin(u) if kind == "sine" else np.sin(omegas[min(i, 1)] * (np.abs(z) + 1) * z)
        return _mlp(model, x, f)
    if kind == "gabor":
        omegas, s = (act["first_omega"], act["hidden_omega"]), act["scale"]
        return _mlp(model, x, lambda z, i: np.exp(1j * omegas[min(i, 1)] * z - (s * np.abs(z)) ** 2))
    if kind == "gauss":
        return _mlp(model, x, lambda z, i: np.exp(-z**2 / (2 * act["sigma"] ** 2)))
    relu = lambda z, i: np.maximum(z, 0)  # noqa: E731
    if kind == "relu":
        return _mlp(model, x, relu)
    if kind == "posenc":
        return _mlp(model, _posenc(x, model.config.encoding["L"]), relu)
    if kind == "fourier":
        proj = 2 * math.pi * x @ model.encoding.B.detach().double().numpy().T
        return _mlp(model, np.concatenate([np.cos(proj), np.sin(proj)], axis=1), relu)
    if kind == "hash":
        e = model.config.encoding
        return _mlp(model, _hash_encoding(x, model.encoding, e["levels"], e["min_res"], e["max_res"],
                                          e["table_size"], e["features"]), relu)
    raise AssertionError(kind)


KINDS = {
    "sine": dict(activation="sine", first_omega=7.0, hidden_omega=3.0),
    "finer": dict(activation="finer", first_omega=7.0, hidden_omega=3.0),
    "gabor": dict(activation="gabor", first_omega=5.0, hidden_omega=2.0, scale=1.5),
    "gauss": dict(activation="gauss", sigma=0.8),
    "relu": dict(activation="relu"),
    "posenc": dict(activation="relu", encoding="posenc", L=3),
    "fourier": dict(activation="relu", encoding="fourier", sigma=2.0, n_features=3),
    "hash": dict(activation="relu", encoding="hash", levels=2, min_res=2, max_res=8, table_size=16,
                 features=2),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_model_matches_a_hand_computation(kind):
    model = inr.INR(in_features=2, out_features=1, width=2, depth=2, seed=11, **KINDS[kind])
    if kind == "hash":  # the paper's U(+-1e-4) table is too small to see: make every row count
        with torch.no_grad():
            model.encoding.table.uniform_(-1, 1, generator=torch.Generator().manual_seed(0))
    want = _by_hand(kind, model)
    got = model(X).detach().double().numpy()
    assert got.shape == (len(X), 1)
    assert np.abs(want).max() > 1e-3, "the hand computation is degenerate"
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_the_hash_level_is_really_hashed():
    """The hand computation above goes through both a dense and a hashed level."""
    m = inr.INR(activation="relu", encoding="hash", levels=2, min_res=2, max_res=8, table_size=16,
                features=2, width=2, depth=1, seed=0)
    assert m.encoding.table.shape == (9 + 16, 2)
