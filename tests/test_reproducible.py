"""Fixed seeds give the same numbers: final losses of small fits, recorded from inrlib 0.2.0 at
main f4962f6 (before the models, losses and training loop were restructured), on a CPU with one
thread. The restructured code reproduced every one of them bit for bit when it was written; the
tolerance here (1e-6 relative) only allows for another CPU's summation order."""
import pytest
import torch

import inrlib as inr
from inrlib.book import poisson, sdf, shapes

RECORDED = {
    "fit_siren": 0.23611176013946533,
    "fit_pe_minibatch": 0.28411632776260376,
    "fit_many": [0.19480666518211365, 0.1939466893672943, 0.240556001663208],
    "fit_many_hash": [0.273183673620224, 0.2607637345790863],
    "poisson": 0.9801501035690308,
    "poisson_many": [0.9583740830421448, 0.9280495047569275],
    "sdf": 1152.5,
}


@pytest.fixture(scope="module")
def image():
    return inr.load_image("camera", size=16)


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def finals(hists):
    return [h.loss[-1] for h in hists]


def test_fit(image):
    h = inr.fit(inr.siren(width=16, depth=2, seed=0), image, steps=12, lr=1e-3, progress=False)
    assert h.loss[-1] == pytest.approx(RECORDED["fit_siren"], rel=1e-6)
    h = inr.fit(inr.relu_mlp(L=4, width=16, depth=2, seed=1), image, steps=12, lr=1e-3,
                batch_size=100, progress=False)
    assert h.loss[-1] == pytest.approx(RECORDED["fit_pe_minibatch"], rel=1e-6)


def test_fit_many(image):
    ms = [inr.siren(width=16, depth=2, seed=i, first_omega=10.0 * (i + 1)) for i in range(3)]
    hs = inr.fit_many(ms, image, steps=12, lr=1e-3, progress=False)
    assert finals(hs) == pytest.approx(RECORDED["fit_many"], rel=1e-6)
    ms = [inr.INR(activation="relu", encoding="hash", levels=3, table_size=64, max_res=16,
                  width=8, depth=2, seed=i) for i in range(2)]
    hs = inr.fit_many(ms, image, steps=8, lr=5e-3, progress=False)
    assert finals(hs) == pytest.approx(RECORDED["fit_many_hash"], rel=1e-6)


def test_derivative_and_sdf_losses(image):
    t = poisson.derivative_targets(image)
    loss = poisson.derivative_loss(t, value=0.0, grad=1.0, lap=0.1)
    h = inr.fit(inr.siren(width=16, depth=2, seed=2), image.coords, t, steps=8, lr=1e-3,
                loss=loss, progress=False)
    assert h.loss[-1] == pytest.approx(RECORDED["poisson"], rel=1e-6)
    ms = [inr.siren(width=16, depth=2, seed=3) for _ in range(2)]
    hs = inr.fit_many(ms, image.coords, t, steps=6, lr=1e-3, progress=False,
                      loss=poisson.derivative_loss(t, value=[1.0, 0.0], grad=[0.0, 1.0]))
    assert finals(hs) == pytest.approx(RECORDED["poisson_many"], rel=1e-6)
    pts, nrm = shapes.torus().sample(200, seed=0)
    h = inr.fit(inr.siren(in_features=3, width=16, depth=2, seed=4), pts, nrm, steps=6, lr=1e-4,
                loss=sdf.sdf_loss(), batch_size=100, progress=False)
    assert h.loss[-1] == pytest.approx(RECORDED["sdf"], rel=1e-6)
    assert set(h.terms) == {"surface", "normal", "eikonal", "off"}  # logged by name
