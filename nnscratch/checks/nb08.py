"""Exercise checks for notebook 08 (training better: initialisation, optimisers, regularisation).

Expected updates come from the library's optimisers (``SGD`` with momentum and weight
decay, driven on a ``Parameter`` with hand-set gradients); the Xavier check is cross-checked
against ``Linear(init="xavier")`` in the tests.
"""

from __future__ import annotations

import math

import numpy as np

from ..layers import Parameter
from ..optim import SGD
from ._core import as_number, call_student, close, fail, passed

__all__ = ["check_momentum_step", "check_xavier_std", "check_l2_gradient"]


def check_momentum_step(fn: object) -> None:
    """Check ``momentum_step(w, v, grad, lr, momentum) -> (w_new, v_new)``, the update of
    ``nnscratch.optim.SGD`` (and ``torch.optim.SGD``): v = momentum * v + grad; w = w - lr * v.

    Recognised mistakes: the velocity ignored (plain SGD), the averaging form
    v = momentum * v + (1 - momentum) * grad, a plus sign in the weight update, the weights
    moved with the old velocity, the results returned in the wrong order.
    """
    name = "check_momentum_step"
    rng = np.random.default_rng(8)
    w0, g0, g1 = rng.normal(size=(3, 4))
    lr, mu = 0.1, 0.9
    p = Parameter(w0.copy())
    opt = SGD([p], lr=lr, momentum=mu)
    p.grad[...] = g0
    opt.step()  # the first step sets the velocity to g0
    w1, v1 = p.data.copy(), opt.state[0]["velocity"].copy()
    p.grad[...] = g1
    opt.step()
    w2, v2 = p.data.copy(), opt.state[0]["velocity"].copy()

    out = call_student(name, fn, w1.copy(), v1.copy(), g1.copy(), lr, mu)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(name, "return a pair (w_new, v_new)")
    w_new, v_new = (np.asarray(a, dtype=np.float64) for a in out)
    if close(w_new, w2) and close(v_new, v2):
        passed(name, "v = momentum * v + grad, then w = w - lr * v")
        return
    if close(w_new, v2) and close(v_new, w2):
        fail(name, "you returned (v_new, w_new): return the weights first, (w_new, v_new)")
    if close(w_new, w1 - lr * g1):
        fail(name, "the weights moved by lr * grad only: step along the velocity, w - lr * v_new")
    v_avg = mu * v1 + (1 - mu) * g1
    if close(v_new, v_avg):
        fail(
            name,
            "that is the averaging form v = m*v + (1-m)*grad; torch and nnscratch use "
            "v = momentum * v + grad (the 1-m factor only rescales the learning rate)",
        )
    if close(v_new, v2) and close(w_new, w1 + lr * v2):
        fail(name, "sign error: step DOWNHILL, w_new = w - lr * v_new")
    if close(v_new, v2) and close(w_new, w1 - lr * v1):
        fail(name, "update the velocity first, then move the weights with the NEW velocity")
    if not close(v_new, v2):
        fail(name, "v_new is wrong: v_new = momentum * v + grad")
    fail(name, "w_new is wrong: w_new = w - lr * v_new")


def check_xavier_std(fn: object) -> None:
    """Check ``xavier_std(fan_in, fan_out) -> float``, the standard deviation of Xavier
    (Glorot) normal initialisation used by ``Linear(init="xavier")``: sqrt(2 / (in + out)).

    Recognised mistakes: the variance instead of the standard deviation, He's
    sqrt(2 / fan_in), LeCun's sqrt(1 / fan_in), a missing factor 2.
    """
    name = "check_xavier_std"
    for fan_in, fan_out in ((64, 32), (10, 90), (300, 100)):
        want = math.sqrt(2.0 / (fan_in + fan_out))
        got = call_student(name, fn, fan_in, fan_out)
        g = as_number(name, got, "return one number")
        if close(g, want):
            continue
        if close(g, want**2):
            fail(name, "that is the variance 2/(in+out): take its square root for the std")
        if close(g, math.sqrt(2.0 / fan_in)):
            fail(name, "sqrt(2/fan_in) is He's rule (for ReLU); Xavier averages fan_in and fan_out")
        if close(g, math.sqrt(1.0 / fan_in)):
            fail(name, "sqrt(1/fan_in) uses the inputs only; Xavier uses fan_in + fan_out")
        if close(g, math.sqrt(1.0 / (fan_in + fan_out))):
            fail(name, "missing factor 2: Var(w) = 2 / (fan_in + fan_out)")
        fail(name, f"xavier_std({fan_in}, {fan_out}) = {g:.6g}, expected {want:.6g}")
    passed(name, "std = sqrt(2 / (fan_in + fan_out))")


def check_l2_gradient(fn: object) -> None:
    """Check ``l2_gradient(grad, w, lam) -> array``: the gradient of loss + (lam/2) * ||w||^2,
    which is what ``SGD(weight_decay=lam)`` steps along.

    Recognised mistakes: the penalty's gradient alone, a minus sign, the factor 2 kept
    (that is the gradient of lam * ||w||^2), lam multiplying the whole gradient.
    """
    name = "check_l2_gradient"
    rng = np.random.default_rng(9)
    w, grad = rng.normal(size=(2, 3, 4))
    lam = 0.05
    p = Parameter(w.copy())
    p.grad[...] = grad
    SGD([p], lr=1.0, weight_decay=lam).step()
    want = w - p.data  # lr = 1: the step is exactly the penalised gradient
    got = np.asarray(call_student(name, fn, grad.copy(), w.copy(), lam), dtype=np.float64)
    if got.shape != want.shape:
        fail(name, f"return an array of the weights' shape {want.shape}, got {got.shape}")
    if close(got, want):
        passed(name, "grad + lam * w, the step SGD(weight_decay=lam) takes")
        return
    if close(got, lam * w):
        fail(name, "that is the penalty's gradient alone: add it to the loss gradient")
    if close(got, grad - lam * w):
        fail(name, "sign error: the penalty pulls weights toward 0, so its gradient is +lam * w")
    if close(got, grad + 2 * lam * w):
        fail(
            name,
            "factor 2: with the penalty (lam/2)*||w||^2 the 2 from the square cancels the 1/2, "
            "so the extra term is lam * w",
        )
    if close(got, lam * (grad + w)) or close(got, lam * grad + w):
        fail(name, "lam multiplies only the weights: grad + lam * w")
    fail(name, "expected grad + lam * w")
