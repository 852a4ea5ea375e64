"""Static sliders over precomputed frames: self-contained HTML that works in a plain web page
(no kernel, no network, no CDN), and the PNG helpers that keep its frames small."""
import base64
import html
import io
import itertools
import struct

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from . import pagecheck

_ids = itertools.count()


def figure_png(fig, dpi=72) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed so it is not shown twice."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def compact_png(png: bytes) -> bytes:
    """The same picture, pixel for pixel, in fewer bytes where it can be: an opaque image of at
    most 256 colours (a grey picture, most plots of few colours) is stored with a palette."""
    img = Image.open(io.BytesIO(png))
    if img.mode == "RGBA":
        if img.getchannel("A").getextrema() != (255, 255):
            return png  # transparency: keep it as it is
        img = img.convert("RGB")
    if img.mode != "RGB":
        return png
    colours = img.getcolors(256)
    if colours is None:
        return png  # more than 256 colours: a palette would change the picture
    # Pillow's median cut with as many boxes as there are colours ends with one colour a box,
    # so the palette holds every colour exactly; checked below, as a palette must not alter it.
    palette = img.quantize(colors=len(colours), method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
    if not np.array_equal(np.asarray(palette.convert("RGB")), np.asarray(img)):
        return png
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
        for f, v in zip(frames, values):  # each frame checked at the size the page shows it
            if not isinstance(f, bytes):
                pagecheck.report(pagecheck.figure_problems(f, self.shown_scale(f, dpi, scale),
                                                           name=f"slider frame {label} = {v}"))
        frames = [f if isinstance(f, bytes) else compact_png(figure_png(f, dpi * scale))
                  for f in frames]
        if not frames or len(frames) != len(values):
            raise ValueError(f"need one frame per value: {len(frames)} frames, {len(values)} values")
        if captions is not None and len(captions) != len(frames):
            raise ValueError(f"{len(captions)} captions for {len(frames)} frames")
        self.frames, self.values, self.label, self.scale = frames, list(values), label, scale
        self.captions = list(captions) if captions is not None else [""] * len(frames)
        self.start = len(frames) // 2 if start is None else start

    @classmethod
    def shown_scale(cls, fig, dpi, scale) -> float:
        """CSS pixels on the page per pixel of `fig` at its own dpi, as _repr_html_ sizes it."""
        fig.canvas.draw()
        inches = fig.get_tightbbox(fig.canvas.get_renderer()).width
        w = inches * dpi * scale  # the PNG's width
        zoom = max(1.0, min(scale, cls.min_width * scale / w))
        shown = min(pagecheck.COLUMN_PX, w * zoom / scale)  # max-width: 100% of the column
        return shown / inches / fig.dpi

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
