"""The notebook 02 checks pass on the reference answers and name typical mistakes."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from nnscratch.checks import CheckFailed, nb02


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_all_exported_from_the_package():
    import nnscratch.checks as checks

    for name in nb02.__all__:
        assert getattr(checks, name) is getattr(nb02, name)


def test_sigmoid_passes_even_the_naive_formula(capsys):
    nb02.check_sigmoid(_sigmoid)  # exp(1000) overflows to inf, but 1 / inf is the right 0
    assert "check_sigmoid passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda z: 1 / (1 + np.exp(z)), "needs a minus sign"),
        (lambda z: 1 / np.exp(-z), "denominator is 1 + exp(-z)"),
        (lambda z: 1 / (1 + math.exp(-z)), "not math.exp"),
        (lambda z: np.exp(z) / (1 + np.exp(z)), "returns NaN at z = [1000.0]"),
        (lambda z: np.tanh(z), "should be"),
        (lambda z: _sigmoid(z)[:3], "shape (12,)"),
    ],
)
def test_sigmoid_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb02.check_sigmoid(wrong)


def test_dense_forward_passes(capsys):
    nb02.check_dense_forward(lambda x, W, b: x @ W.T + b)
    assert "agree with nnscratch.Linear" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, W, b: x @ W + b, "transpose W"),
        (lambda x, W, b: x @ W.T, "without the bias"),
        (lambda x, W, b: x @ W.T - b, "not subtracted"),
        (lambda x, W, b: W @ x.T + b, "shapes do not fit"),
        (lambda x, W, b: np.tanh(x @ W.T + b), "differs from x @ W.T + b"),
    ],
)
def test_dense_forward_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb02.check_dense_forward(wrong)


def _forward(x, weights, biases, out_act=None, hidden_act=_sigmoid):
    a = x
    for k, (W, b) in enumerate(zip(weights, biases, strict=True)):
        z = a @ W.T + b
        last = k == len(weights) - 1
        a = (out_act(z) if out_act else z) if last else hidden_act(z)
    return a


def test_mlp_forward_passes(capsys):
    nb02.check_mlp_forward(_forward)
    assert "agree with nnscratch.MLP" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, ws, bs: _forward(x, ws, bs, out_act=_sigmoid), "to the last layer too"),
        (lambda x, ws, bs: _forward(x, ws, bs, hidden_act=lambda z: z), "no activation"),
        (lambda x, ws, bs: _forward(x, ws, bs, hidden_act=np.tanh), "differs from"),
        (lambda x, ws, bs: x @ ws[0].T + bs[0], "should have shape"),
    ],
)
def test_mlp_forward_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb02.check_mlp_forward(wrong)


def test_collapse_passes_and_really_equals_two_layers(capsys):
    nb02.check_collapse(lambda W1, b1, W2, b2: (W2 @ W1, W2 @ b1 + b2))
    assert "equals the two stacked layers" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda W1, b1, W2, b2: (W1 @ W2, W2 @ b1 + b2), "wrong order"),
        (lambda W1, b1, W2, b2: (W2 @ W1, b1 + b2), "not b1 + b2"),
        (lambda W1, b1, W2, b2: (W2 @ W1, b2), "b1 is lost"),
        (lambda W1, b1, W2, b2: ((W2 @ W1).T, W2 @ b1 + b2), "transposed"),
        (lambda W1, b1, W2, b2: W2 @ W1, "return a pair"),
    ],
)
def test_collapse_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb02.check_collapse(wrong)


def test_collapse_shape_error_points_at_the_order():
    # with non-square layers W1 @ W2 cannot even be computed: the message still says why
    calls = []

    def order_only_breaks_later(W1, b1, W2, b2):
        calls.append(W1.shape)
        if W1.shape[0] == W1.shape[1]:
            return W2 @ W1, W2 @ b1 + b2
        return W1 @ W2, b2

    with pytest.raises(CheckFailed, match=re.escape("W2 @ W1")):
        nb02.check_collapse(order_only_breaks_later)
    assert len(calls) == 2
