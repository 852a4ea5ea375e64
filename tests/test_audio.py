"""Audio: the shipped clips, load_audio's resampling and errors, the chapter's helpers."""
import base64
import io
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from scipy.io import wavfile

import inrlib as inr
from inrlib.book import audio

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def _tone(path, freq=440.0, rate=8000, seconds=0.1, amp=10000):
    t = np.arange(int(rate * seconds)) / rate
    wavfile.write(path, rate, (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16))
    return path


@pytest.mark.parametrize("name,seconds", [("music.wav", 8.0), ("speech.wav", 5.0)])
def test_shipped_clips_are_small_mono_16k(name, seconds):
    path = inr.data_file(name)
    assert path.stat().st_size <= 1_000_000
    rate, data = wavfile.read(path)
    assert rate == 16000 and data.ndim == 1 and data.dtype == np.int16
    assert data.size >= seconds * rate
    assert np.abs(data).max() > 20000  # loud, not clipped to silence


def test_music_clip_is_what_the_script_makes(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_audio.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    assert (tmp_path / "music.wav").read_bytes() == inr.data_file("music.wav").read_bytes()


def test_music_has_harmonics_and_transients():
    clip = inr.load_audio(inr.data_file("music.wav"), seconds=1.0)
    f, t, db = audio.spectrogram(clip.array(), clip.sample_rate, nperseg=1024)
    mean = db.mean(axis=1)
    # energy both at the first note's fundamental (A4, 440 Hz) and far above it (harmonics, hi-hat)
    assert mean[np.argmin(abs(f - 440))] > -45 and mean[f > 4000].max() > -75
    # a drum hit every half second: the short-time energy jumps at the beats
    env = np.abs(clip.array()).reshape(-1, 160).max(axis=1)  # 10 ms blocks
    assert env[50] > 3 * env[45]


def test_load_audio_resamples_without_moving_the_pitch(tmp_path):
    path = _tone(tmp_path / "a.wav", freq=440.0, rate=16000, seconds=0.5)
    a = inr.load_audio(path, rate=8000)
    assert a.shape == (4000,) and a.sample_rate == 8000 and a.meta["source_rate"] == 16000
    spectrum = np.abs(np.fft.rfft(a.array()))
    assert np.fft.rfftfreq(4000, 1 / 8000)[spectrum.argmax()] == pytest.approx(440, abs=2)
    assert abs(a.values).max() == pytest.approx(1.0)
    assert a.coords[0, 0] == -1 and a.coords[-1, 0] == 1


def test_load_audio_seconds_then_rate(tmp_path):
    path = _tone(tmp_path / "a.wav", rate=16000, seconds=0.5)
    assert inr.load_audio(path, seconds=0.25, rate=8000).shape == (2000,)


@pytest.mark.parametrize("kw,match", [({"seconds": 0}, "seconds"), ({"rate": 0}, "rate"),
                                      ({"rate": 44.1}, "rate")])
def test_load_audio_rejects_bad_arguments(tmp_path, kw, match):
    path = _tone(tmp_path / "a.wav")
    with pytest.raises(ValueError, match=match):
        inr.load_audio(path, **kw)


def test_load_audio_bad_files(tmp_path):
    with pytest.raises(ValueError, match="folder"):
        inr.load_audio(tmp_path)
    (tmp_path / "song.mp3").write_bytes(b"ID3\x03\x00" + bytes(100))
    with pytest.raises(ValueError, match="WAV"):
        inr.load_audio(tmp_path / "song.mp3")
    wavfile.write(tmp_path / "silent.wav", 8000, np.zeros(100, dtype=np.int16))
    with pytest.raises(ValueError, match="silent"):
        inr.load_audio(tmp_path / "silent.wav")
    stereo = np.stack([np.full(50, 1000), np.full(50, 3000)], axis=1).astype(np.int16)
    wavfile.write(tmp_path / "stereo.wav", 8000, stereo)
    with pytest.warns(UserWarning, match="2 channels"):
        s = inr.load_audio(tmp_path / "stereo.wav")
    assert s.shape == (50,) and torch.allclose(s.values, torch.ones(50, 1))  # mean 2000, peak-normalised


def test_data_file_names_what_is_there():
    with pytest.raises(FileNotFoundError, match="music.wav"):
        inr.data_file("nope.wav")


def test_wav_bytes_and_player_keep_loudness_and_clip():
    x = np.array([0.0, 0.5, -0.5, 2.0, -3.0])
    rate, data = wavfile.read(io.BytesIO(audio.wav_bytes(x, 8000)))
    assert rate == 8000 and list(data) == [0, 16384, -16384, 32767, -32767]
    player = audio.audio_player(torch.tensor(x)[:, None], 8000)
    assert "audio" in player._repr_html_()
    with pytest.raises(ValueError, match="mono"):
        audio.wav_bytes(np.zeros((10, 2)), 8000)
    with pytest.raises(ValueError, match="NaN"):
        audio.wav_bytes(np.array([0.0, np.nan]), 8000)
    with pytest.raises(ValueError, match="sample rate"):
        audio.wav_bytes(x, 0)


def test_audio_table_embeds_one_player_per_clip():
    html = audio.audio_table({"a": np.zeros(80), "b <x>": np.ones(80) * 0.1}, 8000,
                           captions=["one", "two"])._repr_html_()
    assert html.count("<audio") == 2 and "b &lt;x&gt;" in html
    b64 = html.split("base64,")[2].split('"')[0]
    rate, data = wavfile.read(io.BytesIO(base64.b64decode(b64)))
    assert rate == 8000 and data.size == 80 and data[0] == round(0.1 * 32767)
    with pytest.raises(ValueError, match="captions"):
        audio.audio_table({"a": np.zeros(8)}, 8000, captions=["x", "y"])


def test_spectrogram_finds_a_tone():
    rate = 8000
    t = np.arange(rate) / rate
    f, times, db = audio.spectrogram(np.sin(2 * np.pi * 1000 * t), rate, nperseg=256)
    assert db.shape == (129, times.size) and db.max() == pytest.approx(0.0)
    assert f[db.mean(axis=1).argmax()] == pytest.approx(1000, abs=rate / 256)
    assert db.min() >= -90


def test_first_layer_hz_is_omega_stretching_time():
    m30 = inr.siren(in_features=1, width=32, depth=2, first_omega=30, seed=1)
    m3000 = inr.siren(in_features=1, width=32, depth=2, first_omega=3000, seed=1)
    hz30, hz3000 = audio.first_layer_hz(m30, 1.0), audio.first_layer_hz(m3000, 1.0)
    assert np.allclose(hz3000, 100 * hz30)  # same weights, omega 100x: frequencies 100x
    assert hz3000.max() <= audio.frequency_reach(3000, 1.0) + 1e-6
    # a clip 100 times longer on the same coordinates halves nothing but scales by 1/100
    assert np.allclose(audio.first_layer_hz(m3000, 100.0), hz30)
    assert audio.frequency_reach(3000, 1.0) == pytest.approx(3000 / np.pi)
    with pytest.raises(ValueError, match="encoding"):
        audio.first_layer_hz(inr.relu_mlp(in_features=1, L=4), 1.0)
    with pytest.raises(ValueError, match="sine"):
        audio.first_layer_hz(inr.relu_mlp(in_features=1), 1.0)


def test_high_omega_equals_stretched_time_axis():
    """omega0 = 3000 on t in [-1, 1] is omega0 = 30 on 100 t (first bias scaled to match)."""
    a = inr.siren(in_features=1, width=16, depth=2, first_omega=3000, seed=0)
    b = inr.siren(in_features=1, width=16, depth=2, first_omega=30, seed=0)
    b.load_state_dict({k: v for k, v in a.state_dict().items() if "acts" not in k}, strict=False)
    with torch.no_grad():
        b.linears[0].bias.mul_(100)
    t = torch.linspace(-1, 1, 101)[:, None]
    assert torch.allclose(a(t), b(100 * t), atol=1e-4)


def test_plots_have_labels_and_reject_bad_windows():
    x = np.sin(np.arange(800) / 5)
    fig = audio.plot_waveforms({"target": x, "fit": 0.9 * x}, 8000, (0.01, 0.02))
    assert [ax.get_xlabel() for ax in fig.axes] == ["time (s)", "time (ms)"]
    with pytest.raises(ValueError, match="zoom"):
        audio.plot_waveforms({"target": x}, 8000, (0.2, 0.3))
    with pytest.raises(ValueError, match="differ"):
        audio.plot_waveforms({"a": x, "b": x[:10]}, 8000, (0.0, 0.01))
    fig = audio.plot_spectrograms({"a": x, "b": x, "c": x}, 8000, ncols=2)
    assert fig.axes[0].get_ylabel() == "frequency (kHz)"
    fig = audio.plot_reconstruction(x, 0.5 * x, 8000, (0.0, 0.01), "t")
    assert fig.axes[1].get_ylabel() == "frequency (kHz)"
    with pytest.raises(ValueError, match="samples"):
        audio.plot_reconstruction(x, x[:5], 8000, (0.0, 0.01))
    import matplotlib.pyplot as plt

    plt.close("all")


def test_high_omega_siren_fits_a_chirp_better_than_omega_30():
    """The chapter's claim in miniature: a fast chirp on [-1, 1] needs a high first-layer omega."""
    rate = 2000
    t = np.arange(rate // 2) / rate
    x = np.sin(2 * np.pi * (50 + 300 * t) * t).astype(np.float32)
    coords, y = inr.grid(x.size), torch.from_numpy(x)[:, None]
    snr = {}
    for omega in (30, 1000):
        m = inr.siren(in_features=1, width=32, depth=2, first_omega=omega, seed=0)
        inr.fit(m, coords, y, steps=150, lr=1e-3, progress=False)
        snr[omega] = inr.snr(inr.predict(m, coords), y)
    assert snr[1000] - snr[30] > 10, snr
