"""nnscratch.gradcheck: numerical gradients, relative error, and every layer's backward pass."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.gradcheck import gradcheck, numerical_gradient, rel_error
from nnscratch.layers import MLP, Dropout, Flatten, Linear, ReLU, Sequential, Sigmoid, Tanh


def test_numerical_gradient_of_a_cubic(rng):
    x = rng.normal(size=(3, 4))
    grad = numerical_gradient(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-7)
    assert grad.shape == x.shape


def test_numerical_gradient_restores_x_exactly(rng):
    x = rng.normal(size=(5, 3)) * 1e3 + 1e-7  # values where x + eps - eps != x in floats
    saved = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.sin(v))), x, eps=1e-4)
    assert x.tobytes() == saved.tobytes()


def test_numerical_gradient_sees_the_perturbation_in_place(rng):
    x = rng.normal(size=4)
    w = np.array([1.0, -2.0, 3.0, 0.5])
    np.testing.assert_allclose(numerical_gradient(lambda _: float(x @ w), x), w, rtol=1e-8)


def test_numerical_gradient_errors():
    with pytest.raises(TypeError, match="float NumPy array"):
        numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(TypeError, match="float NumPy array"):
        numerical_gradient(np.sum, np.arange(3))
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(np.sum, np.zeros((3, 4)).T)


def test_rel_error():
    a = np.array([1.0, -2.0, 0.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.array([1.0]), np.array([1.0 + 1e-6])) == pytest.approx(5e-7, rel=1e-3)
    assert rel_error(1e6 * a, 1e6 * (a + 1e-9)) == pytest.approx(rel_error(a, a + 1e-9), rel=1e-3)
    assert rel_error(np.array([1.0]), np.array([-1.0])) == 1.0
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        rel_error(a, a[:2])


LAYERS = {
    "linear": lambda: Linear(4, 3, rng=0),
    "linear_no_bias": lambda: Linear(4, 3, bias=False, rng=0),
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "dropout_eval": lambda: Dropout(0.5, rng=0),
    "flatten": Flatten,
    "sequential": lambda: Sequential(Linear(4, 5, rng=0), Tanh(), Linear(5, 2, rng=1), Sigmoid()),
    "mlp_relu": lambda: MLP([4, 6, 5, 3], "relu", rng=0),
    "mlp_tanh": lambda: MLP([4, 6, 3], "tanh", rng=0),
    "mlp_sigmoid": lambda: MLP([4, 6, 3], "sigmoid", rng=0),
    "mlp_dropout": lambda: MLP([4, 6, 3], rng=0, dropout=0.3),
}


@pytest.mark.parametrize("name", LAYERS)
def test_every_layer_passes_gradcheck(name, rng):
    module = LAYERS[name]()
    assert gradcheck(module, rng.normal(size=(5, 4))) < 1e-6


def test_gradcheck_restores_mode_and_clears_grads(rng):
    mlp = MLP([4, 6, 3], rng=0, dropout=0.5)
    gradcheck(mlp, rng.normal(size=(3, 4)))
    assert mlp.training and mlp[2].training
    assert all(not p.grad.any() for p in mlp.parameters())
    mlp.eval()
    gradcheck(mlp, rng.normal(size=(3, 4)))
    assert not mlp.training


class _WrongInputGrad(Linear):
    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        super().backward(grad_out)
        return grad_out @ self.weight.data * 2  # a factor 2 too much


class _WrongWeightGrad(Linear):
    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self.weight.grad += (grad_out.T @ self.x)[:, ::-1]  # columns swapped
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data


class _WrongSigmoid(Sigmoid):
    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out * self._out  # forgot the (1 - s) factor


@pytest.mark.parametrize("broken", [_WrongInputGrad, _WrongWeightGrad, _WrongSigmoid])
def test_a_broken_backward_is_caught(broken, rng):
    module = broken(4, 4, rng=0) if issubclass(broken, Linear) else broken()
    assert gradcheck(module, rng.normal(size=(5, 4))) > 0.1


def test_gradcheck_accepts_image_shaped_input() -> None:
    import numpy as np

    from nnscratch.gradcheck import gradcheck
    from nnscratch.layers import Flatten, Linear, Sequential

    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    assert gradcheck(Sequential(Flatten(), Linear(12, 2, rng=0)), x) < 1e-6
