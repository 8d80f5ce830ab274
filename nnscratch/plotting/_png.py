"""A figure as the PNG bytes that ``show`` stores: the picture of
``savefig(bbox_inches="tight", pad_inches=0.1)`` at ``FIGURE_SCALE`` times the figure's dpi,
drawn once and trimmed to what it drew.

``savefig`` lays out every text twice, once to measure the tight box and once on a canvas of
the trimmed size. Here the figure is drawn once on its own canvas and the box read off the
pixels: the rows and columns that hold anything but the figure's background. Pixels cannot
show what falls past the canvas edge, so the box is measured the way ``savefig`` does
(``Figure.get_tightbbox``, which lays out every tick label again) whenever something might:
a text, legend or other artist not clipped to an axes that reaches past the edge, an axes
whose tick labels could lie wholly beyond it, or a drawing near the edge that no measured
artist accounts for. Where that box reaches past the canvas, ``savefig`` draws the figure.
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
#: Inches an axes keeps from the canvas edge on a side with tick labels: a tick label starts a
#: tick length plus a pad (7 pt, 0.1 in, by default) outside the axes, so nearer the edge it
#: could lie wholly beyond it, where no pixel shows it.
_TICK_REACH = 0.25
#: Inches from the canvas edge where a drawing must belong to a measured artist: a tick label
#: that the edge cuts can leave the blank gap between two of its glyphs on the edge itself.
_EDGE = 0.05
#: Pixels a measured box is widened by: antialiasing and line widths reach past it.
_BLEED = 2

#: A pixel window (left, top, right, bottom) on the canvas, rows counted from the top; it may
#: reach past the canvas, where the background fills it.
Window = tuple[int, int, int, int]


def figure_png(figure: Any) -> bytes:
    """``figure`` as PNG bytes at ``FIGURE_SCALE`` times its dpi, trimmed to its content plus
    ``PAD_INCHES``: RGB when the figure is opaque, RGBA otherwise. The figure's dpi is
    restored afterwards."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    dpi = figure.dpi
    if not isinstance(figure.canvas, FigureCanvasAgg):  # pragma: no cover - other backends
        figure.savefig(buffer, format="png", bbox_inches="tight", dpi=dpi * FIGURE_SCALE)
        return buffer.getvalue()
    figure.set_dpi(dpi * FIGURE_SCALE)
    try:
        figure.canvas.draw()
        pixels = np.asarray(figure.canvas.buffer_rgba())  # (height, width, 4) uint8
        background = _background(figure, pixels)
        window = None if background is None else _ink_window(figure, pixels, background)
        if window is None:
            box = figure.get_tightbbox(figure.canvas.get_renderer())  # inches, origin bottom left
            window = _layout_window(box, figure.dpi, pixels.shape[:2])
            if window is None:
                # Past the canvas: savefig draws the figure again, on a canvas the size of the
                # padded box; given the box, it need not measure it again.
                figure.savefig(
                    buffer,
                    format="png",
                    bbox_inches=box.padded(PAD_INCHES),
                    dpi=figure.dpi,
                    pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
                )
                return buffer.getvalue()
        fill = _facecolor_pixel(figure) if background is None else background
        _encode(pixels, window, fill, buffer)
        return buffer.getvalue()
    finally:
        figure.set_dpi(dpi)


def _facecolor_pixel(figure: Any) -> np.ndarray:
    """The figure's face colour as an RGBA pixel (4,) uint8."""
    return np.array([round(255 * c) for c in figure.get_facecolor()], dtype=np.uint8)


def _background(figure: Any, pixels: np.ndarray) -> np.ndarray | None:
    """The pixel (4,) uint8 that the figure's background left on the canvas, read off its
    corners, or ``None`` when a corner holds anything else (a drawing reaches the corner)."""
    corners = pixels[[0, 0, -1, -1], [0, -1, 0, -1]].astype(int)  # (4, 4)
    if np.any(corners != corners[0]):
        return None
    if figure.patch.get_visible():
        # Agg rounds the face colour to 8 bits its own way: within one step of ours.
        if np.abs(corners[0] - np.array(figure.get_facecolor()) * 255).max() > 1:
            return None
    elif corners[0, 3] != 0:
        return None
    return pixels[0, 0].copy()


def _ink_window(figure: Any, pixels: np.ndarray, background: np.ndarray) -> Window | None:
    """The padded window around every pixel of ``pixels`` (H, W, 4) that differs from
    ``background``, or ``None`` when the pixels cannot vouch for it (see the module's
    docstring)."""
    height, width = pixels.shape[:2]
    # One uint32 per pixel: one comparison per pixel instead of four.
    packed = np.ascontiguousarray(pixels).view(np.uint32)[..., 0]
    ink = packed != background.view(np.uint32)[0]
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink[rows[0] : rows[-1] + 1].any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    boxes = _measured_boxes(figure)
    if boxes is None:
        return None
    edge = math.ceil(_EDGE * figure.dpi)
    near_edge = min(left, top, width - right, height - bottom) < edge
    if near_edge and _unexplained_near_edge(ink, boxes, edge):
        return None
    pad = round(PAD_INCHES * figure.dpi)
    return (left - pad, top - pad, right + pad, bottom + pad)


def _measured_boxes(figure: Any) -> list[Window] | None:
    """Pixel boxes of the artists the pixels cannot vouch for, measured: every axes, and
    every text, legend, annotation or other artist not clipped to an axes. ``None`` when one
    of them reaches past the canvas, or an axes comes within ``_TICK_REACH`` of the edge on a
    side where it has tick labels. Tick labels and spines lie beside their axes, so the axes'
    box stands for them and their costly extents are not measured."""
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.spines import Spine
    from matplotlib.text import Text

    canvas = figure.bbox
    renderer = figure.canvas.get_renderer()
    reach = _TICK_REACH * figure.dpi
    boxes: list[Window] = []
    todo = [artist for artist in figure.get_children() if artist is not figure.patch]
    while todo:
        artist = todo.pop()
        if not (artist.get_visible() and artist.get_in_layout()) or isinstance(
            artist, (Axis, Spine)
        ):
            continue
        if isinstance(artist, Axes):
            x0, y0, x1, y1 = artist.bbox.extents
            if artist.axison:
                sides = _tick_label_sides(artist)
                x0, x1 = x0 - reach * ("left" in sides), x1 + reach * ("right" in sides)
                y0, y1 = y0 - reach * ("bottom" in sides), y1 + reach * ("top" in sides)
                for axis in (artist.xaxis, artist.yaxis):
                    todo.extend((axis.label, axis.offsetText))
            todo.extend(artist.get_default_bbox_extra_artists())  # its unclipped children
            todo.extend(child for child in artist.get_children() if isinstance(child, Text))
        else:
            box = artist.get_tightbbox(renderer)
            if box is None or not np.isfinite(box.extents).all() or not (box.width or box.height):
                continue  # nothing drawn, as Figure.get_tightbbox skips it
            x0, y0, x1, y1 = box.extents
        if x0 < canvas.x0 or y0 < canvas.y0 or x1 > canvas.x1 or y1 > canvas.y1:
            return None
        # In rows from the top, widened by the pixels that antialiasing and line widths add.
        rows = (canvas.height - y1, canvas.height - y0)
        boxes.append(
            (
                math.floor(x0) - _BLEED,
                math.floor(rows[0]) - _BLEED,
                math.ceil(x1) + _BLEED,
                math.ceil(rows[1]) + _BLEED,
            )
        )
    return boxes


def _tick_label_sides(ax: Any) -> set[str]:
    """The sides of ``ax`` ("left", "right", "bottom", "top") that show tick labels."""
    sides = set()
    for axis, (first, second) in ((ax.xaxis, ("bottom", "top")), (ax.yaxis, ("left", "right"))):
        if not axis.get_visible():
            continue
        for tick in [*axis.majorTicks, *axis.minorTicks]:
            if tick.label1.get_visible() and tick.label1.get_text():
                sides.add(first)
            if tick.label2.get_visible() and tick.label2.get_text():
                sides.add(second)
    return sides


def _unexplained_near_edge(ink: np.ndarray, boxes: list[Window], edge: int) -> bool:
    """Whether a pixel of ``ink`` (H, W) bool within ``edge`` pixels of the canvas edge lies
    outside every measured box: it may belong to a tick label that the edge cuts."""
    covered = np.zeros(ink.shape, dtype=bool)
    for left, top, right, bottom in boxes:
        covered[max(top, 0) : max(bottom, 0), max(left, 0) : max(right, 0)] = True
    strips = (np.s_[:edge, :], np.s_[-edge:, :], np.s_[:, :edge], np.s_[:, -edge:])
    return any(bool(np.any(ink[strip] & ~covered[strip])) for strip in strips)


def _layout_window(box: Any, dpi: float, shape: tuple[int, int]) -> Window | None:
    """The window ``savefig`` cuts around ``box`` (the figure's tight box, in inches, origin
    bottom left) on a canvas of ``shape`` (height, width) pixels at ``dpi``, or ``None`` when
    the box reaches past the canvas."""
    height, width = shape
    if box.x0 < 0 or box.y0 < 0 or box.x1 * dpi > width or box.y1 * dpi > height:
        return None
    # savefig's canvas: the padded box, in whole pixels, the figure shifted onto it.
    padded = box.padded(PAD_INCHES)
    size = (int(padded.width * dpi), int(padded.height * dpi))
    left = round(padded.x0 * dpi)
    top = round(height - padded.y0 * dpi) - size[1]
    return (left, top, left + size[0], top + size[1])


def _encode(pixels: np.ndarray, window: Window, fill: np.ndarray, buffer: io.BytesIO) -> None:
    """Write ``pixels`` (H, W, 4) uint8 cut to ``window`` to ``buffer`` as PNG, filled with
    ``fill`` (4,) where the window reaches past the canvas (as savefig fills its padding with
    the face colour); RGB when every pixel is opaque."""
    from PIL import Image

    height, width = pixels.shape[:2]
    image = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    left, top, right, bottom = window
    inside = (max(left, 0), max(top, 0), min(right, width), min(bottom, height))
    if inside == window:
        trimmed = image.crop(window)
    else:
        trimmed = Image.new("RGBA", (right - left, bottom - top), tuple(int(c) for c in fill))
        trimmed.paste(image.crop(inside), (inside[0] - left, inside[1] - top))
    opaque = trimmed.getchannel("A").getextrema()[0] == 255
    (trimmed.convert("RGB") if opaque else trimmed).save(
        buffer, format="png", compress_level=PNG_COMPRESS_LEVEL
    )
