"""Exercise checks for notebook 02 (the forward pass).

- ``check_sigmoid(fn)``: ``fn(z)`` is the logistic function, elementwise on arrays.
- ``check_dense_forward(fn)``: ``fn(x, W, b)`` is a dense layer ``x @ W.T + b``.
- ``check_mlp_forward(fn)``: ``fn(x, weights, biases)`` runs a sigmoid network of any depth.
- ``check_collapse(fn)``: ``fn(W1, b1, W2, b2) -> (W, b)``, one linear layer equal to two.
"""

from __future__ import annotations

import numpy as np

from ..functional import sigmoid
from ..layers import MLP, Linear
from ._core import CheckFailed, call_student, close, fail, passed

__all__ = ["check_sigmoid", "check_dense_forward", "check_mlp_forward", "check_collapse"]


def _array_out(name: str, out: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """The student's output as a float array of ``shape``, or a failure naming the shape."""
    try:
        arr = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, f"{what} should be a NumPy array of shape {shape}, got {type(out).__name__}")
    if arr.shape != shape:
        fail(name, f"{what} should have shape {shape}, got shape {arr.shape}")
    return arr


def _call(
    name: str, fn: object, *args: object, hints: list[tuple[tuple[str, ...], str]] = ()
) -> object:
    """``call_student`` with NumPy warnings silenced; a crash whose message contains one of a
    hint's words fails with that hint's explanation instead of the bare error."""
    try:
        with np.errstate(all="ignore"):
            return call_student(name, fn, *args)
    except CheckFailed as exc:
        for words, message in hints:
            if any(word in str(exc) for word in words):
                fail(name, message)
        raise


def check_sigmoid(fn: object) -> None:
    """Check ``fn(z) = 1 / (1 + exp(-z))`` elementwise, against ``nnscratch.functional.sigmoid``.

    Names the typical mistakes: the sign error ``1 / (1 + exp(z))``, the missing ``1 +``
    (``1 / exp(-z)``), ``math.exp`` that fails on arrays, and NaN for large ``|z|``.
    """
    name = "check_sigmoid"
    z = np.array([-1000.0, -30.0, -5.0, -2.0, -0.5, 0.0, 0.5, 1.0, 2.0, 5.0, 30.0, 1000.0])
    out = _call(name, fn, z.copy(), hints=[
        (("Python scalar", "only length-1", "only 0-dimensional", "size-1"),
         "your function fails on a NumPy array: use np.exp (elementwise), not math.exp"),
    ])
    got = _array_out(name, out, z.shape, "sigmoid(z) for z of shape (12,)")
    expected = sigmoid(z)
    if close(got, expected, rtol=1e-7, atol=1e-12):
        passed(name, "matches nnscratch.functional.sigmoid from z = -1000 to 1000")
        return
    middle = np.abs(z) <= 30
    if close(got[middle], sigmoid(-z[middle])):
        fail(name, "you computed 1 / (1 + exp(z)), which is sigmoid(-z): the exponent needs a "
                   "minus sign, exp(-z), so that large z gives values near 1")
    with np.errstate(over="ignore"):
        if close(got[middle], np.exp(z[middle])):
            fail(name, "you computed 1 / exp(-z) = exp(z), which grows without bound: the "
                       "denominator is 1 + exp(-z)")
    if np.isnan(got).any():
        bad = z[np.isnan(got)]
        fail(name, f"your function returns NaN at z = {bad.tolist()}: exp overflowed into "
                   "inf / inf; 1 / (1 + np.exp(-z)) stays finite")
    if close(got[middle], expected[middle]):
        fail(name, "right for moderate z but wrong for z = +-1000: the output must stay in "
                   "[0, 1] (0 far left, 1 far right)")
    i = int(np.argmax(np.abs(got - expected)))
    fail(name, f"sigmoid({z[i]:g}) should be {expected[i]:.4g}, you returned {got[i]:.4g}")


def check_dense_forward(fn: object) -> None:
    """Check ``fn(x, W, b) = x @ W.T + b`` for ``x (n, in)``, ``W (out, in)``, ``b (out,)``.

    The expected output comes from ``nnscratch.Linear`` with the same weights. Names the
    typical mistakes: a transposed weight (``x @ W``), a missing bias, and the bias added
    to the wrong axis.
    """
    name = "check_dense_forward"
    rng = np.random.default_rng(2)
    for n, fan_in, fan_out in ((4, 3, 3), (5, 4, 2), (1, 2, 6)):
        layer = Linear(fan_in, fan_out, rng=rng)
        layer.bias.data[:] = rng.normal(size=fan_out)
        x = rng.normal(size=(n, fan_in))
        W, b = layer.weight.data.copy(), layer.bias.data.copy()
        expected = layer(x)
        out = _call(name, fn, x.copy(), W.copy(), b.copy(), hints=[
            (("matmul", "align", "broadcast"),
             f"shapes do not fit for x {x.shape}, W {W.shape}: W is stored as "
             "(out_features, in_features), so the layer is x @ W.T + b"),
        ])
        got = _array_out(name, out, expected.shape,
                         f"the output for x {x.shape} and W {W.shape}")
        if close(got, expected):
            continue
        if fan_in == fan_out and close(got, x @ W + b):
            fail(name, "you used x @ W: the weight matrix is (out_features, in_features), "
                       "so the layer is x @ W.T + b (transpose W)")
        if close(got, x @ W.T):
            fail(name, "the output is x @ W.T without the bias: add b (one per output unit)")
        if close(got, x @ W.T - b):
            fail(name, "the bias is added, not subtracted: x @ W.T + b")
        fail(name, f"for x {x.shape}, W {W.shape} the output differs from x @ W.T + b by up "
                   f"to {np.max(np.abs(got - expected)):.4g}")
    passed(name, "three layer shapes agree with nnscratch.Linear")


def check_mlp_forward(fn: object) -> None:
    """Check ``fn(x, weights, biases)``: sigmoid after every layer but the last, which stays linear.

    ``weights[k]`` is ``(out_k, in_k)`` and ``biases[k]`` is ``(out_k,)``, as in ``nnscratch.MLP``;
    the expected output is that MLP's (``activation="sigmoid"``) with the same parameters. Names
    the typical mistakes: a sigmoid on the output layer too, no activation at all, and only
    the first layer used.
    """
    name = "check_mlp_forward"
    rng = np.random.default_rng(3)
    for sizes in ([2, 2, 1], [3, 5, 4, 2], [4, 3, 3, 3, 1]):
        model = MLP(sizes, activation="sigmoid", rng=rng)
        for layer in model:
            if isinstance(layer, Linear):
                layer.bias.data[:] = rng.normal(size=layer.out_features)
        linears = [m for m in model if isinstance(m, Linear)]
        weights = [m.weight.data.copy() for m in linears]
        biases = [m.bias.data.copy() for m in linears]
        x = rng.normal(size=(6, sizes[0]))
        expected = model(x)
        out = call_student(name, fn, x.copy(), [w.copy() for w in weights],
                           [b.copy() for b in biases])
        got = _array_out(name, out, expected.shape, f"the output of a {sizes} network")

        def run(act_hidden, act_last, _x=x, _w=weights, _b=biases):
            a = _x
            for k, (w, b) in enumerate(zip(_w, _b, strict=True)):
                z = a @ w.T + b
                a = act_last(z) if k == len(_w) - 1 else act_hidden(z)
            return a

        if close(got, expected):
            continue
        if close(got, run(sigmoid, sigmoid)):
            fail(name, "you applied the sigmoid to the last layer too: here (like "
                       "nnscratch.MLP) the output layer stays linear")
        if close(got, run(lambda z: z, lambda z: z)):
            fail(name, "no activation between the layers: apply the sigmoid to every hidden "
                       "layer's pre-activation z")
        fail(name, f"for sizes {sizes} your output differs from nnscratch.MLP's by up to "
                   f"{np.max(np.abs(got - expected)):.4g}")
    passed(name, "networks of depth 2, 3 and 4 agree with nnscratch.MLP")


def check_collapse(fn: object) -> None:
    """Check ``fn(W1, b1, W2, b2) -> (W, b)`` with ``x @ W.T + b`` equal to two stacked layers.

    The answer is ``W = W2 @ W1`` and ``b = W2 @ b1 + b2``; it is checked by comparing outputs
    with two ``nnscratch.Linear`` layers. Names the typical mistakes: the product in the
    wrong order (``W1 @ W2``), and ``b1`` not passed through the second layer.
    """
    name = "check_collapse"
    rng = np.random.default_rng(4)
    for fan_in, hidden, fan_out in ((3, 3, 3), (3, 5, 2)):
        first, second = Linear(fan_in, hidden, rng=rng), Linear(hidden, fan_out, rng=rng)
        first.bias.data[:] = rng.normal(size=hidden)
        second.bias.data[:] = rng.normal(size=fan_out)
        W1, b1, W2, b2 = (first.weight.data, first.bias.data, second.weight.data,
                          second.bias.data)
        x = rng.normal(size=(8, fan_in))
        expected = second(first(x))
        out = _call(name, fn, W1.copy(), b1.copy(), W2.copy(), b2.copy(), hints=[
            (("matmul", "align"),
             f"shapes do not fit (W1 {W1.shape}, W2 {W2.shape}): the first layer acts "
             "first, so the combined weight is W2 @ W1"),
        ])
        if not isinstance(out, tuple | list) or len(out) != 2:
            fail(name, f"return a pair (W, b), got {type(out).__name__}")
        W = _array_out(name, out[0], (fan_out, fan_in), "W")
        b = _array_out(name, out[1], (fan_out,), "b")
        if close(x @ W.T + b, expected):
            continue
        if close(W, W2 @ W1) or close(W, (W2 @ W1).T):
            if close(W, (W2 @ W1).T) and not close(W, W2 @ W1):
                fail(name, "W is transposed: it must be (out_features, in_features) = W2 @ W1")
            if close(b, b1 + b2):
                fail(name, "the weight is right, but b1 passes through the second layer "
                           "too: b = W2 @ b1 + b2, not b1 + b2")
            if close(b, b2):
                fail(name, "the weight is right, but b1 is lost: it passes through the second "
                           "layer, so b = W2 @ b1 + b2")
            fail(name, "the weight is right but the bias is not: b = W2 @ b1 + b2")
        if close(W, W1 @ W2):
            fail(name, "the product is in the wrong order: the first layer acts first, so "
                       "W = W2 @ W1")
        fail(name, f"x @ W.T + b differs from the two stacked layers by up to "
                   f"{np.max(np.abs(x @ W.T + b - expected)):.4g}")
    passed(name, "one layer (W2 @ W1, W2 @ b1 + b2) equals the two stacked layers")
