"""The notebook 03 checks pass on the reference answers and name typical mistakes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnscratch.checks import CheckFailed, nb03


def _mse(pred, target):
    return np.mean((pred - target) ** 2)


def _bce(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def _grad(X, y, w, b):
    r = X @ w + b - y
    return 2 / len(y) * X.T @ r, 2 / len(y) * r.sum()


def test_all_exported_from_the_package():
    import nnscratch.checks as checks

    for name in nb03.__all__:
        assert getattr(checks, name) is getattr(nb03, name)


def test_mse_passes(capsys):
    nb03.check_mse(_mse)
    assert "agrees with nnscratch.MSELoss" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda p, t: np.sum((p - t) ** 2), "forgot to average over the batch"),
        (lambda p, t: np.mean(p - t), "not squared"),
        (lambda p, t: np.mean(np.abs(p - t)), "not squared"),
        (lambda p, t: np.sqrt(_mse(p, t)), "square root"),
        (lambda p, t: _mse(p, t) / 2, "no factor 1/2"),
        (lambda p, t: (p - t) ** 2, "single number"),
    ],
)
def test_mse_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb03.check_mse(wrong)


def test_bce_passes(capsys):
    nb03.check_bce(_bce)
    assert "agrees with nnscratch.BCELoss" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda p, y: -_bce(p, y), "needs a minus sign"),
        (lambda p, y: -np.mean(y * np.log(p)), "add the (1 - y) * log(1 - p) term"),
        (lambda p, y: _bce(p, y) * len(p), "take the mean over the batch"),
        (lambda p, y: _bce(1 - p, y), "expected"),
    ],
)
def test_bce_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb03.check_bce(wrong)


def test_linear_regression_grad_passes(capsys):
    nb03.check_linear_regression_grad(_grad)
    assert "agree with nnscratch.MSELoss.backward" in capsys.readouterr().out


def _scaled(factor):
    return lambda X, y, w, b: tuple(factor * g for g in _grad(X, y, w, b))


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_scaled(-1.0), "sign is flipped"),
        (_scaled(0.5), "factor 2"),
        (_scaled(10.0), "not averaged over the batch"),
        (_scaled(5.0), "both the factor 2 and the average"),
        (lambda X, y, w, b: (_grad(X, y, w, b)[0], 2 / len(y) * (X @ w + b - y)),
         "one entry per sample"),
        (lambda X, y, w, b: (_grad(X, y, w, b)[0], 0.0), "dw is right but db"),
        (lambda X, y, w, b: (_grad(X, y, w, b)[0][:2], 0.0), "shape of w"),
    ],
)
def test_linear_regression_grad_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb03.check_linear_regression_grad(wrong)


def test_gd_step_passes(capsys):
    nb03.check_gd_step(lambda theta, grad, lr: theta - lr * grad)
    assert "agree with nnscratch.optim.SGD" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda theta, grad, lr: theta + lr * grad, "uphill"),
        (lambda theta, grad, lr: theta - grad, "learning rate is missing"),
        (lambda theta, grad, lr: theta - grad / lr, "do not divide"),
        (lambda theta, grad, lr: theta, "expected"),
        (lambda theta, grad, lr: theta.reshape(1, -1), "shape of theta"),
    ],
)
def test_gd_step_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb03.check_gd_step(wrong)
