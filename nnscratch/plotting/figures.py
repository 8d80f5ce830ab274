"""Showing and saving figures, for every notebook: ``show(alt)`` stores a figure with its text
alternative (``figure_html``, read back by ``stored_alt``), and ``save_figure`` writes one to disk.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._style import _plt

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


#: Stored pixels per CSS pixel: a figure stays sharp at 200 % zoom (and on HiDPI screens).
FIGURE_SCALE = 2
#: The class of the ``<img>`` that :func:`show` stores; :func:`stored_alt` looks for it.
FIGURE_CLASS = "nnscratch-figure"
_FIGURE_IMG = re.compile(rf'<img class="{FIGURE_CLASS}" alt="([^"]*)"')


def figure_html(png: bytes, alt: str) -> str:
    """The ``<img>`` that :func:`show` stores: ``png`` (drawn at ``FIGURE_SCALE`` pixels per
    CSS pixel) inline as a data URL, shown at its CSS size, with ``alt`` as its text.

    HTML rather than ``image/png`` because JupyterLab's image renderer drops an ``alt`` given in
    output metadata; its HTML sanitizer keeps ``<img alt src="data:...">``, and the website
    (MyST-NB) and the decks (nbconvert) render the same element.
    """
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("figure_html needs PNG bytes")
    width, height = (int.from_bytes(png[i : i + 4], "big") // FIGURE_SCALE for i in (16, 20))
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img class="{FIGURE_CLASS}" alt="{html.escape(alt, quote=True)}" '
        f'width="{width}" height="{height}" src="data:image/png;base64,{data}">'
    )


def stored_alt(output: Mapping[str, Any]) -> str | None:
    """The description :func:`show` stored in a notebook output (a dict from nbformat), or
    ``None`` when the output is not a figure shown by :func:`show`."""
    match = _FIGURE_IMG.search(str(output.get("data", {}).get("text/html", "")))
    return html.unescape(match.group(1)) if match else None


#: PNG zlib level for stored figures: level 1 encodes about twice as fast as the default 6,
#: and the opaque RGB image it is given (no alpha channel) keeps the file within a few percent.
PNG_COMPRESS_LEVEL = 1


def _figure_png(figure: Any) -> bytes:
    """``figure`` as PNG bytes at ``FIGURE_SCALE`` times its dpi, trimmed to its tight box.

    The same picture as ``savefig(bbox_inches="tight", pad_inches=0.1)``, drawn once:
    ``savefig`` lays out every text twice (once to measure the box, once on a canvas of the
    trimmed size), which is most of a figure's cost in a notebook. Here the figure is drawn on
    its own canvas, the box measured with the same renderer, and the pixels cropped. Where
    the box reaches past the canvas (an artist outside the figure) only ``savefig`` can
    enlarge the canvas, so it is used.
    """
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    pad = 0.1  # inches, matplotlib's savefig.pad_inches default
    buffer = io.BytesIO()
    dpi = figure.dpi
    if not isinstance(figure.canvas, FigureCanvasAgg):  # pragma: no cover - other backends
        figure.savefig(buffer, format="png", bbox_inches="tight", dpi=dpi * FIGURE_SCALE)
        return buffer.getvalue()
    figure.set_dpi(dpi * FIGURE_SCALE)
    try:
        figure.canvas.draw()
        box = figure.get_tightbbox(figure.canvas.get_renderer())  # inches, origin bottom left
        width, height = figure.canvas.get_width_height()
        if box.x0 < 0 or box.y0 < 0 or box.x1 * figure.dpi > width or box.y1 * figure.dpi > height:
            figure.savefig(
                buffer,
                format="png",
                bbox_inches="tight",
                pad_inches=pad,
                dpi=figure.dpi,
                pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL},
            )
            return buffer.getvalue()
        # savefig's canvas: the padded box, in whole pixels, the figure shifted onto it.
        padded = box.padded(pad)
        size = (int(padded.width * figure.dpi), int(padded.height * figure.dpi))
        left = round(padded.x0 * figure.dpi)
        top = round(height - padded.y0 * figure.dpi) - size[1]
        pixels = Image.frombuffer(
            "RGBA", (width, height), figure.canvas.buffer_rgba(), "raw", "RGBA", 0, 1
        )
        # Where the padding falls past the canvas, savefig fills it with the figure's face
        # colour, and so does this.
        background = tuple(round(255 * c) for c in figure.get_facecolor())
        trimmed = Image.new("RGBA", size, background)
        window = (max(left, 0), max(top, 0), min(left + size[0], width), min(top + size[1], height))
        trimmed.paste(pixels.crop(window), (window[0] - left, window[1] - top))
        opaque = trimmed.getchannel("A").getextrema()[0] == 255
        (trimmed.convert("RGB") if opaque else trimmed).save(
            buffer, format="png", compress_level=PNG_COMPRESS_LEVEL
        )
        return buffer.getvalue()
    finally:
        figure.set_dpi(dpi)


def show(alt: str, fig: Figure | Axes | None = None) -> None:
    """Show a figure in the notebook together with its text alternative, then close it.

    ``alt`` says what the figure shows and what to see in it, with the cell's own numbers
    (``f"Training loss falls from {first:.2f} to {last:.2f} ..."``), not just its title.
    ``fig`` defaults to the current figure; an ``Axes`` means its figure. Use it instead of
    ``plt.show()`` as the last line of a plotting cell.

    The output holds ``text/html``, an ``<img>`` whose ``alt`` is the description (see
    :func:`figure_html`), and ``text/plain``, the description alone. So JupyterLab, the website
    and the slides show the same picture with the same text to a screen reader, and nbval
    compares the description while the image bytes are masked (nbval_sanitize.cfg).
    """
    from IPython.display import display

    text = " ".join(str(alt).split()) if isinstance(alt, str) else ""
    if not text:
        raise ValueError("show() needs alt: a sentence that says what the figure shows")
    plt = _plt()
    figure: Any = plt.gcf() if fig is None else getattr(fig, "figure", fig)
    if not hasattr(figure, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure or Axes, got {type(fig).__name__}")
    display(
        {"text/html": figure_html(_figure_png(figure), text), "text/plain": text},
        raw=True,
        metadata={"text/html": {"alt": text}},
    )
    plt.close(figure)


def save_figure(fig: Figure | Axes, path: str | Path) -> Path:
    """Save ``fig`` (a Figure, or the Figure of an Axes) with a tight bounding box at 100 dpi.

    Creates missing parent folders; the format follows the suffix (``.png``, ``.pdf``,
    ``.svg``). Returns the path written.
    """
    figure: Any = fig if hasattr(fig, "savefig") else getattr(fig, "figure", None)
    if not hasattr(figure, "savefig"):
        raise TypeError(f"fig must be a matplotlib Figure or Axes, got {type(fig).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, bbox_inches="tight", dpi=100)
    return path
