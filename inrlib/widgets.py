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
                self.run(**values)
        except (ValueError, FloatingPointError, RuntimeError) as err:
            # A bad combination or a diverged run is a message, not a traceback.
            self.message.value = f'<span style="color:#b00">{html.escape(str(err))}</span>'
        finally:
            self.button.disabled = False

    def click(self):
        """Press the button from code (used by tests and by the executed notebook)."""
        self._clicked()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs)
        bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle)
        bundle["text/html"] = STATIC_NOTE
        bundle["text/plain"] = "Live controls (run the notebook in a kernel to use them)"
        return bundle


def live_controls(run, controls, validate=None, button="Train") -> LiveControls:
    """Build live controls: `controls` maps run's keyword names to ipywidgets."""
    return LiveControls(run, controls, validate, button)
