"""nnscratch.perceptron: the learning rule, logic gates, separable data and XOR."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.data import make_blobs, make_xor
from nnscratch.perceptron import Perceptron

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0]}


@pytest.mark.parametrize("gate", GATES)
def test_learns_logic_gates(gate):
    y = np.array(GATES[gate])
    p = Perceptron(2, lr=0.1).fit(INPUTS, y, epochs=50)
    np.testing.assert_array_equal(p.predict(INPUTS), y)
    assert p.history[-1][2] == 0  # the last epoch made no mistake, so training stopped
    assert len(p.history) < 50


def test_learning_rule_by_hand():
    p = Perceptron(2, lr=0.5)
    p.fit(np.array([[1.0, 2.0]]), np.array([0]), epochs=1)  # predicts 1 (0 >= 0): wrong
    np.testing.assert_allclose(p.w, [-0.5, -1.0])
    assert p.b == -0.5
    w, b, mistakes = p.history[0]
    np.testing.assert_allclose(w, p.w)
    assert (b, mistakes) == (-0.5, 1)


def test_separable_blobs_converge():
    X, y = make_blobs(200, centers=np.array([[-3.0, -3.0], [3.0, 3.0]]), std=0.7, rng=0)
    p = Perceptron(2, rng=0).fit(X, y, epochs=100, shuffle=True)
    assert p.history[-1][2] == 0
    np.testing.assert_array_equal(p.predict(X), y)


def test_xor_never_reaches_zero_mistakes():
    p = Perceptron(2, lr=0.1).fit(INPUTS, np.array([0, 1, 1, 0]), epochs=100)
    assert len(p.history) == 100
    assert all(mistakes > 0 for _, _, mistakes in p.history)
    X, y = make_xor(200, rng=0)
    noisy = Perceptron(2).fit(X, y, epochs=30)
    assert min(m for _, _, m in noisy.history) > 0
    assert np.mean(noisy.predict(X) == y) < 0.9


def test_net_input_predict_and_given_weights():
    p = Perceptron(2, weights=np.array([1.0, -1.0]), bias=0.5)
    np.testing.assert_allclose(p.net_input(INPUTS), [0.5, -0.5, 1.5, 0.5])
    np.testing.assert_array_equal(p.predict(INPUTS), [1, 0, 1, 1])
    assert p.predict(INPUTS).dtype == np.int64
    assert repr(p) == "Perceptron(w=[1.0, -1.0], b=0.5)"


def test_shuffle_is_reproducible_with_a_seed():
    X, y = make_blobs(60, centers=2, std=2.0, rng=1)
    a = Perceptron(2, rng=3).fit(X, y, epochs=5, shuffle=True)
    b = Perceptron(2, rng=3).fit(X, y, epochs=5, shuffle=True)
    np.testing.assert_array_equal(a.w, b.w)


def test_errors():
    p = Perceptron(2)
    with pytest.raises(ValueError, match=r"labels must be 0 or 1.*\[-1  1\]"):
        p.fit(INPUTS, np.array([-1, 1, 1, -1]))
    with pytest.raises(ValueError, match="same number of samples"):
        p.fit(INPUTS, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"2 features.*\(4, 3\)"):
        p.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="epochs.*0"):
        p.fit(INPUTS, np.array([0, 1, 1, 0]), epochs=0)
    with pytest.raises(ValueError, match="n_features.*0"):
        Perceptron(0)
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\), got \(3,\)"):
        Perceptron(2, weights=np.zeros(3))
    with pytest.raises(ValueError, match="learning rate lr"):
        Perceptron(2, lr=-1.0)
    with pytest.raises(TypeError, match="learning rate lr"):
        Perceptron(2, lr="fast")
