"""The notebook 04 checks pass on the reference answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.checks import CheckFailed, nb04
from nnscratch.functional import sigmoid


def _sig_ok(z):
    s = sigmoid(z)
    return s * (1 - s)


def test_sigmoid_derivative_passes(capsys):
    nb04.check_sigmoid_derivative(_sig_ok)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda z: z * (1 - z), "used z itself"),
        (lambda z: _sig_ok(sigmoid(z)), "wrong point"),
        (lambda z: -_sig_ok(z), "sign error"),
        (lambda z: sigmoid(z), "multiply it by (1 - s)"),
        (lambda z: sigmoid(z) * (1 + sigmoid(z)), "sign error"),
        (lambda z: np.ones(3), "expected the shape"),
    ],
)
def test_sigmoid_derivative_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
        nb04.check_sigmoid_derivative(wrong)


def test_not_implemented_is_reported():
    def todo(z):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="NotImplementedError"):
        nb04.check_sigmoid_derivative(todo)


def test_output_gradient_passes(capsys):
    nb04.check_output_gradient(lambda y_hat, y: (y_hat - y) / len(y))
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda y_hat, y: y_hat - y, "forgot to average over the batch"),
        (lambda y_hat, y: (y - y_hat) / len(y), "sign error"),
        (lambda y_hat, y: (y_hat - y) / (y_hat * (1 - y_hat)) / len(y), "that is dL/dy_hat"),
        (lambda y_hat, y: np.mean(y_hat - y), "expected shape"),
    ],
)
def test_output_gradient_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        nb04.check_output_gradient(wrong)


def _mul_ok(a, b, out):
    a.grad += b.data * out.grad
    b.grad += a.data * out.grad


def test_value_mul_passes(capsys):
    nb04.check_value_mul(_mul_ok)
    assert "passed" in capsys.readouterr().out


def _mul_own(a, b, out):
    a.grad += a.data * out.grad
    b.grad += b.data * out.grad


def _mul_no_chain(a, b, out):
    a.grad += b.data
    b.grad += a.data


def _mul_overwrite(a, b, out):
    a.grad = b.data * out.grad
    b.grad = a.data * out.grad


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_mul_own, "each input got its own value"),
        (_mul_no_chain, "forgot the chain rule factor"),
        (_mul_overwrite, "overwrote the gradients"),
    ],
)
def test_value_mul_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        nb04.check_value_mul(wrong)


def _tanh_ok(x, out):
    x.grad += (1 - out.data**2) * out.grad


def test_value_tanh_passes(capsys):
    nb04.check_value_tanh(_tanh_ok)
    assert "passed" in capsys.readouterr().out


def _tanh_at_input(x, out):
    x.grad += (1 - x.data**2) * out.grad


def _tanh_overwrite(x, out):
    x.grad = (1 - out.data**2) * out.grad


def _tanh_no_chain(x, out):
    x.grad += 1 - out.data**2


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_tanh_at_input, "wrong point"),
        (_tanh_overwrite, "overwrote"),
        (_tanh_no_chain, "forgot the chain rule factor"),
    ],
)
def test_value_tanh_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        nb04.check_value_tanh(wrong)


def test_checks_are_exported():
    import nnscratch.checks as checks

    for name in nb04.__all__:
        assert getattr(checks, name) is getattr(nb04, name)
