"""Audio helpers for the audio chapter: players, waveforms with a zoomed window, spectrograms,
and what a SIREN's first layer can reach in hertz."""
import base64
import html
import io
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..checks import real, whole


def _mono(x, name="clip") -> np.ndarray:
    """A 1-D float array from a tensor or array of shape (N,) or (N, 1); rejects anything else."""
    a = x.detach().float().cpu().numpy() if torch.is_tensor(x) else np.asarray(x, dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty mono clip of shape (N,) or (N, 1), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} holds NaN or infinite samples")
    return a.astype(np.float64)


def _check_rate(rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
        raise TypeError(f"sample rate must be a positive number of samples per second, got {rate!r}")
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"sample rate must be a positive number of samples per second, got {rate}")
    return float(rate)


def _zoom(zoom):
    if isinstance(zoom, (str, bytes)) or not hasattr(zoom, "__len__") or len(zoom) != 2:
        raise TypeError(f"zoom must be a (t0, t1) pair of seconds, got {zoom!r}")
    return real("zoom[0]", zoom[0]), real("zoom[1]", zoom[1])


def wav_bytes(x, rate) -> bytes:
    """A clip as 16-bit PCM WAV bytes, clipped to [-1, 1] (not rescaled, so loudness compares)."""
    from scipy.io import wavfile

    a = np.clip(_mono(x), -1.0, 1.0)
    buf = io.BytesIO()
    wavfile.write(buf, int(round(_check_rate(rate))), np.round(a * 32767).astype(np.int16))
    return buf.getvalue()


def audio_player(x, rate):
    """An IPython Audio player for a clip in [-1, 1] (clipped, not normalised: a quiet or
    noisy reconstruction sounds as it is, next to its target)."""
    from IPython.display import Audio

    return Audio(data=wav_bytes(x, rate))


class AudioTable:
    """Rows of (label, caption, player): self-contained HTML with the WAVs embedded (base64),
    so the players work on the static site."""

    def __init__(self, clips: dict, rate, captions=None):
        if not clips:
            raise ValueError("AudioTable needs at least one clip")
        captions = list(captions) if captions is not None else [""] * len(clips)
        if len(captions) != len(clips):
            raise ValueError(f"{len(captions)} captions for {len(clips)} clips")
        self.rows = [(str(k), c, wav_bytes(v, rate)) for (k, v), c in zip(clips.items(), captions)]

    def _repr_html_(self):
        rows = "".join(
            f'<tr><td style="padding:2px 8px"><b>{html.escape(k)}</b></td>'
            f'<td style="padding:2px 8px">{html.escape(c)}</td><td><audio controls preload="none" '
            f'src="data:audio/wav;base64,{base64.b64encode(w).decode()}"></audio></td></tr>'
            for k, c, w in self.rows)
        return f'<table class="inr-audio-table" style="font-family:sans-serif">{rows}</table>'


def audio_table(clips: dict, rate, captions=None) -> AudioTable:
    """A table of players: `clips` maps a label to a clip; `captions` (e.g. the SNR) per row."""
    return AudioTable(clips, rate, captions)


def spectrogram(x, rate, nperseg=256, floor_db=-90.0):
    """(frequencies in Hz, times in s, power in dB relative to the clip's peak power), with a
    Hann window of `nperseg` samples and half overlap; powers below `floor_db` are clipped."""
    from scipy import signal

    a, rate = _mono(x), _check_rate(rate)
    nperseg = min(whole("nperseg", nperseg, low=2), a.size)
    floor_db = real("floor_db", floor_db)
    if floor_db >= 0:
        raise ValueError(f"floor_db must be < 0 (dB below the peak), got {floor_db}")
    f, t, s = signal.spectrogram(a, fs=rate, window="hann", nperseg=nperseg,
                                 noverlap=nperseg // 2, scaling="spectrum")
    peak = max(float(s.max()), 1e-30)
    return f, t, np.maximum(10 * np.log10(np.maximum(s, 1e-30) / peak), floor_db)


def plot_waveforms(clips: dict, rate, zoom, title="Waveform", figsize=(6.8, 4.6)):
    """The whole clips (top) and a zoomed window `zoom = (t0, t1)` in seconds (bottom), overlaid;
    the first clip is the reference, drawn in black."""
    rate = _check_rate(rate)
    if not isinstance(clips, dict) or not clips:
        raise ValueError(f"clips must be a non-empty dict label -> clip, got {type(clips).__name__}")
    arrays = {k: _mono(v, k) for k, v in clips.items()}
    n = {a.size for a in arrays.values()}
    if len(n) != 1:
        raise ValueError(f"clips differ in length: { {k: a.size for k, a in arrays.items()} }")
    t = np.arange(n.pop()) / rate
    t0, t1 = _zoom(zoom)
    if not (0 <= t0 < t1 <= t[-1] + 1 / rate):
        raise ValueError(f"zoom window {zoom} s is not inside the clip (0 to {t[-1]:.3f} s)")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=figsize, layout="constrained")
    inside = (t >= t0) & (t <= t1)
    for i, (k, a) in enumerate(arrays.items()):
        style = dict(color="black", lw=0.8) if i == 0 else dict(lw=0.8, alpha=0.8)
        top.plot(t, a, label=k, **style)
        bottom.plot(1e3 * t[inside], a[inside], label=k, marker="." if inside.sum() < 200 else None,
                    ms=3, **style)
    top.axvspan(t0, t1, color="orange", alpha=0.3, label="zoomed window")
    top.set(title=title, xlabel="time (s)", ylabel="amplitude", xlim=(0, t[-1]))
    bottom.set(title=f"zoom: {1e3 * t0:.0f} to {1e3 * t1:.0f} ms", xlabel="time (ms)",
               ylabel="amplitude")
    top.legend(loc="upper right", fontsize=9, ncol=len(arrays) + 1)
    return fig


def plot_spectrograms(clips: dict, rate, nperseg=256, floor_db=-80.0, ncols=None,
                      panel_size=(2.5, 2.3), title=None):
    """Spectrograms side by side on one colour scale (dB relative to each clip's peak)."""
    rate = _check_rate(rate)
    if not isinstance(clips, dict) or not clips:
        raise ValueError(f"clips must be a non-empty dict label -> clip, got {type(clips).__name__}")
    ncols = len(clips) if ncols is None else whole("ncols", ncols)
    nrows = math.ceil(len(clips) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
                             squeeze=False, sharey=True, layout="constrained")
    for ax, (k, v) in zip(axes.flat, clips.items()):
        f, t, db = spectrogram(v, rate, nperseg, floor_db)
        im = ax.pcolormesh(t, f / 1e3, db, vmin=floor_db, vmax=0, shading="auto", cmap="magma",
                           rasterized=True)
        ax.set(title=k, xlabel="time (s)")
    for ax in axes[:, 0]:
        ax.set_ylabel("frequency (kHz)")
    for ax in list(axes.flat)[len(clips):]:
        ax.axis("off")
    fig.colorbar(im, ax=axes, label="power (dB)", shrink=0.9)
    if title:
        fig.suptitle(title)
    return fig


def first_layer_hz(model, duration, coord_span=2.0) -> np.ndarray:
    """Frequencies in Hz of a SIREN's first-layer units, for a 1-D input whose coordinates
    (an interval `coord_span` wide, 2 for [-1, 1]) cover `duration` seconds:
    sin(omega0 (w x + b)) with x = coord_span t / duration + const oscillates at
    omega0 |w| coord_span / (2 pi duration) Hz."""
    first = model.linears[0]
    if first.in_features != 1 or getattr(model, "encoding", None) is not None:
        raise ValueError("first_layer_hz needs a model on raw 1-D coordinates (no encoding)")
    omega = getattr(model.acts[0], "omega", None)
    if omega is None:
        raise ValueError("first_layer_hz needs a sine-family first activation (it has an omega)")
    duration = real("duration", duration, low=0.0)
    coord_span = real("coord_span", coord_span, low=0.0)
    omega = float(omega)
    w = first.weight.detach().abs().cpu().numpy()[:, 0]
    return omega * w * coord_span / (2 * math.pi * float(duration))


def frequency_reach(omega, duration, coord_span=2.0) -> float:
    """Highest frequency (Hz) a SIREN first layer initialised with weights in [-1, 1] starts
    with: omega * coord_span / (2 pi duration). Stretching the time axis by s (coord_span * s)
    is the same as multiplying omega by s."""
    duration = real("duration", duration, low=0.0)
    omega, coord_span = real("omega", omega, low=0.0), real("coord_span", coord_span, low=0.0)
    return float(omega) * coord_span / (2 * math.pi * float(duration))


def plot_reconstruction(target, recon, rate, zoom, title="", nperseg=256, floor_db=-80.0,
                        figsize=(6.8, 2.8)):
    """One row: the zoomed window of target and reconstruction, and the reconstruction's
    spectrogram (a frame of the chapter's static sliders)."""
    rate = _check_rate(rate)
    a, b = _mono(target, "target"), _mono(recon, "reconstruction")
    if a.size != b.size:
        raise ValueError(f"target has {a.size} samples, reconstruction {b.size}")
    t = np.arange(a.size) / rate
    t0, t1 = _zoom(zoom)
    inside = (t >= t0) & (t <= t1)
    if not inside.any():
        raise ValueError(f"zoom window {zoom} s is not inside the clip (0 to {t[-1]:.3f} s)")
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1.3, 1]},
                                      layout="constrained")
    left.plot(1e3 * t[inside], a[inside], color="black", lw=0.9, label="target")
    left.plot(1e3 * t[inside], b[inside], color="tab:red", lw=0.9, alpha=0.85, label="reconstruction")
    left.set(title=f"{title}: zoom", xlabel="time (ms)", ylabel="amplitude", ylim=(-1.05, 1.05))
    left.legend(loc="upper right", fontsize=9)
    f, tt, db = spectrogram(b, rate, nperseg, floor_db)
    im = right.pcolormesh(tt, f / 1e3, db, vmin=floor_db, vmax=0, shading="auto", cmap="magma",
                          rasterized=True)
    right.set(title=f"{title}: spectrogram", xlabel="time (s)", ylabel="frequency (kHz)")
    fig.colorbar(im, ax=right, label="power (dB)")
    return fig
