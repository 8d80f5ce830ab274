"""The notebook 03 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import check_bce, check_gd_step, check_linear_regression_grad, check_mse


def lrg_ref(X, y, w, b):
    residual = X @ w + b - y
    n = len(y)
    return 2 / n * X.T @ residual, 2 / n * np.sum(residual)


def lrg_other(X, y, w, b):
    pred = np.dot(X, w) + b
    d = 2 * (pred - y) / y.shape[0]
    return np.einsum("n,nd->d", d, X), float(d.sum())


def _lrg(factor, *, n_fixed=None, db_vector=False, transposed=False):
    def grad(X, y, w, b):
        r = X @ w + b - y
        n = n_fixed or len(y)
        dw = (X @ r if transposed else X.T @ r) * factor / n
        db = r * factor / n if db_vector else np.sum(r) * factor / n
        return dw, db

    return grad


def gd_inplace(theta, grad, lr):
    theta -= lr * grad
    return theta


def gd_list(theta, grad, lr):
    return [t - lr * g for t, g in zip(theta, grad, strict=True)]


def mse_inplace(pred, target):
    pred -= target
    return np.mean(pred**2)


RIGHT = {
    check_mse: [
        (lambda p, t: np.mean((p - t) ** 2),),
        (lambda p, t: float(np.sum(np.square(p - t)) / p.size),),
        (lambda p, t: ((p - t) ** 2).mean(),),
    ],
    check_bce: [
        (lambda p, y: -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)),),
        (lambda p, y: float(-np.sum(np.where(y == 1, np.log(p), np.log1p(-p))) / len(p)),),
    ],
    check_linear_regression_grad: [(lrg_ref,), (lrg_other,)],
    check_gd_step: [
        (lambda theta, grad, lr: theta - lr * grad,),
        (lambda theta, grad, lr: np.subtract(theta, np.multiply(lr, grad)),),
        (lambda theta, grad, lr: -lr * grad + theta,),
    ],
}

WRONG = {
    check_mse: [
        ("sum", (lambda p, t: np.sum((p - t) ** 2),), r"sum of the squared errors"),
        ("abs", (lambda p, t: np.mean(np.abs(p - t)),), r"not squared"),
        ("no-square", (lambda p, t: np.mean(p - t),), r"not squared"),
        ("square-of-mean", (lambda p, t: np.mean(p - t) ** 2,), r"squared the average"),
        ("rmse", (lambda p, t: np.sqrt(np.mean((p - t) ** 2)),), r"root mean squared"),
        ("half", (lambda p, t: 0.5 * np.mean((p - t) ** 2),), r"halved"),
        ("axis0", (lambda p, t: np.mean((p - t) ** 2, axis=0),), r"along one axis|single number"),
        ("rows-only", (lambda p, t: np.sum((p - t) ** 2) / len(p),), r"number of rows"),
        ("hard-n", (lambda p, t: np.sum((p - t) ** 2) / 7,), r"typed into|sum of the squared"),
        ("inplace", (mse_inplace,), r"in place"),
        ("string", (lambda p, t: f"{np.mean((p - t) ** 2)}",), r"single number"),
        ("n-minus-1", (lambda p, t: np.sum((p - t) ** 2) / max(p.size - 1, 1),), r"typed into"),
    ],
    check_bce: [
        ("no-minus", (lambda p, y: np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)),),
         r"negative"),
        ("no-class0", (lambda p, y: -np.mean(y * np.log(p)),), r"label 0 cost nothing"),
        ("sum", (lambda p, y: -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)),), r"sum over"),
        ("log10", (lambda p, y: -np.mean(y * np.log10(p) + (1 - y) * np.log10(1 - p)),),
         r"natural logarithm"),
        ("log2", (lambda p, y: -np.mean(y * np.log2(p) + (1 - y) * np.log2(1 - p)),),
         r"natural logarithm"),
        ("hard-n", (lambda p, y: -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / 8,),
         r"typed into|sum over"),
        ("wrong-term", (lambda p, y: -np.mean(y * np.log(p) + (1 - y) * np.log(p)),), r"differs"),
        ("swapped-args", (lambda p, y: -np.mean(p * np.log(y + 1e-12) + (1 - p) * np.log(
            1 - y + 1e-12)),), r"differs"),
        ("array", (lambda p, y: -(y * np.log(p) + (1 - y) * np.log(1 - p)),), r"single number"),
        ("mse", (lambda p, y: np.mean((p - y) ** 2),), r"differs"),
    ],
    check_linear_regression_grad: [
        ("sign", (_lrg(-2.0),), r"sign is flipped"),
        ("no-2", (_lrg(1.0),), r"factor 2"),
        ("no-mean", (lambda X, y, w, b: tuple(v * len(y) for v in lrg_ref(X, y, w, b)),),
         r"not averaged"),
        ("db-vector", (_lrg(2.0, db_vector=True),), r"one entry per sample"),
        ("transposed", (_lrg(2.0, transposed=True),), r"do not fit|transpose"),
        ("hard-n", (_lrg(2.0, n_fixed=10),), r"typed into"),
        ("db-mean-only", (lambda X, y, w, b: (lrg_ref(X, y, w, b)[0], np.mean(X @ w + b - y)),),
         r"db is right but|dw is right"),
        ("dw-wrong", (lambda X, y, w, b: (lrg_ref(X, y, w, b)[0] * 0, lrg_ref(X, y, w, b)[1]),),
         r"db is right"),
        ("list", (lambda X, y, w, b: (lrg_ref(X, y, w, b)[0].tolist(), lrg_ref(X, y, w, b)[1]),),
         r"list"),
        ("column-dw", (lambda X, y, w, b: (lrg_ref(X, y, w, b)[0][:, None],
                                           lrg_ref(X, y, w, b)[1]),), r"shape"),
        ("single", (lambda X, y, w, b: lrg_ref(X, y, w, b)[0],), r"pair"),
    ],
    check_gd_step: [
        ("list-comprehension", (gd_list,), r"list|plain number"),
        ("uphill", (lambda theta, grad, lr: theta + lr * grad,), r"uphill"),
        ("no-lr", (lambda theta, grad, lr: theta - grad,), r"learning rate is missing"),
        ("divide", (lambda theta, grad, lr: theta - grad / lr,), r"divided by the learning rate"),
        ("inplace", (gd_inplace,), r"in place"),
        ("change-only", (lambda theta, grad, lr: -lr * grad,), r"only the change"),
        ("array-of-scalar", (lambda theta, grad, lr: np.atleast_1d(theta - lr * grad),),
         r"shape"),
        ("tolist", (lambda theta, grad, lr: np.asarray(theta - lr * grad).tolist(),),
         r"list|NumPy array"),
        ("squared", (lambda theta, grad, lr: theta - lr * grad**2,), r"differs"),
        ("fixed-lr", (lambda theta, grad, lr: theta - 0.1 * grad,), r"differs"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)
