"""Exercise checks for notebook 04 (backprop by hand).

Each check runs the student's answer on a few cases, computes the expected answer with the
library (``nnscratch.functional``, ``nnscratch.losses``, ``nnscratch.autodiff``) and, when
they differ, names the most likely mistake.
"""

from __future__ import annotations

import numpy as np

from ..autodiff import Value
from ..functional import sigmoid, sigmoid_grad
from ..losses import BCEWithLogitsLoss
from ._core import call_student, close, fail, passed

__all__ = [
    "check_sigmoid_derivative",
    "check_output_gradient",
    "check_value_mul",
    "check_value_tanh",
]


def check_sigmoid_derivative(fn: object) -> None:
    """Check ``fn(z) -> dsigma/dz`` for an array ``z`` of any shape (same shape out).

    The expected answer is ``nnscratch.functional.sigmoid_grad``. Recognised mistakes:
    using ``z`` where the output ``s = sigmoid(z)`` belongs (``z * (1 - z)``), taking the
    derivative at the wrong point (``s(s(z))``: the sigmoid applied twice), a sign error,
    and forgetting the ``(1 - s)`` factor.
    """
    name = "check_sigmoid_derivative"
    z = np.linspace(-4.0, 4.0, 9).reshape(3, 3)
    got = call_student(name, fn, z.copy())
    want = sigmoid_grad(z)
    if close(got, want):
        passed(name, "sigma'(z) = s (1 - s) with s = sigmoid(z)")
        return
    if np.shape(got) != want.shape:
        fail(name, f"expected the shape of z {want.shape}, got {np.shape(got)}")
    s = sigmoid(z)
    if close(got, z * (1 - z)):
        fail(name, "you used z itself in s (1 - s): first compute s = sigmoid(z), then s * (1 - s)")
    if close(got, sigmoid_grad(s)):
        fail(
            name,
            "derivative taken at the wrong point: you applied the sigmoid twice (s(s(z))). "
            "s (1 - s) already contains sigmoid(z); use s directly",
        )
    if close(got, -want):
        fail(name, "sign error: the sigmoid is increasing, so its derivative is positive")
    if close(got, s):
        fail(name, "you returned s = sigmoid(z) itself: multiply it by (1 - s)")
    if close(got, s * (1 + s)):
        fail(name, "sign error inside: the derivative is s * (1 - s), not s * (1 + s)")
    fail(name, f"wrong values: at z = 0 expected {want[1, 1]:.4g}, got {np.ravel(got)[4]:.4g}")


def check_output_gradient(fn: object) -> None:
    """Check ``fn(y_hat, y) -> dL/dz2`` for a sigmoid output with mean binary cross-entropy.

    ``y_hat`` are probabilities ``(n, 1)``, ``y`` the 0/1 targets ``(n, 1)``; the answer is
    ``(y_hat - y) / n`` with shape ``(n, 1)`` (computed here with ``BCEWithLogitsLoss``).
    Recognised mistakes: no average over the batch, a sign error, and returning dL/dy_hat
    (before the sigmoid) instead of dL/dz2.
    """
    name = "check_output_gradient"
    rng = np.random.default_rng(4)
    n = 5
    z2 = rng.normal(0.0, 1.5, (n, 1))
    y = np.array([[1.0], [0.0], [1.0], [1.0], [0.0]])
    y_hat = sigmoid(z2)
    loss = BCEWithLogitsLoss()
    loss(z2, y)
    want = loss.backward()
    got = call_student(name, fn, y_hat.copy(), y.copy())
    if close(got, want):
        passed(name, f"dL/dz2 = (y_hat - y) / n for a batch of n = {n}")
        return
    if np.shape(got) != want.shape:
        fail(name, f"expected shape {want.shape} (one number per sample), got {np.shape(got)}")
    if close(got, want * n):
        fail(
            name,
            f"forgot to average over the batch: the loss is a mean over n = {n} samples, "
            "so divide (y_hat - y) by n",
        )
    if close(got, -want) or close(got, -want * n):
        fail(name, "sign error: it is y_hat - y (prediction minus target), not y - y_hat")
    dl_dyhat = (y_hat - y) / (y_hat * (1 - y_hat))
    if close(got, dl_dyhat / n) or close(got, dl_dyhat):
        fail(
            name,
            "that is dL/dy_hat; multiply by the sigmoid's derivative y_hat (1 - y_hat) "
            "to get dL/dz2, which simplifies to y_hat - y",
        )
    fail(
        name,
        f"wrong values: expected {np.ravel(want)[0]:.4g} for the first sample, "
        f"got {np.ravel(got)[0]:.4g}",
    )


def _node(data: float, grad: float = 0.0) -> Value:
    v = Value(data)
    v.grad = grad
    return v


def check_value_mul(fn: object) -> None:
    """Check ``fn(a, b, out)``: the backward step of ``out = a * b`` for ``Value``-like nodes.

    It must *add* ``b.data * out.grad`` to ``a.grad`` and ``a.data * out.grad`` to ``b.grad``
    (compared with ``nnscratch.autodiff.Value.__mul__``). Recognised mistakes: each input
    getting its own value instead of the other's, forgetting the factor ``out.grad``, and
    overwriting ``grad`` with ``=`` instead of accumulating with ``+=`` (wrong for ``x * x``).
    """
    name = "check_value_mul"
    a_data, b_data, g = 3.0, -2.0, 0.5
    a_lib, b_lib = _node(a_data, 0.25), _node(b_data, -1.0)
    out_lib = a_lib * b_lib
    out_lib.grad = g
    out_lib._backward()

    a, b = _node(a_data, 0.25), _node(b_data, -1.0)
    out = Value(a_data * b_data, (a, b), "*")
    out.grad = g
    call_student(name, fn, a, b, out)
    got, want = (a.grad, b.grad), (a_lib.grad, b_lib.grad)
    if close(got, want):
        # the same node on both sides: x * x must get 2 x out.grad in total
        x_lib = _node(1.5)
        sq = x_lib * x_lib
        sq.grad = g
        sq._backward()
        x = _node(1.5)
        sq_student = Value(2.25, (x, x), "*")
        sq_student.grad = g
        call_student(name, fn, x, x, sq_student)
        if not close(x.grad, x_lib.grad):
            fail(
                name,
                f"for x * x the gradient should be 2 x out.grad = {x_lib.grad:.4g}, "
                f"got {x.grad:.4g}: accumulate with += so both uses of x count",
            )
        passed(name, "a.grad += b.data * out.grad and b.grad += a.data * out.grad")
        return
    if close(got, (b_data * g, a_data * g)):
        fail(
            name,
            "you overwrote the gradients with '='; use '+=' (a node used in several "
            "places collects gradient from each of them)",
        )
    if close(got, (0.25 + a_data * g, -1.0 + b_data * g)):
        fail(name, "each input got its own value: d(a*b)/da = b, so a.grad gets b.data * out.grad")
    if close(got, (0.25 + b_data, -1.0 + a_data)):
        fail(name, "forgot the chain rule factor out.grad: a.grad += b.data * out.grad")
    if close(got, (0.25 - b_data * g, -1.0 - a_data * g)):
        fail(name, "sign error: the local derivative of a*b with respect to a is +b")
    fail(
        name,
        f"expected a.grad = {want[0]:.4g} and b.grad = {want[1]:.4g}, "
        f"got {got[0]:.4g} and {got[1]:.4g}",
    )


def check_value_tanh(fn: object) -> None:
    """Check ``fn(x, out)``: the backward step of ``out = tanh(x)`` for ``Value``-like nodes.

    It must add ``(1 - out.data**2) * out.grad`` to ``x.grad`` (compared with
    ``nnscratch.autodiff.Value.tanh``). Recognised mistakes: the derivative at the wrong point
    (``1 - x.data**2``), forgetting ``out.grad``, a sign error, and ``=`` instead of ``+=``.
    """
    name = "check_value_tanh"
    x_data, g, start = 0.8, -1.5, 0.3
    x_lib = _node(x_data, start)
    out_lib = x_lib.tanh()
    out_lib.grad = g
    out_lib._backward()
    want = x_lib.grad

    x = _node(x_data, start)
    t = float(np.tanh(x_data))
    out = Value(t, (x,), "tanh")
    out.grad = g
    call_student(name, fn, x, out)
    got = x.grad
    if close(got, want):
        passed(name, "x.grad += (1 - out.data**2) * out.grad")
        return
    if close(got, start + (1 - x_data**2) * g):
        fail(
            name,
            "derivative taken at the wrong point: 1 - tanh(x)**2 uses the OUTPUT "
            "out.data, not the input x.data",
        )
    if close(got, want - start):
        fail(name, "you overwrote x.grad with '='; use '+=' so gradients from several uses add up")
    if close(got, start + (1 - t**2)):
        fail(name, "forgot the chain rule factor out.grad")
    if close(got, start - (1 - t**2) * g) or close(got, start + (t**2 - 1) * g):
        fail(name, "sign error: tanh' = 1 - tanh**2 is positive")
    if close(got, start + (1 - t) * g):
        fail(name, "tanh' = 1 - tanh(x)**2: square the output")
    fail(name, f"expected x.grad = {want:.4g}, got {got:.4g}")
