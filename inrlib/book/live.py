"""The chapters' one live-controls component (ipywidgets in a kernel, a note elsewhere) and the
training view every live run shows: progress bar, a metric named for what it is, pictures."""
import html
import math

import ipywidgets as w
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

import inrlib as inr

from .interrupt import Stopped, interruptible, one_progress_view  # Stopped: raised here too
from .sliders import figure_png

CONTROL_WIDTH = "390px"  # three controls a row at 1280 px, each track about 220 px: draggable
STOP_COLOUR, ERROR_COLOUR = "#a60", "#b00"  # the bar's "warning" orange; red for refusals/errors
# Float sliders show their format (30.00), not the value, and step in binary fractions.
ROUNDING = (w.FloatSlider, w.FloatLogSlider, w.FloatRangeSlider, w.BoundedFloatText)


def live_note(precomputed=None) -> str:
    """The text/html shown wherever a live widget is not: the static site renders it with its
    <style>, so it reads the site's sentence; JupyterLab shows an untrusted output (a notebook
    just opened) through a sanitizer that drops <style> and keeps `hidden="hidden"`, so it
    reads "run the cell". `precomputed`: "above" or "below", where the static sliders are."""
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
    Round values (30, 3000) are on it exactly; a FloatLogSlider's 10^(0.1 k) holds 31.6, not 30."""
    if not 0 < lo <= hi:
        raise ValueError(f"log_grid needs 0 < lo <= hi, got {lo}, {hi}")
    k0, k1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    # from the decimal string, so that 3 * 10^-1 is 0.3, not 0.30000000000000004
    values = [float(f"{m}e{k}") for k in range(k0, k1 + 1) for m in mantissas]
    return [int(v) if v.is_integer() else v for v in values if lo <= v <= hi]


def value_slider(values, value, description: str, fmt: str = "{:g}") -> w.SelectionSlider:
    """A slider that stops only on `values` and hands back exactly the one shown: the browser
    sends the index of the stop, not a float rounded to its step, so 30 stays 30 in the kernel."""
    values = list(values)
    if value not in values:
        raise ValueError(f"the start value {value!r} is not one of the slider's values {values}")
    return w.SelectionSlider(options=[(fmt.format(v), v) for v in values], value=value,
                             description=description, continuous_update=False)


class LiveControls:
    """ipywidgets controls and a button that call `run(**values)`; a static page shows a note.

    Controls wrap to rows, each `CONTROL_WIDTH` wide unless its layout says otherwise; float
    sliders are refused (their readout is a format, not the value: use `value_slider`).
    validate(**values) -> a sentence refusing the settings, or None. applies: {name:
    predicate(**values)}: while false, the option is greyed out and named as ignored (the run
    still gets its value). precomputed: "above" or "below", where the static sliders are."""

    def __init__(self, run, controls: dict, validate=None, button="Train", applies=None,
                 precomputed=None):
        for name, c in controls.items():
            if isinstance(c, ROUNDING):
                raise TypeError(f"control {name!r} is a {type(c).__name__}, which shows "
                                f"{c.value!r} rounded to its format and steps in binary "
                                "fractions: use live.value_slider(values, start, label)")
        applies = dict(applies or {})
        unknown = set(applies) - set(controls)
        if unknown:
            raise ValueError(f"applies names controls that do not exist: {sorted(unknown)}")
        self.run, self.validate, self.controls, self.applies = run, validate, controls, applies
        self.note_html = live_note(precomputed)  # checked here, not when first displayed
        self.start = self.values()  # what reset() goes back to
        self.result = None  # what the last run returned (None: refused, failed or stopped)
        self.button = w.Button(description=button, button_style="primary", icon="play")
        # a refusal, an error, or where a run stopped; which options these settings ignore
        self.message, self.ignored = w.HTML(), w.HTML()
        self.output = w.Output()
        self.button.on_click(self._clicked)
        for c in controls.values():
            c.layout.width = c.layout.width or CONTROL_WIDTH
            c.observe(self._refresh, names="value")
        row = w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap"))
        self.box = w.VBox([row, w.HBox([self.button, self.message, self.ignored]), self.output])
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

    def _say(self, text, colour=ERROR_COLOUR):
        self.message.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    def _clicked(self, _=None):
        values, self.result = self.values(), None
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
            with self.output, one_progress_view():
                try:
                    with interruptible():
                        self.result = self.run(**values)
                except KeyboardInterrupt as err:
                    # The reader interrupted the kernel: where the run stopped, no traceback.
                    step = getattr(err, "step", None)
                    self._say("stopped " + (f"at step {step}" if step is not None
                                            else "(not during training)"), STOP_COLOUR)
                except (ValueError, FloatingPointError, RuntimeError, MemoryError) as err:
                    # A bad combination or a diverged run is a message, not a traceback.
                    self._say(f"{type(err).__name__}: {err}")
        finally:
            self.button.disabled = False

    def click(self):  # press the button from code (tests, the executed book)
        self._clicked()

    def reset(self):
        """Back to the start values, with no message: the state a reader starts from (the
        last run's output stays, as an example)."""
        for name, value in self.start.items():
            self.controls[name].value = value
        self.message.value = ""

    def demo(self, **values):
        """The executed book's example run: set `values` (small settings), press the button,
        fail if it did not run cleanly, then reset(); returns the run's result."""
        if set(values) - set(self.controls):
            raise ValueError(f"demo names controls that do not exist: {sorted(set(values) - set(self.controls))}")
        for name, value in values.items():
            self.controls[name].value = value
        self.click()
        said = self.message.value
        self.reset()
        if said:
            raise RuntimeError(f"the demo run with {values} did not run cleanly: {said}")
        return self.result

    def _repr_mimebundle_(self, **kwargs):
        return _fallback_bundle(self.box, self.note_html, "Live controls (run the notebook in a "
                                "kernel to use them)", **kwargs)


def live_controls(run, controls, validate=None, button="Train", applies=None,
                  precomputed=None) -> LiveControls:
    """Build live controls: `controls` maps run's keyword names to ipywidgets (see
    LiveControls for `validate`, `applies` and `precomputed`)."""
    return LiveControls(run, controls, validate, button, applies, precomputed)


def _fallback_bundle(box, note_html, text, **kwargs):
    bundle = box._repr_mimebundle_(**kwargs)
    bundle = dict(bundle[0] if isinstance(bundle, tuple) else bundle)
    return {**bundle, "text/html": note_html, "text/plain": text}


class TrainingView:
    """A live view of one fit (`view.fit(model, lr=...)`): a bar with the step, the metric named
    for what it is and its curve from the first steps, and an image's reconstruction; redrawn
    at the first tick and every `every` steps (default: about 10 redraws). data: a Signal, or
    (coords, target) for a loss not on a signal's values. metric: "PSNR" (images' default) or
    "SNR" (1-D signals', as audio is measured); a loss other than the MSE is shown itself."""

    def __init__(self, data, steps, every=None, title="", dpi=60, picture=None, metric=None):
        if steps < 1 or int(steps) != steps or (every is not None and (every < 1 or int(every) != every)):
            raise ValueError(f"steps and every must be whole numbers >= 1, got {steps} and {every}")
        signal = data if isinstance(data, inr.Signal) else None
        if signal is None and not (isinstance(data, (tuple, list)) and len(data) == 2):
            raise TypeError(f"data must be a Signal or a (coords, target) pair, got {type(data).__name__}")
        image = signal is not None and len(signal.shape) == 2
        if picture and not image:
            raise ValueError(f"TrainingView draws images: data must be a Signal of shape (H, W), got {data!r:.60}")
        if metric not in (None, "PSNR", "SNR"):
            raise ValueError(f'metric must be "PSNR", "SNR" or None (the default), got {metric!r}')
        self.metric = metric or (None if signal is None else "SNR" if len(signal.shape) == 1 else "PSNR")
        self.data, self.signal, self.steps, self.title, self.dpi = data, signal, int(steps), title, dpi
        self.picture = image if picture is None else bool(picture)
        self.every = int(every) if every else max(1, self.steps // 10)
        self.power = float((signal.values.double() ** 2).mean()) if signal is not None else None
        self.progress, self.status = w.IntProgress(max=self.steps, description="step 0"), w.HTML()
        # hidden until their first picture: an empty Image shows as a broken one
        self.image = w.Image(format="png", layout=w.Layout(display="none"))
        self.curve = w.Image(format="png", layout=w.Layout(display="none"))
        self.box = w.VBox([w.HBox([self.progress, self.status]),
                           w.HBox([self.image, self.curve] if self.picture else [self.curve])])
        self.redraws, self.drawn_at, self.step, self.history = 0, None, 0, None  # step: fit's last

    def measure(self, history) -> tuple:
        """(name, unit, values per step): the metric when the loss is the MSE on the values
        (then History.psnr is recorded), else the loss itself."""
        if self.metric and history.psnr and history.psnr[-1] is not None:
            if self.metric == "PSNR":
                return "PSNR", "dB", history.psnr
            return "SNR", "dB", [10 * math.log10(self.power / max(m, 1e-30)) for m in history.loss]
        return "loss", "", history.loss

    # Figure objects, not pyplot's current figure: a run may draw while another thread uses pyplot
    def _draw_picture(self, values):
        (lo, hi), ax = self.signal.value_range, Figure(figsize=(3, 3)).subplots()
        img = np.clip((self.signal.array(values) - lo) / (hi - lo), 0, 1)
        ax.imshow(img, cmap="gray", vmin=0, vmax=1)
        ax.set_title(self.title or "reconstruction", fontsize=9)
        ax.axis("off")
        return figure_png(ax.figure, self.dpi)

    def _curve(self, history):
        (name, unit, values), ax = self.measure(history), Figure(figsize=(3.6, 3)).subplots()
        ax.plot(history.step, values, color="C0", marker="." if len(values) < 3 else None)
        if name == "loss":
            ax.set_yscale("log")
        ax.set_xlim(0, self.steps)
        ax.set(xlabel="step", ylabel=f"{name} ({unit})" if unit else name)
        ax.set_title(f"training {name}" if self.picture or not self.title else self.title, fontsize=9)
        ax.grid(alpha=0.3)
        return figure_png(ax.figure, self.dpi)

    def callback(self, step, model, history):
        """fit's callback: move the bar; at the first tick, every `every` steps and at the end,
        redraw the metric's curve and the reconstruction."""
        self.step = step
        self.progress.value = min(step, self.steps)
        self.progress.description = f"step {step}"
        due = self.drawn_at is None or step - self.drawn_at >= self.every or step == self.steps
        if not due or not history.loss:
            return
        name, unit, values = self.measure(history)
        shown = f"{values[-1]:.1f} {unit}" if unit else f"{values[-1]:.2e}"
        self.status.value = f"{name} {shown} &nbsp; {history.seconds[-1]:.1f} s"
        if self.picture:
            self.image.value = self._draw_picture(inr.predict(model, self.signal.coords))
            self.image.layout.display = None
        self.curve.value = self._curve(history)
        self.curve.layout.display = None
        self.redraws, self.drawn_at = self.redraws + 1, step

    def fit(self, model, target=None, **fit_kwargs):
        """Train `model` on the data (a Signal, or its coordinates and `target`, e.g.
        derivatives with a derivative loss) for the planned steps, redrawing as it goes. A
        kernel interrupt marks the bar as stopped and raises Stopped(step)."""
        data = (self.data,) if self.signal is not None else self.data
        data = data if target is None else (getattr(data[0], "coords", data[0]), target)
        self.progress.bar_style, self.step, self.drawn_at = "info", 0, None
        # The bar moves in about 100 ticks; pictures are redrawn every `every` steps.
        tick = max(1, min(self.every, self.steps // 100))
        try:
            self.history = inr.fit(model, *data, steps=self.steps, progress=False,
                                   callback=self.callback, callback_every=tick, **fit_kwargs)
        except KeyboardInterrupt as err:
            self.progress.bar_style, self.progress.description = "warning", "stopped"
            self.status.value = f'<span style="color:{STOP_COLOUR}">stopped at step {self.step}</span>'
            raise Stopped(self.step) from err
        except Exception:
            self.progress.bar_style = "danger"
            raise
        self.progress.bar_style = "success"
        return self.history

    def __repr__(self):  # the text/plain a console shows
        return f"Live training view ({self.progress.value}/{self.steps} steps)"

    def _repr_mimebundle_(self, **kwargs):
        return _fallback_bundle(self.box, live_note(), "Live training view (run the notebook in "
                                "a kernel to see it)", **kwargs)


def live_fit(model, data, steps, every=None, title="", show=True, target=None, picture=None,
             metric=None, **fit_kwargs):
    """Fit `model` to `data` (a Signal, or a (coords, target) pair; or a Signal's coordinates
    and `target`) while a TrainingView shows progress, the metric and, for images, the
    reconstruction (displayed first when `show`); returns the History. Interrupted, it raises
    Stopped(step), which LiveControls turns into "stopped at step N"."""
    view = TrainingView(data, steps, every=every, title=title, picture=picture, metric=metric)
    if show:
        display(view)
    return view.fit(model, target=target, **fit_kwargs)
