"""The notebook 08 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import check_l2_gradient, check_momentum_step, check_xavier_std
from nnscratch.layers import Linear


def momentum_ref(w, v, grad, lr, momentum):
    v_new = momentum * v + grad
    return w - lr * v_new, v_new


def momentum_expanded(w, v, grad, lr, momentum):
    return w - lr * momentum * v - lr * grad, momentum * v + grad


def momentum_inplace(w, v, grad, lr, momentum):
    v *= momentum
    v += grad
    return w - lr * v, v


def momentum_w_inplace(w, v, grad, lr, momentum):
    v_new = momentum * v + grad
    w -= lr * v_new
    return w, v_new


def _mom(w_of, v_of):
    def step(w, v, grad, lr, momentum):
        v_new = v_of(v, grad, lr, momentum)
        return w_of(w, v, v_new, grad, lr), v_new

    return step


V = lambda v, g, lr, m: m * v + g  # noqa: E731

RIGHT = {
    check_momentum_step: [(momentum_ref,), (momentum_expanded,)],
    check_xavier_std: [
        (lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),),
        (lambda fan_in, fan_out: math.sqrt(1 / ((fan_in + fan_out) / 2)),),
    ],
    check_l2_gradient: [
        (lambda grad, w, lam: grad + lam * w,),
        (lambda grad, w, lam: np.add(grad, np.multiply(w, lam)),),
    ],
}

WRONG = {
    check_momentum_step: [
        ("plain-sgd", (_mom(lambda w, v, vn, g, lr: w - lr * g, V),), r"plain SGD"),
        ("averaging", (_mom(lambda w, v, vn, g, lr: w - lr * vn,
                            lambda v, g, lr, m: m * v + (1 - m) * g),), r"averaging form"),
        ("lr-inside", (_mom(lambda w, v, vn, g, lr: w - vn, lambda v, g, lr, m: m * v + lr * g),),
         r"learning rate inside"),
        ("sign", (_mom(lambda w, v, vn, g, lr: w + lr * vn, V),), r"DOWNHILL"),
        ("old-velocity", (_mom(lambda w, v, vn, g, lr: w - lr * v, V),), r"OLD velocity"),
        ("swapped", (lambda *a: momentum_ref(*a)[::-1],), r"wrong order"),
        ("v-inplace", (momentum_inplace,), r"in place"),
        ("w-inplace", (momentum_w_inplace,), r"in place"),
        ("v-wrong", (_mom(lambda w, v, vn, g, lr: w - lr * vn, lambda v, g, lr, m: v + g),),
         r"v_new is wrong"),
        ("w-wrong", (_mom(lambda w, v, vn, g, lr: w - vn, V),), r"w_new is not"),
        ("nesterov", (_mom(lambda w, v, vn, g, lr: w - lr * (g + 0.9 * vn), V),),
         r"w_new is not"),
        ("fixed-momentum", (_mom(lambda w, v, vn, g, lr: w - lr * vn,
                                 lambda v, g, lr, m: 0.9 * v + g),), r"v_new is wrong"),
        ("list", (lambda *a: [x.tolist() for x in momentum_ref(*a)],), r"list"),
        ("w-only", (lambda *a: momentum_ref(*a)[0],), r"pair"),
    ],
    check_xavier_std: [
        ("variance", (lambda i, o: 2.0 / (i + o),), r"variance"),
        ("he", (lambda i, o: math.sqrt(2.0 / i),), r"He's rule"),
        ("lecun", (lambda i, o: math.sqrt(1.0 / i),), r"one of the fans"),
        ("fan-out", (lambda i, o: math.sqrt(2.0 / o),), r"one of the fans"),
        ("no-2", (lambda i, o: math.sqrt(1.0 / (i + o)),), r"factor 2"),
        ("product", (lambda i, o: math.sqrt(2.0 / (i * o)),), r"multiplied"),
        ("uniform-limit", (lambda i, o: math.sqrt(6.0 / (i + o)),), r"wrong value"),
        ("array", (lambda i, o: np.full(2, math.sqrt(2.0 / (i + o))),), r"one number"),
        ("int-div", (lambda i, o: math.sqrt(2 // (i + o)),), r"wrong value"),
    ],
    check_l2_gradient: [
        ("penalty-only", (lambda grad, w, lam: lam * w,), r"penalty's gradient alone"),
        ("sign", (lambda grad, w, lam: grad - lam * w,), r"sign error"),
        ("factor-2", (lambda grad, w, lam: grad + 2 * lam * w,), r"factor 2"),
        ("lam-all", (lambda grad, w, lam: lam * (grad + w),), r"lam scales only"),
        ("lam-grad", (lambda grad, w, lam: lam * grad + w,), r"lam scales only"),
        ("none", (lambda grad, w, lam: grad,), r"penalty is missing"),
        ("inplace", (lambda grad, w, lam: np.add(grad, lam * w, out=grad),), r"in place"),
        ("list", (lambda grad, w, lam: (grad + lam * w).tolist(),), r"list"),
        ("squared", (lambda grad, w, lam: grad + lam * w**2,), r"wrong penalised"),
        ("half", (lambda grad, w, lam: grad + lam * w / 2,), r"wrong penalised"),
        ("norm", (lambda grad, w, lam: grad + lam * np.linalg.norm(w),), r"wrong penalised"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


def test_xavier_rule_is_the_one_linear_uses() -> None:
    layer = Linear(300, 100, init="xavier", rng=0)
    assert abs(layer.weight.data.std() / math.sqrt(2 / 400) - 1) < 0.02
