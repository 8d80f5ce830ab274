"""Images, for notebooks 07, 10 and 11: ``plot_images`` (a grid of samples) and
``plot_weights_as_images`` (first-layer weights shown as pictures).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._validate import as_array, as_int
from ._style import COLORS, _as_series, _subplots

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage


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
