"""Loss surfaces and optimiser paths, for notebooks 03 and 08: ``plot_loss_surface``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validate import as_array, as_int
from ._style import _color, _get_ax, _label_axes, _linestyle, _marker, _markevery

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes


def _surface_values(f: Callable[..., Any], W1: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """``f`` on the grid ``(W1, W2)``: called once on the arrays, or point by point."""
    try:
        Z = np.asarray(f(W1, W2), dtype=np.float64)
    except (TypeError, ValueError):  # math.exp and friends refuse arrays
        Z = np.asarray(np.nan)
    if Z.shape == ():  # not vectorised: evaluate point by point (errors now surface)
        pairs = zip(W1.ravel().tolist(), W2.ravel().tolist(), strict=True)  # floats
        Z = np.array([float(f(a, b)) for a, b in pairs]).reshape(W1.shape)
    if Z.shape != W1.shape:
        raise ValueError(
            f"f(W1, W2) must return losses of the grid's shape {W1.shape}, got {Z.shape}"
        )
    if not np.isfinite(Z).any():
        raise ValueError("f returned no finite loss on the grid")
    return Z


def _draw_contours(
    ax: Axes, W1: np.ndarray, W2: np.ndarray, Z: np.ndarray, levels: int, log_levels: bool
) -> None:
    """Filled grey contours of the losses ``Z`` with lines between them, and a colour bar."""
    from matplotlib.colors import LogNorm

    finite = Z[np.isfinite(Z)]
    if log_levels:
        if finite.min() <= 0:
            raise ValueError(
                f"log_levels needs positive losses, but the smallest is {finite.min():.4g}"
            )
        lv = np.geomspace(finite.min(), finite.max(), levels)
        filled = ax.contourf(W1, W2, Z, levels=lv, cmap="Greys", norm=LogNorm(), alpha=0.6)
        ax.contour(W1, W2, Z, levels=lv, colors="grey", linewidths=0.4, norm=LogNorm())
    else:
        filled = ax.contourf(W1, W2, Z, levels=levels, cmap="Greys", alpha=0.6)
        ax.contour(W1, W2, Z, levels=levels, colors="grey", linewidths=0.4)
    cbar = ax.figure.colorbar(filled, ax=ax, format="{x:.3g}")
    cbar.set_label("loss")
    if log_levels:  # a few round-number ticks instead of one per level
        from matplotlib.ticker import LogLocator

        cbar.locator = LogLocator()
        cbar.update_ticks()


def plot_loss_surface(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    xlim: tuple[float, float] = (-2, 2),
    ylim: tuple[float, float] = (-2, 2),
    *,
    paths: Mapping[str, np.ndarray] | None = None,
    levels: int = 30,
    ax: Axes | None = None,
    title: str = "Loss surface",
    resolution: int = 150,
    log_levels: bool = False,
    xlabel: str = "$w_1$",
    ylabel: str = "$w_2$",
) -> Axes:
    """Contour plot of a loss of two parameters, with optimiser paths drawn on top.

    Args:
        f: the loss, vectorised: ``f(W1, W2)`` with grids ``(resolution, resolution)``
            returns losses of the same shape (a function of two floats also works, slower).
        xlim, ylim: the range of ``w1`` and ``w2``.
        paths: ``{label: points (k, 2)}``, e.g. the parameters after each optimiser step;
            drawn as lines with markers, start (circle) and end (star) marked.
        levels: number of contour levels.
        log_levels: space the levels logarithmically (for losses spanning decades; needs
            positive losses).

    Returns:
        The ``Axes``.

    Raises:
        ValueError: ``f`` returns the wrong shape, a path is not ``(k, 2)``, or
            ``log_levels`` with losses <= 0.
    """
    resolution = as_int(resolution, "resolution", 2)
    levels = as_int(levels, "levels", 2)
    W1, W2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    Z = _surface_values(f, W1, W2)
    ax = _get_ax(ax, figsize=(6.5, 5.0))
    _draw_contours(ax, W1, W2, Z, levels, log_levels)
    start_style: dict[str, Any] = dict(marker="o", ms=9, mfc="white", mec="black", mew=1.5, ls="")
    end_style: dict[str, Any] = dict(marker="*", ms=13, mfc="white", mec="black", mew=0.8, ls="")
    for i, (label, path) in enumerate((paths or {}).items()):
        pts = as_array(path, f"paths[{label!r}]")
        if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
            raise ValueError(
                f"paths[{label!r}] must be points of shape (k, 2), got shape {pts.shape}"
            )
        ax.plot(
            pts[:, 0],
            pts[:, 1],
            color=_color(i),
            linestyle=_linestyle(i),
            marker=_marker(i),
            markersize=4,
            markevery=_markevery(len(pts), 25),
            linewidth=1.8,
            label=str(label),
            zorder=3,
        )
        ax.plot(*pts[0], **start_style, zorder=4)
        ax.plot(*pts[-1], **{**end_style, "mfc": _color(i)}, zorder=5)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    _label_axes(ax, title, xlabel, ylabel)
    if paths:
        from matplotlib.lines import Line2D

        handles = ax.get_legend_handles_labels()[0] + [
            Line2D([], [], **start_style, label="start"),
            Line2D([], [], **end_style, label="end"),
        ]
        ax.legend(handles=handles, loc="best", fontsize="small", framealpha=0.85)
    return ax
