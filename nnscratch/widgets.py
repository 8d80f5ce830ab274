"""Interactive pieces for the notebooks: a panel of sliders that moves the weights of a tiny
network and redraws its decision boundary (notebook 02).

The logic lives in plain functions that need NumPy only and are unit-tested:
``tiny_network_output``, ``boundary_grid``, ``explorer_summary``; ``draw_tiny_network``
needs matplotlib. Only ``weight_explorer`` builds widgets, importing ipywidgets (and
matplotlib) when it is called, so ``import nnscratch.widgets`` stays NumPy-only.

The tiny network is 2-2-1 with sigmoid units everywhere::

    h1 = sigmoid(w11 * x1 + w12 * x2 + b1)
    h2 = sigmoid(w21 * x1 + w22 * x2 + b2)
    y_hat = sigmoid(v1 * h1 + v2 * h2 + c)

Its parameters are a mapping from the names in ``PARAM_NAMES`` to floats.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ._validate import as_batch, as_int, as_labels, require_same_length
from .functional import sigmoid

if TYPE_CHECKING:  # pragma: no cover - type hints only
    from matplotlib.axes import Axes

__all__ = [
    "PARAM_NAMES",
    "XOR_PARAMS",
    "tiny_network_layers",
    "tiny_network_output",
    "boundary_grid",
    "explorer_summary",
    "draw_tiny_network",
    "weight_explorer",
    "EXPLORER_TEXT",
]

#: What the explorer shows as plain text: in a notebook's stored output (GitHub, the course
#: website, a notebook not yet run) it says how to get the sliders instead of ``VBox(...)``.
EXPLORER_TEXT = "Weight explorer: run this cell in JupyterLab (make lab) to get its sliders."

#: Parameter names of the 2-2-1 network: hidden unit 1 (w11, w12, b1), hidden unit 2
#: (w21, w22, b2) and the output unit (v1, v2, c).
PARAM_NAMES: tuple[str, ...] = ("w11", "w12", "b1", "w21", "w22", "b2", "v1", "v2", "c")

#: Hand-set weights that solve XOR: h1 is OR, h2 is NAND, and the output is AND of the two.
XOR_PARAMS: dict[str, float] = {
    "w11": 10.0, "w12": 10.0, "b1": -5.0,     # h1 = OR(x1, x2)
    "w21": -10.0, "w22": -10.0, "b2": 15.0,   # h2 = NAND(x1, x2)
    "v1": 10.0, "v2": 10.0, "c": -15.0,       # y  = AND(h1, h2)
}  # fmt: skip


def _check_params(params: Mapping[str, float]) -> dict[str, float]:
    """``params`` as a dict of floats with exactly the keys of ``PARAM_NAMES``."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params must be a mapping {{name: float}} with keys {list(PARAM_NAMES)}, "
            f"got {type(params).__name__}"
        )
    missing = [k for k in PARAM_NAMES if k not in params]
    extra = [k for k in params if k not in PARAM_NAMES]
    if missing or extra:
        raise ValueError(
            f"params must have the keys {list(PARAM_NAMES)}; missing {missing}, unknown {extra}"
        )
    out = {}
    for k in PARAM_NAMES:
        try:
            out[k] = float(params[k])
        except (TypeError, ValueError) as exc:
            raise TypeError(f"params[{k!r}] must be a number, got {params[k]!r}") from exc
    return out


def tiny_network_layers(
    params: Mapping[str, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The parameters as layer arrays ``W1 (2, 2), b1 (2,), W2 (1, 2), b2 (1,)``, laid out like
    ``nnscratch.Linear`` (weight rows are units), so ``x @ W1.T + b1`` is the hidden layer."""
    p = _check_params(params)
    W1 = np.array([[p["w11"], p["w12"]], [p["w21"], p["w22"]]])
    b1 = np.array([p["b1"], p["b2"]])
    W2 = np.array([[p["v1"], p["v2"]]])
    b2 = np.array([p["c"]])
    return W1, b1, W2, b2


def tiny_network_output(params: Mapping[str, float], X: np.ndarray) -> np.ndarray:
    """P(class 1) of the 2-2-1 sigmoid network for points ``X (n, 2)``: shape ``(n,)``."""
    X = as_batch(X, "X", 2)
    W1, b1, W2, b2 = tiny_network_layers(params)
    hidden = sigmoid(X @ W1.T + b1)
    return sigmoid(hidden @ W2.T + b2)[:, 0]


def boundary_grid(
    params: Mapping[str, float],
    xlim: tuple[float, float] = (-0.5, 1.5),
    ylim: tuple[float, float] = (-0.5, 1.5),
    resolution: int = 81,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's output on a grid, for a contour plot.

    Returns ``(xx, yy, P)``, each ``(resolution, resolution)``: the grid's x1 and x2
    coordinates and P(class 1) there.
    """
    resolution = as_int(resolution, "resolution", 2)
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {lim!r}")
    xx, yy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    P = tiny_network_output(params, np.column_stack([xx.ravel(), yy.ravel()]))
    return xx, yy, P.reshape(xx.shape)


def explorer_summary(params: Mapping[str, float], X: np.ndarray, y: np.ndarray) -> str:
    """One line about the network on ``(X (n, 2), y (n,))``: accuracy and mean BCE.

    The class is 1 where P(class 1) >= 0.5.
    """
    from .losses import BCELoss

    p = tiny_network_output(params, X)
    labels = as_labels(y, 2, "y")
    require_same_length(p, labels)
    correct = int(np.sum((p >= 0.5).astype(np.int64) == labels))
    loss = BCELoss()(p, labels.astype(np.float64))
    return (
        f"accuracy {100 * correct / len(labels):.1f}% ({correct}/{len(labels)} points), "
        f"binary cross-entropy {loss:.4f}"
    )


def draw_tiny_network(
    params: Mapping[str, float],
    X: np.ndarray,
    y: np.ndarray,
    *,
    ax: Axes | None = None,
    title: str = "Decision boundary of the 2-2-1 network",
    resolution: int = 81,
    padding: float = 0.5,
) -> Axes:
    """Shade P(class 1) of the tiny network, draw its 0.5 contour (the decision boundary)
    and the data ``X (n, 2), y (n,)`` on top. Returns the ``Axes``.

    This is ``plotting.plot_decision_boundary(..., proba=True)`` with the network as the model.
    """
    import matplotlib.pyplot as plt

    from .plotting import plot_decision_boundary

    _check_params(params)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    return plot_decision_boundary(
        lambda points: tiny_network_output(params, points),
        X,
        y,
        ax=ax,
        title=title,
        resolution=resolution,
        padding=padding,
        proba=True,
    )


@functools.cache
def _explorer_panel_class() -> type:
    """An ``ipywidgets.VBox`` whose plain-text form is :data:`EXPLORER_TEXT` (built lazily, so
    importing this module does not import ipywidgets)."""
    import ipywidgets as widgets

    class WeightExplorer(widgets.VBox):
        """The weight explorer's panel; ``repr`` tells a reader how to get the sliders."""

        def __repr__(self) -> str:
            return EXPLORER_TEXT

    return WeightExplorer


def weight_explorer(
    X: np.ndarray,
    y: np.ndarray,
    params: Mapping[str, float] | None = None,
    *,
    limit: float = 20.0,
    step: float = 0.5,
) -> Any:
    """A panel of nine sliders (one per parameter) that redraws the tiny network's decision
    boundary on ``(X (n, 2), y (n,))`` whenever a slider moves.

    Args:
        params: starting weights (default ``XOR_PARAMS``); "reset" returns to them.
        limit: every slider runs from ``-limit`` to ``limit``.
        step: slider resolution.

    Returns:
        An ``ipywidgets.VBox``; display it (the last expression of a cell does). Its
        ``sliders`` attribute maps parameter names to the ``FloatSlider`` widgets; its
        plain-text form (what a page without a kernel shows) is :data:`EXPLORER_TEXT`.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    start = _check_params(XOR_PARAMS if params is None else params)
    X = as_batch(X, "X", 2)
    as_labels(y, 2, "y")
    sliders = {
        name: widgets.FloatSlider(
            value=float(np.clip(start[name], -limit, limit)),
            min=-limit,
            max=limit,
            step=step,
            description=name,
            continuous_update=False,
            layout=widgets.Layout(width="260px"),
        )
        for name in PARAM_NAMES
    }
    summary = widgets.Label()
    out = widgets.Output()
    reset = widgets.Button(description="reset")

    def current() -> dict[str, float]:
        return {name: s.value for name, s in sliders.items()}

    def redraw(_change: object = None) -> None:
        params_now = current()
        summary.value = explorer_summary(params_now, X, y)
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(5.5, 4.5))
            draw_tiny_network(params_now, X, y, ax=ax)
            display(fig)
            plt.close(fig)

    def on_reset(_button: object) -> None:
        for name, s in sliders.items():
            s.value = float(np.clip(start[name], -limit, limit))

    for s in sliders.values():
        s.observe(redraw, names="value")
    reset.on_click(on_reset)
    columns = [
        widgets.VBox([widgets.HTML(f"<b>{head}</b>"), *(sliders[n] for n in names)])
        for head, names in (
            ("hidden unit 1", ("w11", "w12", "b1")),
            ("hidden unit 2", ("w21", "w22", "b2")),
            ("output unit", ("v1", "v2", "c")),
        )
    ]
    panel = _explorer_panel_class()([widgets.HBox(columns), widgets.HBox([reset, summary]), out])
    panel.sliders = sliders
    redraw()
    return panel
