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

from ._png import FIGURE_SCALE
from ._png import figure_png as _figure_png
from ._style import _plt

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
