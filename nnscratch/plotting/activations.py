"""Activation functions and function fitting, for notebook 02: ``plot_activations`` and
``plot_function_fit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._style import (
    COLORS,
    _as_series,
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


_ACTIVATION_NAMES = ("step", "sigmoid", "tanh", "relu")


def plot_activations(
    names: Sequence[str] = _ACTIVATION_NAMES,
    *,
    derivatives: bool = True,
    z: np.ndarray | None = None,
) -> Figure:
    """One panel per activation of ``nnscratch.functional``: f(z) solid, f'(z) dashed.

    Args:
        names: activations among ``"step"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``.
        derivatives: also draw the derivative (step's is 0 everywhere except at 0, where
            it is undefined, which is why the perceptron rule cannot use gradients).
        z: the inputs ``(m,)`` (default: 401 points in [-5, 5]).

    Returns:
        The ``Figure``, one axes per name.

    Raises:
        ValueError: an unknown activation name.
    """
    from .. import functional as F

    if isinstance(names, str):
        names = (names,)
    unknown = [name for name in names if name not in _ACTIVATION_NAMES]
    if unknown or not names:
        raise ValueError(f"names must be among {list(_ACTIVATION_NAMES)}, got {list(names)}")
    z = np.linspace(-5, 5, 401) if z is None else np.sort(_as_series(z, "z"))
    fig, axes = _subplots(len(names), len(names), (3.2, 3.0), sharey=False)
    for ax, name in zip(axes, names, strict=True):
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.axvline(0, color="grey", linewidth=0.6)
        ax.plot(z, getattr(F, name)(z), color=COLORS[0], linewidth=2, label=f"{name}(z)")
        if derivatives:
            grad = np.zeros_like(z) if name == "step" else getattr(F, f"{name}_grad")(z)
            ax.plot(z, grad, color=COLORS[1], linestyle="--", linewidth=2, label="derivative")
            if name == "step":
                ax.annotate(
                    "derivative 0,\nundefined at z = 0",
                    xy=(0, 0),
                    xytext=(0.05, 0.55),
                    textcoords="axes fraction",
                    fontsize=8,
                    arrowprops={"arrowstyle": "->", "color": "grey"},
                )
        _label_axes(ax, name, "z", "value", legend=True)
    fig.tight_layout()
    return fig


def plot_function_fit(
    x: np.ndarray,
    y_true: np.ndarray,
    y_pred_dict: Mapping[str, np.ndarray] | np.ndarray,
    *,
    ax: Axes | None = None,
    title: str = "Target function and approximations",
    xlabel: str = "x",
    ylabel: str = "y",
) -> Axes:
    """A target curve (thick black) and one or more approximations (styled lines).

    Args:
        x: inputs ``(n,)`` or ``(n, 1)`` (sorted here, so any order works).
        y_true: target values ``(n,)`` or ``(n, 1)``.
        y_pred_dict: ``{label: predictions (n,) or (n, 1)}``, or a single array.
        ax: axes to draw into (a new figure if ``None``).

    Returns:
        The ``Axes``.

    Raises:
        ValueError: arrays of different lengths.
    """
    xs = _as_series(x, "x")
    yt = _as_series(y_true, "y_true")
    preds = y_pred_dict if isinstance(y_pred_dict, Mapping) else {"model": y_pred_dict}
    series = {str(k): _as_series(v, f"y_pred_dict[{k!r}]") for k, v in preds.items()}
    for name, arr in (("y_true", yt), *series.items()):
        if len(arr) != len(xs):
            raise ValueError(f"x has {len(xs)} values but {name} has {len(arr)}")
    order = np.argsort(xs, kind="stable")
    ax = _get_ax(ax)
    ax.plot(xs[order], yt[order], color="black", linewidth=3, alpha=0.6, label="target")
    for i, (label, values) in enumerate(series.items()):
        ax.plot(
            xs[order],
            values[order],
            color=COLORS[i % (len(COLORS) - 1)],  # black is the target's
            linestyle=_linestyle(i + 1),
            marker=_marker(i),
            markersize=4,
            markevery=_markevery(len(xs), 15),
            linewidth=1.8,
            label=label,
        )
    return _label_axes(ax, title, xlabel, ylabel, legend=True)
