"""The notebook 04 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import (
    check_output_gradient,
    check_sigmoid_derivative,
    check_value_mul,
    check_value_tanh,
)
from nnscratch.functional import sigmoid


def sd_ref(z):
    s = sigmoid(z)
    return s * (1 - s)


def sd_inplace(z):
    z[...] = sigmoid(z)
    return z * (1 - z)


def mul_ref(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def mul_set(a, b, out):
    a.grad = b.data * out.grad
    b.grad = a.data * out.grad


def mul_own(a, b, out):
    a.grad += a.data * out.grad
    b.grad += b.data * out.grad


def mul_no_chain(a, b, out):
    a.grad += b.data
    b.grad += a.data


def mul_minus(a, b, out):
    a.grad -= b.data * out.grad
    b.grad -= a.data * out.grad


def mul_only_a(a, b, out):
    a.grad += b.data * out.grad


def mul_changes_data(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad
    out.grad = 0.0


def mul_chain_once(a, b, out):
    ga, gb = b.data * out.grad, a.data * out.grad
    a.grad = a.grad + ga if a is not b else ga + gb - gb
    if a is not b:
        b.grad = b.grad + gb


def tanh_ref(x, out):
    x.grad += (1 - out.data**2) * out.grad


def _tanh(expr, *, assign=False):
    def backward(x, out):
        value = expr(x, out)
        if assign:
            x.grad = value
        else:
            x.grad += value

    return backward


RIGHT = {
    check_sigmoid_derivative: [
        (sd_ref,),
        (lambda z: sigmoid(z) * sigmoid(-z),),
        (lambda z: 0.25 / np.cosh(z / 2) ** 2,),
    ],
    check_output_gradient: [
        (lambda y_hat, y: (y_hat - y) / y_hat.shape[0],),
        (lambda y_hat, y: (y_hat - y) / len(y),),
    ],
    check_value_mul: [(mul_ref,)],
    check_value_tanh: [
        (tanh_ref,),
        (_tanh(lambda x, out: (1 - np.tanh(x.data) ** 2) * out.grad),),
    ],
}

WRONG = {
    check_sigmoid_derivative: [
        ("z-for-s", (lambda z: z * (1 - z),), r"z itself"),
        ("twice", (lambda z: sd_ref(sigmoid(z)),), r"applied the sigmoid twice"),
        ("sign", (lambda z: -sd_ref(z),), r"positive"),
        ("s-only", (sigmoid,), r"sigmoid itself"),
        ("plus", (lambda z: sigmoid(z) * (1 + sigmoid(z)),), r"sign error inside"),
        ("overflow-nan", (lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,), r"NaN for large"),
        ("overflow-nan-2", (lambda z: np.exp(z) / (1 + np.exp(z)) ** 2,), r"NaN for large"),
        ("inplace", (sd_inplace,), r"in place"),
        ("list", (lambda z: sd_ref(z).tolist(),), r"list"),
        ("flat", (lambda z: sd_ref(z).ravel(),), r"shape"),
        ("scalar-only", (lambda z: float(sd_ref(np.asarray(z)).mean()),), r"NumPy array"),
        ("wrong-scale", (lambda z: 4 * sd_ref(z),), r"differ"),
    ],
    check_output_gradient: [
        ("no-mean", (lambda y_hat, y: y_hat - y,), r"not averaged"),
        ("sign", (lambda y_hat, y: (y - y_hat) / len(y),), r"sign error"),
        ("dyhat", (lambda y_hat, y: (y_hat - y) / (y_hat * (1 - y_hat)) / len(y),),
         r"with respect to y_hat"),
        ("hard-n", (lambda y_hat, y: (y_hat - y) / 5,), r"fixed number|not averaged"),
        ("flat", (lambda y_hat, y: ((y_hat - y) / len(y)).ravel(),), r"shape"),
        ("sum", (lambda y_hat, y: np.sum(y_hat - y) / len(y),), r"NumPy array|shape"),
        ("mse-grad", (lambda y_hat, y: 2 * (y_hat - y) * y_hat * (1 - y_hat) / len(y),),
         r"differs"),
        ("list", (lambda y_hat, y: ((y_hat - y) / len(y)).tolist(),), r"list"),
        ("by-shape1", (lambda y_hat, y: (y_hat - y) / y_hat.shape[1],), r"not averaged"),
    ],
    check_value_mul: [
        ("assign", (mul_set,), r"overwrote"),
        ("own-value", (mul_own,), r"OTHER factor"),
        ("no-chain", (mul_no_chain,), r"out\.grad is missing"),
        ("minus", (mul_minus,), r"sign error"),
        ("only-a", (mul_only_a,), r"differ"),
        ("changes-out", (mul_changes_data,), r"changed a value"),
        ("square-once", (mul_chain_once,), r"x \* x"),
        ("stub", (lambda a, b, out: (_ for _ in ()).throw(NotImplementedError()),),
         r"not done yet"),
    ],
    check_value_tanh: [
        ("input", (_tanh(lambda x, out: (1 - x.data**2) * out.grad),), r"wrong point"),
        ("assign", (_tanh(lambda x, out: (1 - out.data**2) * out.grad, assign=True),),
         r"overwrote"),
        ("no-chain", (_tanh(lambda x, out: 1 - out.data**2),), r"out\.grad is missing"),
        ("sign", (_tanh(lambda x, out: (out.data**2 - 1) * out.grad),), r"sign error"),
        ("not-squared", (_tanh(lambda x, out: (1 - out.data) * out.grad),), r"squared"),
        ("sigmoid-form", (_tanh(lambda x, out: out.data * (1 - out.data) * out.grad),),
         r"differs"),
        ("nothing", (lambda x, out: None,), r"differs"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)
