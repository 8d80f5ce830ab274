"""Evaluation, for notebook 07: ``plot_confusion_matrix``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._style import _get_ax, _label_axes

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes


def plot_confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    ax: Axes | None = None,
    title: str = "Confusion matrix",
) -> Axes:
    """The confusion matrix as an annotated heat map (rows: true class, columns: predicted).

    Args:
        y_true: true classes ``(n,)``.
        y_pred: predicted classes ``(n,)``.
        num_classes: ``C`` (default: the largest label + 1).
        class_names: ``C`` names for the tick labels (default: the class indices).
        normalize: show each row as fractions of its true class (rows sum to 1) instead
            of counts.

    Returns:
        The ``Axes``; each cell carries its count (or fraction, two decimals) as text.

    Raises:
        ValueError: labels of different lengths or out of range, or ``class_names`` of
            the wrong length.
    """
    from ..training import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, num_classes)
    c = cm.shape[0]
    names = [str(k) for k in range(c)] if class_names is None else [str(s) for s in class_names]
    if len(names) != c:
        raise ValueError(f"class_names must name all {c} classes, got {len(names)} names")
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        values = np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0)
    else:
        values = cm.astype(np.float64)
    ax = _get_ax(ax, figsize=(max(4.0, 0.55 * c + 2.5), max(3.5, 0.55 * c + 1.5)))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    cbar = ax.figure.colorbar(image, ax=ax)
    cbar.set_label("fraction of the true class" if normalize else "count")
    top = values.max() if values.size else 0
    fontsize = 9 if c <= 10 else 7
    for i in range(c):
        for j in range(c):
            text = f"{values[i, j]:.2f}" if normalize else f"{cm[i, j]:d}"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if values[i, j] > 0.55 * top else "black",
            )
    ax.set_xticks(range(c), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(c), names)
    ax.grid(False)
    return _label_axes(ax, title, "predicted", "true")
