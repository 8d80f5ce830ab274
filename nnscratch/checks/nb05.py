"""Exercise checks for notebook 05 (backprop in matrix form).

The student's layers follow ``nnscratch.layers``: ``forward(x)`` caches what ``backward``
needs, ``backward(grad_out)`` returns dL/d(input) and *adds* parameter gradients into
``Parameter.grad``. Each check runs the student's layer and the library's twin on the same
batch and, when they differ, names the most likely mistake.
"""

from __future__ import annotations

import numpy as np

from ..functional import softmax
from ..layers import Linear, ReLU
from ..losses import CrossEntropyLoss
from ._core import close, fail, passed

__all__ = ["check_linear_backward", "check_relu_backward", "check_softmax_ce_backward"]


def _run(name: str, what: str, fn: object, *args: object) -> object:
    """Call a method of the student's layer; turn a crash into a CheckFailed that says so."""
    try:
        return fn(*args)  # type: ignore[operator]
    except NotImplementedError:
        fail(name, f"{what} still raises NotImplementedError: replace it with your code")
    except Exception as exc:  # the student's code crashed: report it as the mistake
        fail(name, f"{what} raised {type(exc).__name__}: {exc}")
    return None  # pragma: no cover - fail() always raises


def _instance(name: str, layer: object, *args: object) -> object:
    """The student's layer: an instance, or a class called with ``args``."""
    if isinstance(layer, type):
        return _run(name, f"{layer.__name__}{args}", layer, *args)
    if not hasattr(layer, "forward") or not hasattr(layer, "backward"):
        fail(name, f"expected a layer class or object with forward and backward, got {layer!r}")
    return layer


def check_linear_backward(layer: object) -> None:
    """Check a Linear layer's ``backward``: ``layer`` is a class called as ``cls(4, 3, rng=0)``
    (or such an instance) with ``weight`` ``(out, in)`` and ``bias`` ``(out,)`` Parameters.

    Compared with ``nnscratch.layers.Linear`` (same weights, batch of 5). Recognised mistakes:
    a transposed weight gradient, a missing bias gradient, a bias gradient not summed over
    the batch (or averaged instead of summed), ``W.T`` in the input gradient, and
    overwriting ``grad`` instead of accumulating into it.
    """
    name = "check_linear_backward"
    n, d_in, d_out = 5, 4, 3
    if isinstance(layer, type):
        student = _run(
            name, f"{layer.__name__}({d_in}, {d_out}, rng=0)", lambda: layer(d_in, d_out, rng=0)
        )
    else:
        student = _instance(name, layer)
    w, b = getattr(student, "weight", None), getattr(student, "bias", None)
    if w is None or b is None or not hasattr(w, "grad") or not hasattr(b, "grad"):
        fail(name, "the layer needs Parameters .weight and .bias (each with .data and .grad)")
    d_out, d_in = np.shape(w.data)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n, d_in))
    grad_out = rng.normal(size=(n, d_out))
    w.data = rng.normal(size=(d_out, d_in))
    b.data = rng.normal(size=d_out)
    w.grad = np.zeros_like(w.data)
    b.grad = np.zeros_like(b.data)

    lib = Linear(d_in, d_out)
    lib.weight.data[...] = w.data
    lib.bias.data[...] = b.data
    want_out = lib(x)
    want_dx = lib.backward(grad_out)
    want_dw, want_db = lib.weight.grad, lib.bias.grad

    out = _run(name, "forward", student.forward, x.copy())
    if not close(out, want_out):
        fail(name, "forward is wrong (it should be x @ W.T + b): fix forward first")
    try:
        dx = student.backward(grad_out.copy())
    except Exception as exc:  # shape errors from += point at the mistake
        msg = str(exc).replace(" ", "")
        if f"({d_in},{d_out})" in msg:
            fail(
                name,
                "transposed weight gradient: dW = grad_out.T @ x has the weight's shape "
                f"(out, in) = {(d_out, d_in)} ({type(exc).__name__}: {exc})",
            )
        if f"({n},{d_out})" in msg and f"({d_out},)" in msg:
            fail(
                name,
                "bias gradient not summed over the batch: db = grad_out.sum(axis=0) has "
                f"shape {(d_out,)} ({type(exc).__name__}: {exc})",
            )
        if "matmul" in msg or "alignedflag" in msg.lower():
            fail(
                name,
                "the shapes in a matrix product do not fit: dW = grad_out.T @ x "
                f"{(d_out, d_in)} and the input gradient dx = grad_out @ W {(n, d_in)}, with "
                f"no transpose on W ({type(exc).__name__}: {exc})",
            )
        _run(name, "backward", student.backward, grad_out.copy())
    dw, db = np.asarray(w.grad), np.asarray(b.grad)

    if dw.shape == (d_in, d_out) and close(dw, want_dw.T):
        fail(
            name,
            "transposed weight gradient: dW = grad_out.T @ x has the weight's shape "
            f"(out, in) = {want_dw.shape}, not x.T @ grad_out {want_dw.T.shape}",
        )
    if not close(dw, want_dw):
        if close(dw, want_dw / n):
            fail(name, "weight gradient divided by n: the 1/n of the mean is already in grad_out")
        fail(
            name,
            f"weight gradient wrong: expected grad_out.T @ x of shape {want_dw.shape}, "
            f"got shape {dw.shape}",
        )
    if db.shape == (n, d_out):
        fail(
            name,
            "bias gradient not summed over the batch: db = grad_out.sum(axis=0), "
            f"shape {want_db.shape}",
        )
    if close(db, 0 * want_db):
        fail(name, "missing bias gradient: add grad_out.sum(axis=0) to bias.grad")
    if close(db, want_db / n):
        fail(name, "bias gradient averaged over the batch: sum it (grad_out already has the 1/n)")
    if close(db, grad_out[0]) or close(db, grad_out[-1]):
        fail(name, "bias gradient from one sample only: sum grad_out over the batch axis")
    if not close(db, want_db):
        fail(name, "bias gradient wrong: expected grad_out.sum(axis=0)")
    if np.shape(dx) == (n, d_out):
        fail(
            name,
            f"input gradient has shape {np.shape(dx)}; it must match x {x.shape}: "
            "grad_out @ W (no transpose)",
        )
    if not close(dx, want_dx):
        fail(name, f"input gradient wrong: expected grad_out @ W with shape {want_dx.shape}")

    _run(name, "forward", student.forward, x.copy())
    _run(name, "backward", student.backward, grad_out.copy())
    if close(w.grad, want_dw) or close(b.grad, want_db):
        fail(
            name,
            "gradients were overwritten: accumulate with += (like torch, until "
            "zero_grad()), so a second backward adds to them",
        )
    passed(name, "dW = grad_out.T @ x, db = grad_out.sum(axis=0), dx = grad_out @ W")


def check_relu_backward(layer: object) -> None:
    """Check a ReLU layer's ``backward`` (``layer`` a class called with no arguments, or an
    instance) against ``nnscratch.layers.ReLU`` on a batch that includes exact zeros.

    Recognised mistakes: the mask taken from the sign of ``grad_out`` instead of the forward
    input (masking by the output is fine), returning the mask without multiplying by
    ``grad_out``, passing gradient at exactly 0 (``>=``; torch and nnscratch use 0 there),
    and the mask inverted.
    """
    name = "check_relu_backward"
    student = _instance(name, layer)
    rng = np.random.default_rng(6)
    x = rng.normal(size=(4, 5))
    x[0, 0] = x[2, 3] = 0.0
    grad_out = rng.normal(size=(4, 5))
    lib = ReLU()
    want_out = lib(x)
    want = lib.backward(grad_out)
    out = _run(name, "forward", student.forward, x.copy())
    if not close(out, want_out):
        fail(name, "forward is wrong (it should be max(0, x)): fix forward first")
    got = _run(name, "backward", student.backward, grad_out.copy())
    if close(got, want):
        passed(name, "the gradient flows where the input was positive")
        return
    if np.shape(got) != want.shape:
        fail(name, f"expected the shape of grad_out {want.shape}, got {np.shape(got)}")
    if close(got, grad_out * (grad_out > 0)) or close(got, np.maximum(grad_out, 0)):
        fail(
            name,
            "mask taken at the wrong point: it must come from the forward input "
            "(x > 0), not from the sign of grad_out",
        )
    if close(got, (x > 0).astype(float)):
        fail(name, "you returned the mask itself: multiply it by grad_out")
    if close(got, grad_out * (x >= 0)):
        fail(name, "at x == 0 the gradient must be 0 (like torch): use x > 0, not x >= 0")
    if close(got, grad_out * (x <= 0)) or close(got, grad_out * (x < 0)):
        fail(name, "mask inverted: the gradient passes where x > 0 and is blocked elsewhere")
    if close(got, grad_out):
        fail(name, "no mask applied: ReLU blocks the gradient wherever x <= 0")
    fail(name, "wrong values: expected grad_out * (x > 0)")


def check_softmax_ce_backward(loss: object) -> None:
    """Check a softmax + cross-entropy loss's ``backward()``: ``loss`` is a class called with no
    arguments (or an instance) with ``forward(logits (n, C), labels (n,)) -> float`` and
    ``backward() -> dL/dlogits (n, C)`` for the mean loss.

    Compared with ``nnscratch.losses.CrossEntropyLoss``. Recognised mistakes: forgetting to
    divide by the batch size, a sign error (onehot - p), returning the probabilities
    without subtracting the one-hot targets, and subtracting the label index.
    """
    name = "check_softmax_ce_backward"
    student = _instance(name, loss)
    rng = np.random.default_rng(7)
    n, c = 6, 4
    z = rng.normal(0.0, 2.0, (n, c))
    y = np.array([0, 3, 1, 1, 2, 0])
    lib = CrossEntropyLoss()
    want_loss = lib(z, y)
    want = lib.backward()
    got_loss = _run(name, "forward", student.forward, z.copy(), y.copy())
    if not close(got_loss, want_loss):
        fail(name, f"forward is wrong: expected the mean loss {want_loss:.4g}, got {got_loss!r}")
    got = _run(name, "backward", student.backward)
    if close(got, want):
        passed(name, "dL/dz = (softmax(z) - onehot(y)) / n")
        return
    if np.shape(got) != want.shape:
        fail(name, f"expected shape {want.shape} (one row per sample), got {np.shape(got)}")
    p = softmax(z, axis=1)
    if close(got, want * n):
        fail(name, f"forgot to divide by the batch size n = {n}: the loss is a mean over samples")
    if close(got, -want) or close(got, -want * n):
        fail(name, "sign error: the gradient is softmax(z) - onehot(y), not onehot(y) - softmax(z)")
    if close(got, p / n) or close(got, p):
        fail(name, "you returned the probabilities: subtract the one-hot targets, p - onehot(y)")
    if close(got, (p - y[:, None]) / n) or close(got, p - y[:, None]):
        fail(name, "subtract the one-hot encoding of y, not the label numbers themselves")
    fail(name, "wrong values: expected (softmax(z) - onehot(y)) / n")
