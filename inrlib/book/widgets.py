"""Sliders for the chapters: live ipywidgets controls in a kernel, and static sliders over
precomputed frames that work in a plain web page (no kernel, no network, no CDN)."""
import base64
import contextlib
import ctypes
import html
import io
import itertools
import math
import signal
import struct
import threading

import matplotlib.pyplot as plt

_ids = itertools.count()


def live_note(precomputed=None) -> str:
    """The text/html fallback of live widgets: what is shown wherever the widget itself is not.

    Two renderers show it, and each needs its own sentence. The static site renders this HTML
    as it is, <style> included, so it sees the site's sentence. JupyterLab shows it for a cell
    whose output did not come from its own kernel (a notebook just opened: untrusted output),
    through a sanitizer that drops <style> and keeps `hidden="hidden"` (an empty `hidden` is
    dropped as an empty attribute), so it sees "run the cell". `precomputed`: "above" or
    "below", where the chapter's static sliders are.
    """
    if precomputed not in (None, "above", "below"):
        raise ValueError(f'precomputed must be "above", "below" or None, got {precomputed!r}')
    site = ("Live controls: run this notebook to use these controls (launch button at the top "
            "of the page, or <code>make lab</code> on your machine)")
    site += f"; the precomputed sliders are {precomputed}." if precomputed else "."
    return (
        '<div class="inr-live-note" style="border-left:4px solid #f0ad4e;padding:.4em .8em;'
        'background:#fcf8e3"><style>.inr-live-note .inr-in-frontend{display:none!important}'
        '.inr-live-note .inr-on-site{display:inline!important}</style>'
        '<span class="inr-in-frontend">Live controls: run the cell (and the cells above it) to '
        "show them.</span>"
        f'<span class="inr-on-site" hidden="hidden">{site}</span></div>')


def log_grid(lo, hi, mantissas=(1, 2, 3, 5)) -> list:
    """The numbers m * 10^k (m in `mantissas`) from lo to hi: 1, 2, 3, 5, 10, 20, 30, 50, ...

    Round values such as 30, 50 and 3000 are on the grid exactly (a FloatLogSlider's grid of
    10^(0.1 k) holds 31.6 but not 30).
    """
    if not 0 < lo <= hi:
        raise ValueError(f"log_grid needs 0 < lo <= hi, got {lo}, {hi}")
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    # from the decimal string, so that 3 * 10^-1 is 0.3, not 0.30000000000000004
    values = [float(f"{m}e{k}") for k in range(k0, k1 + 1) for m in mantissas]
    return [int(v) if v.is_integer() else v for v in values if lo <= v <= hi]


def value_slider(values, value, description, fmt="{:g}"):
    """A slider that stops only on `values` and hands back exactly the one shown.

    The browser sends the index of the chosen stop, not a float it rounded to its own step,
    so 30 stays 30 in the kernel. Use it for any setting the text names by value.
    """
    import ipywidgets as w

    values = list(values)
    if value not in values:
        raise ValueError(f"the start value {value!r} is not one of the slider's values {values}")
    return w.SelectionSlider(options=[(fmt.format(v), v) for v in values], value=value,
                             description=description, continuous_update=False)


class Stopped(KeyboardInterrupt):
    """A live run that the user interrupted (kernel interrupt) after `step` steps."""

    def __init__(self, step):
        super().__init__(f"stopped at step {step}")
        self.step = step


def figure_png(fig, dpi=72) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed so it is not shown twice."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def compact_png(png: bytes) -> bytes:
    """The same picture, pixel for pixel, in fewer bytes where it can be: an opaque image of at
    most 256 colours (a grey picture, most plots of few colours) is stored with a palette."""
    from PIL import Image

    img = Image.open(io.BytesIO(png))
    if img.mode == "RGBA":
        if img.getchannel("A").getextrema() != (255, 255):
            return png  # transparency: keep it as it is
        img = img.convert("RGB")
    colours = img.getcolors(256)
    if img.mode != "RGB" or colours is None:
        return png  # more than 256 colours: a palette would change the picture
    palette = Image.new("P", img.size)
    palette.putpalette([c for _, rgb in colours for c in rgb])
    index = {rgb: i for i, (_, rgb) in enumerate(colours)}
    palette.putdata([index[p] for p in img.getdata()])
    buf = io.BytesIO()
    palette.save(buf, format="PNG", optimize=True)
    return buf.getvalue() if buf.tell() < len(png) else png


def png_size(png: bytes) -> tuple:
    """(width, height) in pixels, read from a PNG's header (its IHDR chunk)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", png[16:24])


class StaticSlider:
    """A range slider stepping through precomputed frames, as self-contained HTML.

    frames: matplotlib figures or PNG bytes, one per value; values: the slider's values
    (shown as `label = value`); captions: optional text per frame (e.g. the PSNR), shown
    after `label = value` on the caption line.

    Frames are sharp on high-DPI screens: a figure is rendered at `dpi * scale` pixels per
    inch and shown at the size `dpi` gives (its pixel size / scale). PNG bytes are taken as
    rendered the same way, so pass them at `scale` times their display size (or scale=1).
    A frame narrower than `min_width` pixels is shown larger, up to its rendered size, so a
    small figure's text is still legible on the page.
    """

    min_width = 440  # px on the page; about two thirds of the book's text column

    def __init__(self, frames, values, label, captions=None, start=None, dpi=72, scale=2):
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        frames = [f if isinstance(f, bytes) else compact_png(figure_png(f, dpi * scale))
                  for f in frames]
        if not frames or len(frames) != len(values):
            raise ValueError(f"need one frame per value: {len(frames)} frames, {len(values)} values")
        if captions is not None and len(captions) != len(frames):
            raise ValueError(f"{len(captions)} captions for {len(frames)} frames")
        self.frames, self.values, self.label, self.scale = frames, list(values), label, scale
        self.captions = list(captions) if captions is not None else [""] * len(frames)
        self.start = len(frames) // 2 if start is None else start

    def caption_line(self, i) -> str:
        """Frame i's caption line: `label = value`, then `: caption` when there is one."""
        line = f"{self.label} = {self.values[i]}"
        return f"{line}: {self.captions[i]}" if self.captions[i] else line

    def _repr_html_(self):
        uid = f"inr-slider-{next(_ids)}"
        imgs = []
        for i, (f, v) in enumerate(zip(self.frames, self.values)):
            w, h = png_size(f)
            zoom = max(1.0, min(self.scale, self.min_width * self.scale / w))  # never past 1:1
            imgs.append(
                f'<img src="data:image/png;base64,{base64.b64encode(f).decode()}" '
                f'width="{round(w * zoom / self.scale)}" height="{round(h * zoom / self.scale)}" '
                f'data-value="{html.escape(str(v))}" data-caption="{html.escape(self.caption_line(i))}" '
                f'alt="{html.escape(self.label)} = {html.escape(str(v))}" '
                f'style="max-width:100%;height:auto;{"" if i == self.start else "display:none"}">')
        # The value sits before the range track in a box as wide as the longest value, so the
        # track stays put while it is dragged: `ch` is the width of a digit (tabular figures);
        # letters get 1.5ch, as wide capitals can be.
        width = max(sum(1 if c in "0123456789.,+-−e " else 1.5 for c in str(v))
                    for v in self.values) + 0.5
        # Inline handler, no <script>: the page needs nothing but the browser.
        onchange = (
            "var r=this.closest('.inr-static-slider'),i=+this.value,ims=r.querySelectorAll('img');"
            "ims.forEach(function(m,j){m.style.display=(j===i)?'':'none';});"
            "r.querySelector('.inr-value').textContent=ims[i].dataset.value;"
            "r.querySelector('.inr-caption').textContent=ims[i].dataset.caption;")
        return (
            f'<div class="inr-static-slider" id="{uid}">'
            f'<label style="display:block;font-family:sans-serif">{html.escape(self.label)} = '
            f'<b class="inr-value" style="display:inline-block;min-width:{width:g}ch;'
            f'font-variant-numeric:tabular-nums">{html.escape(str(self.values[self.start]))}</b>'
            f'<input type="range" min="0" max="{len(self.frames) - 1}" step="1" value="{self.start}" '
            f'oninput="{onchange}" style="width:60%;vertical-align:middle"></label>'
            f'<div class="inr-caption" style="font-family:sans-serif;color:#444">'
            f'{html.escape(self.caption_line(self.start))}</div>{"".join(imgs)}</div>')


def static_slider(draw, values, label, captions=None, dpi=72, scale=2) -> StaticSlider:
    """Call `draw(value) -> figure` for each value and wrap the pictures in a StaticSlider
    (rendered at `scale` times `dpi`, shown at `dpi`'s size)."""
    return StaticSlider([draw(v) for v in values], values, label, captions, dpi=dpi, scale=scale)


class LiveControls:
    """ipywidgets controls and a button that call `run(**values)`; in a static page the output
    falls back to a short note (the book drops the widget view, which needs a kernel).

    validate(**values) -> a sentence refusing the settings, or None. applies: {name:
    predicate(**values)}, for options that only some settings use: while the predicate is
    false the control is greyed out, a note names it as ignored, and the run still gets its
    value (and ignores it). precomputed: "above" or "below", where the static sliders are.
    """

    def __init__(self, run, controls: dict, validate=None, button="Train", applies=None,
                 precomputed=None):
        import ipywidgets as w

        applies = dict(applies or {})
        unknown = set(applies) - set(controls)
        if unknown:
            raise ValueError(f"applies names controls that do not exist: {sorted(unknown)}")
        self.run, self.validate, self.controls, self.applies = run, validate, controls, applies
        self.note_html = live_note(precomputed)  # checked here, not when first displayed
        self.start = self.values()  # what reset() goes back to
        self.result = None  # what the last successful run returned
        self.button = w.Button(description=button, button_style="primary", icon="play")
        self.message = w.HTML()  # a refusal, an error, or where a run stopped
        self.ignored = w.HTML()  # which options the current settings do not use
        self.output = w.Output()
        self.button.on_click(self._clicked)
        for c in controls.values():
            c.observe(self._refresh, names="value")
        self.box = w.VBox([w.HBox(list(controls.values())),
                           w.HBox([self.button, self.message, self.ignored]), self.output])
        self._refresh()

    def values(self) -> dict:
        return {name: c.value for name, c in self.controls.items()}

    def _refresh(self, _=None):
        values = self.values()
        off = [name for name, used in self.applies.items() if not used(**values)]
        for name in self.applies:
            self.controls[name].disabled = name in off
        names = ", ".join(self.controls[n].description or n for n in off)
        self.ignored.value = (f'<span style="color:#666">not used with these settings, '
                              f"ignored: {html.escape(names)}</span>" if off else "")

    def _say(self, text, colour="#b00"):
        self.message.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    def _clicked(self, _=None):
        values = self.values()
        problem = self.validate(**values) if self.validate else None
        if problem:
            self._say(problem)
            return
        self.message.value = ""
        self.button.disabled = True
        self.output.clear_output(wait=True)
        try:
            # Catch inside the Output widget: in a kernel, an exception leaving it is shown
            # there as a traceback and swallowed.
            with self.output:
                try:
                    with _interruptible():
                        self.result = self.run(**values)
                except KeyboardInterrupt as err:
                    # The reader interrupted the kernel: where the run stopped, no traceback.
                    step = getattr(err, "step", None)
                    self._say("stopped" + (f" at step {step}" if step is not None else ""), "#a60")
                except (ValueError, FloatingPointError, RuntimeError, MemoryError) as err:
                    # A bad combination or a diverged run is a message, not a traceback.
                    self._say(f"{type(err).__name__}: {err}")
        finally:
            self.button.disabled = False

    def click(self):
        """Press the button from code (used by tests and by the executed notebook)."""
        self._clicked()

    def reset(self):
        """Back to the start values, with no message: the state a reader starts from (the
        last run's output stays, as an example)."""
        for name, value in self.start.items():
            self.controls[name].value = value
        self.message.value = ""

    def _repr_mimebundle_(self, **kwargs):
        return _fallback_bundle(self.box, self.note_html,
                                "Live controls (run the notebook in a kernel to use them)", **kwargs)


@contextlib.contextmanager
def _interruptible():
    """Let a kernel interrupt (SIGINT) stop the run, wherever the click is handled.

    ipykernel ignores SIGINT between its handlers, and JupyterLab 4.6 sends widget messages to
    a kernel subshell, a thread of its own, while signals reach the main thread only. So the
    main thread gets a handler that raises KeyboardInterrupt in the thread running the click.
    """
    main = threading.main_thread()
    if threading.current_thread() is main:
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
        return
    loop = _main_loop()
    if loop is None:  # not in an ipykernel: nothing can deliver an interrupt here
        yield
        return
    target = threading.get_ident()

    def stop_run(signum, frame):
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target),
                                                   ctypes.py_object(KeyboardInterrupt))

    saved = []
    installed = threading.Event()

    def install():
        saved.append(signal.signal(signal.SIGINT, stop_run))
        installed.set()

    loop.add_callback(install)
    installed.wait(5)  # the main thread is idle in its event loop while a subshell runs
    try:
        yield
    finally:
        if saved:
            loop.add_callback(signal.signal, signal.SIGINT, saved[0])


def _main_loop():
    """The kernel's main-thread event loop (tornado's add_callback is thread-safe), or None."""
    try:
        from IPython import get_ipython

        return get_ipython().kernel.io_loop
    except AttributeError:
        return None


def live_controls(run, controls, validate=None, button="Train", applies=None,
                  precomputed=None) -> LiveControls:
    """Build live controls: `controls` maps run's keyword names to ipywidgets (see
    LiveControls for `validate`, `applies` and `precomputed`)."""
    return LiveControls(run, controls, validate, button, applies, precomputed)


def _fallback_bundle(box, note_html, text, **kwargs):
    bundle = box._repr_mimebundle_(**kwargs)
    bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle)
    bundle["text/html"] = note_html
    bundle["text/plain"] = text
    return bundle


class TrainingView:
    """A live view of one fit: a progress bar, the PSNR curve and, for an image, the
    reconstruction, redrawn while training runs (call `view.fit(model, lr=...)`). Works in a
    kernel; on the static site it shows the note.

    signal: the Signal being fitted; steps: the planned number of steps; every: redraw
    interval in steps (default: about 10 redraws); picture: draw the reconstruction (default:
    when the signal is an image, shape (H, W)).
    """

    def __init__(self, signal, steps, every=None, title="", dpi=60, picture=None):
        import ipywidgets as w

        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        image = len(signal.shape) == 2
        if picture and not image:
            raise ValueError(f"TrainingView draws images: the signal's shape must be (H, W), got {signal.shape}")
        self.signal, self.steps, self.title, self.dpi = signal, int(steps), title, dpi
        self.picture = image if picture is None else bool(picture)
        self.every = int(every) if every else max(1, self.steps // 10)
        if self.every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.progress = w.IntProgress(value=0, min=0, max=self.steps, description="step 0",
                                      bar_style="info")
        self.status = w.HTML()
        # hidden until their first picture: an empty Image shows as a broken one
        self.image = w.Image(format="png", layout=w.Layout(display="none"))
        self.curve = w.Image(format="png", layout=w.Layout(display="none"))
        self.box = w.VBox([w.HBox([self.progress, self.status]),
                           w.HBox([self.image, self.curve] if self.picture else [self.curve])])
        self.redraws = 0
        self.step = 0  # the last step reported by fit
        self.history = None

    def _draw_picture(self, values):
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
        ax.set_title("training PSNR" if self.picture or not self.title else self.title, fontsize=9)
        ax.grid(alpha=0.3)
        return figure_png(fig, self.dpi)

    def callback(self, step, model, history):
        """fit's callback: move the bar; every `every` steps (and at the end) redraw the
        reconstruction and the PSNR curve."""
        from ..training import predict

        last, self.step = self.step, step
        self.progress.value = min(step, self.steps)
        self.progress.description = f"step {step}"
        if step // self.every == last // self.every and step != self.steps:
            return
        psnr = history.psnr[-1] if history.psnr else None
        self.status.value = (f"{psnr:.1f} dB" if psnr is not None else "") + \
            f" &nbsp; {history.seconds[-1]:.1f} s"
        if self.picture:
            self.image.value = self._draw_picture(predict(model, self.signal.coords))
            self.image.layout.display = None
        if history.psnr and history.psnr[-1] is not None:
            self.curve.value = self._curve(history)
            self.curve.layout.display = None
        self.redraws += 1

    def fit(self, model, target=None, **fit_kwargs):
        """Train `model` on the signal (or on its coordinates and `target`, e.g. derivatives
        with a derivative loss) for the planned steps, redrawing as it goes. A kernel
        interrupt marks the bar as stopped and raises Stopped(step)."""
        from ..training import fit

        data = (self.signal,) if target is None else (self.signal.coords, target)
        self.progress.bar_style, self.step = "info", 0
        # The bar moves in about 100 ticks; pictures are redrawn every `every` steps.
        tick = max(1, min(self.every, self.steps // 100))
        try:
            self.history = fit(model, *data, steps=self.steps, progress=False,
                               callback=self.callback, callback_every=tick, **fit_kwargs)
        except KeyboardInterrupt as err:
            self.progress.bar_style = "warning"
            self.progress.description = "stopped"
            self.status.value = f"stopped at step {self.step}"
            raise Stopped(self.step) from err
        except Exception:
            self.progress.bar_style = "danger"
            raise
        self.progress.bar_style = "success"
        return self.history

    def __repr__(self):
        return f"Live training view ({self.progress.value}/{self.steps} steps)"

    def _repr_mimebundle_(self, **kwargs):
        return _fallback_bundle(self.box, live_note(),
                                "Live training view (run the notebook in a kernel to see it)",
                                **kwargs)


def _clip01(a):
    import numpy as np

    return np.clip(a, 0.0, 1.0)


def live_fit(model, signal, steps, every=None, title="", show=True, target=None, picture=None,
             **fit_kwargs):
    """Fit `model` to a Signal (or to its coordinates and `target`) while a TrainingView
    shows progress, the PSNR curve and, for images, the reconstruction (displayed first when
    `show`); returns the History. Interrupted, it raises Stopped(step), which LiveControls
    turns into a one-line message."""
    view = TrainingView(signal, steps, every=every, title=title, picture=picture)
    if show:
        from IPython.display import display

        display(view)
    return view.fit(model, target=target, **fit_kwargs)
