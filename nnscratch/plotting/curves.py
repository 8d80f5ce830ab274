"""Training curves, for notebooks 06 to 10: ``plot_history`` (loss / accuracy per epoch, one or
several runs) and ``plot_lr_schedule`` (notebook 08).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._style import (
    _as_series,
    _check_axes,
    _color,
    _get_ax,
    _label_axes,
    _linestyle,
    _marker,
    _markevery,
    _subplots,
)

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


_METRIC_NAMES = {"loss": "loss", "acc": "accuracy", "lr": "learning rate"}


def _history_dict(history: Any, name: str = "history") -> dict[str, np.ndarray]:
    """A History or a dict of lists as ``{key: (epochs,) array}`` (empty lists dropped)."""
    from ..training import History

    if isinstance(history, History):
        raw: Mapping[str, Any] = {
            "loss": history.loss,
            "acc": history.acc,
            "val_loss": history.val_loss,
            "val_acc": history.val_acc,
            "lr": history.lr,
        }
    elif isinstance(history, Mapping):
        raw = history
    else:
        raise TypeError(
            f"{name} must be a nnscratch.training.History or a dict of lists "
            f"(keys loss, acc, val_loss, val_acc), got {type(history).__name__}"
        )
    out = {}
    for key, values in raw.items():
        arr = _as_series(values, f"{name}[{key!r}]")
        if len(arr):
            out[str(key)] = arr
    return out


def _runs(history: Any) -> dict[str, dict[str, np.ndarray]]:
    """``{run label: curves}``: one unnamed run, or several for a dict of Histories."""
    from ..training import History

    if (
        isinstance(history, Mapping)
        and history
        and all(isinstance(v, (History, Mapping)) for v in history.values())
    ):
        return {str(k): _history_dict(v, f"history[{k!r}]") for k, v in history.items()}
    return {"": _history_dict(history)}


def plot_history(
    history: Any,
    *,
    metrics: Sequence[str] = ("loss", "acc"),
    title: str | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Training curves per epoch: one panel per metric, training solid, validation dashed.

    Args:
        history: a ``nnscratch.training.History``; a dict of per-epoch lists with keys
            ``loss``, ``acc``, ``val_loss``, ``val_acc`` (any subset); or a dict
            ``{run label: History or dict}`` to compare runs (say optimisers) on the same
            axes, one colour, marker and label per run.
        metrics: the base names to plot, each with its ``val_`` twin when present
            (``"loss"``, ``"acc"``, also ``"lr"`` for a History). Metrics with no finite
            value in any run (accuracy of a regression) are left out.
        title: a title over the whole figure.
        axes: draw into these axes, one per plotted metric.

    Returns:
        The ``Figure``. The x axis is the epoch, counted from 1.

    Raises:
        ValueError: when none of ``metrics`` has data, or ``axes`` has the wrong length.
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    runs = _runs(history)
    shown = [
        m
        for m in metrics
        if any(
            np.isfinite(curves.get(k, np.array([]))).any()
            for curves in runs.values()
            for k in (m, f"val_{m}")
        )
    ]
    if not shown:
        found = sorted({k for curves in runs.values() for k in curves})
        raise ValueError(
            f"history has no data for metrics {list(metrics)}; it has the keys {found}"
        )
    if axes is None:
        fig, ax_list = _subplots(len(shown), len(shown), (5.0, 3.6))
    else:
        ax_list = _check_axes(axes, len(shown))
        fig = cast("Figure", ax_list[0].figure)
    from matplotlib.ticker import MaxNLocator

    several = len(runs) > 1
    for ax, metric in zip(ax_list, shown, strict=True):
        for i, (run, curves) in enumerate(runs.items()):
            for key, style, part in ((metric, "-", "train"), (f"val_{metric}", "--", "validation")):
                if key not in curves:
                    continue
                values = curves[key]
                epochs = np.arange(1, len(values) + 1)
                color = _color(i) if several else _color(0 if part == "train" else 1)
                marker = _marker(i) if several else ("o" if part == "train" else "s")
                ax.plot(
                    epochs,
                    values,
                    linestyle=style,
                    color=color,
                    marker=marker,
                    markersize=4,
                    markevery=_markevery(len(values), 12),
                    label=f"{run} ({part})" if several else part,
                )
        name = _METRIC_NAMES.get(metric, metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _label_axes(ax, f"{name.capitalize()} per epoch", "epoch", name, legend=True)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_lr_schedule(
    lrs: Any,
    *,
    ax: Axes | None = None,
    title: str = "Learning-rate schedule",
    logy: bool = False,
) -> Axes:
    """The learning rate used in each epoch (counted from 1).

    Args:
        lrs: a sequence of learning rates ``(epochs,)``, a ``History`` (its ``lr``), or a
            dict ``{label: sequence}`` to compare schedules.
        ax: axes to draw into (a new figure if ``None``).
        logy: logarithmic y axis (for exponential decay).

    Returns:
        The ``Axes``.
    """
    from matplotlib.ticker import MaxNLocator

    from ..training import History

    if isinstance(lrs, History):
        lrs = lrs.lr
    series = (
        {str(k): _as_series(v, f"lrs[{k!r}]") for k, v in lrs.items()}
        if isinstance(lrs, Mapping)
        else {"learning rate": _as_series(lrs, "lrs")}
    )
    if not series or any(len(v) == 0 for v in series.values()):
        raise ValueError("lrs must hold at least one learning rate per schedule, got none")
    ax = _get_ax(ax)
    for i, (label, values) in enumerate(series.items()):
        ax.plot(
            np.arange(1, len(values) + 1),
            values,
            drawstyle="steps-mid",
            color=_color(i),
            linestyle=_linestyle(i),
            marker=_marker(i),
            markersize=4,
            markevery=_markevery(len(values), 20),
            label=label,
        )
    if logy:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _label_axes(ax, title, "epoch", "learning rate", legend=True)
