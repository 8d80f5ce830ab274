"""Autodiff computation graphs, for notebook 04: ``plot_computation_graph`` draws the graph
behind a ``Value``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._style import COLORS, _plt

if TYPE_CHECKING:  # pragma: no cover - type hints only, never imported at run time
    from matplotlib.axes import Axes

    from ..autodiff import Value


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

    from ..autodiff import Value

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
