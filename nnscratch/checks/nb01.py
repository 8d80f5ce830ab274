"""Exercise checks for notebook 01 (the perceptron).

- ``check_perceptron_output(fn)``: ``fn(x, w, b)``, the 0/1 decision of one threshold unit.
- ``check_nand_weights(w, b)``: weights ``(2,)`` and a bias that make a threshold unit NAND.
- ``check_perceptron_update(fn)``: ``fn(w, b, x, y, lr) -> (new_w, new_b)``, one step of the
  learning rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..functional import step
from ..perceptron import Perceptron
from ._core import answer_number, answer_pair, call_student, close, fail, passed

__all__ = ["check_perceptron_output", "check_nand_weights", "check_perceptron_update"]

# Every combination of two yes/no inputs, shape (4, 2): (0,0), (0,1), (1,0), (1,1).
_BINARY_PAIRS = np.array(list(itertools.product((0.0, 1.0), repeat=2)))


def _all_close(got: Sequence[Any], other: Sequence[Any]) -> bool:
    """True when every student output equals the matching output of a known mistake."""
    return all(close(g, o) for g, o in zip(got, other, strict=True))


def _output_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Random units of 2, 3 and 5 inputs, plus units whose sum is exactly 0 (exact in binary)."""
    rng = np.random.default_rng(101)
    cases = []
    for d in (2, 3, 5) * 8:
        cases.append((rng.integers(0, 2, d).astype(float), rng.normal(size=d), float(rng.normal())))
    cases += [
        (np.array([1.0, 0.0, 1.0]), np.array([0.5, 2.0, 0.5]), -1.0),
        (np.array([1.0, 1.0]), np.array([2.0, -1.0]), -1.0),
        (np.array([0.0, 0.0]), np.array([0.75, -0.25]), 0.0),
        (np.array([1.0, 1.0, 1.0, 0.0]), np.array([0.25, 0.25, 0.5, 3.0]), -1.0),
        (np.array([1.0, 0.0]), np.array([-0.5, 1.0]), 0.5),
    ]
    return cases


def check_perceptron_output(fn: Any) -> None:
    """Check your ``perceptron_output(x, w, b)`` for ``x, w`` of shape ``(d,)`` and a float ``b``.

    It is run on units with 2 to 5 inputs, including sums that land exactly on the threshold,
    and compared with ``nnscratch.functional.step``. Typical mistakes it names: returning the
    weighted sum itself, leaving out or subtracting the bias, the wrong side of the threshold
    at exactly 0, and -1/+1 answers.
    """
    name = "check_perceptron_output"
    cases = _output_cases()
    got = [
        answer_number(
            name,
            call_student(name, fn, x, w, b),
            "the output should be a single number (0 or 1)",
            allow_bool=True,
        )
        for x, w, b in cases
    ]
    expected = [float(step(np.array(x @ w + b))) for x, w, b in cases]
    if _all_close(got, expected):
        passed(name, f"{len(cases)} cases, including sums exactly at the threshold")
        return
    mistakes = [
        (
            "you returned the weighted sum itself; the unit answers 0 or 1 by comparing the "
            "sum with the threshold (the step function)",
            [float(x @ w + b) for x, w, b in cases],
        ),
        (
            "right everywhere except where the weighted sum is exactly 0: in this course a sum "
            "of exactly 0 gives 1 (the step function is 1 at 0); check which side of the "
            "comparison includes 0",
            [float(x @ w + b > 0) for x, w, b in cases],
        ),
        (
            "the answers ignore the bias: it belongs in the weighted sum",
            [float(step(np.array(x @ w))) for x, w, b in cases],
        ),
        (
            "the bias has the wrong sign: it is added to the weighted sum, not subtracted",
            [float(step(np.array(x @ w - b))) for x, w, b in cases],
        ),
        (
            "your unit uses only the first two inputs: the weighted sum runs over all of them "
            "(units here have 2 to 5 inputs)",
            [float(step(np.array(x[:2] @ w[:2] + b))) for x, w, b in cases],
        ),
        (
            "your unit answers -1 and +1; this one answers 0 and 1",
            [1.0 if x @ w + b >= 0 else -1.0 for x, w, b in cases],
        ),
    ]
    for message, outputs in mistakes:
        if _all_close(got, outputs):
            fail(name, message)
    if any(g not in (0.0, 1.0) for g in got):
        fail(name, "some outputs are neither 0 nor 1: the unit answers only 0 or 1")
    i = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not close(g, e))
    x, w, b = cases[i]
    where = "exactly 0" if x @ w + b == 0 else "positive" if x @ w + b > 0 else "negative"
    fail(
        name,
        f"wrong answer for a unit with {len(x)} inputs whose weighted sum w.x + b is {where}: "
        "work that case out by hand (does your code use every input, and the bias?)",
    )


def check_nand_weights(w: Any, b: Any) -> None:
    """Check that a threshold unit with your weights ``w`` (2 numbers) and bias ``b`` is NAND.

    Names the typical mistakes: building AND (every answer flipped), building OR, a bias
    that makes inputs 0, 0 answer 0, and weights of the wrong shape.
    """
    name = "check_nand_weights"
    if isinstance(b, str) or isinstance(w, str) or (
        isinstance(w, list | tuple) and any(isinstance(v, str) for v in w)
    ):
        fail(name, "w and b should be numbers, not text (leave out the quotes)")
    try:
        w_arr = np.asarray(w, dtype=np.float64)
        b_val = float(np.asarray(b, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        fail(name, f"w should be two numbers and b one number, got {type(w).__name__} and "
                   f"{type(b).__name__}")
    if w_arr.shape != (2,):
        fail(name, f"w should have shape (2,), one weight per input, got shape {w_arr.shape}")
    if not (np.isfinite(w_arr).all() and np.isfinite(b_val)):
        fail(name, "the weights and the bias must be finite numbers")
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
        fail(name, f"your unit computes AND ({rows}), the exact opposite of NAND: think about "
                   "what flipping every sign does")
    if np.array_equal(got, (a | c).astype(float)):
        fail(name, f"your unit computes OR ({rows}); NAND says 1 unless both inputs are 1, so "
                   "an input that is on should push the sum down, not up")
    if got[0] == 0:
        fail(name, f"your unit gives {rows}; with both inputs 0 only the bias counts, and "
                   "NAND must answer 1 there")
    if got[3] == 1:
        fail(name, f"your unit gives {rows}; with both inputs on, the two weights together "
                   "must pull the sum below the threshold")
    fail(name, f"your unit gives {rows}; NAND is 0 only for 11: each weight alone must not "
               "pull the sum below the threshold")


def _update_cases() -> list[tuple[np.ndarray, float, np.ndarray, int, float]]:
    """Random updates on 2 to 5 inputs, plus ones that sit exactly on the threshold."""
    rng = np.random.default_rng(7)
    cases = []
    for i in range(24):
        d = (2, 3, 5)[i % 3]
        cases.append((rng.normal(size=d), float(rng.normal()), rng.normal(size=d), i % 2,
                      (1.0, 0.5, 0.1, 0.25)[i % 4]))
    # the default start (all zeros) and other exact zeros of w.x + b: the unit answers 1 there
    cases += [
        (np.zeros(2), 0.0, np.array([1.0, 0.0]), 0, 0.5),
        (np.zeros(3), 0.0, np.array([1.0, 1.0, 0.0]), 0, 1.0),
        (np.zeros(2), 0.0, np.array([0.0, 1.0]), 1, 0.1),
        (np.array([0.5, -0.5]), 0.0, np.array([1.0, 1.0]), 0, 0.25),
        (np.array([1.0, 2.0]), -1.0, np.array([1.0, 0.0]), 0, 0.5),
    ]
    return cases


def check_perceptron_update(fn: Any) -> None:
    """Check your ``perceptron_update(w, b, x, y, lr) -> (new_w, new_b)``: one step of the
    perceptron rule on one sample, compared with ``nnscratch.perceptron.Perceptron``.

    Cases include the all-zero start and other sums exactly at the threshold. Names the
    typical mistakes: the error's sign flipped, the bias not updated, the learning rate
    ignored, updating when the prediction is right, the wrong side of the threshold at 0,
    and changing ``w`` in place.
    """
    name = "check_perceptron_update"
    cases = _update_cases()
    got, expected = [], []
    for w, b, x, y, lr in cases:
        out = call_student(name, fn, w, b, x, y, lr)
        new_w, new_b = answer_pair(name, out, "(new_w, new_b)")
        if np.shape(new_w) != w.shape:
            fail(name, f"new_w should have the shape of w {w.shape}, got {np.shape(new_w)}")
        if isinstance(new_w, list | tuple):
            fail(name, "new_w is a Python list; return a NumPy array like w")
        nb = answer_number(name, new_b, "new_b should be a single number")
        got.append(np.concatenate([np.asarray(new_w, float), [nb]]))
        ref = Perceptron(len(w), lr, weights=w, bias=b).fit(x.reshape(1, -1), np.array([y]), 1)
        expected.append(np.concatenate([ref.w, [ref.b]]))
    if _all_close(got, expected):
        passed(name, f"{len(cases)} updates agree with nnscratch.perceptron.Perceptron")
        return

    def rule(err_fn, lr_used=True, bias=True, strict=False):  # a variant, as (w, b) vectors
        outs = []
        for w, b, x, y, lr in cases:
            s = x @ w + b
            y_hat = float(s > 0) if strict else float(step(np.array(s)))
            e = err_fn(y, y_hat) * (lr if lr_used else 1.0)
            outs.append(np.concatenate([w + e * x, [b + e if bias else b]]))
        return outs

    mistakes = [
        ("the update goes the wrong way: the error is the target minus the prediction",
         rule(lambda y, h: h - y)),
        ("the weights are right but the bias never changes: the bias learns too, like a "
         "weight whose input is always 1", rule(lambda y, h: y - h, bias=False)),
        ("the step ignores the learning rate", rule(lambda y, h: y - h, lr_used=False)),
        ("the parameters change even when the prediction is right: scale the change by the "
         "error (which is 0 when the unit is right), not by the target",
         rule(lambda y, h: y)),
        ("right except where w.x + b is exactly 0 (for example the all-zero start): there the "
         "unit predicts 1, as perceptron_output does; check the comparison in your prediction",
         rule(lambda y, h: y - h, strict=True)),
    ]
    for message, outputs in mistakes:
        if _all_close(got, outputs):
            fail(name, message)
    i = next(i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if not close(g, e))
    w, b, x, y, lr = cases[i]
    right = float(step(np.array(x @ w + b))) == y
    fail(
        name,
        f"wrong update for a sample with {len(x)} inputs, target {y} and lr={lr:g}, where the "
        f"unit's prediction was {'right' if right else 'wrong'}: work through that case by hand",
    )
