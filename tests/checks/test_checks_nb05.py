"""The notebook 05 checks accept right layers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import check_linear_backward, check_relu_backward, check_softmax_ce_backward
from nnscratch.functional import log_softmax, one_hot, softmax
from nnscratch.layers import Linear, Module, Parameter, ReLU
from nnscratch.losses import CrossEntropyLoss


class RefLinear(Module):
    def __init__(self, in_features, out_features, rng=None):
        gen = np.random.default_rng(rng)
        self.weight = Parameter(gen.normal(size=(out_features, in_features)))
        self.bias = Parameter(np.zeros(out_features))

    def forward(self, x):
        self.x = x
        return x @ self.weight.data.T + self.bias.data

    def backward(self, grad_out):
        self.weight.grad += grad_out.T @ self.x
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data


def linear(dw, db, dx, *, assign=False):
    """A RefLinear whose backward uses the given pieces (each a function of layer, grad_out)."""

    class Student(RefLinear):
        def backward(self, grad_out):
            gw, gb = dw(self, grad_out), db(self, grad_out)
            if assign:
                self.weight.grad = gw
                self.bias.grad = gb
            else:
                if gw is not None:
                    self.weight.grad += gw
                if gb is not None:
                    self.bias.grad += gb
            return dx(self, grad_out)

    return Student


DW = lambda s, g: g.T @ s.x  # noqa: E731
DB = lambda s, g: g.sum(axis=0)  # noqa: E731
DX = lambda s, g: g @ s.weight.data  # noqa: E731


class LinearInplace(RefLinear):
    def backward(self, grad_out):
        self.weight.grad += grad_out.T @ self.x
        self.bias.grad += grad_out.sum(axis=0)
        grad_out[...] = grad_out * 1.0 + 0.0
        grad_out += 0.0
        out = grad_out @ self.weight.data
        grad_out *= 0.5
        return out


class LinearOther(RefLinear):
    def backward(self, grad_out):
        np.add(self.weight.grad, np.einsum("no,ni->oi", grad_out, self.x), out=self.weight.grad)
        self.bias.grad = self.bias.grad + np.ones(len(grad_out)) @ grad_out
        return np.einsum("no,oi->ni", grad_out, self.weight.data)


class RefReLU(Module):
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0.0)

    def backward(self, grad_out):
        return grad_out * (self.x > 0)


def relu(fn):
    class Student(RefReLU):
        def backward(self, grad_out):
            return fn(self, grad_out)

    return Student


class ReLUInplace(RefReLU):
    def backward(self, grad_out):
        grad_out[self.x <= 0] = 0.0
        return grad_out


class ReLUByOutput(RefReLU):
    def forward(self, x):
        self.out = np.maximum(x, 0.0)
        return self.out

    def backward(self, grad_out):
        return np.where(self.out > 0, grad_out, 0.0)


class RefCE:
    def forward(self, logits, y):
        self.p = softmax(logits, axis=1)
        self.t = one_hot(y, logits.shape[1])
        return float(-np.sum(self.t * log_softmax(logits, axis=1)) / len(y))

    __call__ = forward

    def backward(self):
        return (self.p - self.t) / self.p.shape[0]


def ce(fn):
    class Student(RefCE):
        def backward(self):
            return fn(self)

    return Student


class CEOther(RefCE):
    def forward(self, logits, y):
        self.logits, self.y = logits, y
        return super().forward(logits, y)

    def backward(self):
        g = softmax(self.logits, axis=1)
        g[np.arange(len(self.y)), self.y] -= 1
        return g / len(self.y)


RIGHT = {
    check_linear_backward: [(RefLinear,), (LinearOther,), (Linear,), (RefLinear(4, 3, rng=0),)],
    check_relu_backward: [(RefReLU,), (ReLUByOutput,), (ReLU,), (RefReLU(),)],
    check_softmax_ce_backward: [(RefCE,), (CEOther,), (CrossEntropyLoss,)],
}

WRONG = {
    check_linear_backward: [
        ("dw-transposed", (linear(lambda s, g: s.x.T @ g, DB, DX),), r"comes out transposed"),
        ("dw-transposed-assigned", (linear(lambda s, g: s.x.T @ g, DB, DX, assign=True),),
         r"transposed"),
        ("no-bias", (linear(DW, lambda s, g: None, DX),), r"bias gradient is missing"),
        ("bias-not-summed", (linear(DW, lambda s, g: g, DX),), r"not collected over the batch"),
        ("bias-not-summed-assigned", (linear(DW, lambda s, g: g, DX, assign=True),),
         r"one row per sample"),
        ("bias-mean", (linear(DW, lambda s, g: g.mean(axis=0), DX),), r"averaged"),
        ("bias-one-sample", (linear(DW, lambda s, g: g[0], DX),), r"one sample"),
        ("dw-mean", (linear(lambda s, g: g.T @ s.x / len(g), DB, DX),), r"divided by n"),
        ("overwrites", (linear(DW, DB, DX, assign=True),), r"did not add"),
        ("dx-transposed", (linear(DW, DB, lambda s, g: g @ s.weight.data.T),),
         r"wrong shape|input gradient"),
        ("no-return", (linear(DW, DB, lambda s, g: None),), r"returned None"),
        ("dx-grad-out", (linear(DW, DB, lambda s, g: g),), r"input gradient"),
        ("no-dw", (linear(lambda s, g: None, DB, DX),), r"weight gradient is missing"),
        ("inplace", (LinearInplace,), r"in place"),
        ("dx-list", (linear(DW, DB, lambda s, g: (g @ s.weight.data).tolist()),), r"list"),
        ("dw-sign", (linear(lambda s, g: -(g.T @ s.x), DB, DX),), r"weight gradient differs"),
    ],
    check_relu_backward: [
        ("grad-sign", (relu(lambda s, g: g * (g > 0)),), r"wrong point"),
        ("mask-only", (relu(lambda s, g: (s.x > 0).astype(float)),), r"mask itself"),
        ("ge", (relu(lambda s, g: g * (s.x >= 0)),), r"exactly 0"),
        ("inverted", (relu(lambda s, g: g * (s.x <= 0)),), r"inverted"),
        ("no-mask", (relu(lambda s, g: g),), r"no mask"),
        ("inplace", (ReLUInplace,), r"in place"),
        ("maximum", (relu(lambda s, g: np.maximum(g, 0)),), r"wrong point"),
        ("list", (relu(lambda s, g: (g * (s.x > 0)).tolist()),), r"list"),
        ("relu-of-x", (relu(lambda s, g: np.maximum(s.x, 0)),), r"differs"),
        ("none", (relu(lambda s, g: None),), r"NumPy array"),
    ],
    check_softmax_ce_backward: [
        ("no-n", (ce(lambda s: s.p - s.t),), r"not divided by the batch size"),
        ("by-classes", (ce(lambda s: (s.p - s.t) / s.p.shape[1]),), r"number of classes"),
        ("sign", (ce(lambda s: (s.t - s.p) / len(s.p)),), r"sign error"),
        ("probs", (ce(lambda s: s.p / len(s.p)),), r"probabilities"),
        ("labels", (ce(lambda s: (s.p - s.t.argmax(axis=1)[:, None]) / len(s.p)),),
         r"label numbers"),
        ("hard-n", (ce(lambda s: (s.p - s.t) / 6),), r"typed into|not divided"),
        ("sum", (ce(lambda s: np.sum(s.p - s.t, axis=0) / len(s.p)),), r"shape"),
        ("onehot-only", (ce(lambda s: -s.t / len(s.p)),), r"differs"),
        ("transposed", (ce(lambda s: ((s.p - s.t) / len(s.p)).T),), r"shape"),
        ("list", (ce(lambda s: ((s.p - s.t) / len(s.p)).tolist()),), r"list"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


def test_a_layer_object_without_backward_is_refused() -> None:
    assert_rejects(check_linear_backward, (object(),), r"forward and backward")
