"""House style shared by every figure module: the colour, marker and line-style cycles,
the lazy matplotlib import and the small axes/array helpers the plotting modules share.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validate import as_array, as_batch, as_labels, require_same_length

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


#: The colour cycle (``nnscratch.setup_notebook`` makes it the default): the Okabe-Ito hues
#: (blue, orange, bluish green, reddish purple, vermillion) darkened where needed so that every
#: series reaches 3:1 against the white figure background (WCAG 1.4.11), and spread in
#: lightness (CIE L* 45, 61, 29, 37, 53, 0: at least 7.5 apart) so that they stay apart in
#: greyscale; then black. tests/course/test_figure_alt.py checks both.
COLORS: tuple[str, ...] = (
    "#0070AE",
    "#C48800",
    "#004F39",
    "#8F3768",
    "#D05C00",
    "#000000",
)
#: One marker per class / run, so that series differ in shape as well as colour.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
#: Line styles for runs drawn on the same axes.
LINESTYLES: tuple[Any, ...] = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)))


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _marker(i: int) -> str:
    return MARKERS[i % len(MARKERS)]


def _linestyle(i: int) -> Any:
    return LINESTYLES[i % len(LINESTYLES)]


def _plt() -> Any:
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt

    return plt


def _get_ax(ax: Axes | None, figsize: tuple[float, float] = (6.0, 4.0)) -> Axes:
    """``ax`` itself, or the axes of a new figure of size ``figsize`` (inches)."""
    if ax is not None:
        return ax
    _, new_ax = _plt().subplots(figsize=figsize)
    return new_ax


def _subplots(
    n: int, ncols: int, panel: tuple[float, float], **kwargs: Any
) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels in rows of ``ncols``; unused grid cells are removed."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, grid = _plt().subplots(
        nrows,
        ncols,
        figsize=(panel[0] * ncols, panel[1] * nrows),
        squeeze=False,
        **kwargs,
    )
    axes = list(grid.ravel())
    for extra in axes[n:]:
        fig.delaxes(extra)
    if kwargs.get("sharex"):  # keep x tick labels on every panel (some lost their lower row)
        for ax in axes[:n]:
            ax.tick_params(labelbottom=True)
    return fig, axes[:n]


def _check_axes(axes: object, n: int, name: str = "axes") -> list[Axes]:
    """``axes`` (one Axes or a sequence / array of them) as a list of exactly ``n``."""
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(flat) != n:
        raise ValueError(f"{name} must hold {n} Axes (one per panel), got {len(flat)}")
    return flat


def _label_axes(ax: Axes, title: str, xlabel: str, ylabel: str, *, legend: bool = False) -> Axes:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(loc="best", fontsize="small", framealpha=0.85)
    return ax


def _as_series(values: object, name: str) -> np.ndarray:
    """A 1-D float array from a sequence of numbers (``(n,)`` or ``(n, 1)``)."""
    arr = as_array(values, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of numbers, got shape {arr.shape}")
    return arr


def _as_xy(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """Checked 2-D points ``(n, 2)`` and integer labels ``(n,)``."""
    X = as_batch(X, "X", features=2)
    y_arr = np.asarray(y)
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr[:, 0]
    labels = as_labels(y_arr, name="y")
    require_same_length(X, labels)
    return X, labels


def _markevery(n: int, target: int = 15) -> int:
    """Draw about ``target`` markers on a line of ``n`` points."""
    return max(1, n // target)
