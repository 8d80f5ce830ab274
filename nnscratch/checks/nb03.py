"""Exercise checks for notebook 03 (losses and gradient descent).

- ``check_mse(fn)``: ``fn(pred, target)``, the mean squared error as one number.
- ``check_bce(fn)``: ``fn(p, y)``, the binary cross-entropy of probabilities ``p``.
- ``check_linear_regression_grad(fn)``: ``fn(X, y, w, b) -> (dw, db)`` of the MSE.
- ``check_gd_step(fn)``: ``fn(theta, grad, lr)``, one gradient-descent step (arrays and
  plain numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import Parameter
from ..losses import BCELoss, MSELoss
from ..optim import SGD
from ._core import answer_array, answer_number, answer_pair, call_student, close, fail, passed

__all__ = ["check_mse", "check_bce", "check_linear_regression_grad", "check_gd_step"]


_ONE_LOSS = "the loss should be a single number (an average over the whole batch)"


def check_mse(fn: Any) -> None:
    """Check your ``mse(pred, target)`` against ``nnscratch.MSELoss`` for 1-D targets ``(n,)``
    and 2-D ones ``(n, k)`` of several sizes.

    Names the typical mistakes: a sum instead of the mean, an average over one axis only,
    errors not squared (or the mean squared instead), a square root (RMSE), an extra one
    half, and a batch size typed in.
    """
    name = "check_mse"
    rng = np.random.default_rng(31)
    for shape in ((7,), (5, 3), (1,), (4, 1), (2, 6)):
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        expected = MSELoss()(pred, target)
        out = call_student(name, fn, pred, target)
        if isinstance(out, np.ndarray) and out.size > 1:
            fail(name, f"for inputs of shape {shape} you returned an array of shape {out.shape}: "
                       "average over every entry, not along one axis")
        got = answer_number(name, out, _ONE_LOSS)
        if close(got, expected):
            continue
        diff = pred - target
        if close(got, np.sum(diff**2)) and diff.size > 1:
            fail(name, f"you returned the sum of the squared errors over {diff.size} numbers; "
                       "the loss is their average")
        if close(got, np.mean(diff)) or close(got, np.mean(np.abs(diff))):
            fail(name, "the errors are not squared")
        if close(got, np.mean(diff) ** 2):
            fail(name, "you squared the average error: square each error first, then average")
        if close(got, np.sqrt(expected)):
            fail(name, "that is the root mean squared error: leave out the square root")
        if close(got, expected / 2):
            fail(name, "you halved the loss: our MSE (like torch's) has no factor one half")
        if diff.ndim == 2 and close(got, np.sum(diff**2) / diff.shape[0]):
            fail(name, "for a 2-D batch you divided by the number of rows only: average over "
                       "every entry")
        fail(name, f"your loss for inputs of shape {shape} differs from nnscratch.MSELoss "
                   "(is a batch size typed into your code?)")
    passed(name, "agrees with nnscratch.MSELoss on five shapes")


def check_bce(fn: Any) -> None:
    """Check your ``bce(p, y)`` for probabilities ``p (n,)`` strictly between 0 and 1 and 0/1
    labels ``y (n,)`` against ``nnscratch.BCELoss`` on batches of several sizes.

    Names the typical mistakes: a missing minus sign, leaving out the class-0 term, a sum
    instead of the mean, a logarithm to base 10 or 2, and a batch size typed in.
    """
    name = "check_bce"
    rng = np.random.default_rng(32)
    for n in (8, 3, 1, 11):
        p = rng.uniform(0.01, 0.99, size=n)
        y = rng.integers(0, 2, size=n)
        if n > 1:
            y[:2] = [0, 1]
        expected = BCELoss()(p, y)
        got = answer_number(name, call_student(name, fn, p, y), _ONE_LOSS)
        if close(got, expected):
            continue
        if close(got, -expected):
            fail(name, "the loss is negative: the log of a probability is negative, so the "
                       "loss needs a minus sign in front")
        only_pos = -np.mean(y * np.log(p))
        if close(abs(got), only_pos):
            fail(name, "samples with label 0 cost nothing: the loss has a term for each class")
        if close(got, expected * n) and n > 1:
            fail(name, "you returned the sum over the samples: take the mean over the batch")
        if close(got, expected / np.log(10)) or close(got, expected / np.log(2)):
            fail(name, "use the natural logarithm (base e), like torch")
        fail(name, f"your loss for a batch of {n} differs from nnscratch.BCELoss (is a batch "
                   "size typed into your code?)")
    passed(name, "agrees with nnscratch.BCELoss on four batches")


def check_linear_regression_grad(fn: Any) -> None:
    """Check your ``linear_regression_grad(X, y, w, b) -> (dw, db)``: the gradient of the mean
    squared error of the linear model's predictions, for ``X (n, d)``, ``y (n,)``, ``w (d,)``
    and a float ``b``; ``dw`` has the shape of ``w`` and ``db`` is one number. The expected
    values come from ``nnscratch.MSELoss.backward`` on several shapes.

    Names the typical mistakes: the residual's sign, the factor from the square, the average
    over the batch, a per-sample ``db``, a transposed product, and a batch size typed in.
    """
    name = "check_linear_regression_grad"
    rng = np.random.default_rng(33)
    for n, d in ((10, 3), (7, 1), (4, 5), (6, 6)):
        X, y = rng.normal(size=(n, d)), rng.normal(size=n)
        w, b = rng.normal(size=d), float(rng.normal())
        loss = MSELoss()
        loss(X @ w + b, y)
        g = loss.backward()  # dL/dpred, shape (n,)
        exp_dw, exp_db = X.T @ g, float(g.sum())
        out = call_student(name, fn, X, y, w, b, hints=[
            (("matmul", "align", "broadcast"),
             f"the shapes do not fit for X {X.shape}: dw needs one entry per feature, so the "
             "product must sum over the samples"),
        ])
        dw_out, db_out = answer_pair(name, out, "(dw, db)")
        if np.size(db_out) == n and n > 1:
            fail(name, f"db has one entry per sample (shape {np.shape(db_out)}): the bias is "
                       "shared by all samples, so its gradient is one number collected over "
                       "the batch")
        dw = answer_array(name, dw_out, (d,), "dw (the shape of w)")
        db = answer_number(name, db_out, "db should be a single number")
        if close(dw, exp_dw) and close(db, exp_db):
            continue
        for factor, why in (
            (-1.0, "the sign is flipped: the residual is prediction minus target"),
            (0.5, "the factor 2 from differentiating the square is missing"),
            (float(n), "the gradient is not averaged over the batch"),
            (n / 2, "both the factor 2 and the average over the batch are missing"),
            (-0.5, "the sign is flipped and the factor 2 is missing"),
        ):
            if close(dw, factor * exp_dw) and close(db, factor * exp_db):
                fail(name, why)
        if n == d and close(dw, X @ g):
            fail(name, "dw used X where its transpose belongs: dw collects over the samples, "
                       "one entry per feature")
        if close(dw, exp_dw):
            fail(name, "dw is right but db is not: db collects the same residual terms, without "
                       "the feature values")
        if close(db, exp_db):
            fail(name, "db is right but dw is not: each feature's entry weights the residuals by "
                       "that feature's values")
        fail(name, f"your gradient for X {X.shape} differs from nnscratch.MSELoss.backward's "
                   "(is a batch size typed into your code?)")
    passed(name, "dw and db agree with nnscratch.MSELoss.backward on four shapes")


def check_gd_step(fn: Any) -> None:
    """Check your ``gd_step(theta, grad, lr)`` against one ``nnscratch.optim.SGD`` step, for
    arrays of several shapes and for plain numbers (the notebook passes a scalar bias too);
    the result has the kind and shape of ``theta``, and ``theta`` itself is left unchanged.

    Names the typical mistakes: stepping uphill, ignoring or dividing by the learning rate,
    returning a list, and changing ``theta`` in place.
    """
    name = "check_gd_step"
    rng = np.random.default_rng(34)
    cases: list[tuple[Any, Any, float]] = []
    for size, lr in (((3,), 0.1), ((2, 2), 0.5), ((4,), 0.01), ((3, 5), 0.3)):
        cases.append((rng.normal(size=size), rng.normal(size=size), lr))
    cases += [(float(rng.normal()), float(rng.normal()), 0.2), (1.5, -0.5, 0.05)]
    for theta, grad, lr in cases:
        scalar = isinstance(theta, float)
        shape: tuple[int, ...] = () if scalar else np.shape(theta)
        p = Parameter(np.array(theta, dtype=np.float64).reshape(shape or (1,)))
        p.grad[...] = np.reshape(grad, shape or (1,))
        SGD([p], lr=lr).step()
        expected = p.data.reshape(shape)
        what = "for a plain number theta, your step" if scalar else (
            f"for theta of shape {shape}, your step")
        out = call_student(name, fn, theta, grad, lr, hints=[
            (("not iterable", "has no len", "not subscriptable", "zip argument"),
             "your function fails for a plain number theta (the notebook also steps a scalar "
             "bias): use arithmetic that works on arrays and numbers alike, not a loop over "
             "entries"),
        ])
        got = answer_array(name, out, shape, what + "'s result", scalar_ok=scalar)
        if close(got, expected):
            continue
        th, gr = np.asarray(theta), np.asarray(grad)
        if close(got, th + lr * gr):
            fail(name, "you stepped uphill: the gradient points to where the loss grows")
        if close(got, th - gr):
            fail(name, "the learning rate is missing")
        if close(got, th - gr / lr):
            fail(name, "the gradient is divided by the learning rate; the learning rate scales "
                       "the step")
        if close(got, -lr * gr):
            fail(name, "you returned only the change; return the new parameters")
        fail(name, f"{what} differs from one SGD step with lr={lr:g}")
    passed(name, "steps on arrays and plain numbers agree with nnscratch.optim.SGD")
