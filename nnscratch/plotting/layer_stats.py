"""Inside the network, for notebook 08: activations and gradients per layer
(``plot_histograms``, ``plot_gradient_norms``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

import numpy as np

from .._validate import as_array, as_int
from ._style import (
    _as_series,
    _check_axes,
    _color,
    _get_ax,
    _label_axes,
    _linestyle,
    _marker,
    _subplots,
)

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_histograms(
    arrays: Sequence[np.ndarray] | Mapping[str, np.ndarray],
    *,
    labels: Sequence[str] | None = None,
    bins: int = 40,
    title: str = "Distribution per layer",
    xlabel: str = "value",
    axes: Sequence[Axes] | None = None,
    sharex: bool = True,
    ncols: int = 5,
) -> Figure:
    """One small histogram per array, side by side (say the activations of each layer).

    Each panel notes the array's mean and standard deviation, so shrinking or exploding
    activations are visible at a glance.

    Args:
        arrays: a sequence of arrays of any shape (flattened), or ``{label: array}``.
        labels: panel titles (default: "layer 1", "layer 2", ...).
        bins: histogram bins.
        xlabel: what the values are.
        axes: draw into these axes, one per array.
        sharex: the same x range in every panel.
        ncols: panels per row before wrapping.

    Returns:
        The ``Figure``.

    Raises:
        ValueError: no arrays, an array with no finite values, or labels/axes of the
            wrong length.
    """
    if isinstance(arrays, Mapping):
        labels = list(arrays) if labels is None else labels
        arrays = list(arrays.values())
    elif isinstance(arrays, np.ndarray) and arrays.dtype != object:
        arrays = [arrays]
    data = [as_array(a, f"arrays[{i}]").ravel() for i, a in enumerate(arrays)]
    if not data:
        raise ValueError("arrays must hold at least one array, got none")
    labels = [f"layer {i + 1}" for i in range(len(data))] if labels is None else list(labels)
    if len(labels) != len(data):
        raise ValueError(f"labels must name all {len(data)} arrays, got {len(labels)}")
    bins = as_int(bins, "bins", 1)
    finite = []
    for label, values in zip(labels, data, strict=True):
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise ValueError(f"array {label!r} has no finite values to plot")
        finite.append(values)
    if axes is None:
        fig, ax_list = _subplots(len(data), as_int(ncols, "ncols", 1), (2.8, 2.6), sharex=sharex)
    else:
        ax_list = _check_axes(axes, len(data))
        fig = cast("Figure", ax_list[0].figure)
    lo = min(v.min() for v in finite)
    hi = max(v.max() for v in finite)
    span = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    for i, (ax, label, values) in enumerate(zip(ax_list, labels, finite, strict=True)):
        counts, edges = np.histogram(values, bins=bins, range=span if sharex else None)
        # One patch per panel, not one per bar: the bars as a step outline, filled, and
        # white lines between them where bars of one colour meet.
        ax.stairs(counts, edges, fill=True, facecolor=_color(i), edgecolor="white", linewidth=0.3)
        ax.vlines(
            edges[1:-1], 0, np.maximum(counts[:-1], counts[1:]), colors="white", linewidth=0.3
        )
        ax.text(
            0.97,
            0.95,
            f"mean {values.mean():.3g}\nstd {values.std():.3g}",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=7,
            bbox={"boxstyle": "round", "fc": "white", "ec": "none", "alpha": 0.8},
        )
        _label_axes(ax, str(label), xlabel, "count")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float]] | Sequence[float],
    *,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str = "Gradient norm per layer",
    logy: bool = True,
) -> Axes:
    """Gradient norm of each layer (from input to output), one line per run.

    Args:
        norms: ``{run label: per-layer norms (layers,)}`` (e.g. sigmoid vs ReLU), or one
            sequence of norms.
        labels: names of the layers for the x ticks (default: their index, from 1).
        ax: axes to draw into (a new figure if ``None``).
        logy: logarithmic y axis: vanishing gradients shrink by factors, not steps.

    Returns:
        The ``Axes``.

    Raises:
        ValueError: an empty run, or ``labels`` of the wrong length.
    """
    runs = norms if isinstance(norms, Mapping) else {"gradient norm": norms}
    series = {str(k): _as_series(v, f"norms[{k!r}]") for k, v in runs.items()}
    if not series or any(len(v) == 0 for v in series.values()):
        raise ValueError("norms must hold at least one run with at least one layer")
    depth = max(len(v) for v in series.values())
    ax = _get_ax(ax)
    for i, (label, values) in enumerate(series.items()):
        ax.plot(
            np.arange(1, len(values) + 1),
            values,
            color=_color(i),
            linestyle=_linestyle(i),
            marker=_marker(i),
            markersize=6,
            label=label,
        )
    if labels is not None:
        names = [str(s) for s in labels]
        if len(names) != depth:
            raise ValueError(f"labels must name all {depth} layers, got {len(names)}")
        ax.set_xticks(range(1, depth + 1), names, rotation=30 if depth > 6 else 0)
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        ax.set_yscale("log")
    return _label_axes(ax, title, "layer (input → output)", "gradient norm", legend=True)
