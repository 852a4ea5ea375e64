"""Sliders for the chapters: live ipywidgets controls in a kernel, and static sliders over
precomputed frames that work in a plain web page (no kernel, no network, no CDN)."""
import base64
import html
import io
import itertools

import matplotlib.pyplot as plt

_ids = itertools.count()

STATIC_NOTE = (
    '<div class="inr-live-note" style="border-left:4px solid #f0ad4e;padding:.4em .8em;'
    'background:#fcf8e3">Live controls: this cell shows sliders and a Train button when the '
    "notebook runs in a kernel (use the launch button at the top of the page, or run it "
    "locally). On this static page, use the precomputed slider below instead.</div>")


def figure_png(fig, dpi=72) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed so it is not shown twice."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class StaticSlider:
    """A range slider stepping through precomputed frames, as self-contained HTML.

    frames: matplotlib figures or PNG bytes, one per value; values: the slider's values
    (shown as `label = value`); captions: optional text per frame (e.g. the PSNR).
    """

    def __init__(self, frames, values, label, captions=None, start=None, dpi=72):
        frames = [f if isinstance(f, bytes) else figure_png(f, dpi) for f in frames]
        if not frames or len(frames) != len(values):
            raise ValueError(f"need one frame per value: {len(frames)} frames, {len(values)} values")
        if captions is not None and len(captions) != len(frames):
            raise ValueError(f"{len(captions)} captions for {len(frames)} frames")
        self.frames, self.values, self.label = frames, list(values), label
        self.captions = list(captions) if captions is not None else [""] * len(frames)
        self.start = len(frames) // 2 if start is None else start

    def _repr_html_(self):
        uid = f"inr-slider-{next(_ids)}"
        imgs = "".join(
            f'<img src="data:image/png;base64,{base64.b64encode(f).decode()}" '
            f'data-value="{html.escape(str(v))}" data-caption="{html.escape(c)}" alt="{html.escape(self.label)} = {html.escape(str(v))}" '
            f'style="max-width:100%;{"" if i == self.start else "display:none"}">'
            for i, (f, v, c) in enumerate(zip(self.frames, self.values, self.captions)))
        # Inline handler, no <script>: the page needs nothing but the browser.
        onchange = (
            "var r=this.closest('.inr-static-slider'),i=+this.value,ims=r.querySelectorAll('img');"
            "ims.forEach(function(m,j){m.style.display=(j===i)?'':'none';});"
            "r.querySelector('.inr-value').textContent=ims[i].dataset.value;"
            "r.querySelector('.inr-caption').textContent=ims[i].dataset.caption;")
        return (
            f'<div class="inr-static-slider" id="{uid}">'
            f'<label style="font-family:sans-serif">{html.escape(self.label)} = '
            f'<b class="inr-value">{html.escape(str(self.values[self.start]))}</b> '
            f'<input type="range" min="0" max="{len(self.frames) - 1}" step="1" value="{self.start}" '
            f'oninput="{onchange}" style="width:60%;vertical-align:middle"></label>'
            f'<div class="inr-caption" style="font-family:sans-serif;color:#444">'
            f'{html.escape(self.captions[self.start])}</div>{imgs}</div>')


def static_slider(draw, values, label, captions=None, dpi=72) -> StaticSlider:
    """Call `draw(value) -> figure` for each value and wrap the pictures in a StaticSlider."""
    return StaticSlider([draw(v) for v in values], values, label, captions, dpi=dpi)


class LiveControls:
    """ipywidgets controls and a button that call `run(**values)`; in a static page the output
    falls back to a short note (the book drops the widget view, which needs a kernel)."""

    def __init__(self, run, controls: dict, validate=None, button="Train"):
        import ipywidgets as w

        self.run, self.validate, self.controls = run, validate, controls
        self.result = None  # what the last successful run returned
        self.button = w.Button(description=button, button_style="primary", icon="play")
        self.message = w.HTML()
        self.output = w.Output()
        self.button.on_click(self._clicked)
        self.box = w.VBox([w.HBox(list(controls.values())), w.HBox([self.button, self.message]),
                           self.output])

    def values(self) -> dict:
        return {name: c.value for name, c in self.controls.items()}

    def _clicked(self, _=None):
        values = self.values()
        problem = self.validate(**values) if self.validate else None
        if problem:
            self.message.value = f'<span style="color:#b00">{html.escape(problem)}</span>'
            return
        self.message.value = ""
        self.button.disabled = True
        self.output.clear_output(wait=True)
        try:
            with self.output:
                self.result = self.run(**values)
        except (ValueError, FloatingPointError, RuntimeError, MemoryError) as err:
            # A bad combination or a diverged run is a message, not a traceback.
            self.message.value = (f'<span style="color:#b00">{html.escape(type(err).__name__)}: '
                                  f'{html.escape(str(err))}</span>')
        finally:
            self.button.disabled = False

    def click(self):
        """Press the button from code (used by tests and by the executed notebook)."""
        self._clicked()

    def _repr_mimebundle_(self, **kwargs):
        return _static_bundle(self.box, "Live controls (run the notebook in a kernel to use them)",
                              **kwargs)


def live_controls(run, controls, validate=None, button="Train") -> LiveControls:
    """Build live controls: `controls` maps run's keyword names to ipywidgets."""
    return LiveControls(run, controls, validate, button)


def _static_bundle(box, text, **kwargs):
    bundle = box._repr_mimebundle_(**kwargs)
    bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle)
    bundle["text/html"] = STATIC_NOTE
    bundle["text/plain"] = text
    return bundle


class TrainingView:
    """A live view of one fit: a progress bar, the reconstruction and the PSNR curve, redrawn
    while training runs (pass `view.callback` to `fit(..., callback=, callback_every=view.every)`,
    or call `view.fit(model, lr=...)`). Works in a kernel; on the static site it shows the note.

    signal: the Signal being fitted (its shape and value range draw the picture); steps: the
    planned number of steps; every: redraw interval in steps (default: about 10 redraws).
    """

    def __init__(self, signal, steps, every=None, title="", dpi=60):
        import ipywidgets as w

        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if len(signal.shape) != 2:
            raise ValueError(f"TrainingView draws images: the signal's shape must be (H, W), got {signal.shape}")
        self.signal, self.steps, self.title, self.dpi = signal, int(steps), title, dpi
        self.every = int(every) if every else max(1, self.steps // 10)
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.progress = w.IntProgress(value=0, min=0, max=self.steps, description="step 0",
                                      bar_style="info")
        self.status = w.HTML()
        self.image = w.Image(format="png")
        self.curve = w.Image(format="png")
        self.box = w.VBox([w.HBox([self.progress, self.status]), w.HBox([self.image, self.curve])])
        self.redraws = 0
        self.history = None

    def _picture(self, values):
        img = self.signal.array(values)
        lo, hi = self.signal.value_range
        img = _clip01((img - lo) / (hi - lo))
        fig, ax = plt.subplots(figsize=(3, 3))
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_title(self.title or "reconstruction", fontsize=9)
        ax.axis("off")
        return figure_png(fig, self.dpi)

    def _curve(self, history):
        fig, ax = plt.subplots(figsize=(3.6, 3))
        ax.plot(history.step, history.psnr, color="C0")
        ax.set_xlim(0, self.steps)
        ax.set_xlabel("step")
        ax.set_ylabel("PSNR (dB)")
        ax.set_title("training PSNR", fontsize=9)
        ax.grid(alpha=0.3)
        return figure_png(fig, self.dpi)

    def callback(self, step, model, history):
        """fit's callback: move the bar, redraw the reconstruction and the PSNR curve."""
        from ..training import predict

        self.progress.value = min(step, self.steps)
        self.progress.description = f"step {step}"
        psnr = history.psnr[-1] if history.psnr else None
        self.status.value = (f"{psnr:.1f} dB" if psnr is not None else "") + \
            f" &nbsp; {history.seconds[-1]:.1f} s"
        self.image.value = self._picture(predict(model, self.signal.coords))
        if history.psnr and history.psnr[-1] is not None:
            self.curve.value = self._curve(history)
        self.redraws += 1

    def fit(self, model, **fit_kwargs):
        """Train `model` on the signal for the planned steps, redrawing as it goes."""
        from ..training import fit

        self.progress.bar_style = "info"
        try:
            self.history = fit(model, self.signal, steps=self.steps, progress=False,
                               callback=self.callback, callback_every=self.every, **fit_kwargs)
        except Exception:
            self.progress.bar_style = "danger"
            raise
        self.progress.bar_style = "success"
        return self.history

    def __repr__(self):
        return f"Live training view ({self.progress.value}/{self.steps} steps)"

    def _repr_mimebundle_(self, **kwargs):
        return _static_bundle(self.box, "Live training view (run the notebook in a kernel to see it)",
                              **kwargs)


def _clip01(a):
    import numpy as np

    return np.clip(a, 0.0, 1.0)


def live_fit(model, signal, steps, every=None, title="", show=True, **fit_kwargs):
    """Fit `model` to an image Signal while a TrainingView shows progress, reconstruction and
    PSNR curve (displayed first when `show`); returns the History."""
    view = TrainingView(signal, steps, every=every, title=title)
    if show:
        from IPython.display import display

        display(view)
    return view.fit(model, **fit_kwargs)
