"""The notebook 01 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import check_nand_weights, check_perceptron_output, check_perceptron_update


def out_ref(x, w, b):
    return 1 if np.dot(w, x) + b >= 0 else 0


def update_ref(w, b, x, y, lr):
    error = y - out_ref(x, w, b)
    return w + lr * error * x, b + lr * error


def update_other(w, b, x, y, lr):
    y_hat = float(x @ w + b >= 0)
    if y_hat == y:
        return w.copy(), float(b)
    new_w = w.copy()
    new_w = new_w + lr * (y - y_hat) * x
    return new_w, b + lr * (y - y_hat)


def update_inplace(w, b, x, y, lr):
    error = y - out_ref(x, w, b)
    w += lr * error * x
    return w, b + lr * error


def _upd(pred, err, *, lr_used=True, bias=True):
    def update(w, b, x, y, lr):
        e = err(y, pred(x, w, b)) * (lr if lr_used else 1.0)
        return w + e * x, (b + e if bias else b)

    return update


strict = lambda x, w, b: int(np.dot(w, x) + b > 0)  # noqa: E731


def out_inplace(x, w, b):
    x *= w
    return int(x.sum() + b >= 0)


RIGHT = {
    check_perceptron_output: [
        (out_ref,),
        (lambda x, w, b: np.dot(w, x) + b >= 0,),  # a bool is a fine 0/1
        (lambda x, w, b: float(np.heaviside(x @ w + b, 1.0)),),
        (lambda x, w, b: np.array([int(sum(v * u for v, u in zip(w, x, strict=True)) + b >= 0)]),),
    ],
    check_nand_weights: [
        (np.array([-1.0, -1.0]), 1.5),
        ([-2, -2], 3),
        (np.array([-0.5, -0.7]), np.float64(0.8)),
    ],
    check_perceptron_update: [(update_ref,), (update_other,)],
}

WRONG = {
    check_perceptron_output: [
        ("strict", (strict,), r"exactly 0"),
        ("heaviside0", (lambda x, w, b: float(np.heaviside(x @ w + b, 0.0)),), r"exactly 0"),
        ("round-sigmoid", (lambda x, w, b: round(1 / (1 + np.exp(-(x @ w + b)))),), r"exactly 0"),
        ("sum", (lambda x, w, b: np.dot(w, x) + b,), r"weighted sum itself"),
        ("no-bias", (lambda x, w, b: int(np.dot(w, x) >= 0),), r"ignore the bias"),
        ("minus-bias", (lambda x, w, b: int(np.dot(w, x) - b >= 0),), r"wrong sign"),
        ("sign", (lambda x, w, b: np.sign(np.dot(w, x) + b) or 1.0,), r"-1 and \+1"),
        ("two-inputs", (lambda x, w, b: int(w[0] * x[0] + w[1] * x[1] + b >= 0),),
         r"first two inputs"),
        ("string", (lambda x, w, b: "1",), r"single number"),
        ("inplace", (out_inplace,), r"in place"),
        ("list", (lambda x, w, b: [out_ref(x, w, b)],), r"single number"),
        ("threshold-1", (lambda x, w, b: int(np.dot(w, x) + b >= 1),), r"work that case out"),
        ("crash", (lambda x, w, b: x @ w.T[:1] + b,), r"raised"),
        ("not-callable", (3,), r"expected a function"),
    ],
    check_nand_weights: [
        ("and", (np.array([1.0, 1.0]), -1.5), r"AND"),
        ("or", (np.array([1.0, 1.0]), -0.5), r"OR"),
        ("negative-bias", (np.array([-1.0, -1.0]), -0.5), r"both inputs 0"),
        ("threshold-tie", (np.array([-1.0, -1.0]), 2.0), r"both inputs on"),
        ("too-strong", (np.array([-2.0, -2.0]), 1.0), r"each weight alone"),
        ("shape", (np.array([-1.0, -1.0, 0.0]), 1.5), r"shape \(2,\)"),
        ("column", (np.array([[-1.0], [-1.0]]), 1.5), r"shape \(2,\)"),
        ("nan", (np.array([np.nan, -1.0]), 1.5), r"finite"),
        ("string", (np.array([-1.0, -1.0]), "1.5"), r"not text"),
        ("bias-array", (np.array([-1.0, -1.0]), np.array([1.5, 1.5])), r"numbers"),
    ],
    check_perceptron_update: [
        ("sign", (_upd(out_ref, lambda y, h: h - y),), r"wrong way"),
        ("no-bias", (_upd(out_ref, lambda y, h: y - h, bias=False),), r"bias never changes"),
        ("no-lr", (_upd(out_ref, lambda y, h: y - h, lr_used=False),), r"learning rate"),
        ("by-target", (_upd(out_ref, lambda y, h: y),), r"prediction is right"),
        ("strict", (_upd(strict, lambda y, h: y - h),), r"exactly 0"),
        ("inplace", (update_inplace,), r"in place"),
        ("list", (lambda w, b, x, y, lr: ([float(v) for v in update_ref(w, b, x, y, lr)[0]],
                                          update_ref(w, b, x, y, lr)[1]),), r"list"),
        ("only-w", (lambda w, b, x, y, lr: update_ref(w, b, x, y, lr)[0],), r"pair"),
        ("delta-rule", (_upd(lambda x, w, b: x @ w + b, lambda y, h: y - h),), r"wrong update"),
        ("bias-array", (lambda w, b, x, y, lr: (update_ref(w, b, x, y, lr)[0],
                                                np.full(2, update_ref(w, b, x, y, lr)[1])),),
         r"single number"),
        ("swapped", (lambda w, b, x, y, lr: update_ref(w, b, x, y, lr)[::-1],), r"shape of w"),
        ("no-update", (lambda w, b, x, y, lr: (w.copy(), b),), r"wrong update"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


def test_the_all_zero_start_lies_on_the_threshold() -> None:
    # from w = 0, b = 0 the strict rule predicts 0 and the course's rule 1: they train apart
    w, b = np.zeros(2), 0.0
    x = np.array([1.0, 0.0])
    assert update_ref(w, b, x, 0, 1.0)[1] == -1.0
    assert _upd(strict, lambda y, h: y - h)(w, b, x, 0, 1.0)[1] == 0.0
