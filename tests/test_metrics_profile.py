import numpy as np
import pytest

import inrlib as inr
from inrlib.book import profiles


def test_psnr_uses_the_data_range():
    t = np.zeros((8, 8))
    p = t + 0.1
    assert inr.psnr(p, t, data_range=1.0) == pytest.approx(20.0)
    assert inr.psnr(p, t, data_range=2.0) == pytest.approx(20 + 20 * np.log10(2))
    with pytest.raises(TypeError):
        inr.psnr(p, t)  # the range must be explicit
    with pytest.raises(ValueError, match="shapes differ"):
        inr.psnr(p[:4], t, data_range=1.0)


def test_ssim_and_snr():
    rng = np.random.default_rng(0)
    img = rng.random((32, 32))
    assert inr.ssim(img, img, data_range=1.0) == pytest.approx(1.0)
    assert inr.ssim(img + 0.5 * rng.random((32, 32)), img, data_range=1.0) < 0.9
    assert inr.snr(img * 1.1, img) == pytest.approx(20.0)


def test_profiles(monkeypatch):
    monkeypatch.setenv("INR_PROFILE", "full")
    assert profiles.get_profile().name == "full"
    assert profiles.get_profile("quick").image_size < profiles.get_profile("full").image_size
    assert profiles.get_profile("quick").select(quick=1, full=2) == 1
    monkeypatch.setenv("INR_PROFILE", "huge")
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        profiles.get_profile()
