import pytest
import torch

import inrlib as inr


@pytest.fixture(scope="module")
def image():
    return inr.load_image("camera", size=12)


def configs():
    sirens = [inr.siren(width=8, depth=1, first_omega=w, seed=i).config
              for i, w in enumerate((10.0, 20.0, 30.0))]
    relus = [inr.relu_mlp(L=2, width=8, depth=1, seed=i).config for i in range(2)]
    return [sirens[0], relus[0], sirens[1], relus[1], sirens[2]]  # interleaved on purpose


def test_local_sweep_equals_fit_many_in_order(image):
    cfgs = configs()
    res = inr.sweep(cfgs, image, steps=5, lr=1e-3, batch=2)
    assert [r.config for r in res] == cfgs
    models = [inr.INR.from_config(c) for c in cfgs[0::2]]
    hists = inr.fit_many(models, image, steps=5, lr=1e-3)
    for r, h, m in zip(res[0::2], hists, models):
        assert r.history.loss == pytest.approx(h.loss, rel=1e-5)
        assert r.history.psnr[-1] is not None  # the Signal's data range
        assert torch.allclose(r.model().linears[0].weight, m.linears[0].weight, atol=1e-6)


def test_sweep_rejects_bad_input(image):
    with pytest.raises(ValueError, match="at least one"):
        inr.sweep([], image, steps=1)
    with pytest.raises(TypeError, match="ModelConfig"):
        inr.sweep([inr.siren(width=8, depth=1)], image, steps=1)
    with pytest.raises(ValueError, match="backend"):
        inr.sweep(configs(), image, steps=1, backend="dask")
    with pytest.raises(ValueError, match="batch"):
        inr.sweep(configs(), image, steps=1, batch=0)


def test_ray_sweep_on_a_local_cluster_equals_the_local_path(image):
    ray = pytest.importorskip("ray")
    cfgs = configs()
    local = inr.sweep(cfgs, image, steps=4, lr=1e-3, batch=2)
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except Exception as err:  # Ray's own start-up (its agents give up after 15 s on a busy machine)
        if "timed out during startup" in str(err):
            pytest.skip(f"Ray could not start a local cluster here: {err}")
        raise
    try:
        remote = inr.sweep(cfgs, image, steps=4, lr=1e-3, batch=2, backend="ray")
    finally:
        ray.shutdown()
    for a, b in zip(local, remote):
        assert a.config == b.config
        assert a.history.loss == pytest.approx(b.history.loss, rel=1e-5)
        for k in a.state:
            assert torch.allclose(a.state[k], b.state[k], atol=1e-6), k


def test_sweep_batches_what_fit_many_can_batch():
    """One batch key (ModelConfig.batch_key) for both: configs that differ only in values
    (WIRE's scale, omegas, seeds) share a batch; a different width starts another."""
    from inrlib.sweep import _batches

    cfgs = [inr.INR(activation="gabor", width=8, depth=2, scale=s, seed=i).config
            for i, s in enumerate((5.0, 10.0, 20.0))]
    cfgs.append(inr.INR(activation="gabor", width=16, depth=2).config)
    assert _batches(cfgs, 16) == [[0, 1, 2], [3]]
    models = [inr.INR.from_config(c) for c in cfgs[:3]]
    inr.fit_many(models, torch.rand(10, 2), torch.rand(10, 1), steps=1)  # fit_many agrees
