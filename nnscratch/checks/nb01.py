"""Exercise checks for notebook 01 (the perceptron).

- ``check_perceptron_output(fn)``: ``fn(x, w, b)`` returns the 0/1 decision of one threshold unit.
- ``check_nand_weights(w, b)``: weights ``(2,)`` and bias that make a threshold unit compute NAND.
- ``check_perceptron_update(fn)``: ``fn(w, b, x, y, lr)`` applies one step of the learning rule.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..functional import step
from ..perceptron import Perceptron
from ._core import as_number, call_student, close, fail, passed

__all__ = ["check_perceptron_output", "check_nand_weights", "check_perceptron_update"]

# Every combination of two yes/no inputs, shape (4, 2): (0,0), (0,1), (1,0), (1,1).
_BINARY_PAIRS = np.array(list(itertools.product((0.0, 1.0), repeat=2)))


def _all_close(got: list[np.ndarray], other: list[np.ndarray]) -> bool:
    """True when every student output equals the matching output of a known mistake."""
    return all(close(g, o) for g, o in zip(got, other, strict=True))


def check_perceptron_output(fn: object) -> None:
    """Check ``fn(x, w, b)``: 1 when ``w . x + b >= 0`` else 0, for ``x, w`` of shape ``(d,)``.

    Typical mistakes it names: returning the weighted sum instead of 0/1, leaving out or
    subtracting the bias, and using ``>`` so that a sum of exactly 0 gives 0.
    """
    name = "check_perceptron_output"
    rng = np.random.default_rng(101)
    cases = [
        (rng.integers(0, 2, 3).astype(float), rng.normal(size=3), float(rng.normal()))
        for _ in range(30)
    ]
    # sums exactly on the threshold: w . x + b == 0 must give 1 (step(0) == 1)
    cases.append((np.array([1.0, 0.0, 1.0]), np.array([0.5, 2.0, 0.5]), -1.0))
    cases.append((np.array([1.0, 1.0]), np.array([2.0, -1.0]), -1.0))
    got = [
        as_number(
            name,
            call_student(name, fn, x.copy(), w.copy(), b),
            "the output should be a single number",
            allow_bool=True,
        )
        for x, w, b in cases
    ]
    expected = [float(step(np.array(x @ w + b))) for x, w, b in cases]
    if _all_close(got, expected):
        passed(name, f"{len(cases)} cases, including sums exactly at 0")
        return
    mistakes = [
        (
            "you returned the weighted sum w.x + b itself; the unit answers 0 or 1 by comparing "
            "the sum with 0 (the step function)",
            [float(x @ w + b) for x, w, b in cases],
        ),
        (
            "a sum of exactly 0 must give 1: compare with >= 0, not > 0",
            [float(x @ w + b > 0) for x, w, b in cases],
        ),
        (
            "the answers ignore the bias: did you forget to add b to w.x?",
            [float(step(np.array(x @ w))) for x, w, b in cases],
        ),
        (
            "the bias is added (w.x + b), not subtracted",
            [float(step(np.array(x @ w - b))) for x, w, b in cases],
        ),
    ]
    for message, outputs in mistakes:
        if _all_close(got, outputs):
            fail(name, message)
    i = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not close(g, e))
    x, w, b = cases[i]
    fail(
        name,
        f"for x={x.tolist()}, w={np.round(w, 4).tolist()}, b={b:.4g} you returned "
        f"{got[i]:.4g}, expected {expected[i]:g} (w.x + b = {x @ w + b:.4g})",
    )


def check_nand_weights(w: object, b: object) -> None:
    """Check that a threshold unit with weights ``w (2,)`` and bias ``b`` computes NAND.

    Names the typical mistakes: building AND (every answer flipped), building OR, a
    negative bias (so inputs 0, 0 give 0), or weights of the wrong shape.
    """
    name = "check_nand_weights"
    try:
        w_arr = np.asarray(w, dtype=np.float64)
        b_val = float(np.asarray(b, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        fail(name, f"w should be 2 numbers and b one number, got w={w!r}, b={b!r}")
    if w_arr.shape != (2,):
        fail(name, f"w should have shape (2,), one weight per input, got shape {w_arr.shape}")
    a, c = _BINARY_PAIRS[:, 0].astype(bool), _BINARY_PAIRS[:, 1].astype(bool)
    nand = (~(a & c)).astype(float)
    got = step(_BINARY_PAIRS @ w_arr + b_val)
    if np.array_equal(got, nand):
        passed(name, "the unit answers 0 only when both inputs are 1")
        return
    rows = ", ".join(
        f"{int(p)}{int(q)}->{int(o)}" for (p, q), o in zip(_BINARY_PAIRS, got, strict=True)
    )
    if np.array_equal(got, 1 - nand):
        fail(
            name,
            f"your unit computes AND ({rows}), the exact opposite of NAND: flip the "
            "signs of the weights and of the bias",
        )
    if np.array_equal(got, (a | c).astype(float)):
        fail(
            name,
            f"your unit computes OR ({rows}); NAND is 1 unless both inputs are 1: try "
            "negative weights and a positive bias",
        )
    if got[0] == 0:
        fail(
            name,
            f"your unit gives {rows}; with both inputs 0 only the bias counts, so b "
            "must be >= 0 to answer 1",
        )
    fail(
        name,
        f"your unit gives {rows}, but NAND is 00->1, 01->1, 10->1, 11->0: use "
        "negative weights, and a bias that outweighs one weight but not both",
    )


def check_perceptron_update(fn: object) -> None:
    """Check ``fn(w, b, x, y, lr) -> (new_w, new_b)``: one perceptron-rule step on one sample.

    The rule: ``y_hat = step(w . x + b)``, ``w + lr * (y - y_hat) * x``, ``b + lr * (y - y_hat)``.
    Names the typical mistakes: the error's sign flipped (``y_hat - y``), the bias not updated,
    the learning rate ignored, and updating even when the prediction is right.
    """
    name = "check_perceptron_update"
    rng = np.random.default_rng(7)
    cases = []
    for i in range(24):
        x, w, b = rng.normal(size=3), rng.normal(size=3), float(rng.normal())
        cases.append((w, b, x, i % 2, (1.0, 0.5, 0.1)[i % 3]))
    got, expected = [], []
    for w, b, x, y, lr in cases:
        out = call_student(name, fn, w.copy(), b, x.copy(), y, lr)
        if not isinstance(out, tuple | list) or len(out) != 2:
            fail(name, f"return a pair (new_w, new_b), got {type(out).__name__}")
        if np.shape(out[0]) != w.shape:
            fail(name, f"new_w should have the shape of w {w.shape}, got {np.shape(out[0])}")
        as_number(name, out[1], "new_b should be a single number", allow_bool=True)
        got.append(np.concatenate([np.asarray(out[0], float), [float(out[1])]]))
        ref = Perceptron(len(w), lr, weights=w, bias=b).fit(x.reshape(1, -1), np.array([y]), 1)
        expected.append(np.concatenate([ref.w, [ref.b]]))
    if _all_close(got, expected):
        passed(name, f"{len(cases)} updates agree with nnscratch.perceptron.Perceptron")
        return

    def rule(err_fn, lr_used=True, bias=True):  # a variant of the rule, as (w, b) vectors
        outs = []
        for w, b, x, y, lr in cases:
            y_hat = float(step(np.array(x @ w + b)))
            e = err_fn(y, y_hat) * (lr if lr_used else 1.0)
            outs.append(np.concatenate([w + e * x, [b + e if bias else b]]))
        return outs

    mistakes = [
        (
            "the update goes the wrong way: the error is y - y_hat (target minus prediction), "
            "so w moves by +lr * (y - y_hat) * x",
            rule(lambda y, h: h - y),
        ),
        (
            "the weights are right but the bias never changes: b also moves, by lr * (y - y_hat)",
            rule(lambda y, h: y - h, bias=False),
        ),
        (
            "the step ignores the learning rate: multiply the change by lr",
            rule(lambda y, h: y - h, lr_used=False),
        ),
        (
            "the parameters change even when the prediction is right: multiply by the error "
            "y - y_hat (0 when right), not by y",
            rule(lambda y, h: y),
        ),
    ]
    for message, outputs in mistakes:
        if _all_close(got, outputs):
            fail(name, message)
    i = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not close(g, e))
    w, b, x, y, lr = cases[i]
    fail(
        name,
        f"for y={y}, lr={lr:g} you returned w={np.round(got[i][:-1], 4).tolist()}, "
        f"b={got[i][-1]:.4g}; expected w={np.round(expected[i][:-1], 4).tolist()}, "
        f"b={expected[i][-1]:.4g}",
    )
