"""Exercise checks for notebook 04 (backprop by hand).

Each check runs the student's answer on several cases, computes the expected answer with the
library (``nnscratch.functional``, ``nnscratch.losses``, ``nnscratch.autodiff``) and, when
they differ, names the most likely mistake.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autodiff import Value
from ..functional import sigmoid, sigmoid_grad
from ..losses import BCEWithLogitsLoss
from ._core import answer_array, call_student, close, fail, passed

__all__ = [
    "check_sigmoid_derivative",
    "check_output_gradient",
    "check_value_mul",
    "check_value_tanh",
]


def check_sigmoid_derivative(fn: Any) -> None:
    """Check your ``sigmoid_derivative(z)`` for arrays ``z`` of several shapes with entries from
    -1000 to 1000 (same shape out), against ``nnscratch.functional.sigmoid_grad``.

    Names the typical mistakes: using ``z`` where the sigmoid's output belongs, the sigmoid
    applied twice, a sign error, a missing factor, and a formula that overflows into NaN for
    large ``|z|``.
    """
    name = "check_sigmoid_derivative"
    rng = np.random.default_rng(41)
    inputs = [
        np.linspace(-4.0, 4.0, 15).reshape(3, 5),
        np.array([-1000.0, -750.0, -40.0, -1.0, 0.0, 1.0, 40.0, 750.0, 1000.0]),
        rng.uniform(-1000, 1000, size=(2, 7)),
    ]
    for z in inputs:
        out = call_student(name, fn, z)
        want = sigmoid_grad(z)
        got = answer_array(name, out, z.shape, f"the output for z of shape {z.shape}")
        if close(got, want, rtol=1e-7, atol=1e-12):
            continue
        if np.isnan(got).any():
            fail(name, "your function returns NaN for large |z|: an exponential overflowed "
                       "(inf / inf). Work from the sigmoid's output, which stays between 0 "
                       "and 1")
        s = sigmoid(z)
        small = np.abs(z) <= 40
        for message, variant in (
            ("you used z itself where the sigmoid's output s belongs: first compute s from z",
             z * (1 - z)),
            ("derivative taken at the wrong point: you applied the sigmoid twice", sigmoid_grad(s)),
            ("sign error: the sigmoid is increasing, so its derivative is positive", -want),
            ("you returned the sigmoid itself; its derivative has a second factor", s),
            ("sign error inside the product: the derivative is largest at z = 0 and at most "
             "one quarter", s * (1 + s)),
        ):
            if close(got[small], variant[small]):
                fail(name, message)
        if close(got[small], want[small]):
            fail(name, "right for moderate z but wrong for large |z| (say z = 1000): the "
                       "derivative there is tiny and positive, never negative or NaN")
        fail(name, f"your values differ from the sigmoid's derivative for z of shape {z.shape} "
                   "(try z = 0 by hand)")
    passed(name, "agrees with nnscratch.functional.sigmoid_grad from z = -1000 to 1000")


def check_output_gradient(fn: Any) -> None:
    """Check your ``output_gradient(y_hat, y) -> dL/dz2`` for a sigmoid output with mean binary
    cross-entropy: ``y_hat`` are probabilities ``(n, 1)``, ``y`` the 0/1 targets ``(n, 1)``,
    the result has shape ``(n, 1)``; expected values from ``BCEWithLogitsLoss`` for several
    batch sizes.

    Names the typical mistakes: no average over the batch (or a batch size typed in), a sign
    error, and returning the gradient with respect to ``y_hat`` instead of ``z2``.
    """
    name = "check_output_gradient"
    rng = np.random.default_rng(4)
    for n in (5, 1, 8):
        z2 = rng.normal(0.0, 1.5, (n, 1))
        y = (np.arange(n) % 2 == 0).astype(float).reshape(n, 1)
        y_hat = sigmoid(z2)
        loss = BCEWithLogitsLoss()
        loss(z2, y)
        want = loss.backward()
        out = call_student(name, fn, y_hat, y)
        got = answer_array(name, out, want.shape, f"the gradient for a batch of {n}")
        if close(got, want):
            continue
        if close(got, want * n) and n > 1:
            fail(name, f"not averaged over the batch: the loss is a mean over the {n} samples")
        if close(got, -want) or close(got, -want * n):
            fail(name, "sign error: it is prediction minus target")
        dl_dyhat = (y_hat - y) / (y_hat * (1 - y_hat))
        if close(got, dl_dyhat / n) or close(got, dl_dyhat):
            fail(name, "that is the gradient with respect to y_hat; go one step further back, "
                       "through the sigmoid, to z2")
        ratio = got / want
        if np.allclose(ratio, ratio.flat[0]):
            fail(name, f"the direction is right but the scale is off for a batch of {n}: divide "
                       "by the size of the batch you were given, not a fixed number")
        fail(name, f"your gradient for a batch of {n} differs from BCEWithLogitsLoss.backward's")
    passed(name, "agrees with BCEWithLogitsLoss.backward for three batch sizes")


def _node(data: float, grad: float = 0.0) -> Value:
    v = Value(data)
    v.grad = grad
    return v


def _mul_case(name: str, fn: Any, a_data: float, b_data: float, g: float, a0: float,
              b0: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Run the library's and the student's backward of a * b; return (got, want) grads."""
    a_lib, b_lib = _node(a_data, a0), _node(b_data, b0)
    out_lib = a_lib * b_lib
    out_lib.grad = g
    out_lib._backward()
    a, b = _node(a_data, a0), _node(b_data, b0)
    out = Value(a_data * b_data, (a, b), "*")
    out.grad = g
    call_student(name, fn, a, b, out)
    if (a.data, b.data, out.grad) != (a_data, b_data, g):
        fail(name, "your backward step changed a value's data (or out.grad): it should only add "
                   "to the inputs' grad")
    return (a.grad, b.grad), (a_lib.grad, b_lib.grad)


def check_value_mul(fn: Any) -> None:
    """Check your ``mul_backward(a, b, out)``: the backward step of a product node ``out`` of
    ``a`` and ``b``, for ``Value`` nodes (compared with ``nnscratch.autodiff.Value.__mul__``)
    on several values, with gradients already present, and with the same node on both sides.

    Names the typical mistakes: each input getting its own value instead of the other's,
    forgetting the factor ``out.grad``, a sign error, and overwriting ``grad`` instead of
    adding to it.
    """
    name = "check_value_mul"
    for a_data, b_data, g, a0, b0 in ((3.0, -2.0, 0.5, 0.25, -1.0), (-1.5, 4.0, -2.0, 1.0, 0.5),
                                      (0.5, 0.75, 3.0, 0.0, 0.0)):
        got, want = _mul_case(name, fn, a_data, b_data, g, a0, b0)
        if close(got, want):
            continue
        if a0 and close(got, (b_data * g, a_data * g)):
            fail(name, "you overwrote the gradients: a node used in several places collects "
                       "gradient from each of them, so add to grad")
        if close(got, (a0 + a_data * g, b0 + b_data * g)):
            fail(name, "each input got its own value; the derivative of a * b with respect to a "
                       "is the OTHER factor")
        if close(got, (a0 + b_data, b0 + a_data)):
            fail(name, "the chain rule factor out.grad is missing")
        if close(got, (a0 - b_data * g, b0 - a_data * g)):
            fail(name, "sign error: the local derivatives of a product are the other factor, "
                       "with a plus sign")
        fail(name, "the gradients of a and b differ from nnscratch.autodiff's (work one product by "
                   "hand, say a = 3 and b = 5 with out.grad 1)")
    x_lib = _node(1.5)
    sq = x_lib * x_lib
    sq.grad = 0.5
    sq._backward()
    x = _node(1.5)
    sq_student = Value(2.25, (x, x), "*")
    sq_student.grad = 0.5
    call_student(name, fn, x, x, sq_student)
    if not close(x.grad, x_lib.grad):
        fail(name, "for x * x (the same node twice) the gradient counts only one use of x: add "
                   "to grad so both uses count")
    passed(name, "the product's backward step agrees with nnscratch.autodiff, x * x included")


def check_value_tanh(fn: Any) -> None:
    """Check your ``tanh_backward(x, out)``: the backward step of ``out = tanh(x)`` for
    ``Value`` nodes (compared with ``nnscratch.autodiff.Value.tanh``) on several values, with
    gradients already present.

    Names the typical mistakes: the derivative at the wrong point (the input where the output
    belongs), forgetting ``out.grad``, a sign error, the output not squared, and overwriting
    ``grad`` instead of adding to it.
    """
    name = "check_value_tanh"
    for x_data, g, start in ((0.8, -1.5, 0.3), (-2.0, 0.5, 0.0), (0.1, 2.0, -1.0),
                             (3.0, 1.0, 0.5)):
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
        if (x.data, out.data, out.grad) != (x_data, t, g):
            fail(name, "your backward step changed a value's data (or out.grad): it should only "
                       "add to x.grad")
        got = x.grad
        if close(got, want):
            continue
        if close(got, start + (1 - x_data**2) * g):
            fail(name, "derivative taken at the wrong point: tanh's derivative is written with "
                       "the OUTPUT out.data, not the input x.data")
        if start and close(got, want - start):
            fail(name, "you overwrote x.grad; add to it so gradients from several uses add up")
        if close(got, start + (1 - t**2)):
            fail(name, "the chain rule factor out.grad is missing")
        if close(got, start - (1 - t**2) * g):
            fail(name, "sign error: tanh is increasing, so its derivative is positive")
        if close(got, start + (1 - t) * g):
            fail(name, "the output must be squared in tanh's derivative")
        fail(name, "x.grad differs from nnscratch.autodiff's (work one case by hand)")
    passed(name, "tanh's backward step agrees with nnscratch.autodiff")
