"""Exercise checks for notebook 02 (the forward pass).

- ``check_sigmoid(fn)``: ``fn(z)``, the logistic function, elementwise on arrays.
- ``check_dense_forward(fn)``: ``fn(x, W, b)``, a dense layer with ``W`` stored ``(out, in)``.
- ``check_mlp_forward(fn)``: ``fn(x, weights, biases)``, a sigmoid network of any depth.
- ``check_collapse(fn)``: ``fn(W1, b1, W2, b2) -> (W, b)``, one linear layer equal to two.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functional import relu, sigmoid, tanh
from ..layers import MLP, Linear
from ._core import answer_array, answer_pair, call_student, close, fail, passed

__all__ = ["check_sigmoid", "check_dense_forward", "check_mlp_forward", "check_collapse"]

_MATH_EXP = (("Python scalar", "only length-1", "only 0-dimensional", "size-1", "math range"),
             "your function fails on a NumPy array (or on a large input): use NumPy's "
             "elementwise exponential, not the math module's")



def _random_bias(layer: Linear, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Give ``layer`` a random bias (zeros would hide a missing ``+ b``); copies of (W, b)."""
    if layer.bias is None:  # pragma: no cover - every Linear here is built with a bias
        raise ValueError(f"{layer!r} has no bias")
    layer.bias.data[:] = rng.normal(size=layer.out_features)
    return layer.weight.data.copy(), layer.bias.data.copy()

def check_sigmoid(fn: Any) -> None:
    """Check your ``my_sigmoid(z)`` elementwise on arrays of several shapes, for z from -1000
    to 1000, against ``nnscratch.functional.sigmoid``.

    Names the typical mistakes: a sign error in the exponent, a missing ``1 +``, the math
    module's exponential (fails on arrays), NaN or values outside 0 to 1 for large ``|z|``.
    """
    name = "check_sigmoid"
    rng = np.random.default_rng(21)
    inputs = [
        np.array([-1000.0, -30.0, -5.0, -2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 5.0, 30.0, 1000.0]),
        rng.uniform(-50, 50, size=(3, 5)),
        rng.normal(size=(4, 1)) * 3,
    ]
    for z in inputs:
        out = call_student(name, fn, z, hints=[_MATH_EXP])
        got = answer_array(name, out, z.shape, f"the output for z of shape {z.shape}")
        expected = sigmoid(z)
        if close(got, expected, rtol=1e-7, atol=1e-12):
            continue
        middle = np.abs(z) <= 30
        if close(got[middle], sigmoid(-z[middle])):
            fail(name, "your function gives values near 0 for large positive z: the sign of "
                       "the exponent is flipped")
        with np.errstate(over="ignore"):
            if close(got[middle], np.exp(z[middle])):
                fail(name, "your values grow without bound: the denominator is missing its 1")
        if np.isnan(got).any():
            fail(name, "your function returns NaN for large |z| (an overflow became inf / inf); "
                       "rewrite it so that a huge exponential only makes the denominator huge")
        if close(got[middle], expected[middle]):
            fail(name, "right for moderate z but wrong for z = +-1000: the output must stay in "
                       "[0, 1] (near 0 far left, near 1 far right)")
        fail(name, f"your values differ from the sigmoid's for z of shape {z.shape} (try "
                   "z = 0, where the sigmoid is one half, and a large positive z)")
    passed(name, "matches nnscratch.functional.sigmoid from z = -1000 to 1000")


def check_dense_forward(fn: Any) -> None:
    """Check your ``dense_forward(x, W, b)`` for ``x (n, in)``, ``W (out, in)``, ``b (out,)``,
    returning ``(n, out)``, against ``nnscratch.Linear`` with the same weights.

    Layers of square and non-square shapes and batches of one are tried. Names the typical
    mistakes: the weight used untransposed, a missing or subtracted bias, the bias added
    along the wrong axis, and a transposed output.
    """
    name = "check_dense_forward"
    rng = np.random.default_rng(2)
    for n, fan_in, fan_out in ((4, 3, 3), (5, 4, 2), (1, 2, 6), (2, 3, 2), (7, 5, 3)):
        layer = Linear(fan_in, fan_out, rng=rng)
        W, b = _random_bias(layer, rng)
        x = rng.normal(size=(n, fan_in))
        expected = layer(x)
        out = call_student(name, fn, x, W, b, hints=[
            (("matmul", "align"),
             f"the shapes do not fit for x {x.shape} and W {W.shape}: W is stored as "
             "(out_features, in_features), one row per output unit"),
            (("broadcast",),
             f"the shapes do not fit for x {x.shape}, W {W.shape} and b {b.shape}: W is stored "
             "(out_features, in_features), one row per output unit, and each output unit has "
             "one bias, the same for every sample"),
        ])
        if isinstance(out, np.ndarray) and out.shape == (fan_out, n) and n != fan_out:
            fail(name, f"your output has shape {out.shape}, one row per output unit; it should "
                       f"be {expected.shape}, one row per sample")
        got = answer_array(name, out, expected.shape, f"the output for x {x.shape} and W {W.shape}")
        if close(got, expected):
            continue
        if fan_in == fan_out and close(got, x @ W + b):
            fail(name, "you used W as if it were (in_features, out_features): it is stored "
                       "(out_features, in_features), one row per output unit")
        if close(got, x @ W.T):
            fail(name, "the bias is missing: each output unit adds its own bias")
        if close(got, x @ W.T - b):
            fail(name, "the bias is subtracted; it is added")
        if n == fan_out and close(got, x @ W.T + b[:, None]):
            fail(name, "the bias went along the wrong axis (one per sample): there is one bias "
                       "per output unit, the same for every sample")
        fail(name, f"for x {x.shape} and W {W.shape} your output differs from nnscratch.Linear's")
    passed(name, "five layer shapes agree with nnscratch.Linear")


def _run(x, weights, biases, act_hidden, act_last):
    a = x
    for k, (w, b) in enumerate(zip(weights, biases, strict=True)):
        z = a @ w.T + b
        a = act_last(z) if k == len(weights) - 1 else act_hidden(z)
    return a


def check_mlp_forward(fn: Any) -> None:
    """Check your ``forward(x, weights, biases)``: ``weights[k]`` is ``(out_k, in_k)`` and
    ``biases[k]`` is ``(out_k,)``, as in ``nnscratch.MLP``; the result is that MLP's output
    (``activation="sigmoid"``) for networks of depth 1 to 4.

    Names the typical mistakes: the sigmoid on the output layer too, no activation, another
    activation than the sigmoid, a fixed number of layers, and only the first layer used.
    """
    name = "check_mlp_forward"
    rng = np.random.default_rng(3)
    for sizes in ([2, 2, 1], [3, 5, 4, 2], [4, 3, 3, 3, 1], [3, 2], [5, 7, 3]):
        model = MLP(sizes, activation="sigmoid", rng=rng)
        linears = [m for m in model if isinstance(m, Linear)]
        pairs = [_random_bias(m, rng) for m in linears]
        weights, biases = [w for w, _ in pairs], [b for _, b in pairs]
        x = rng.normal(size=(6, sizes[0]))
        expected = model(x)
        what = f"the output of a network with sizes {sizes}"
        out = call_student(name, fn, x, weights, biases, hints=[
            (("matmul", "align", "broadcast"),
             f"the shapes do not fit in a network with sizes {sizes}: each weight is stored "
             "(out, in), one row per output unit"),
            (("index", "unpack", "too many values", "not enough values"),
             f"your function fails on a network with sizes {sizes}: loop over however many "
             "layers the lists hold"),
        ])
        if isinstance(out, np.ndarray) and out.shape != expected.shape and out.ndim == 2:
            fail(name, f"{what} has shape {out.shape}, one column per unit of the last layer "
                       "expected: did your code stop early or use a fixed number of layers? "
                       "Loop over all the layers in the lists")
        got = answer_array(name, out, expected.shape, what)
        if close(got, expected):
            continue
        if close(got, _run(x, weights, biases, sigmoid, sigmoid)) and len(sizes) > 1:
            fail(name, "you applied the sigmoid to the last layer too: here (like nnscratch.MLP) "
                       "the output layer stays linear")
        if close(got, _run(x, weights, biases, lambda z: z, lambda z: z)):
            fail(name, "no activation between the layers: every hidden layer's pre-activation "
                       "goes through the sigmoid")
        for act in (relu, tanh):
            if close(got, _run(x, weights, biases, act, lambda z: z)):
                fail(name, "the hidden layers use another activation: this network uses the "
                           "sigmoid")
        if close(got, _run(x, weights[:1], biases[:1], lambda z: z, lambda z: z)) or close(
            got, _run(x, weights[:1], biases[:1], sigmoid, sigmoid)
        ):
            fail(name, "only the first layer was used: feed each layer's output to the next")
        fail(name, f"for a network with sizes {sizes} your output differs from nnscratch.MLP's")
    passed(name, "networks of depth 1 to 4 agree with nnscratch.MLP")


def check_collapse(fn: Any) -> None:
    """Check your ``collapse(W1, b1, W2, b2) -> (W, b)``: one linear layer (``W`` stored
    ``(out, in)``) that gives the same output as the two stacked layers, for square and
    non-square shapes, compared with two ``nnscratch.Linear`` layers.

    Names the typical mistakes: the product in the wrong order, a transposed result, and the
    first bias not passed through the second layer (or lost).
    """
    name = "check_collapse"
    rng = np.random.default_rng(4)
    for fan_in, hidden, fan_out in ((3, 3, 3), (3, 5, 2), (4, 2, 6), (2, 2, 2)):
        first, second = Linear(fan_in, hidden, rng=rng), Linear(hidden, fan_out, rng=rng)
        (W1, b1), (W2, b2) = _random_bias(first, rng), _random_bias(second, rng)
        x = rng.normal(size=(8, fan_in))
        expected = second(first(x))
        out = call_student(name, fn, W1, b1, W2, b2, hints=[
            (("matmul", "align", "broadcast"),
             f"the shapes do not fit (W1 {W1.shape}, W2 {W2.shape}): think about which layer "
             "acts on x first, and what shape a weight of a layer from "
             f"{fan_in} to {fan_out} features has"),
        ])
        W_out, b_out = answer_pair(name, out, "(W, b)")
        if isinstance(W_out, np.ndarray) and W_out.shape == (fan_in, fan_out) and (
            fan_in != fan_out
        ):
            fail(name, f"W has shape {W_out.shape}: like every weight here it is stored "
                       f"(out_features, in_features) = {(fan_out, fan_in)}")
        W = answer_array(name, W_out, (fan_out, fan_in), "W")
        b = answer_array(name, b_out, (fan_out,), "b")
        if close(x @ W.T + b, expected):
            continue
        W_right = W2 @ W1
        if close(W, W_right.T) and not close(W, W_right):
            fail(name, "W is transposed: it is stored (out_features, in_features)")
        if close(W, W_right):
            if close(b, b1 + b2):
                fail(name, "the weight is right, but the first bias also passes through the "
                           "second layer's weights before the second bias is added")
            if close(b, b2):
                fail(name, "the weight is right, but the first bias is lost: it passes through "
                           "the second layer too")
            fail(name, "the weight is right but the bias is not: follow what happens to each "
                       "bias when you substitute the first layer into the second")
        if close(W, W1 @ W2):
            fail(name, "the matrix product is in the wrong order: the first layer acts on x "
                       "first")
        fail(name, f"for W1 {W1.shape} and W2 {W2.shape} your single layer's output differs "
                   "from the two stacked layers'")
    passed(name, "your single layer equals the two stacked layers for four shapes")
