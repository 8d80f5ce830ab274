"""Figures for the course notebooks and slides, drawn with matplotlib.

matplotlib is imported inside the functions only, so ``import nnscratch`` (and even
``import nnscratch.plotting``) stays NumPy-only. Every function draws, never shows: the
notebook cell ends with ``show(alt)``. Each returns the ``Axes`` (one panel, with an
``ax=`` argument to draw into an existing one) or the ``Figure`` (several panels).

House style, so that every figure reads the same and stays readable for colour-blind
students: the Okabe-Ito colour cycle of ``nnscratch.notebook``, and classes, runs and
series always told apart by marker or line style too, never by colour alone. Every axes
gets a title and axis labels, and a legend where there are several series.

Sections (add new functions to the section they belong to, or add a section):

1. House style and private helpers
2. Toy data and decision boundaries  (``plot_data``, ``plot_decision_boundary``)
3. Training curves                   (``plot_history``, ``plot_lr_schedule``)
4. Images                            (``plot_images``, ``plot_weights_as_images``)
5. Loss surfaces and optimiser paths (``plot_loss_surface``)
6. Activations and function fitting  (``plot_activations``, ``plot_function_fit``)
7. Evaluation                        (``plot_confusion_matrix``)
8. Inside the network                (``plot_histograms``, ``plot_gradient_norms``)
9. Autodiff computation graphs       (``plot_computation_graph``)
10. Showing and saving               (``show``, ``save_figure``)
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ._validate import as_array, as_batch, as_int, as_labels, require_same_length

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

    from .autodiff import Value

__all__ = [
    "COLORS",
    "MARKERS",
    "LINESTYLES",
    "plot_data",
    "plot_decision_boundary",
    "plot_history",
    "plot_lr_schedule",
    "plot_images",
    "plot_weights_as_images",
    "plot_loss_surface",
    "plot_activations",
    "plot_function_fit",
    "plot_confusion_matrix",
    "plot_histograms",
    "plot_gradient_norms",
    "plot_computation_graph",
    "show",
    "figure_html",
    "stored_alt",
    "FIGURE_SCALE",
    "save_figure",
]


# =========================================================================================
# 1. House style and private helpers
# =========================================================================================

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


# =========================================================================================
# 2. Toy data and decision boundaries
# =========================================================================================


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
    from .layers import Module
    from .training import predict_proba

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
    from .functional import sigmoid, softmax

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


# =========================================================================================
# 3. Training curves
# =========================================================================================

_METRIC_NAMES = {"loss": "loss", "acc": "accuracy", "lr": "learning rate"}


def _history_dict(history: Any, name: str = "history") -> dict[str, np.ndarray]:
    """A History or a dict of lists as ``{key: (epochs,) array}`` (empty lists dropped)."""
    from .training import History

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
    from .training import History

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

    from .training import History

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


# =========================================================================================
# 4. Images
# =========================================================================================


def _as_images(images: object, shape: tuple[int, int] | None) -> np.ndarray:
    """``images`` as ``(n, h, w)``: from ``(n, h, w)``, or ``(n, h*w)`` with ``shape`` or square."""
    arr = as_array(images, "images")
    if arr.ndim == 2:
        n, d = arr.shape
        if shape is None:
            side = math.isqrt(d)
            if side * side != d:
                raise ValueError(
                    f"images of shape (n, {d}): {d} pixels is not a square number; "
                    "pass shape=(height, width)"
                )
            shape = (side, side)
        h, w = (int(s) for s in shape)
        if h * w != d:
            raise ValueError(f"shape={tuple(shape)} holds {h * w} pixels but each image has {d}")
        arr = arr.reshape(n, h, w)
    elif arr.ndim != 3:
        raise ValueError(
            f"images must have shape (n, height, width) or (n, pixels), got shape {arr.shape}"
        )
    if len(arr) == 0:
        raise ValueError("images must contain at least one image, got 0")
    return arr


def plot_images(
    images: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    predictions: np.ndarray | None = None,
    ncols: int = 10,
    shape: tuple[int, int] | None = None,
    title: str | None = None,
    cmap: str = "gray_r",
) -> Figure:
    """A grid of small images, each captioned with its label and/or prediction.

    Captions read "label 3", "pred 5" or "true 3 / pred 5"; a wrong prediction is written
    in bold and framed (not only coloured). All images share one grey scale.

    Args:
        images: ``(n, height, width)``, or ``(n, height * width)`` rows (square images
            inferred, else give ``shape=(height, width)``).
        labels: true classes ``(n,)``.
        predictions: predicted classes ``(n,)``.
        ncols: images per row.
        title: a title over the grid.
        cmap: matplotlib colormap (``"gray_r"``: dark ink on white paper).

    Returns:
        The ``Figure``; it has exactly ``n`` axes, one per image.

    Raises:
        ValueError: images of the wrong shape, or labels/predictions of another length.
    """
    imgs = _as_images(images, shape)
    ncols = as_int(ncols, "ncols", 1)
    n = len(imgs)
    captions: list[tuple[str, bool]] = []
    true = None if labels is None else _as_series(labels, "labels")
    pred = None if predictions is None else _as_series(predictions, "predictions")
    for name, arr in (("labels", true), ("predictions", pred)):
        if arr is not None and len(arr) != n:
            raise ValueError(f"{name} must have one entry per image ({n}), got {len(arr)}")
    for i in range(n):
        if true is not None and pred is not None:
            t, p = f"{true[i]:g}", f"{pred[i]:g}"
            captions.append((f"true {t} / pred {p}", t != p))
        elif true is not None:
            captions.append((f"label {true[i]:g}", False))
        elif pred is not None:
            captions.append((f"pred {pred[i]:g}", False))
        else:
            captions.append((f"#{i}", False))
    wide = true is not None and pred is not None
    fig, axes = _subplots(n, ncols, (1.5 if wide else 1.1, 1.35))
    vmin, vmax = float(imgs.min()), float(imgs.max())
    for ax, img, (caption, wrong) in zip(axes, imgs, captions, strict=True):
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(
            caption,
            fontsize=8,
            fontweight="bold" if wrong else "normal",
            color=COLORS[4] if wrong else "black",
            pad=3,
        )
        for spine in ax.spines.values():
            spine.set_visible(wrong)
            spine.set_color(COLORS[4])
            spine.set_linewidth(2.5)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_weights_as_images(
    weight: Any,
    *,
    shape: tuple[int, int] = (8, 8),
    n: int = 16,
    ncols: int = 8,
    title: str = "Weights of the first layer, one image per unit",
) -> Figure:
    """Show the first ``n`` rows of a weight matrix as images (what each unit "looks for").

    A diverging colour map symmetric around 0: positive weights orange, negative blue,
    zero white; one colour bar for all.

    Args:
        weight: ``(out_features, in_features)`` array, a ``Parameter`` or a ``Linear``
            layer, with ``in_features == shape[0] * shape[1]``.
        shape: ``(height, width)`` of one image.
        n: number of units (rows) to show, at most ``out_features``.
        ncols: images per row.

    Returns:
        The ``Figure``, with ``min(n, out_features)`` image axes plus the colour bar's.
    """
    if hasattr(weight, "weight"):  # a Linear layer
        weight = weight.weight
    if hasattr(weight, "data") and not isinstance(weight, np.ndarray):  # a Parameter
        weight = weight.data
    W = as_array(weight, "weight")
    if W.ndim != 2:
        raise ValueError(f"weight must be a matrix (out_features, in_features), got {W.shape}")
    h, w = (int(s) for s in shape)
    if W.shape[1] != h * w:
        raise ValueError(
            f"weight has {W.shape[1]} inputs per unit but shape={tuple(shape)} needs {h * w}"
        )
    n = min(as_int(n, "n", 1), W.shape[0])
    ncols = as_int(ncols, "ncols", 1)
    fig, axes = _subplots(n, ncols, (1.1, 1.25))
    limit = float(np.abs(W[:n]).max()) or 1.0
    image = None
    for k, ax in enumerate(axes):
        image = ax.imshow(
            W[k].reshape(h, w), cmap="PuOr_r", vmin=-limit, vmax=limit, interpolation="nearest"
        )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"unit {k}", fontsize=8, pad=3)
    fig.suptitle(title)
    fig.tight_layout()
    # n >= 1, so the loop drew at least one image; every image shares the colour limits.
    cbar = fig.colorbar(cast("AxesImage", image), ax=axes, shrink=0.8, pad=0.02)
    cbar.set_label("weight")
    return fig


# =========================================================================================
# 5. Loss surfaces and optimiser paths
# =========================================================================================


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


# =========================================================================================
# 6. Activations and function fitting
# =========================================================================================

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
    from . import functional as F

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


# =========================================================================================
# 7. Evaluation
# =========================================================================================


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
    from .training import confusion_matrix

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


# =========================================================================================
# 8. Inside the network: activations and gradients per layer
# =========================================================================================


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
        fig, ax_list = _subplots(
            len(data), as_int(ncols, "ncols", 1), (2.8, 2.6), sharex=sharex
        )
    else:
        ax_list = _check_axes(axes, len(data))
        fig = cast("Figure", ax_list[0].figure)
    lo = min(v.min() for v in finite)
    hi = max(v.max() for v in finite)
    span = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    for i, (ax, label, values) in enumerate(zip(ax_list, labels, finite, strict=True)):
        ax.hist(
            values,
            bins=bins,
            range=span if sharex else None,
            color=_color(i),
            edgecolor="white",
            linewidth=0.3,
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


# =========================================================================================
# 9. Autodiff computation graphs
# =========================================================================================

_OP_SYMBOLS = {"+": "+", "*": "×", "sigmoid": "σ", "relu": "ReLU", "**2": "x²", "**-1": "1/x"}


def _graph_layout(root: Value) -> tuple[list[Value], dict[int, tuple[float, float]], int]:
    """Nodes in topological order, each node's ``(column, row)`` and the number of columns.

    A node's column is the longest path from it to ``root`` counted from the right, so every
    edge points right and constants sit next to where they are used. Rows within a column
    follow the mean row of the nodes they feed (a barycentre sweep) to limit crossings.
    """
    order = root.topological_order()
    parents: dict[int, list[Value]] = {id(n): [] for n in order}
    for node in order:
        for child in node._prev:
            if node not in parents[id(child)]:
                parents[id(child)].append(node)
    dist: dict[int, int] = {}
    for node in reversed(order):  # root first: parents before children
        dist[id(node)] = max((dist[id(p)] + 1 for p in parents[id(node)]), default=0)
    depth = max(dist.values())
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth - dist[id(node)], []).append(node)
    row: dict[int, float] = {}
    for col in range(depth, -1, -1):  # from the output back to the inputs
        nodes = columns.get(col, [])
        nodes.sort(key=lambda n: np.mean([row[id(p)] for p in parents[id(n)]] or [0.0]))
        for k, node in enumerate(nodes):
            row[id(node)] = k - (len(nodes) - 1) / 2
    pos = {id(n): (float(depth - dist[id(n)]), row[id(n)]) for n in order}
    return order, pos, depth + 1


# Value boxes (inputs white, computed values tinted, the root's edge thicker) and op circles.
_VALUE_STYLE = {"boxstyle": "round,pad=0.35", "fc": "#D9ECF7", "ec": COLORS[0], "lw": 1.2}
_LEAF_STYLE = {**_VALUE_STYLE, "fc": "#FFFFFF"}
_OP_STYLE = {"boxstyle": "circle,pad=0.3", "fc": "#FBE3B5", "ec": COLORS[1], "lw": 1.2}


def _draw_graph_nodes(
    ax: Axes, order: list[Value], pos: dict[int, tuple[float, float]], root: Value
) -> tuple[dict[int, Any], dict[int, Any]]:
    """Each value as a box at column ``2 * col``, its operation as a circle just left of it.

    Returns the ``Text`` of every value box and of every op circle, keyed by ``id(node)``.
    """
    value_text: dict[int, Any] = {}
    op_text: dict[int, Any] = {}
    for node in order:
        col, r = pos[id(node)]
        x, y = 2 * col, -r
        lines = [node.label] if node.label else []
        lines += [f"data {node.data:.4g}", f"grad {node.grad:.4g}"]
        style = _VALUE_STYLE if node._prev else _LEAF_STYLE
        if node is root:
            style = {**style, "lw": 2.4}
        t = ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=8, bbox=style,
                    zorder=3, linespacing=1.15)  # fmt: skip
        t.set_gid("value-node")
        value_text[id(node)] = t
        if node._op:
            symbol = _OP_SYMBOLS.get(node._op, node._op)
            o = ax.text(x - 1, y, symbol, ha="center", va="center", fontsize=9, bbox=_OP_STYLE,
                        zorder=3)  # fmt: skip
            o.set_gid("op-node")
            op_text[id(node)] = o
    return value_text, op_text


def _draw_graph_arrows(
    ax: Axes, order: list[Value], value_text: dict[int, Any], op_text: dict[int, Any]
) -> None:
    """Arrows from each input's box to the op circle, and from the circle to the value."""
    # Arrows run from box edge to box edge: measure the drawn boxes in data coordinates.
    ax.figure.canvas.draw()
    inv = ax.transData.inverted()

    def extent(text: Any) -> tuple[float, float]:
        box = text.get_bbox_patch().get_window_extent()
        (x0, _), (x1, _) = inv.transform([[box.x0, box.y0], [box.x1, box.y1]])
        return x0, x1

    arrow = {"arrowstyle": "-|>", "color": "#555555", "lw": 0.9, "shrinkA": 0, "shrinkB": 0}
    for node in order:
        if not node._prev:
            continue
        op = op_text[id(node)]
        _, oy = op.get_position()
        o_left, o_right = extent(op)
        v_left, _ = extent(value_text[id(node)])
        ax.annotate("", xy=(v_left, oy), xytext=(o_right, oy), arrowprops=arrow, zorder=2)
        for child in dict.fromkeys(node._prev):  # x * x: one arrow is enough
            _, cy = value_text[id(child)].get_position()
            _, c_right = extent(value_text[id(child)])
            ax.annotate("", xy=(o_left, oy), xytext=(c_right, cy), arrowprops=arrow, zorder=2)


def plot_computation_graph(
    root: Value,
    *,
    ax: Axes | None = None,
    title: str = "Computation graph",
) -> Axes:
    """Draw the graph behind an ``nnscratch.autodiff.Value`` with matplotlib alone.

    Values are boxes (label, ``data`` and ``grad`` to 4 significant digits), operations
    (``+``, ``×``, ``tanh``, ...) are circles between a value and its inputs, arrows run
    from the inputs (left) to ``root`` (right). Readable up to about 25 values with the
    default figure, which grows with the graph.

    Args:
        root: the final ``Value`` (call ``root.backward()`` first to see gradients).
        ax: axes to draw into (a new figure sized to the graph if ``None``).

    Returns:
        The ``Axes``. Value boxes are ``Text`` objects with gid ``"value-node"``, operation
        circles have gid ``"op-node"``.

    Raises:
        TypeError: ``root`` is not a ``Value``.
    """
    from matplotlib.patches import Patch

    from .autodiff import Value

    if not isinstance(root, Value):
        raise TypeError(f"root must be an nnscratch.autodiff.Value, got {type(root).__name__}")
    order, pos, ncols = _graph_layout(root)
    tallest = max(sum(1 for p in pos.values() if p[0] == c) for c in range(ncols))
    if ax is None:
        _, ax = _plt().subplots(figsize=(max(4.0, 1.6 * ncols + 0.6), max(2.5, 0.85 * tallest + 1)))
    boxes = _draw_graph_nodes(ax, order, pos, root)
    ax.set_xlim(-0.75, 2 * (ncols - 1) + 0.75)
    rows = [p[1] for p in pos.values()]
    ax.set_ylim(-max(rows) - 1.2, -min(rows) + 0.7)  # the legend goes below
    _draw_graph_arrows(ax, order, *boxes)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.legend(
        handles=[
            Patch(fc=_LEAF_STYLE["fc"], ec=COLORS[0], label="input value: label, data, grad"),
            Patch(fc=_VALUE_STYLE["fc"], ec=COLORS[0], label="computed value"),
            Patch(fc=_OP_STYLE["fc"], ec=COLORS[1], label="operation"),
        ],
        loc="lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
    )
    ax.set_title(title)
    ax.set_xlabel("inputs → output")
    return ax


# =========================================================================================
# 10. Showing and saving
# =========================================================================================


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
