import numpy as np
import pytest
import torch
from skimage.transform import resize

import inrlib as inr
from inrlib.book import images


def test_every_other_pixel_is_a_checkerboard():
    m = images.every_other_pixel((4, 6)).reshape(4, 6)
    assert m.sum() == 12 and m[0, 0] and not m[0, 1] and not m[1, 0] and m[1, 1]
    # each held-out pixel's neighbours are all training pixels
    held = (~m).nonzero()
    for i, j in held.tolist():
        for di, dj in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            if 0 <= i + di < 4 and 0 <= j + dj < 6:
                assert m[i + di, j + dj]
    with pytest.raises(ValueError):
        images.every_other_pixel((5,))


def test_pixel_centres_match_skimage_resize_convention():
    # same size: exactly the training grid
    assert torch.allclose(images.pixel_centres((8, 8), (8, 8)), inr.grid((8, 8)), atol=1e-6)
    # a linear ramp sampled at pixel centres and upsampled by resize (order 1) equals the ramp
    # evaluated at pixel_centres: both use the pixel-area convention
    n, big = 8, 32
    lin = np.linspace(-1, 1, n)
    ramp = np.add.outer(lin, 0 * lin)
    up = resize(ramp, (big, big), order=1, mode="edge", anti_aliasing=False)
    x = images.pixel_centres((big, big), (n, n))[:, 0].reshape(big, big).numpy()
    inner = slice(big // n, -big // n)  # away from the border, where resize clamps
    assert np.allclose(up[inner, inner], x[inner, inner], atol=1e-5)
    assert x.min() < -1 and x.max() > 1  # border centres lie just outside the training grid
    # other ranges are mapped linearly
    c01 = images.pixel_centres((16, 16), (4, 4), (0, 1))
    assert torch.allclose(c01, (images.pixel_centres((16, 16), (4, 4)) + 1) / 2, atol=1e-6)


def test_derivative_maps_of_a_relu_net_and_a_siren():
    coords = inr.grid((10, 10))
    relu = inr.relu_mlp(width=16, depth=2, seed=0)
    g, lap = images.derivative_maps(relu, coords, (10, 10), chunk=33)
    assert g.shape == lap.shape == (10, 10) and np.abs(lap).max() < 1e-6 and g.max() > 0
    sine = inr.siren(width=16, depth=2, seed=0)
    g, lap = images.derivative_maps(sine, coords, (10, 10))
    assert np.abs(lap).max() > 1e-2
    # the gradient magnitude matches a finite difference
    x = torch.tensor([[0.1, -0.2]])
    e = 1e-3
    with torch.no_grad():
        fd = [(sine(x + e * d) - sine(x - e * d)).item() / (2 * e) for d in torch.eye(2)]
    g1, _ = images.derivative_maps(sine, x, (1, 1))
    assert abs(g1[0, 0] - np.hypot(*fd)) < 1e-2 * max(1.0, np.hypot(*fd))
    with pytest.raises(ValueError, match="scalar"):
        images.derivative_maps(inr.siren(out_features=3, width=8, depth=1), coords, (10, 10))


def test_check_config_names_the_problem():
    assert images.check_config() is None
    assert images.check_config(model="ReLU + PE", L=6) is None
    # ReLU networks have no ω0: whatever the (greyed-out) sliders hold is ignored, not refused
    assert images.check_config(model="ReLU", first_omega=100, hidden_omega=3) is None
    assert images.check_config(model="ReLU + PE", first_omega=31.6, L=4) is None
    assert "L = 0" in images.check_config(model="ReLU + PE", L=0)
    assert "depth" in images.check_config(depth=9)
    assert "too slow" in images.check_config(width=1024, depth=8, steps=3000, image_size=256)
    assert "hidden ω0" in images.check_config(hidden_omega=300, depth=8)
    assert "unknown model" in images.check_config(model="MLP")


def test_check_config_budget_follows_the_device():
    # the full profile's live defaults (128 px, width 64, depth 3, 500 steps): a GPU's minute
    settings = dict(width=64, depth=3, steps=500, image_size=128)
    assert "too slow" in images.check_config(**settings)
    assert images.check_config(**settings, device="cuda") is None
    assert images.check_config(**settings, device=torch.device("cuda:0")) is None
