import numpy as np
import pytest
import torch

import inrlib as inr


def test_grid_shape_range_and_order():
    g = inr.grid((3, 5))
    assert g.shape == (15, 2)
    assert g.min() == -1 and g.max() == 1
    # 'ij' order: coordinate 0 follows the rows, coordinate 1 the columns
    assert torch.allclose(g[:5, 0], torch.full((5,), -1.0))
    assert torch.allclose(g[:5, 1], torch.linspace(-1, 1, 5))
    g01 = inr.grid(4, coord_range=(0, 1))
    assert g01.shape == (4, 1) and g01[0] == 0 and g01[-1] == 1
    assert inr.grid((2, 3, 4)).shape == (24, 3)


@pytest.mark.parametrize("bad", [(0, 4), (), (-1,)])
def test_grid_rejects_bad_shape(bad):
    with pytest.raises(ValueError, match="grid shape"):
        inr.grid(bad)


def test_flat_signal_roundtrip():
    img = torch.arange(12.0).reshape(3, 4)
    flat = inr.to_flat(img, 2)
    assert flat.shape == (12, 1)
    assert torch.equal(inr.to_signal(flat, (3, 4)), img)
    rgb = torch.rand(3, 4, 3)
    assert torch.equal(inr.to_signal(inr.to_flat(rgb, 2), (3, 4)), rgb)
    with pytest.raises(ValueError, match="do not fill"):
        inr.to_signal(flat, (5, 5))


def test_values_follow_grid_order():
    s = inr.load_image("camera", size=16)
    img = s.array()
    # the value at grid index (i, j) is pixel (i, j)
    k = 3 * 16 + 7
    assert np.isclose(s.values[k, 0].item(), img[3, 7])
    assert torch.allclose(s.coords[k], torch.tensor([-1 + 2 * 3 / 15, -1 + 2 * 7 / 15]))


def test_load_image_grey_rgb_range():
    s = inr.load_image("camera", size=32)
    assert s.shape == (32, 32) and s.channels == 1 and s.data_range == 2.0
    assert s.values.min() >= -1 and s.values.max() <= 1
    c = inr.load_image("astronaut", size=(24, 20), grey=False, value_range=(0, 1))
    assert c.shape == (24, 20) and c.channels == 3 and c.data_range == 1.0
    assert c.values.min() >= 0 and c.values.max() <= 1
    assert c.array().shape == (24, 20, 3)


def test_load_image_from_file(tmp_path):
    from skimage.io import imsave

    path = tmp_path / "x.png"
    imsave(path, (np.random.default_rng(0).random((10, 12)) * 255).astype(np.uint8))
    assert inr.load_image(str(path)).shape == (10, 12)


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no image file"):
        inr.load_image(str(tmp_path / "missing.png"))
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(ValueError, match="could not read"):
        inr.load_image(str(bad))
    with pytest.raises(ValueError, match="positive"):
        inr.load_image("camera", size=0)


def test_derivative_targets_match_analytic_ramp_and_bowl():
    n = 65
    s = inr.grid((n, n)).reshape(n, n, 2).numpy()
    h = 2 / (n - 1)
    ramp = 0.3 * s[..., 0] - 0.7 * s[..., 1]
    g = inr.image_gradient(ramp, (h, h))
    assert np.allclose(g[2:-2, 2:-2, 0], 0.3, atol=1e-4)
    assert np.allclose(g[2:-2, 2:-2, 1], -0.7, atol=1e-4)
    bowl = s[..., 0] ** 2 + 2 * s[..., 1] ** 2  # Laplacian 2 + 4 = 6
    assert np.allclose(inr.image_laplacian(bowl, (h, h))[2:-2, 2:-2], 6.0, atol=1e-3)
    with pytest.raises(ValueError, match="grey"):
        inr.image_gradient(np.zeros((4, 4, 3)))


def _write_wav(path, data, rate=8000):
    from scipy.io import wavfile

    wavfile.write(path, rate, data)


def test_load_audio(tmp_path):
    t = np.arange(800) / 8000
    _write_wav(tmp_path / "a.wav", (np.sin(2 * np.pi * 440 * t) * 10000).astype(np.int16))
    a = inr.load_audio(tmp_path / "a.wav")
    assert a.shape == (800,) and a.coords.shape == (800, 1) and a.sample_rate == 8000
    assert abs(a.values).max() == pytest.approx(1.0)
    assert inr.load_audio(tmp_path / "a.wav", seconds=0.05).shape == (400,)


def test_load_audio_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        inr.load_audio(tmp_path / "none.wav")
    (tmp_path / "x.wav").write_bytes(b"RIFF....nonsense")
    with pytest.raises(ValueError, match="WAV"):
        inr.load_audio(tmp_path / "x.wav")
    _write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16))
    with pytest.raises(ValueError, match="no samples"):
        inr.load_audio(tmp_path / "empty.wav")
    _write_wav(tmp_path / "stereo.wav", (np.random.default_rng(0).random((100, 2)) * 1000).astype(np.int16))
    with pytest.warns(UserWarning, match="mixing down"):
        assert inr.load_audio(tmp_path / "stereo.wav").channels == 1
