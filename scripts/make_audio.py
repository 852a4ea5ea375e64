"""Make the book's audio clips (deterministic; run from the repository root).

    python scripts/make_audio.py            # data/music.wav (synthesised, pure numpy)
    python scripts/make_audio.py --speech   # also data/speech.wav (needs Debian's espeak-ng)

music.wav: eight seconds of a small synthesised tune at 16 kHz, 16-bit mono: plucked-string
notes with a dozen harmonics that decay at different rates, a bass line, a kick drum (a sine
swept down in pitch) and hi-hats (short bursts of high-passed noise), so the clip has both
sustained harmonics and sharp transients. Same bytes on every run (fixed seed, no clock).

speech.wav: a sentence spoken by espeak-ng (formant synthesis), resampled to 16 kHz. The
committed file is what the book uses; espeak-ng is only needed to remake it.
"""
import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

RATE = 16000  # samples per second of the committed clips
SECONDS = 8.0
BEAT = 0.5  # seconds per beat (120 beats per minute)
SEED = 2026
SENTENCE = "Implicit neural representations store a signal as a function of its coordinates."

# (start in beats, length in beats, MIDI note) for the melody and the bass
MELODY = [(0, .5, 69), (.5, .5, 72), (1, .5, 76), (1.5, .5, 79), (2, 1, 81), (3, .5, 79),
          (3.5, .5, 76), (4, .5, 74), (4.5, .5, 76), (5, 1, 72), (6, .5, 69), (6.5, .5, 72),
          (7, 1, 74), (8, .5, 76), (8.5, .5, 79), (9, .5, 81), (9.5, .5, 84), (10, 1, 83),
          (11, .5, 79), (11.5, .5, 76), (12, 1, 74), (13, .5, 72), (13.5, .5, 71), (14, 2, 69)]
BASS = [(b, 1, n) for b, n in zip(range(16), [45, 45, 48, 48, 50, 50, 43, 43] * 2)]


def midi_hz(note):
    return 440.0 * 2 ** ((note - 69) / 12)


def pluck(f0, seconds, rate, n_harmonics=12):
    """A plucked string: harmonics k*f0 (slightly stretched), amplitude ~1/k, higher ones die faster."""
    t = np.arange(int(seconds * rate)) / rate
    out = np.zeros_like(t)
    for k in range(1, n_harmonics + 1):
        fk = k * f0 * np.sqrt(1 + 1e-4 * k * k)  # a stiff string's inharmonicity
        if fk > 0.45 * rate:
            break
        out += np.sin(2 * np.pi * fk * t + 0.3 * k) * np.exp(-t * (3 + 2.5 * k)) / k
    attack = np.minimum(1, t / 0.002)  # 2 ms onset: a sharp but click-free attack
    return out * attack


def bass(f0, seconds, rate):
    """A soft sawtooth (first 6 harmonics) with a slow decay."""
    t = np.arange(int(seconds * rate)) / rate
    out = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 7))
    return out * np.exp(-2.5 * t) * np.minimum(1, t / 0.005)


def kick(rate):
    t = np.arange(int(0.25 * rate)) / rate
    freq = 45 + 110 * np.exp(-t / 0.03)  # pitch falls from 155 Hz to 45 Hz
    return np.sin(2 * np.pi * np.cumsum(freq) / rate) * np.exp(-t / 0.07)


def hihat(rate, rng):
    t = np.arange(int(0.06 * rate)) / rate
    noise = signal.sosfilt(signal.butter(4, 5000, "highpass", fs=rate, output="sos"),
                           rng.standard_normal(t.size))
    return noise * np.exp(-t / 0.012)


def music(rate=RATE, seconds=SECONDS, seed=SEED) -> np.ndarray:
    """The tune as float64 samples in [-0.9, 0.9]."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))

    def add(x, start_s, gain):
        i = int(round(start_s * rate))
        x = x[: max(0, out.size - i)]
        out[i:i + x.size] += gain * x

    for start, length, note in MELODY:
        add(pluck(midi_hz(note), length * BEAT + 0.4, rate), start * BEAT, 0.5)
    for start, length, note in BASS:
        add(bass(midi_hz(note), length * BEAT, rate), start * BEAT, 0.25)
    for beat in range(16):
        add(kick(rate), beat * BEAT, 0.6 if beat % 2 == 0 else 0.4)
        add(hihat(rate, rng), (beat + 0.5) * BEAT, 0.25)
    return 0.9 * out / np.abs(out).max()


def speech(rate=RATE, text=SENTENCE) -> np.ndarray:
    exe = shutil.which("espeak-ng")
    if exe is None:
        sys.exit("espeak-ng is not installed (Debian: apt-get install espeak-ng); "
                 "the committed data/speech.wav is unchanged")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.wav"
        subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(path), text], check=True)
        src_rate, data = wavfile.read(path)
    data = data.astype(np.float64)
    g = np.gcd(int(src_rate), rate)
    data = signal.resample_poly(data, rate // g, int(src_rate) // g)
    return 0.9 * data / np.abs(data).max()


def write(path: Path, x: np.ndarray, rate=RATE):
    wavfile.write(path, rate, np.round(x * 32767).astype(np.int16))
    print(f"wrote {path} ({x.size / rate:.2f} s at {rate} Hz, {path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", action="store_true", help="also make data/speech.wav (espeak-ng)")
    parser.add_argument("--out", default="data", help="folder to write to (default: data)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write(out / "music.wav", music())
    if args.speech:
        write(out / "speech.wav", speech())
