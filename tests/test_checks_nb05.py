"""The notebook 05 checks pass on reference layers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.checks import CheckFailed, nb05
from nnscratch.functional import log_softmax, one_hot, softmax
from nnscratch.layers import Module, Parameter


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


class TransposedW(RefLinear):
    def backward(self, grad_out):
        self.weight.grad += self.x.T @ grad_out
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data


class TransposedWAssigned(RefLinear):
    def backward(self, grad_out):
        self.weight.grad = self.x.T @ grad_out
        self.bias.grad = grad_out.sum(axis=0)
        return grad_out @ self.weight.data


class NoBias(RefLinear):
    def backward(self, grad_out):
        self.weight.grad += grad_out.T @ self.x
        return grad_out @ self.weight.data


class BiasNotSummed(RefLinear):
    def backward(self, grad_out):
        self.weight.grad += grad_out.T @ self.x
        self.bias.grad += grad_out
        return grad_out @ self.weight.data


class BiasNotSummedAssigned(RefLinear):
    def backward(self, grad_out):
        self.weight.grad += grad_out.T @ self.x
        self.bias.grad = grad_out
        return grad_out @ self.weight.data


class BiasAveraged(RefLinear):
    def backward(self, grad_out):
        self.weight.grad += grad_out.T @ self.x
        self.bias.grad += grad_out.mean(axis=0)
        return grad_out @ self.weight.data


class Overwrites(RefLinear):
    def backward(self, grad_out):
        self.weight.grad = grad_out.T @ self.x
        self.bias.grad = grad_out.sum(axis=0)
        return grad_out @ self.weight.data


class InputGradTransposed(RefLinear):
    def backward(self, grad_out):
        self.weight.grad += grad_out.T @ self.x
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data.T


def test_linear_backward_passes(capsys):
    nb05.check_linear_backward(RefLinear)
    nb05.check_linear_backward(RefLinear(2, 3))  # an instance works too
    assert capsys.readouterr().out.count("passed") == 2


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (TransposedW, "transposed weight gradient"),
        (TransposedWAssigned, "transposed weight gradient"),
        (NoBias, "missing bias gradient"),
        (BiasNotSummed, "not summed over the batch"),
        (BiasNotSummedAssigned, "not summed over the batch"),
        (BiasAveraged, "averaged over the batch"),
        (Overwrites, "overwritten"),
        (InputGradTransposed, "no transpose on W"),
    ],
)
def test_linear_backward_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        nb05.check_linear_backward(wrong)


class RefReLU(Module):
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, grad_out):
        return grad_out * (self.x > 0)


class ReLUByOutput(RefReLU):
    def forward(self, x):
        self.out = np.maximum(x, 0)
        return self.out

    def backward(self, grad_out):
        return grad_out * (self.out > 0)


class ReLUGradSign(RefReLU):
    def backward(self, grad_out):
        return grad_out * (grad_out > 0)


class ReLUMaskOnly(RefReLU):
    def backward(self, grad_out):
        return (self.x > 0).astype(float)


class ReLUAtZero(RefReLU):
    def backward(self, grad_out):
        return grad_out * (self.x >= 0)


class ReLUTodo(RefReLU):
    def backward(self, grad_out):
        raise NotImplementedError()


def test_relu_backward_passes(capsys):
    nb05.check_relu_backward(RefReLU)
    nb05.check_relu_backward(ReLUByOutput)  # masking by the output is just as right
    assert capsys.readouterr().out.count("passed") == 2


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (ReLUGradSign, "mask taken at the wrong point"),
        (ReLUMaskOnly, "returned the mask itself"),
        (ReLUAtZero, "x == 0"),
        (ReLUTodo, "NotImplementedError"),
    ],
)
def test_relu_backward_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        nb05.check_relu_backward(wrong)


class RefCE:
    def forward(self, logits, y):
        self.p = softmax(logits, axis=1)
        self.y = y
        return float(-np.mean(log_softmax(logits, axis=1)[np.arange(len(y)), y]))

    def backward(self):
        n, c = self.p.shape
        return (self.p - one_hot(self.y, c)) / n


class CENoMean(RefCE):
    def backward(self):
        return self.p - one_hot(self.y, self.p.shape[1])


class CESign(RefCE):
    def backward(self):
        return (one_hot(self.y, self.p.shape[1]) - self.p) / len(self.y)


class CEProbs(RefCE):
    def backward(self):
        return self.p / len(self.y)


def test_softmax_ce_backward_passes(capsys):
    nb05.check_softmax_ce_backward(RefCE)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (CENoMean, "forgot to divide by the batch size"),
        (CESign, "sign error"),
        (CEProbs, "returned the probabilities"),
    ],
)
def test_softmax_ce_backward_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        nb05.check_softmax_ce_backward(wrong)


def test_not_a_layer_is_rejected():
    with pytest.raises(CheckFailed, match="expected a layer"):
        nb05.check_relu_backward(42)


def test_checks_are_exported():
    import nnscratch.checks as checks

    for name in nb05.__all__:
        assert getattr(checks, name) is getattr(nb05, name)


def test_library_layers_pass(capsys):
    from nnscratch.layers import Linear, ReLU
    from nnscratch.losses import CrossEntropyLoss

    nb05.check_linear_backward(Linear)
    nb05.check_relu_backward(ReLU)
    nb05.check_softmax_ce_backward(CrossEntropyLoss)
    assert capsys.readouterr().out.count("passed") == 3
