"""Exercise checks for notebook 05 (backprop in matrix form).

The student's layers follow ``nnscratch.layers``: ``forward(x)`` caches what ``backward``
needs, ``backward(grad_out)`` returns dL/d(input) and *adds* parameter gradients into
``Parameter.grad``. Each check runs the student's layer and the library's twin on the same
batches and, when they differ, names the most likely mistake.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ..functional import softmax
from ..layers import Linear, Parameter, ReLU
from ..losses import CrossEntropyLoss
from ._core import CheckFailed, ExerciseNotDone, answer_array, call_student, close, fail, passed

__all__ = ["check_linear_backward", "check_relu_backward", "check_softmax_ce_backward"]


def _instance(name: str, layer: Any, *args: Any, **kwargs: Any) -> Any:
    """The student's layer: an instance, or a class called with ``args`` and ``kwargs``."""
    if isinstance(layer, type):
        return call_student(name, lambda: layer(*args, **kwargs), what=f"{layer.__name__}(...)")
    if not hasattr(layer, "forward") or not hasattr(layer, "backward"):
        fail(name, f"expected a layer class or object with forward and backward, got "
                   f"{type(layer).__name__}")
    return layer


def _method(name: str, obj: Any, method: str, *args: Any, **kw: Any) -> Any:
    return call_student(name, getattr(obj, method), *args, what=method, **kw)


def _explain_shape_error(name: str, exc: CheckFailed, n: int, d_in: int, d_out: int) -> None:
    """Fail with the mistake that the shapes in ``exc`` (a crash in backward) point at."""
    text = exc.message.replace(" ", "")
    if f"({d_in},{d_out})" in text:
        fail(name, "the weight gradient comes out transposed: it must have the weight's "
                   f"shape (out, in) = {(d_out, d_in)} ({exc.message})")
    if f"({n},{d_out})" in text and f"({d_out},)" in text:
        fail(name, "the bias gradient is not collected over the batch: it must have the "
                   f"bias's shape {(d_out,)} ({exc.message})")
    if "matmul" in text or "broadcast" in text or "shape" in text:
        fail(name, "a matrix product or a gradient has the wrong shape: each parameter's "
                   "gradient has exactly that parameter's shape, and the input gradient "
                   f"has the input's shape ({exc.message})")


def _diagnose_weight_grad(name: str, dw: np.ndarray, want_dw: np.ndarray, n: int) -> None:
    """Fail with the likely mistake when ``dw`` (out, in) differs from ``want_dw``."""
    d_out, d_in = want_dw.shape
    if dw.shape == (d_in, d_out) and d_in != d_out:
        fail(name, f"the weight gradient has shape {dw.shape}, transposed: it must have the "
                   f"weight's shape (out, in) = {(d_out, d_in)}")
    if not close(dw, want_dw):
        if close(dw, want_dw / n) and n > 1:
            fail(name, "the weight gradient is divided by n: the 1/n of the mean is already "
                       "inside grad_out")
        if close(dw, 0 * want_dw):
            fail(name, "the weight gradient is missing: backward must add it to weight.grad")
        fail(name, f"the weight gradient differs from nnscratch.Linear's for a batch of {n} "
                   "(it collects one outer product per sample)")


def _diagnose_bias_grad(
    name: str, db: np.ndarray, want_db: np.ndarray, grad_out: np.ndarray
) -> None:
    """Fail with the likely mistake when ``db`` (out,) differs from ``want_db``."""
    n, d_out = grad_out.shape
    if db.shape == (n, d_out) and n > 1:
        fail(name, "the bias gradient has one row per sample: the bias is shared, so "
                   "collect (sum) it over the batch")
    if close(db, 0 * want_db):
        fail(name, "the bias gradient is missing: backward must add it to bias.grad")
    if close(db, want_db / n) and n > 1:
        fail(name, "the bias gradient is averaged over the batch; sum it (grad_out already "
                   "carries the 1/n)")
    if n > 1 and (close(db, grad_out[0]) or close(db, grad_out[-1])):
        fail(name, "the bias gradient comes from one sample only: collect it over the batch")
    if not close(db, want_db):
        fail(name, "the bias gradient differs from nnscratch.Linear's")


def check_linear_backward(layer: Any) -> None:
    """Check your Linear layer's ``backward``: ``layer`` is a class called as
    ``cls(in_features, out_features, rng=0)`` (or one instance), with ``weight (out, in)`` and
    ``bias (out,)`` Parameters; compared with ``nnscratch.layers.Linear`` on two layer shapes
    and batches of 5 and 1.

    Names the typical mistakes: a transposed weight gradient, a missing bias gradient, a bias
    gradient not collected over the batch (or averaged), the wrong weight layout in the input
    gradient, a missing return value, changing ``grad_out`` in place, and overwriting ``grad``
    instead of adding to it.
    """
    name = "check_linear_backward"
    shapes = [(5, 4, 3), (1, 2, 6)] if isinstance(layer, type) else [(5, None, None)]
    rng = np.random.default_rng(5)
    for n, d_in, d_out in shapes:
        student = _instance(name, layer, d_in, d_out, rng=0) if d_in else _instance(name, layer)
        w, b = getattr(student, "weight", None), getattr(student, "bias", None)
        if w is None or b is None or not hasattr(w, "grad") or not hasattr(b, "grad"):
            fail(name, "the layer needs Parameters .weight and .bias (each with .data and .grad)")
        d_out, d_in = np.shape(w.data)
        x = rng.normal(size=(n, d_in))
        grad_out = rng.normal(size=(n, d_out))
        w.data = rng.normal(size=(d_out, d_in))
        b.data = rng.normal(size=d_out)
        w.grad = np.zeros_like(w.data)
        b.grad = np.zeros_like(b.data)
        lib = Linear(d_in, d_out)
        lib_bias = cast(Parameter, lib.bias)  # Linear(d_in, d_out) has a bias
        lib.weight.data[...] = w.data
        lib_bias.data[...] = b.data
        want_out = lib(x)
        want_dx = lib.backward(grad_out)
        want_dw, want_db = lib.weight.grad.copy(), lib_bias.grad.copy()

        out = _method(name, student, "forward", x)
        if not close(out, want_out):
            fail(name, "forward is wrong: fix forward first (it is given in the notebook)")
        try:
            dx = _method(name, student, "backward", grad_out)
        except ExerciseNotDone:
            raise
        except CheckFailed as exc:  # the shapes in the error text point at the mistake
            _explain_shape_error(name, exc, n, d_in, d_out)
            raise
        _diagnose_weight_grad(name, np.asarray(w.grad, dtype=float), want_dw, n)
        _diagnose_bias_grad(name, np.asarray(b.grad, dtype=float), want_db, grad_out)
        if dx is None:
            fail(name, "backward returned None: it must return the gradient with respect to "
                       "its input, for the layer before it")
        if np.shape(dx) == (n, d_out) and d_in != d_out:
            fail(name, f"the input gradient has shape {np.shape(dx)}; it must match x {x.shape}")
        got_dx = answer_array(name, dx, x.shape, "the input gradient")
        if not close(got_dx, want_dx):
            fail(name, "the input gradient differs from nnscratch.Linear's: check the weight's "
                       "layout (out, in) in that product")

        _method(name, student, "forward", x)
        _method(name, student, "backward", grad_out)
        if not (close(w.grad, 2 * want_dw) and close(b.grad, 2 * want_db)):
            fail(name, "a second backward did not add to the gradients: accumulate into .grad "
                       "(like torch, until the gradients are cleared) instead of replacing it")
    passed(name, "weight, bias and input gradients agree with nnscratch.Linear")


def check_relu_backward(layer: Any) -> None:
    """Check your ReLU layer's ``backward`` (``layer`` a class called with no arguments, or an
    instance) against ``nnscratch.layers.ReLU`` on batches that include exact zeros.

    Names the typical mistakes: the mask taken from the sign of ``grad_out`` instead of the
    forward input (masking by the output is fine), returning the mask itself, passing gradient
    at exactly 0 (torch and nnscratch pass none there), the mask inverted, no mask, and
    changing ``grad_out`` in place.
    """
    name = "check_relu_backward"
    rng = np.random.default_rng(6)
    for shape in ((4, 5), (3, 2), (1, 7)):
        student = _instance(name, layer)
        x = rng.normal(size=shape)
        x.flat[::3] = 0.0
        grad_out = rng.normal(size=shape)
        lib = ReLU()
        want_out = lib(x)
        want = lib.backward(grad_out)
        out = _method(name, student, "forward", x)
        if not close(out, want_out):
            fail(name, "forward is wrong: fix forward first (it is given in the notebook)")
        got_raw = _method(name, student, "backward", grad_out)
        got = answer_array(name, got_raw, shape, f"the gradient for a batch of shape {shape}")
        if close(got, want):
            continue
        if close(got, grad_out * (grad_out > 0)):
            fail(name, "the mask was taken at the wrong point: it comes from the forward input, "
                       "not from the sign of grad_out")
        if close(got, (x > 0).astype(float)) or close(got, (x >= 0).astype(float)):
            fail(name, "you returned the mask itself: it must scale grad_out")
        if close(got, grad_out * (x >= 0)):
            fail(name, "at x exactly 0 the gradient must be 0 (like torch): check whether your "
                       "mask includes 0")
        if close(got, grad_out * (x <= 0)) or close(got, grad_out * (x < 0)):
            fail(name, "the mask is inverted: the gradient passes where the input was positive")
        if close(got, grad_out):
            fail(name, "no mask: ReLU blocks the gradient wherever its input was not positive")
        fail(name, f"the gradient differs from nnscratch.ReLU's for a batch of shape {shape}")
    passed(name, "the gradient passes exactly where the input was positive")


def check_softmax_ce_backward(loss: Any) -> None:
    """Check your softmax + cross-entropy loss's ``backward()``: ``loss`` is a class called with
    no arguments (or an instance) with ``forward(logits (n, C), labels (n,)) -> float`` and
    ``backward() -> dL/dlogits (n, C)`` for the mean loss; compared with
    ``nnscratch.losses.CrossEntropyLoss`` on batches of several shapes.

    Names the typical mistakes: no division by the batch size (or by the number of classes
    instead), a sign error, the probabilities without the targets, the label numbers
    subtracted instead of the one-hot targets, and a batch size typed in.
    """
    name = "check_softmax_ce_backward"
    rng = np.random.default_rng(7)
    for n, c in ((6, 4), (3, 7), (1, 3), (10, 10)):
        student = _instance(name, loss)
        z = rng.normal(0.0, 2.0, (n, c))
        y = rng.integers(0, c, size=n)
        lib = CrossEntropyLoss()
        want_loss = lib(z, y)
        want = lib.backward()
        got_loss = _method(name, student, "forward", z, y)
        if not close(got_loss, want_loss):
            fail(name, "forward is wrong: fix forward first (it is given in the notebook)")
        got = answer_array(name, _method(name, student, "backward"), want.shape,
                       f"the gradient for a batch of {n} samples and {c} classes")
        if close(got, want):
            continue
        p = softmax(z, axis=1)
        if close(got, want * n) and n > 1:
            fail(name, f"not divided by the batch size: the loss is a mean over the {n} samples")
        if close(got, want * n / c) and n != c:
            fail(name, "divided by the number of classes: the loss is a mean over the samples")
        if close(got, -want) or close(got, -want * n):
            fail(name, "sign error: raising a logit raises its probability, so for a wrong class "
                       "the gradient is positive")
        if close(got, p / n) or close(got, p):
            fail(name, "you returned the probabilities: the one-hot targets are missing")
        if close(got, (p - y[:, None]) / n) or close(got, p - y[:, None]):
            fail(name, "you subtracted the label numbers; use the one-hot encoding of the labels")
        fail(name, f"the gradient differs from CrossEntropyLoss.backward's for a batch of {n} "
                   f"samples and {c} classes (is a batch size typed into your code?)")
    passed(name, "the gradient agrees with nnscratch.CrossEntropyLoss on four batch shapes")
