"""Checks of what a reader sees: figures (overlapping text or axes, text too small at the size
the page shows it), printed outputs (raw tables, raw dicts, run-log remarks) and prose (API
names that do not exist where the text says). `watch()` runs the figure check at the end of
every cell of an executing chapter; `scripts/execute_chapters.py` fails a chapter that trips it."""
import pkgutil
import re
import sys
from importlib import import_module
from pathlib import Path
from types import ModuleType

import matplotlib.pyplot as plt

# The width, in CSS pixels, of a figure output in the book's text column on a 1280-px screen
# (sphinx-book-theme, measured in headless Chromium): a wider figure is scaled down to it.
COLUMN_PX = 688
MIN_TEXT_PX = 9  # the smallest legible text, in CSS pixels, at the size the page shows it
MARK = "page check:"  # how a problem is printed; execute_chapters looks for it


def _drawn_texts(fig):
    """Every non-empty text the figure actually draws (an Agg draw that records each text
    artist; tick labels outside the view are skipped, as the renderer skips them), with its
    window extent."""
    renderer = fig.canvas.get_renderer()
    drawn = []
    original = renderer.draw_text

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None:
            drawn.append(mtext)
        return original(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    renderer.draw_text = record
    try:
        fig.draw(renderer)
    finally:
        del renderer.draw_text
    out, seen = [], set()
    for t in drawn:
        if id(t) in seen or not t.get_text().strip():
            continue
        seen.add(id(t))
        box = t.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            out.append((t, box))
    return out


def _overlap(a, b, slack=1.0) -> bool:
    """True when two boxes overlap by more than `slack` pixels both ways."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > slack) and (min(a.y1, b.y1) - max(a.y0, b.y0) > slack)


def shown_scale(fig, column_px: float = COLUMN_PX) -> float:
    """CSS pixels on the page per pixel of the figure's PNG (the inline backend saves the tight
    bounding box at the figure's dpi; the page shows it at most `column_px` wide)."""
    fig.canvas.draw()
    width = fig.get_tightbbox(fig.canvas.get_renderer()).width * fig.dpi
    return min(1.0, column_px / width) if width > 0 else 1.0


def figure_problems(fig, scale: float | None = None, name: str = "figure") -> list:
    """What is wrong with `fig` as a reader sees it: text on text, text on another axes, axes on
    axes (a colour bar on its own image's axes included), text smaller than MIN_TEXT_PX at
    `scale` CSS pixels per figure pixel (default: `shown_scale(fig)`)."""
    scale = shown_scale(fig) if scale is None else scale
    problems, texts = [], _drawn_texts(fig)
    for t, box in texts:
        px = t.get_fontsize() * fig.dpi / 72 * scale
        if px < MIN_TEXT_PX - 0.05:
            problems.append(f"{name}: text {t.get_text()[:30]!r} is {px:.1f} px on the page "
                            f"(at least {MIN_TEXT_PX}): enlarge its font or shrink the figure")
    for i, (a, box_a) in enumerate(texts):
        for b, box_b in texts[i + 1:]:
            if _overlap(box_a, box_b):
                problems.append(f"{name}: text {a.get_text()[:30]!r} overlaps {b.get_text()[:30]!r}")
    axes = [ax for ax in fig.axes if ax.get_visible() and (ax.axison or ax.images or ax.collections)]
    boxes = {ax: ax.get_window_extent() for ax in axes}
    for i, a in enumerate(axes):
        for b in axes[i + 1:]:
            twins = all(abs(u - v) < 1 for u, v in zip(boxes[a].extents, boxes[b].extents))
            if not twins and _overlap(boxes[a], boxes[b], slack=2.0):
                problems.append(f"{name}: axes {_label(a)!r} and {_label(b)!r} overlap")
    # a figure-level legend may sit in a plot's empty corner; a legend of one axes on another may not
    free = {id(t) for leg in fig.legends for t in [*leg.get_texts(), leg.get_title()]}
    for t, box in texts:
        if id(t) in free:
            continue
        for ax in axes:
            if ax is not t.axes and _inside_plot(box, boxes[ax]) and not _twin(ax, t.axes, boxes):
                problems.append(f"{name}: text {t.get_text()[:30]!r} lies on axes {_label(ax)!r}")
    return sorted(set(problems))


def _label(ax) -> str:
    return ax.get_title() or ax.get_ylabel() or ax.get_xlabel() or f"axes at {ax.get_position().bounds[:2]}"


def _twin(a, b, boxes) -> bool:
    """Twin axes (twinx/twiny) share one plotting area."""
    return b is not None and b in boxes and all(
        abs(u - v) < 1 for u, v in zip(boxes[a].extents, boxes[b].extents))


def _inside_plot(text_box, ax_box, margin=2.0) -> bool:
    """The text's box lies (partly) inside the axes' plotting area, beyond a small margin."""
    inner = ax_box.expanded(1, 1)
    return (min(text_box.x1, inner.x1 - margin) - max(text_box.x0, inner.x0 + margin) > 0 and
            min(text_box.y1, inner.y1 - margin) - max(text_box.y0, inner.y0 + margin) > 0)


# ---------------------------------------------------------------------------------------------
# Printed outputs and prose

_RUN_LOG = re.compile(r"\b(ran in|computed in|took \d|first version|\d+-core|this machine|"
                      r"chapter ran|the whole chapter)\b", re.I)
_RAW_TABLE = re.compile(r"^\s*\|.*\|\s*$\n^\s*\|\s*:?-{2,}", re.M)
_RAW_REPR = re.compile(r"^\s*(\{['\"][^'\"]+['\"]\s*:|\[\{|\[\()", re.M)


def output_problems(text: str) -> list:
    """A printed (text/plain or stream) output that a reader should not see: a Markdown table as
    text, a raw dict or list of results, a run-log remark."""
    problems = []
    if _RAW_TABLE.search(text):
        problems.append("a Markdown table printed as text: show it with tables.show")
    if _RAW_REPR.search(text):
        problems.append(f"a raw Python dict or list printed: {text.strip()[:60]!r}")
    m = _RUN_LOG.search(text)
    if m:
        problems.append(f"a run-log remark {m.group(0)!r} in {text.strip()[:60]!r}")
    return problems


_API = re.compile(r"`((?:inr|inrlib(?:\.book)?|[a-z_]+)\.[A-Za-z_][\w.]*)")
BOOK_MODULES = tuple(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]))


def _missing(module: str, parts: list) -> str | None:
    """The first of `parts` that `module` (then each attribute, or submodule) lacks, or None."""
    obj = import_module(module)
    for part in parts:
        if part and hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if part and isinstance(obj, ModuleType):  # a submodule not imported yet
            try:
                obj = import_module(f"{obj.__name__}.{part}")
                continue
            except ImportError:
                pass
        return part or "''"
    return None


def prose_problems(markdown: str) -> list:
    """API names in prose (`inr.x`, `inrlib.book.dynamics.x`, `poisson.x`, ...) that do not
    exist where the text says."""
    problems = []
    for ref in _API.findall(markdown):
        head, *rest = ref.split(".")
        if head in ("inr", "inrlib"):
            module = "inrlib"
        elif head in BOOK_MODULES:
            module = f"inrlib.book.{head}"
        else:
            continue
        part = _missing(module, rest)
        if part is not None:
            problems.append(f"`{ref}` does not exist: nothing named {part!r} there")
    return problems


# ---------------------------------------------------------------------------------------------
# Watching an executing chapter

FOUND = []


def report(problems: list) -> None:
    """Record problems and print them as 'page check: ...' lines (execute_chapters reads them)."""
    for p in problems:
        FOUND.append(p)
        print(f"{MARK} {p}", file=sys.stderr)


def _check_open_figures():
    for num in plt.get_fignums():
        report(figure_problems(plt.figure(num), name=f"figure {num}"))


def watch(ip=None) -> None:
    """Check every figure a cell leaves open before the inline backend shows it (an IPython
    post_execute hook placed first); problems are printed as 'page check: ...' on stderr."""
    ip = ip or _ipython()
    if ip is None:
        raise RuntimeError("pagecheck.watch() needs an IPython kernel")
    callbacks = ip.events.callbacks["post_execute"]
    if _check_open_figures not in callbacks:
        callbacks.insert(0, _check_open_figures)


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
