"""Exercise checks for notebook 08 (training better: initialisation, optimisers, regularisation).

Expected updates come from the library's optimisers (``SGD`` with momentum and weight
decay, driven on a ``Parameter`` with hand-set gradients) and Xavier's rule from
``Linear(init="xavier")``'s standard deviation, cross-checked in the tests.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..layers import Parameter
from ..optim import SGD
from ._core import answer_array, answer_number, answer_pair, call_student, close, fail, passed

__all__ = ["check_momentum_step", "check_xavier_std", "check_l2_gradient"]


def _momentum_case(rng: np.random.Generator, shape: tuple[int, ...], lr: float, mu: float):
    w0, g0, g1 = (rng.normal(size=shape) for _ in range(3))
    p = Parameter(w0.copy())
    opt = SGD([p], lr=lr, momentum=mu)
    p.grad[...] = g0
    opt.step()  # the first step sets the velocity to g0
    w1, v1 = p.data.copy(), opt.state[0]["velocity"].copy()
    p.grad[...] = g1
    opt.step()
    return w1, v1, g1, p.data.copy(), opt.state[0]["velocity"].copy()


def check_momentum_step(fn: Any) -> None:
    """Check your ``momentum_step(w, v, grad, lr, momentum) -> (w_new, v_new)`` against the
    update of ``nnscratch.optim.SGD`` (and ``torch.optim.SGD``) with momentum, for several
    shapes, learning rates and momenta (never a learning rate of one minus the momentum, so
    different mistakes look different).

    Names the typical mistakes: the velocity ignored (plain SGD), the averaging form of
    momentum, a sign error, the weights moved with the old velocity, the learning rate
    inside the velocity, the results in the wrong order, and changing the inputs in place.
    """
    name = "check_momentum_step"
    rng = np.random.default_rng(8)
    for shape, lr, mu in (((3, 4), 0.05, 0.8), ((5,), 0.3, 0.5), ((2, 3), 0.02, 0.9)):
        w1, v1, g1, w2, v2 = _momentum_case(rng, shape, lr, mu)
        out = call_student(name, fn, w1, v1, g1, lr, mu)
        w_out, v_out = answer_pair(name, out, "(w_new, v_new)")
        w_new = answer_array(name, w_out, shape, "w_new")
        v_new = answer_array(name, v_out, shape, "v_new")
        if close(w_new, w2) and close(v_new, v2):
            continue
        if close(w_new, v2) and close(v_new, w2):
            fail(name, "you returned the pair in the wrong order: the weights come first")
        v_avg = mu * v1 + (1 - mu) * g1
        v_lr = mu * v1 + lr * g1
        for message, want_w, want_v in (
            ("the weights moved along the gradient only (plain SGD): they should move along "
             "the new velocity", w1 - lr * g1, None),
            ("that is the averaging form of momentum, where the gradient is scaled by "
             "(1 - momentum); torch and nnscratch add the full gradient to the decayed "
             "velocity", w1 - lr * v_avg, v_avg),
            ("the velocity has the learning rate inside it; here (like torch) the velocity "
             "collects gradients and the learning rate scales the step", w1 - v_lr, v_lr),
            ("sign error: step DOWNHILL, against the velocity", w1 + lr * v2, v2),
            ("the weights moved with the OLD velocity: update the velocity first, then move "
             "the weights with the new one", w1 - lr * v1, v2),
        ):
            if close(w_new, want_w) and (want_v is None or close(v_new, want_v)):
                fail(name, message)
        if not close(v_new, v2):
            fail(name, "v_new is wrong: the old velocity decays by the momentum factor and the "
                       "new gradient is added")
        fail(name, "v_new is right but w_new is not: the weights move against the new "
                   "velocity, scaled by the learning rate")
    passed(name, "three momentum steps agree with nnscratch.optim.SGD(momentum=...)")


def check_xavier_std(fn: Any) -> None:
    """Check your ``xavier_std(fan_in, fan_out) -> float``: the standard deviation of Xavier
    (Glorot) normal initialisation, as ``Linear(init="xavier")`` uses it, for several layer
    shapes.

    Names the typical mistakes: the variance instead of the standard deviation, He's rule,
    LeCun's rule, a missing factor 2, and using only one of the two fans.
    """
    name = "check_xavier_std"
    for fan_in, fan_out in ((10, 90), (64, 32), (300, 100), (7, 7), (1, 50)):
        want = math.sqrt(2.0 / (fan_in + fan_out))
        g = answer_number(name, call_student(name, fn, fan_in, fan_out), "return one number")
        if close(g, want):
            continue
        if close(g, want**2):
            fail(name, "that is the variance: return the standard deviation")
        if close(g, math.sqrt(2.0 / fan_in)) and fan_in != fan_out:
            fail(name, "that is He's rule (for ReLU), which looks at fan_in only; Xavier "
                       "balances fan_in and fan_out")
        if close(g, math.sqrt(1.0 / fan_in)) or close(g, math.sqrt(2.0 / fan_out)):
            fail(name, "your value uses only one of the fans; Xavier uses both")
        if close(g, math.sqrt(1.0 / (fan_in + fan_out))):
            fail(name, "missing factor 2 in the variance")
        if close(g, math.sqrt(2.0 / (fan_in * fan_out))):
            fail(name, "the fans are multiplied; Xavier averages them")
        fail(name, f"wrong value for fan_in={fan_in}, fan_out={fan_out}")
    passed(name, "Xavier's standard deviation for five layer shapes")


def check_l2_gradient(fn: Any) -> None:
    """Check your ``l2_gradient(grad, w, lam) -> array``: the gradient of
    loss + (lam/2) * ||w||^2, which is what ``SGD(weight_decay=lam)`` steps along, for several
    shapes and strengths.

    Names the typical mistakes: the penalty's gradient alone, a minus sign, the factor 2 kept,
    lam multiplying the whole gradient, a list, and changing ``grad`` in place.
    """
    name = "check_l2_gradient"
    rng = np.random.default_rng(9)
    for shape, lam in (((3, 4), 0.05), ((7,), 0.3), ((2, 5), 1e-3)):
        w, grad = rng.normal(size=shape), rng.normal(size=shape)
        p = Parameter(w.copy())
        p.grad[...] = grad
        SGD([p], lr=1.0, weight_decay=lam).step()
        want = w - p.data  # lr = 1: the step is exactly the penalised gradient
        out = call_student(name, fn, grad, w, lam)
        got = answer_array(name, out, shape, "the penalised gradient (the weights' shape)")
        if close(got, want):
            continue
        if close(got, lam * w):
            fail(name, "that is the penalty's gradient alone: add it to the loss's gradient")
        if close(got, grad - lam * w):
            fail(name, "sign error: the penalty grows with |w|, so its gradient points away "
                       "from 0 (and the step pulls the weights toward 0)")
        if close(got, grad + 2 * lam * w):
            fail(name, "factor 2: with the penalty (lam/2)||w||^2 the 2 from the square cancels "
                       "the one half")
        if close(got, lam * (grad + w)) or close(got, lam * grad + w):
            fail(name, "lam scales only the penalty's part of the gradient")
        if close(got, grad):
            fail(name, "the penalty is missing: you returned the loss's gradient unchanged")
        fail(name, f"wrong penalised gradient for lam={lam:g}")
    passed(name, "the penalised gradient, the step SGD(weight_decay=lam) takes")
