"""The notebook 08 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import math

import pytest

from nnscratch.checks import CheckFailed, check_l2_gradient, check_momentum_step, check_xavier_std
from nnscratch.layers import Linear


def momentum_ok(w, v, grad, lr, momentum):
    v = momentum * v + grad
    return w - lr * v, v


def test_momentum_step_passes(capsys):
    check_momentum_step(momentum_ok)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda w, v, g, lr, m: (w - lr * g, v), "lr \\* grad only"),
        (lambda w, v, g, lr, m: (w - lr * (m * v + (1 - m) * g), m * v + (1 - m) * g), "averaging"),
        (lambda w, v, g, lr, m: (w + lr * (m * v + g), m * v + g), "sign error"),
        (lambda w, v, g, lr, m: (w - lr * v, m * v + g), "NEW velocity"),
        (lambda w, v, g, lr, m: momentum_ok(w, v, g, lr, m)[::-1], "weights first"),
        (lambda w, v, g, lr, m: w - lr * (m * v + g), "pair"),
    ],
)
def test_momentum_step_names_the_mistake(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check_momentum_step(fn)


def test_xavier_std_passes_and_matches_the_library(capsys):
    check_xavier_std(lambda fan_in, fan_out: math.sqrt(2 / (fan_in + fan_out)))
    assert "passed" in capsys.readouterr().out
    # the formula the check expects is the one Linear(init="xavier") samples from
    w = Linear(300, 100, init="xavier", rng=0).weight.data
    assert abs(w.std() - math.sqrt(2 / 400)) < 0.02 * math.sqrt(2 / 400)


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda i, o: 2 / (i + o), "variance"),
        (lambda i, o: math.sqrt(2 / i), "He's rule"),
        (lambda i, o: math.sqrt(1 / i), "inputs only"),
        (lambda i, o: math.sqrt(1 / (i + o)), "factor 2"),
        (lambda i, o: "0.1", "one number"),
    ],
)
def test_xavier_std_names_the_mistake(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check_xavier_std(fn)


def test_l2_gradient(capsys):
    check_l2_gradient(lambda grad, w, lam: grad + lam * w)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda g, w, lam: lam * w, "alone"),
        (lambda g, w, lam: g - lam * w, "sign error"),
        (lambda g, w, lam: g + 2 * lam * w, "factor 2"),
        (lambda g, w, lam: lam * (g + w), "only the weights"),
        (lambda g, w, lam: (g + lam * w)[0], "shape"),
    ],
)
def test_l2_gradient_names_the_mistake(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check_l2_gradient(fn)
