"""Activations and gradient norms per layer (nnscratch.diagnostics)."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.diagnostics import gradient_norms, layer_outputs, leaf_modules, weight_grad_norms
from nnscratch.layers import MLP, Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh
from nnscratch.losses import CrossEntropyLoss, MSELoss


def test_leaf_modules_opens_nested_sequentials():
    inner = Sequential(Linear(3, 4, rng=0), ReLU())
    model = Sequential(inner, Linear(4, 2, rng=1), Tanh())
    leaves = leaf_modules(model)
    assert [type(m) for m in leaves] == [Linear, ReLU, Linear, Tanh]
    assert leaf_modules(leaves[0]) == [leaves[0]]
    with pytest.raises(TypeError, match="Module"):
        leaf_modules("not a model")


def test_layer_outputs_match_a_manual_forward(rng):
    model = MLP([5, 7, 6, 3], activation="tanh", rng=0)
    X = rng.normal(size=(8, 5))
    acts = layer_outputs(model, X)
    assert [a.shape for a in acts] == [(8, 7), (8, 6)]
    h1 = np.tanh(X @ model[0].weight.data.T + model[0].bias.data)
    h2 = np.tanh(h1 @ model[2].weight.data.T + model[2].bias.data)
    np.testing.assert_allclose(acts[0], h1)
    np.testing.assert_allclose(acts[1], h2)
    pre = layer_outputs(model, X, types=(Linear,))
    assert len(pre) == 3
    np.testing.assert_allclose(pre[-1], model(X))


def test_layer_outputs_eval_mode_and_restores_training(rng):
    model = Sequential(Linear(4, 50, rng=0), ReLU(), Dropout(0.5, rng=0), Linear(50, 2, rng=1))
    X = rng.normal(size=(6, 4))
    out = layer_outputs(model, X, types=(Dropout,))[0]
    np.testing.assert_allclose(out, layer_outputs(model, X, types=(ReLU,))[0])  # no dropout
    assert model.training and model[2].training
    model.eval()
    layer_outputs(model, X)
    assert not model.training


def test_layer_outputs_bad_input():
    with pytest.raises(TypeError, match="Sequential"):
        layer_outputs(Linear(2, 2), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="no layer of type Sigmoid"):
        layer_outputs(MLP([2, 3, 1]), np.zeros((1, 2)), types=(Sigmoid,))
    with pytest.raises(ValueError, match="2-D batch"):
        layer_outputs(MLP([2, 3, 1]), np.zeros(2))


def test_gradient_norms_equal_the_norms_of_a_manual_backward(rng):
    model = MLP([4, 6, 5, 3], rng=0)
    X, y = rng.normal(size=(10, 4)), rng.integers(0, 3, 10)
    loss = CrossEntropyLoss()
    model.zero_grad()
    loss(model(X), y)
    model.backward(loss.backward())
    expected = [np.linalg.norm(model[i].weight.grad) for i in (0, 2, 4)]
    np.testing.assert_allclose(weight_grad_norms(model), expected)
    # gradient_norms zeroes first, so a second call gives the same numbers (no accumulation)
    before = [p.data.copy() for p in model.parameters()]
    np.testing.assert_allclose(gradient_norms(model, loss, X, y), expected)
    np.testing.assert_allclose(gradient_norms(model, loss, X, y), expected)
    for p, b in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)


def test_deep_sigmoid_gradients_shrink_towards_the_input(rng):
    X, y = rng.normal(size=(64, 10)), rng.integers(0, 2, 64)
    sig = MLP([10] + [32] * 8 + [2], activation="sigmoid", rng=0)
    relu = MLP([10] + [32] * 8 + [2], activation="relu", rng=0)
    g_sig = gradient_norms(sig, CrossEntropyLoss(), X, y)
    g_relu = gradient_norms(relu, CrossEntropyLoss(), X, y)
    assert g_sig[0] < 1e-3 * g_sig[-1]
    assert g_relu[0] > 1e-2 * g_relu[-1]


def test_gradient_norms_bad_input():
    with pytest.raises(TypeError, match="loss"):
        gradient_norms(MLP([2, 1]), "mse", np.zeros((1, 2)), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="no Linear"):
        weight_grad_norms(Sequential(ReLU()))
    assert gradient_norms(MLP([2, 1]), MSELoss(), np.ones((1, 2)), np.zeros((1, 1))).shape == (1,)
