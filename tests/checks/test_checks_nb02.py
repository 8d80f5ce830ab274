"""The notebook 02 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import check_collapse, check_dense_forward, check_mlp_forward, check_sigmoid
from nnscratch.functional import relu, sigmoid


def dense_ref(x, W, b):
    return x @ W.T + b


def forward_ref(x, weights, biases):
    a = x
    for k, (W, b) in enumerate(zip(weights, biases, strict=True)):
        z = dense_ref(a, W, b)
        a = z if k == len(weights) - 1 else sigmoid(z)
    return a


def forward_other(x, weights, biases):
    *hidden, last = list(zip(weights, biases, strict=True))
    for W, b in hidden:
        x = 0.5 * (1 + np.tanh(0.5 * (np.einsum("ni,oi->no", x, W) + b)))
    return x @ last[0].T + last[1]


def _forward(act_hidden, act_last, layers=None):
    def forward(x, weights, biases):
        a = x
        pairs = list(zip(weights, biases, strict=True))[:layers]
        for k, (W, b) in enumerate(pairs):
            z = a @ W.T + b
            a = act_last(z) if k == len(pairs) - 1 else act_hidden(z)
        return a

    return forward


def forward_two_layers(x, weights, biases):
    h = sigmoid(x @ weights[0].T + biases[0])
    return h @ weights[1].T + biases[1]


def forward_mutates(x, weights, biases):
    for k in range(len(weights)):
        weights[k] = weights[k].T
    return _forward(sigmoid, lambda z: z)(x, [w.T for w in weights], biases)


def dense_inplace(x, W, b):
    x[...] = x @ W.T[:, : x.shape[1]] if W.shape[0] >= x.shape[1] else x
    return x @ W.T + b if x.shape[1] == W.shape[1] else x


def sigmoid_inplace(z):
    z *= -1
    np.exp(z, out=z)
    z += 1
    return 1 / z


def sigmoid_stable(z):
    out = np.empty_like(z, dtype=float)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out


def sigmoid_math(z):
    return 1 / (1 + math.exp(-z))


def collapse_ref(W1, b1, W2, b2):
    return W2 @ W1, W2 @ b1 + b2


def collapse_other(W1, b1, W2, b2):
    return np.einsum("oh,hi->oi", W2, W1), np.dot(W2, b1) + b2


RIGHT = {
    check_sigmoid: [
        (lambda z: 1 / (1 + np.exp(-z)),),
        (sigmoid_stable,),
        (lambda z: 0.5 * (1 + np.tanh(z / 2)),),
        (sigmoid,),
    ],
    check_dense_forward: [
        (dense_ref,),
        (lambda x, W, b: np.einsum("ni,oi->no", x, W) + b[None, :],),
        (lambda x, W, b: (W @ x.T).T + b,),
    ],
    check_mlp_forward: [(forward_ref,), (forward_other,)],
    check_collapse: [(collapse_ref,), (collapse_other,), (lambda W1, b1, W2, b2: (
        (W1.T @ W2.T).T, (b1 @ W2.T) + b2),)],
}

WRONG = {
    check_sigmoid: [
        ("sign", (lambda z: 1 / (1 + np.exp(z)),), r"sign of the exponent"),
        ("no-one", (lambda z: 1 / np.exp(-z),), r"denominator is missing its 1"),
        ("math-exp", (sigmoid_math,), r"math module"),
        ("vectorize-math", (np.vectorize(sigmoid_math),), r"math module"),
        ("nan-large", (lambda z: np.exp(z) / (1 + np.exp(z)),), r"NaN for large"),
        ("clip-wrong", (lambda z: np.clip(1 / (1 + np.exp(-z)), 0.01, 0.99),), r"\+-1000|differ"),
        ("tanh", (np.tanh,), r"differ"),
        ("inplace", (sigmoid_inplace,), r"in place"),
        ("list", (lambda z: [1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in z],),
         r"list|math module"),
        ("relu", (relu,), r"differ"),
        ("flatten", (lambda z: (1 / (1 + np.exp(-z))).ravel(),), r"shape"),
        ("none", (lambda z: None,), r"NumPy array"),
    ],
    check_dense_forward: [
        ("untransposed", (lambda x, W, b: x @ W + b,), r"stored|\(out_features, in_features\)"),
        ("no-bias", (lambda x, W, b: x @ W.T,), r"bias is missing"),
        ("minus-bias", (lambda x, W, b: x @ W.T - b,), r"subtracted"),
        ("bias-axis", (lambda x, W, b: x @ W.T + b[:, None],), r"wrong axis|shapes do not fit"),
        ("transposed-out", (lambda x, W, b: W @ x.T + b[:, None],), r"one row per sample|shapes"),
        ("list", (lambda x, W, b: (x @ W.T + b).tolist(),), r"list"),
        ("inplace", (dense_inplace,), r"in place"),
        ("elementwise", (lambda x, W, b: (x * W).sum(axis=1) + b,), r"shapes do not fit|shape"),
        ("first-row", (lambda x, W, b: x[:1] @ W.T + b,), r"shape"),
        ("double-bias", (lambda x, W, b: x @ W.T + 2 * b,), r"differs"),
    ],
    check_mlp_forward: [
        ("sigmoid-last", (_forward(sigmoid, sigmoid),), r"last layer too"),
        ("no-activation", (_forward(lambda z: z, lambda z: z),), r"no activation"),
        ("relu", (_forward(relu, lambda z: z),), r"another activation"),
        ("two-layers", (forward_two_layers,), r"fixed number of layers|however many"),
        ("first-only", (_forward(sigmoid, lambda z: z, layers=1),),
         r"fixed number|first layer"),
        ("untransposed", (lambda x, ws, bs: _forward(sigmoid, lambda z: z)(
            x, [w.T for w in ws], bs),), r"do not fit|stored"),
        ("mutates", (forward_mutates,), r"in place"),
        ("list", (lambda x, ws, bs: forward_ref(x, ws, bs).tolist(),), r"list"),
        ("reversed", (lambda x, ws, bs: forward_ref(x, ws[::-1], bs[::-1]),), r"do not fit|raised"),
        ("sigmoid-input", (lambda x, ws, bs: forward_ref(sigmoid(x), ws, bs),), r"differs"),
    ],
    check_collapse: [
        ("order", (lambda W1, b1, W2, b2: (W1 @ W2, W2 @ b1 + b2),), r"wrong order|do not fit"),
        ("bias-sum", (lambda W1, b1, W2, b2: (W2 @ W1, b1 + b2),), r"first bias also passes"),
        ("bias-lost", (lambda W1, b1, W2, b2: (W2 @ W1, b2),), r"first bias is lost"),
        ("transposed", (lambda W1, b1, W2, b2: ((W2 @ W1).T, W2 @ b1 + b2),), r"stored|transposed"),
        ("bias-order", (lambda W1, b1, W2, b2: (W2 @ W1, W2 @ b2 + b1),), r"do not fit|bias"),
        ("bias-only-W", (lambda W1, b1, W2, b2: (W2 @ W1, W2 @ b1),), r"bias is not"),
        ("list", (lambda W1, b1, W2, b2: [(W2 @ W1).tolist(), (W2 @ b1 + b2).tolist()],), r"list"),
        ("elementwise", (lambda W1, b1, W2, b2: (W2 * W1, W2 * b1 + b2),),
         r"do not fit|differs|shape"),
        ("single", (lambda W1, b1, W2, b2: W2 @ W1,), r"pair"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)
