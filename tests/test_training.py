import math

import pytest
import torch

import inrlib as inr


@pytest.fixture(scope="module")
def image():
    return inr.load_image("camera", size=24)


def test_fit_learns_and_records_history(image):
    m = inr.siren(width=32, depth=2, seed=0)
    h = inr.fit(m, image, steps=150, lr=1e-3)
    assert len(h.loss) == len(h.psnr) == len(h.seconds) == 150
    assert h.loss[-1] < 0.2 * h.loss[0]
    assert h.final_psnr == pytest.approx(inr.psnr(inr.predict(m, image.coords), image.values,
                                                  data_range=2.0), abs=1.5)
    assert h.steps_to(psnr=h.psnr[10]) <= 11
    assert h.steps_to(psnr=1e3) is None
    assert h.seconds == sorted(h.seconds) and h.seconds_per_step > 0
    with pytest.raises(ValueError, match="exactly one"):
        h.steps_to()


def test_fit_is_deterministic_on_cpu(image):
    runs = [inr.fit(inr.relu_mlp(L=3, width=16, depth=2, seed=1), image, steps=30, lr=1e-3,
                    batch_size=100, seed=5).loss for _ in range(2)]
    assert runs[0] == runs[1]


def test_minibatch_lr_decay_and_adamw(image):
    m = inr.relu_mlp(width=16, depth=2, seed=0)
    h = inr.fit(m, image, steps=60, lr=1e-2, batch_size=128, optimizer="adamw",
                weight_decay=1e-4, lr_decay=(20, 0.5))
    assert h.loss[-1] < h.loss[0]


def test_custom_loss_fn_has_no_psnr(image):
    m = inr.siren(width=16, depth=1)
    h = inr.fit(m, image, steps=5, loss_fn=lambda model, x, y: (model(x) - y).abs().mean())
    assert h.psnr == [None] * 5


def test_nan_loss_stops_with_a_clear_error(image):
    m = inr.siren(width=16, depth=2)
    with pytest.raises(FloatingPointError, match="at step 3"):
        inr.fit(m, image, steps=10, loss_fn=lambda model, x, y: model(x).mean() * (
            float("nan") if loss_step() >= 3 else 1.0))


_count = {"n": 0}


def loss_step():
    _count["n"] += 1
    return _count["n"]


def test_nan_targets_are_rejected(image):
    bad = image.values.clone()
    bad[3] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        inr.fit(inr.siren(width=8, depth=1), image.coords, bad, steps=2)


def test_bad_arguments(image):
    m = inr.siren(width=8, depth=1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        inr.fit(m, image, steps=2, optimizer="sgd9")
    with pytest.raises(ValueError, match="coordinates but"):
        inr.fit(m, image.coords, image.values[:10], steps=2)


def test_predict_in_chunks_matches_full(image):
    m = inr.siren(width=16, depth=2)
    full = m(image.coords).detach()
    assert torch.allclose(inr.predict(m, image.coords, chunk=37), full, atol=1e-6)


def test_fit_many_equals_sequential_fits(image):
    omegas = [10.0, 30.0, 60.0]
    batch = [inr.siren(width=16, depth=2, first_omega=w, seed=i) for i, w in enumerate(omegas)]
    alone = [inr.siren(width=16, depth=2, first_omega=w, seed=i) for i, w in enumerate(omegas)]
    hb = inr.fit_many(batch, image.coords, image.values, steps=40, lr=1e-3, data_range=2.0)
    hs = [inr.fit(m, image, steps=40, lr=1e-3) for m in alone]
    for a, b, ma, mb in zip(hb, hs, batch, alone):
        assert a.loss[-1] == pytest.approx(b.loss[-1], rel=1e-3)
        assert torch.allclose(ma.linears[1].weight, mb.linears[1].weight, atol=1e-5)


def test_fit_many_rejects_mixed_shapes(image):
    with pytest.raises(ValueError, match="identical architecture"):
        inr.fit_many([inr.siren(width=8, depth=1), inr.siren(width=16, depth=1)],
                     image.coords, image.values, steps=1)
