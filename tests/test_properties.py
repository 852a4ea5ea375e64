"""Property-based tests (Hypothesis): generated model configurations build, survive the JSON
round trip and rebuild bit for bit from a seed; generated bad values raise the documented error
types (TypeError for a value of the wrong kind, ValueError for one out of its domain)."""
import json
import math
import os
import tempfile

# Hypothesis caches (e.g. its Unicode tables) outside the repository, in a scratch folder.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="inrlib-hypothesis-"))

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import inrlib as inr  # noqa: E402

# Model builds take milliseconds but vary with the machine's load: no deadline (no timed tests).
# No example database: nothing is written into the repository (.hypothesis/).
FAST = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

omega = st.floats(1.0, 60.0)


@st.composite
def activations(draw):
    name = draw(st.sampled_from(["sine", "finer", "relu", "gauss", "gabor", "tanh"]))
    if name in ("sine", "finer"):
        return {"name": name, "first_omega": draw(omega), "hidden_omega": draw(omega)}
    if name == "gabor":
        return {"name": name, "first_omega": draw(omega), "hidden_omega": draw(omega),
                "scale": draw(st.floats(0.5, 20.0))}
    if name == "gauss":
        return {"name": name, "sigma": draw(st.floats(0.05, 2.0))}
    return {"name": name}


@st.composite
def encodings(draw, in_features):
    name = draw(st.sampled_from([None, "posenc", "fourier", "hash"]))
    if name is None:
        return None
    if name == "posenc":
        return {"name": name, "L": draw(st.integers(1, 4)), "include_input": draw(st.booleans())}
    if name == "fourier":
        return {"name": name, "sigma": draw(st.floats(0.5, 10.0)),
                "n_features": draw(st.integers(1, 8))}
    lo = draw(st.integers(1, 4))
    return {"name": name, "levels": draw(st.integers(1, 3)), "table_size": draw(st.integers(4, 64)),
            "features": draw(st.integers(1, 2)), "min_res": lo, "max_res": draw(st.integers(lo, 12))}


@st.composite
def configs(draw, seeded=True):
    d = draw(st.integers(1, 3))
    kw = dict(in_features=d, out_features=draw(st.integers(1, 3)), width=draw(st.integers(1, 12)),
              depth=draw(st.integers(1, 3)), bias=draw(st.booleans()),
              output=draw(st.sampled_from(["linear", "sigmoid"])),
              seed=draw(st.integers(0, 2**31 - 1)) if seeded else None)
    return inr.ModelConfig.build(activation=draw(activations()), encoding=draw(encodings(d)), **kw)


def _same(a: inr.INR, b: inr.INR):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    for (n, p), (_, q) in zip(a.named_buffers(), b.named_buffers()):
        assert torch.equal(p, q), n


@FAST
@given(cfg=configs())
def test_generated_configs_build_round_trip_and_rebuild_bitwise(cfg):
    model = inr.INR.from_config(cfg)
    text = cfg.to_json()
    assert inr.ModelConfig.from_json(text) == cfg
    assert json.loads(text) == json.loads(model.config.to_json())
    for source in (text, cfg, json.loads(text)):  # JSON text, the config, its dict
        _same(model, inr.INR.from_config(source))
    x = torch.rand(5, cfg.in_features, generator=torch.Generator().manual_seed(0)) * 2 - 1
    again = inr.INR.from_config(text)
    y = model(x)
    assert y.shape == (5, cfg.out_features) and torch.isfinite(y).all()
    assert torch.equal(y, again(x))


@FAST
@given(cfg=configs(seeded=False), seed=st.integers(0, 2**31 - 1))
def test_unseeded_models_follow_the_global_generator(cfg, seed):
    """Without a seed, torch.manual_seed before the build reproduces a model; the next build
    draws new weights (an ensemble built without seeds is not one model copied)."""
    torch.manual_seed(seed)
    a, b = inr.INR.from_config(cfg), inr.INR.from_config(cfg)
    torch.manual_seed(seed)
    _same(a, inr.INR.from_config(cfg))
    sa, sb = a.state_dict(), b.state_dict()
    weights = [k for k in sa if sa[k].is_floating_point() or sa[k].is_complex()]
    if sum(sa[k].numel() for k in weights) >= 4:
        assert any(not torch.equal(sa[k], sb[k]) for k in weights)


# ------------------------------------------------------------------- bad values, generated

whole_fields = st.sampled_from(["in_features", "out_features", "width", "depth"])
not_numbers = st.one_of(st.text(max_size=4), st.none(), st.lists(st.integers(), max_size=2),
                        st.booleans())
not_whole = st.floats(allow_nan=False, allow_infinity=False).filter(lambda v: v != int(v))


@FAST
@given(field=whole_fields, value=st.one_of(not_numbers, not_whole, st.just(8.0)))
def test_sizes_of_the_wrong_kind_are_type_errors(field, value):
    with pytest.raises(TypeError, match=field):
        inr.ModelConfig(**{field: value})


@FAST
@given(field=whole_fields, value=st.integers(max_value=0))
def test_sizes_below_one_are_value_errors(field, value):
    with pytest.raises(ValueError, match=field):
        inr.ModelConfig(**{field: value})


@FAST
@given(value=st.one_of(st.text(max_size=4), st.integers(), st.floats(allow_nan=False)))
def test_bias_must_be_a_bool_even_in_json(value):
    text = json.dumps({**json.loads(inr.ModelConfig(width=4, depth=1).to_json()), "bias": value})
    with pytest.raises(TypeError, match="bias"):
        inr.ModelConfig.from_json(text)


@FAST
@given(value=st.one_of(st.integers(max_value=-1), not_whole))
def test_bad_seeds(value):
    err = ValueError if isinstance(value, int) else TypeError
    with pytest.raises(err, match="seed"):
        inr.ModelConfig(width=4, depth=1, seed=value)


@FAST
@given(value=st.one_of(st.floats(max_value=0.0), st.just(math.nan), st.just(math.inf)))
def test_psnr_data_range_out_of_domain(value):
    t = torch.rand(8, 1)
    with pytest.raises(ValueError, match="data_range"):
        inr.psnr(t, t + 0.1, data_range=value)
    with pytest.raises(ValueError, match="data_range"):
        inr.psnr_from_mse(0.01, value)


@FAST
@given(shape=st.lists(st.one_of(not_whole, st.text(max_size=2), st.booleans()), min_size=1, max_size=3))
def test_grid_shapes_of_the_wrong_kind(shape):
    with pytest.raises(TypeError, match="grid shape"):
        inr.grid(tuple(shape))


@FAST
@given(option=st.sampled_from(["levels", "table_size", "features", "min_res", "max_res"]),
       value=st.one_of(st.integers(max_value=0), not_whole))
def test_hash_grid_options_out_of_domain(option, value):
    with pytest.raises(ValueError, match=option):
        inr.HashGrid(2, **{option: value})


@FAST
@given(option=st.sampled_from(["levels", "table_size", "features"]), value=not_numbers)
def test_hash_grid_options_of_the_wrong_kind(option, value):
    with pytest.raises(TypeError, match=option):
        inr.HashGrid(2, **{option: value})


@FAST
@given(a=st.integers(1, 5), b=st.integers(1, 5))
def test_metrics_never_broadcast(a, b):
    if a == b:
        return
    with pytest.raises(ValueError, match="shapes differ"):
        inr.mse(torch.zeros(a, 1), torch.zeros(b, 1))
    with pytest.raises(ValueError, match="shapes differ"):
        inr.mse(torch.zeros(a, 1), torch.zeros(a))  # (N, 1) against (N,): no (N, N) comparison
