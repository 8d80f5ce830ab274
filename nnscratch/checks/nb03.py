"""Exercise checks for notebook 03 (losses and gradient descent).

- ``check_mse(fn)``: ``fn(pred, target)`` is the mean squared error, one float.
- ``check_bce(fn)``: ``fn(p, y)`` is the binary cross-entropy of probabilities ``p``.
- ``check_linear_regression_grad(fn)``: ``fn(X, y, w, b) -> (dw, db)`` of the MSE.
- ``check_gd_step(fn)``: ``fn(theta, grad, lr)`` takes one gradient-descent step.
"""

from __future__ import annotations

import numpy as np

from ..layers import Parameter
from ..losses import BCELoss, MSELoss
from ..optim import SGD
from ._core import as_number, call_student, close, fail, passed

__all__ = ["check_mse", "check_bce", "check_linear_regression_grad", "check_gd_step"]


_ONE_LOSS = "the loss should be a single number (average over the batch)"


def _call(name: str, fn: object, *args: object) -> object:
    """``call_student`` with NumPy's warnings silenced (a log of 0 is the student's to explain)."""
    with np.errstate(all="ignore"):
        return call_student(name, fn, *args)


def check_mse(fn: object) -> None:
    """Check ``fn(pred, target) = mean((pred - target)**2)`` against ``nnscratch.MSELoss``.

    Works for 1-D targets ``(n,)`` and 2-D ones ``(n, k)``. Names the typical mistakes: a
    sum instead of the mean (not averaging over the batch), a missing square, a square root
    (RMSE), and an extra factor 1/2.
    """
    name = "check_mse"
    rng = np.random.default_rng(31)
    for shape in ((7,), (5, 3), (1,)):
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        expected = MSELoss()(pred, target)
        got = as_number(name, _call(name, fn, pred.copy(), target.copy()), _ONE_LOSS)
        if close(got, expected):
            continue
        diff = pred - target
        if close(got, np.sum(diff**2)) and diff.size > 1:
            fail(
                name,
                f"you returned the sum of squared errors ({got:.4g}); the loss is "
                f"their mean over all {diff.size} numbers: forgot to average over the "
                "batch (np.mean, not np.sum)",
            )
        if close(got, np.mean(diff)) or close(got, np.mean(np.abs(diff))):
            fail(name, "the errors are not squared: mean((pred - target)**2)")
        if close(got, np.sqrt(expected)):
            fail(name, "that is the root mean squared error: leave out the square root")
        if close(got, expected / 2):
            fail(name, "you halved the loss: our MSE (like torch's) has no factor 1/2")
        fail(name, f"for shape {shape} expected {expected:.4g}, got {got:.4g}")
    passed(name, "agrees with nnscratch.MSELoss on three shapes")


def check_bce(fn: object) -> None:
    """Check ``fn(p, y) = -mean(y log p + (1 - y) log(1 - p))`` against ``nnscratch.BCELoss``.

    ``p (n,)`` are probabilities strictly between 0 and 1, ``y (n,)`` labels 0/1. Names the
    typical mistakes: a missing minus sign (a negative loss), leaving out the ``(1 - y)``
    term (class 0 costs nothing), and a sum instead of the mean.
    """
    name = "check_bce"
    rng = np.random.default_rng(32)
    for n in (8, 3):
        p = rng.uniform(0.05, 0.95, size=n)
        y = np.arange(n) % 2
        expected = BCELoss()(p, y)
        got = as_number(name, _call(name, fn, p.copy(), y.copy()), _ONE_LOSS)
        if close(got, expected):
            continue
        if close(got, -expected):
            fail(
                name,
                f"the loss is negative ({got:.4g}): log p < 0, so the formula needs a "
                "minus sign in front",
            )
        only_pos = -np.mean(y * np.log(p))
        if close(got, only_pos) or close(got, -only_pos):
            fail(name, "samples with y = 0 cost nothing: add the (1 - y) * log(1 - p) term")
        if close(got, expected * n):
            fail(name, "you returned the sum over the samples: take the mean over the batch")
        fail(
            name,
            f"for p={np.round(p, 4).tolist()}, y={y.tolist()} expected "
            f"{expected:.4g}, got {got:.4g}",
        )
    passed(name, "agrees with nnscratch.BCELoss")


def check_linear_regression_grad(fn: object) -> None:
    """Check ``fn(X, y, w, b) -> (dw, db)``: the gradient of ``mean((X @ w + b - y)**2)``.

    Shapes: ``X (n, d)``, ``y (n,)``, ``w (d,)``, ``b`` a float; ``dw (d,)`` and ``db`` a float.
    The expected values come from ``nnscratch.MSELoss.backward``. Names the typical mistakes:
    the sign (``y - pred`` instead of ``pred - y``), the missing factor 2, the missing
    average over the batch, and ``db`` as an array instead of a sum.
    """
    name = "check_linear_regression_grad"
    rng = np.random.default_rng(33)
    n, d = 10, 3
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    w, b = rng.normal(size=d), float(rng.normal())
    loss = MSELoss()
    loss(X @ w + b, y)
    g = loss.backward()  # dL/dpred, shape (n,)
    exp_dw, exp_db = X.T @ g, float(g.sum())
    out = _call(name, fn, X.copy(), y.copy(), w.copy(), b)
    if not isinstance(out, tuple | list) or len(out) != 2:
        fail(name, f"return a pair (dw, db), got {type(out).__name__}")
    try:
        dw = np.asarray(out[0], dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, f"dw should be an array of shape ({d},), got {type(out[0]).__name__}")
    if dw.shape != (d,):
        fail(name, f"dw should have the shape of w ({d},), got {dw.shape}")
    if np.asarray(out[1]).size == n:
        fail(
            name,
            f"db has one entry per sample (shape {np.shape(out[1])}): the bias is "
            "shared, so add up (average) the per-sample terms into one number",
        )
    db = as_number(name, out[1], "db should be a single number")
    if close(dw, exp_dw) and close(db, exp_db):
        passed(name, "dw and db agree with nnscratch.MSELoss.backward")
        return
    for factor, why in (
        (-1.0, "the sign is flipped: the residual is prediction minus target, X @ w + b - y"),
        (0.5, "the factor 2 from differentiating the square is missing"),
        (float(n), "not averaged over the batch: divide the sum by n"),
        (n / 2, "both the factor 2 and the average over the batch (1/n) are missing"),
        (-0.5, "the sign is flipped and the factor 2 is missing"),
    ):
        if close(dw, factor * exp_dw) and close(db, factor * exp_db):
            fail(name, f"{why} (your gradient is {factor:g} times the right one)")
    if close(dw, exp_dw):
        fail(
            name,
            f"dw is right but db is {db:.4g}, expected {exp_db:.4g}: db is the same "
            "sum as dw without the factor x",
        )
    if close(db, exp_db):
        fail(name, "db is right but dw is not: dw = (2 / n) * X.T @ (X @ w + b - y)")
    fail(name, f"dw = {np.round(dw, 4).tolist()}, expected {np.round(exp_dw, 4).tolist()}")


def check_gd_step(fn: object) -> None:
    """Check ``fn(theta, grad, lr) -> theta - lr * grad`` against one ``nnscratch.optim.SGD`` step.

    Shapes: ``theta`` and ``grad`` any matching shape; the result has that shape too. Names the
    typical mistakes: stepping uphill (``+``), ignoring the learning rate, and dividing by it.
    """
    name = "check_gd_step"
    rng = np.random.default_rng(34)
    for shape, lr in (((3,), 0.1), ((2, 2), 0.5), ((4,), 0.01)):
        theta, grad = rng.normal(size=shape), rng.normal(size=shape)
        p = Parameter(theta.copy())
        p.grad[...] = grad
        SGD([p], lr=lr).step()
        expected = p.data
        out = _call(name, fn, theta.copy(), grad.copy(), lr)
        try:
            got = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            fail(name, f"return the new parameters as an array, got {type(out).__name__}")
        if got.shape != shape:
            fail(
                name, f"the new parameters should have the shape of theta {shape}, got {got.shape}"
            )
        if close(got, expected):
            continue
        if close(got, theta + lr * grad):
            fail(
                name,
                "you stepped uphill: the gradient points to where the loss grows, so "
                "subtract it, theta - lr * grad",
            )
        if close(got, theta - grad):
            fail(name, "the learning rate is missing: theta - lr * grad")
        if close(got, theta - grad / lr):
            fail(name, "multiply the gradient by the learning rate, do not divide by it")
        fail(
            name,
            f"with lr={lr:g} expected {np.round(expected, 4).tolist()}, got "
            f"{np.round(got, 4).tolist()}",
        )
    passed(name, "three steps agree with nnscratch.optim.SGD")
