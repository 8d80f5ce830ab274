"""A figure as the PNG bytes that ``show`` stores: the picture of
``savefig(bbox_inches="tight", pad_inches=0.1)`` at ``FIGURE_SCALE`` times the figure's dpi,
drawn once.

``savefig(bbox_inches="tight")`` lays out every text twice: once to measure the tight box,
once more to draw on a canvas of the trimmed size. Here the figure is drawn once, on a canvas
``MARGIN_INCHES`` larger than the figure on every side, so that what lies past the figure's
edge (an axis label or a legend placed outside the axes) is drawn too; the box is then read
off the pixels: the rows and columns that hold anything but the background, padded by
``PAD_INCHES``. Only when the drawing comes within that padding of the larger canvas's edge,
where no pixel shows how far it goes, or when a text or legend lies wholly beyond it, does
``savefig`` measure the box and draw the figure.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

#: Stored pixels per CSS pixel: a figure stays sharp at 200 % zoom (and on HiDPI screens).
FIGURE_SCALE = 2
#: PNG zlib level for stored figures: level 1 encodes about twice as fast as the default 6,
#: and the opaque RGB image it is given (no alpha channel) keeps the file within a few percent.
PNG_COMPRESS_LEVEL = 1
#: Inches of background left around the content: matplotlib's ``savefig.pad_inches`` default.
PAD_INCHES = 0.1
#: Inches of canvas drawn beyond the figure's edge on every side: room for the labels and
#: legends that figures built by hand often leave hanging past it.
MARGIN_INCHES = 0.5


def figure_png(figure: Any) -> bytes:
    """``figure`` as PNG bytes at ``FIGURE_SCALE`` times its dpi, trimmed to its content plus
    ``PAD_INCHES``: RGB when the figure is opaque, RGBA otherwise."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    dpi = figure.dpi * FIGURE_SCALE
    if not isinstance(figure.canvas, FigureCanvasAgg):  # pragma: no cover - other backends
        figure.savefig(buffer, format="png", bbox_inches="tight", dpi=dpi)
        return buffer.getvalue()
    pixels = _draw_with_margin(figure, dpi)
    window = None if pixels is None else _ink_window(pixels, round(PAD_INCHES * dpi))
    if pixels is None or window is None or not _floating_artists_inside(figure):
        figure.savefig(
            buffer,
            format="png",
            bbox_inches="tight",
            pad_inches=PAD_INCHES,
            dpi=dpi,
            pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
        )
        return buffer.getvalue()
    _encode(pixels, window, buffer)
    return buffer.getvalue()


def _draw_with_margin(figure: Any, dpi: float) -> np.ndarray | None:
    """One draw of ``figure`` at ``dpi`` on a canvas ``MARGIN_INCHES`` larger on every side,
    as RGBA pixels (height, width, 4) uint8; ``None`` if the canvas is not the size expected.

    ``savefig`` with an explicit box draws once (it measures nothing) and paints the margin in
    the figure's face colour, as it paints the padding of a tight box.
    """
    import matplotlib as mpl
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    box = figure.bbox_inches.padded(MARGIN_INCHES)
    raw = io.BytesIO()
    # ``tight_layout()`` leaves a placeholder layout engine behind, and with any engine
    # savefig lays the figure out once more before it draws. The placeholder lays out nothing,
    # so it steps aside for this draw (unless the rc settings would put a real engine in its
    # place, which is what set_layout_engine(None) does under them).
    engine = figure.get_layout_engine()
    automatic = mpl.rcParams["figure.autolayout"] or mpl.rcParams["figure.constrained_layout.use"]
    idle = isinstance(engine, PlaceHolderLayoutEngine) and not automatic
    if idle:
        figure.set_layout_engine(None)
    try:
        figure.savefig(raw, format="rgba", dpi=dpi, bbox_inches=box)
    finally:
        if idle:
            figure.set_layout_engine(engine)
    # Agg's canvas is the box's size in pixels, each side rounded down; in floating point the
    # product can fall either side of a whole number, so the size is the candidate that fits.
    data = raw.getbuffer()
    w, h = box.width * dpi, box.height * dpi
    fits = [
        (width, height)
        for width in {math.floor(w), round(w)}
        for height in {math.floor(h), round(h)}
        if width * height * 4 == len(data)
    ]
    if len(fits) != 1:  # pragma: no cover - another canvas size rule
        return None
    width, height = fits[0]
    return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 4)


def _floating_artists_inside(figure: Any) -> bool:
    """Whether every artist that may stand apart from the rest lies inside the margin.

    A drawing that crosses the margin's edge shows on it (``_ink_window`` sees that), but a
    text or legend placed wholly beyond it leaves no pixel at all. Tick and axis labels hang
    from their axes and cross the edge if they pass it; texts and legends (of the figure or of
    an axes, titles included) are measured: a few text layouts, not the figure's.
    """
    from matplotlib.axes import Axes
    from matplotlib.legend import Legend
    from matplotlib.text import Text

    renderer = figure.canvas.get_renderer()
    inside = figure.bbox_inches.padded(MARGIN_INCHES - PAD_INCHES)
    floating = [
        a for a in figure.get_children() if not isinstance(a, Axes) and a is not figure.patch
    ]
    for ax in figure.axes:
        floating += [a for a in ax.get_children() if isinstance(a, (Text, Legend))]
    for artist in floating:
        if not (artist.get_visible() and artist.get_in_layout()):
            continue
        if isinstance(artist, Text) and not artist.get_text():
            continue
        box = artist.get_window_extent(renderer)
        if not np.isfinite(box.extents).all():
            continue
        x0, y0, x1, y1 = box.extents / figure.dpi  # inches, origin bottom left
        if x0 < inside.x0 or y0 < inside.y0 or x1 > inside.x1 or y1 > inside.y1:
            return False
    return True


def _ink_window(pixels: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    """The window (left, top, right, bottom) around every pixel of ``pixels`` (H, W, 4) that
    differs from the background, widened by ``pad`` pixels on each side; ``None`` when the
    corners disagree on the background, nothing is drawn, or the window would reach past the
    canvas (the drawing may go on beyond it)."""
    # One uint32 per pixel: one comparison per pixel instead of four.
    packed = pixels.view(np.uint32)[..., 0]
    corners = packed[[0, 0, -1, -1], [0, -1, 0, -1]]
    if np.any(corners != corners[0]):
        return None
    ink = packed != corners[0]
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink[rows[0] : rows[-1] + 1].any(axis=0))
    height, width = ink.shape
    window = (
        int(cols[0]) - pad,
        int(rows[0]) - pad,
        int(cols[-1]) + 1 + pad,
        int(rows[-1]) + 1 + pad,
    )
    if window[0] < 0 or window[1] < 0 or window[2] > width or window[3] > height:
        return None
    return window


def _encode(pixels: np.ndarray, window: tuple[int, int, int, int], buffer: io.BytesIO) -> None:
    """Write ``pixels`` (H, W, 4) uint8 cut to ``window`` to ``buffer`` as PNG: RGB when every
    pixel is opaque, RGBA otherwise."""
    from PIL import Image

    left, top, right, bottom = window
    trimmed = Image.fromarray(np.ascontiguousarray(pixels[top:bottom, left:right]), "RGBA")
    opaque = trimmed.getchannel("A").getextrema()[0] == 255
    (trimmed.convert("RGB") if opaque else trimmed).save(
        buffer, format="png", compress_level=PNG_COMPRESS_LEVEL
    )
