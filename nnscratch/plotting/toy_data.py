"""Toy data and decision boundaries, for notebooks 01, 03, 05 and 06: ``plot_data`` and
``plot_decision_boundary``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._validate import as_int
from ._style import COLORS, _as_xy, _color, _get_ax, _label_axes, _marker

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap


def plot_data(
    X: np.ndarray,
    y: np.ndarray,
    *,
    ax: Axes | None = None,
    title: str = "Training data",
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
) -> Axes:
    """Scatter a 2-D toy data set with one colour *and* marker per class.

    Args:
        X: points ``(n, 2)``.
        y: integer class labels ``(n,)``.
        ax: axes to draw into (a new figure if ``None``).

    Returns:
        The ``Axes``, with a legend "class 0", "class 1", ...

    Raises:
        ValueError: if ``X`` is not ``(n, 2)``, or ``y`` has a different length or is not
            made of class indices.
    """
    X, labels = _as_xy(X, y)
    ax = _get_ax(ax)
    for k in np.unique(labels):
        pts = X[labels == k]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=28,
            color=_color(int(k)),
            marker=_marker(int(k)),
            edgecolors="white",
            linewidths=0.5,
            label=f"class {int(k)}",
            zorder=3,
        )
    return _label_axes(ax, title, xlabel, ylabel, legend=True)


def _grid_outputs(model_or_fn: Any, grid: np.ndarray) -> np.ndarray:
    """Outputs of a model / function on ``grid (m, 2)``: ``(m,)`` or ``(m, C)``."""
    from ..layers import Module
    from ..training import predict_proba

    if isinstance(model_or_fn, Module):
        out = predict_proba(model_or_fn, grid)
    elif hasattr(model_or_fn, "predict") and not callable(model_or_fn):
        out = model_or_fn.predict(grid)  # e.g. nnscratch.perceptron.Perceptron
    elif callable(model_or_fn):
        out = model_or_fn(grid)
    else:
        raise TypeError(
            "model_or_fn must be an nnscratch Module, an object with .predict(X), or a "
            f"function mapping points (m, 2) to labels or scores; got {type(model_or_fn).__name__}"
        )
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.ndim not in (1, 2) or out.shape[0] != len(grid):
        raise ValueError(
            f"the model must return one label or score per point: shape ({len(grid)},) or "
            f"({len(grid)}, classes) for {len(grid)} points, got shape {out.shape}"
        )
    if not np.issubdtype(out.dtype, np.number) and out.dtype != np.bool_:
        raise ValueError(f"the model must return numbers, got an array of dtype {out.dtype}")
    return out


def _classes_and_confidence(out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class ``(m,)`` and a confidence ``(m,)``.

    The confidence is P(class 1) for two classes (one score column or two probability
    columns) and P(predicted class) for more.
    """
    from ..functional import sigmoid, softmax

    if out.ndim == 1:
        whole = out.dtype == np.bool_ or np.all((np.mod(out, 1) == 0) & (out >= 0))
        if whole:  # class labels (ints, or floats like 0.0 / 2.0)
            labels = out.astype(np.int64)
            return labels, labels.astype(np.float64)
        in_unit = bool(np.all((out >= 0) & (out <= 1)))
        p1 = out.astype(np.float64) if in_unit else sigmoid(out.astype(np.float64))
        return (p1 >= 0.5).astype(np.int64), p1
    probs = out.astype(np.float64)
    if not (np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1.0)):
        probs = softmax(probs, axis=1)
    confidence = probs[:, 1] if probs.shape[1] == 2 else np.max(probs, axis=1)
    return np.argmax(probs, axis=1), confidence


def plot_decision_boundary(
    model_or_fn: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    ax: Axes | None = None,
    title: str = "Decision boundary",
    resolution: int = 200,
    padding: float = 0.5,
    proba: bool = False,
) -> Axes:
    """Shade the plane by the class a model predicts, and draw the data on top.

    Args:
        model_or_fn: an nnscratch ``Module`` (its outputs come from
            ``nnscratch.training.predict_proba``: one logit/probability column for two
            classes, or one column per class), an object with ``.predict(X)`` (such as
            ``Perceptron``), or a function mapping points ``(m, 2)`` to labels ``(m,)`` (ints),
            scores ``(m,)`` (probabilities in [0, 1], thresholded at 0.5, or logits,
            thresholded at 0) or scores ``(m, C)`` (argmax).
        X: points ``(n, 2)``; the grid covers their range plus ``padding`` on every side.
        y: integer class labels ``(n,)``.
        ax: axes to draw into (a new figure if ``None``).
        resolution: grid points per axis (``resolution ** 2`` predictions).
        proba: shade by confidence instead of hard classes: for two classes the colour
            shows P(class 1) (with a colour bar and the 0.5 contour); for more, each class
            region fades where the model is unsure.

    Returns:
        The ``Axes``.

    Raises:
        ValueError: bad ``X``/``y`` shapes, or model outputs of the wrong shape.
    """
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap, to_rgb

    X, labels = _as_xy(X, y)
    resolution = as_int(resolution, "resolution", 2)
    if len(X) == 0:
        raise ValueError("X must contain at least one point, got shape (0, 2)")
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    pred, conf = _classes_and_confidence(_grid_outputs(model_or_fn, grid))
    num_classes = int(max(labels.max(), pred.max()) + 1)
    Z = pred.reshape(xx.shape)
    ax = _get_ax(ax)
    extent = (lo[0], hi[0], lo[1], hi[1])

    if proba and num_classes <= 2:
        cmap: Colormap = LinearSegmentedColormap.from_list(
            "nnscratch_bo", [COLORS[0], "#FFFFFF", COLORS[1]]
        )
        P = conf.reshape(xx.shape)
        filled = ax.contourf(xx, yy, P, levels=np.linspace(0, 1, 11), cmap=cmap, alpha=0.55)
        cbar = ax.figure.colorbar(filled, ax=ax)
        cbar.set_label("P(class 1)")
    elif proba:  # conf is P(predicted class): fade each class colour where it is low
        rgb = np.array([to_rgb(_color(int(k))) for k in range(num_classes)])
        weight = (conf - 1 / num_classes) / (1 - 1 / num_classes)
        alpha = (0.1 + 0.5 * np.clip(weight, 0, 1)).reshape(xx.shape)[..., None]
        image = alpha * rgb[Z] + (1 - alpha) * 1.0
        ax.imshow(image, origin="lower", extent=extent, aspect="auto", interpolation="bilinear")
    else:
        cmap = ListedColormap([_color(k) for k in range(num_classes)])
        ax.contourf(xx, yy, Z, levels=np.arange(num_classes + 1) - 0.5, cmap=cmap, alpha=0.25)
    if Z.min() != Z.max():  # the boundary itself, as a black line
        ax.contour(
            xx, yy, Z, levels=np.arange(num_classes - 1) + 0.5, colors="black", linewidths=1.0
        )
    plot_data(X, labels, ax=ax, title=title)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    return ax
