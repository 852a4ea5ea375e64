"""Init schemes: the SIREN variants of the initialisation study and bias-free networks."""
import math

import pytest
import torch

import inrlib as inr
import inrlib
from inrlib.book import init_study


def _pair(name, **kw):
    return (inr.siren(width=64, depth=3, init="paper", seed=7, **kw),
            inr.siren(width=64, depth=3, init=name, seed=7, **kw))


def test_every_seed001_scheme_is_registered_and_builds():
    for name in list(init_study.STUDY_SCHEMES) + ["no_omega_division", "wide_first"]:
        m = inr.siren(width=16, depth=2, init=name, seed=0)
        assert torch.isfinite(m(torch.rand(8, 2))).all(), name
    assert {"paper", "pytorch"} <= set(inr.INITS)


@pytest.mark.parametrize("name,factor", [("bias_div10", 0.1), ("bias_div15", 1 / 15),
                                         ("bias_div30", 1 / 30), ("bias_zero", 0.0)])
def test_bias_scaled_schemes_only_scale_the_papers_biases(name, factor):
    paper, other = _pair(name)
    for a, b in zip(paper.linears, other.linears):
        assert torch.equal(a.weight, b.weight)  # same draw of the weights
        assert torch.allclose(b.bias, a.bias * factor, atol=1e-7)
    assert paper.linears[1].bias.abs().max() > 0.9 / math.sqrt(64)  # PyTorch's U(+-1/sqrt(n))


def test_first_bias_zero_others_divided():
    paper, other = _pair("bias_first0_div10")
    assert torch.count_nonzero(other.linears[0].bias) == 0
    assert torch.allclose(other.linears[2].bias, paper.linears[2].bias / 10)


def test_bias_phase_is_uniform_over_plus_minus_pi_over_omega():
    m = inr.siren(width=2048, depth=2, init="bias_phase_pi", hidden_omega=20, first_omega=30, seed=0)
    b0, b1 = m.linears[0].bias * 30, m.linears[1].bias * 20  # phases omega * b
    for phase in (b0, b1):
        assert phase.abs().max() <= math.pi + 1e-5 and phase.abs().max() > 0.99 * math.pi
        assert phase.std().item() == pytest.approx(math.pi / math.sqrt(3), rel=0.05)


def test_first_layer_laws_and_scales():
    n = 2
    w = inr.siren(width=20000, depth=1, init="first_uniform_3", seed=0).linears[0].weight
    assert w.abs().max() <= 3 / n and w.abs().max() > 0.99 * 3 / n
    w = inr.siren(width=20000, depth=1, init="first_normal_1.5", seed=0).linears[0].weight
    assert w.std().item() == pytest.approx(1.5 / n, rel=0.03)
    assert w.abs().max() > 1.5 / n * 3  # a normal law has tails beyond the uniform's bound
    w = inr.siren(width=20000, depth=1, init="first_normal", seed=0).linears[0].weight
    assert w.std().item() == pytest.approx(1 / n, rel=0.03)


def test_hidden_layer_variants():
    m = inr.siren(width=256, depth=2, init="normal_half", seed=0)
    assert m.linears[1].weight.std().item() == pytest.approx(0.5 * math.sqrt(6 / 256) / 30, rel=0.03)
    m = inr.siren(width=256, depth=2, init="no_omega_division", seed=0)
    bound = math.sqrt(6 / 256)
    assert bound * 0.99 < m.linears[1].weight.abs().max() <= bound
    m = inr.siren(width=256, depth=2, init="wide_first", seed=0)
    assert m.linears[0].weight.abs().max() > 0.99 * 10 / 2


def test_siren_scheme_rejects_bad_settings():
    with pytest.raises(ValueError, match="first and hidden"):
        inrlib.init.siren_scheme(first="cauchy")
    with pytest.raises(ValueError, match="first_scale"):
        inrlib.init.siren_scheme(first_scale=0)
    with pytest.raises(ValueError, match="bias scales"):
        inrlib.init.siren_scheme(bias_scale=-1)
    with pytest.raises(ValueError, match="bias_phase"):
        inrlib.init.siren_scheme(bias_phase=math.pi, bias_scale=0.5)


def test_custom_variant_via_register_init():
    inr.register_init("test_bias_half")(inrlib.init.siren_scheme(bias_scale=0.5))
    paper, other = _pair("test_bias_half")
    assert torch.allclose(other.linears[1].bias, paper.linears[1].bias / 2)
    del inr.INITS["test_bias_half"]


def test_bias_free_network_is_odd_and_accepts_every_scheme():
    for name in ("paper", "pytorch", "bias_div15", "bias_phase_pi"):
        m = inr.siren(width=32, depth=3, bias=False, init=name, seed=0)
        assert all(lin.bias is None for lin in m.linears)
        x = torch.rand(50, 2) * 2 - 1
        assert torch.allclose(m(-x), -m(x), atol=1e-6)
    assert inr.siren(width=8, depth=1, bias=False).config.bias is False
