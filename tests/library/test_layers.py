"""nnscratch.layers: shapes, forward values, backward passes, containers and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.functional import relu_grad, sigmoid, sigmoid_grad, tanh_grad
from nnscratch.layers import (
    MLP,
    Dropout,
    Flatten,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)


def test_parameter():
    p = Parameter(np.ones((2, 3)))
    assert p.shape == (2, 3)
    np.testing.assert_array_equal(p.grad, np.zeros((2, 3)))
    p.grad += 5
    grad = p.grad
    p.zero_grad()
    assert not p.grad.any() and p.grad.shape == (2, 3)  # zeros again, as a new array
    assert not np.shares_memory(grad, p.grad)  # dropped, like torch's set_to_none
    assert repr(p) == "Parameter(shape=(2, 3), dtype=float64)"


def test_parameter_accumulate_matmul_adds_like_grad_plus_equals():
    p = Parameter(np.ones((2, 3), dtype=np.float32))
    a, b = np.arange(8.0).reshape(2, 4), np.arange(12.0).reshape(4, 3)
    p.accumulate_matmul(a, b)  # right after creation: the product is stored, as float32
    assert p.grad.dtype == np.float32
    np.testing.assert_array_equal(p.grad, a @ b)
    p.accumulate_matmul(a, b)
    np.testing.assert_array_equal(p.grad, 2 * (a @ b))
    p.zero_grad()
    p.grad += a @ b  # a module of one's own adds the usual way
    p.accumulate_matmul(a, b)
    np.testing.assert_array_equal(p.grad, 2 * (a @ b))
    assert not np.shares_memory(p.grad, a) and not np.shares_memory(p.grad, b)
    with pytest.raises(ValueError, match=r"product of shape \(2, 2\).*shape \(2, 3\)"):
        p.accumulate_matmul(a, b[:, :2])


def test_parameter_accumulate_adopts_a_fresh_update_then_adds():
    p = Parameter(np.ones(3))
    update = np.array([1.0, -2.0, 0.5])
    p.accumulate(update)  # right after creation: the update itself becomes grad, no zeros
    assert np.shares_memory(p.grad, update)
    p.accumulate(np.array([1.0, 1.0, 1.0]))  # then it adds, like grad +=
    np.testing.assert_array_equal(p.grad, [2.0, -1.0, 1.5])
    q = Parameter(np.ones(3, dtype=np.float32))
    q.accumulate(np.array([1.0, -2.0, 0.5]))  # kept in the parameter's dtype
    assert q.grad.dtype == np.float32
    np.testing.assert_array_equal(q.grad, [1.0, -2.0, 0.5])
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\).*shape \(3,\)"):
        p.accumulate(np.zeros(2))


def test_linear_shapes_and_forward(rng):
    layer = Linear(3, 2, rng=0)
    assert layer.weight.shape == (2, 3) and layer.bias.shape == (2,)
    layer.bias.data[:] = [0.5, -1.0]
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T + layer.bias.data)
    assert layer.parameters() == [layer.weight, layer.bias]  # weight before bias
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=True)"


def test_linear_without_bias(rng):
    layer = Linear(3, 2, bias=False, rng=0)
    assert layer.bias is None and layer.parameters() == [layer.weight]
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T)
    layer.backward(np.ones((4, 2)))
    np.testing.assert_allclose(layer.weight.grad, np.ones((2, 4)) @ x)


def test_linear_backward_by_hand_and_accumulation(rng):
    layer = Linear(3, 2, rng=0)
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer(x)
    np.testing.assert_allclose(layer.backward(g), g @ layer.weight.data)
    np.testing.assert_allclose(layer.weight.grad, g.T @ x)
    np.testing.assert_allclose(layer.bias.grad, g.sum(axis=0))
    layer.backward(g)  # gradients add up until zero_grad, like torch
    np.testing.assert_allclose(layer.weight.grad, 2 * g.T @ x)
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


@pytest.mark.parametrize(
    ("init", "std"), [("he", np.sqrt(2 / 200)), ("xavier", np.sqrt(2 / 300)), (0.05, 0.05)]
)
def test_linear_init_spread(init, std):
    w = Linear(200, 100, init=init, rng=1).weight.data
    assert abs(w.mean()) < 0.1 * std
    assert w.std() == pytest.approx(std, rel=0.03)


def test_linear_torch_and_zero_init():
    layer = Linear(16, 50, init="torch", rng=0)
    bound = 1 / np.sqrt(16)
    assert np.all(np.abs(layer.weight.data) <= bound) and layer.weight.data.max() > 0.9 * bound
    assert np.all(np.abs(layer.bias.data) <= bound) and layer.bias.data.any()
    zero = Linear(4, 3, init="zeros")
    assert not zero.weight.data.any() and not zero.bias.data.any()


def test_linear_seeded_init_is_reproducible_and_independent_of_global_state():
    np.random.seed(123)  # noqa: NPY002 - must have no effect
    a = Linear(5, 4, rng=7).weight.data
    np.random.seed(456)  # noqa: NPY002
    b = Linear(5, 4, rng=7).weight.data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, Linear(5, 4, rng=8).weight.data)


def test_linear_float32(rng):
    layer = Linear(3, 2, rng=0, dtype=np.float32)
    assert layer.weight.data.dtype == np.float32 and layer.bias.data.dtype == np.float32
    x = rng.normal(size=(4, 3)).astype(np.float32)
    assert layer(x).dtype == np.float32
    assert layer.backward(np.ones((4, 2), np.float32)).dtype == np.float32
    assert layer.weight.grad.dtype == np.float32
    assert Linear(3, 2).weight.data.dtype == np.float64


def test_linear_errors():
    layer = Linear(3, 2)
    with pytest.raises(ValueError, match=r"3 features.*\(4, 5\)"):
        layer(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"2-D batch.*\(3,\)"):
        layer(np.zeros(3))
    with pytest.raises(RuntimeError, match="forward before backward"):
        Linear(3, 2).backward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="in_features.*0"):
        Linear(0, 2)
    with pytest.raises(TypeError, match="out_features must be an int, got 2.5"):
        Linear(3, 2.5)
    with pytest.raises(ValueError, match="init.*'uniform'"):
        Linear(3, 2, init="uniform")
    with pytest.raises(TypeError, match="float32 or float64.*int64"):
        Linear(3, 2, dtype=np.int64)
    with pytest.raises(TypeError, match="rng"):
        Linear(3, 2, rng="zero")


@pytest.mark.parametrize(
    ("module", "deriv"), [(ReLU(), relu_grad), (Sigmoid(), sigmoid_grad), (Tanh(), tanh_grad)]
)
def test_activation_layers(module, deriv, rng):
    x, g = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    out = module(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(module.backward(g), g * deriv(x), rtol=1e-12)
    assert module.parameters() == []
    x32 = x.astype(np.float32)
    assert module(x32).dtype == np.float32
    assert module.backward(g.astype(np.float32)).dtype == np.float32


def test_activation_forward_values():
    x = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(ReLU()(x), [[0.0, 0.0, 2.0]])
    np.testing.assert_allclose(Sigmoid()(x), sigmoid(x))
    np.testing.assert_allclose(Tanh()(x), np.tanh(x))
    relu = ReLU()
    relu(x)
    np.testing.assert_array_equal(relu.backward(np.ones_like(x)), [[0.0, 0.0, 1.0]])  # 0 at 0


def test_dropout_train_mode(rng):
    layer = Dropout(0.3, rng=0)
    x = np.ones((200, 100))
    out = layer(x)
    dropped = out == 0
    assert dropped.mean() == pytest.approx(0.3, abs=0.02)
    np.testing.assert_allclose(out[~dropped], 1 / 0.7)  # inverted dropout: survivors scaled
    assert out.mean() == pytest.approx(1.0, abs=0.03)
    g = rng.normal(size=x.shape)
    np.testing.assert_allclose(layer.backward(g), g * out)  # the same mask goes back
    assert not np.array_equal(layer(x), out)  # a fresh mask each call


def test_dropout_eval_mode_and_p_zero_are_identity(rng):
    x = rng.normal(size=(5, 4))
    layer = Dropout(0.5, rng=0).eval()
    assert not layer.training
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    np.testing.assert_array_equal(Dropout(0.0)(x), x)


def test_dropout_reproducible_float32_and_errors():
    x = np.ones((6, 6), np.float32)
    a, b = Dropout(0.5, rng=3)(x), Dropout(0.5, rng=3)(x)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"
    for p in (1.5, 1.0, -0.1):
        with pytest.raises(ValueError, match=r"\[0, 1\).*" + repr(p).replace(".", r"\.")):
            Dropout(p=p)
    with pytest.raises(TypeError, match="must be a number, got '0.5' \\(str\\)"):
        Dropout(p="0.5")
    assert Dropout(np.float32(0.25)).p == 0.25  # NumPy numbers are fine


def test_flatten(rng):
    x = rng.normal(size=(4, 2, 3))
    layer = Flatten()
    out = layer(x)
    np.testing.assert_array_equal(out, x.reshape(4, 6))
    g = rng.normal(size=(4, 6))
    np.testing.assert_array_equal(layer.backward(g), g.reshape(4, 2, 3))


def test_sequential_container():
    a, r, b = Linear(4, 3, rng=0), ReLU(), Linear(3, 2, rng=1)
    seq = Sequential(a, r, b)
    assert len(seq) == 3 and list(seq) == [a, r, b] and seq[2] is b and seq[-1] is b
    head = seq[:2]
    assert isinstance(head, Sequential) and list(head) == [a, r]
    assert seq.parameters() == [a.weight, a.bias, b.weight, b.bias]
    assert seq.children() == [a, r, b]
    assert seq.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2
    assert "(0): Linear(in_features=4" in repr(seq) and "(1): ReLU()" in repr(seq)
    with pytest.raises(TypeError, match="item 1 must be a Module.*ufunc"):
        Sequential(a, np.tanh)


def test_sequential_forward_backward_chain(rng):
    seq = Sequential(Linear(4, 3, rng=0), Tanh(), Linear(3, 2, rng=1))
    x, g = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    h = seq[0](x)
    np.testing.assert_allclose(seq(x), seq[2](np.tanh(h)))
    seq.zero_grad()
    gx = seq.backward(g)
    manual = ((g @ seq[2].weight.data) * (1 - np.tanh(h) ** 2)) @ seq[0].weight.data
    np.testing.assert_allclose(gx, manual, rtol=1e-12)


class _NoBackward(Module):
    """The identity, with a backward that must not run (and counts its calls to prove it)."""

    def __init__(self) -> None:
        self.calls = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self.calls += 1
        raise AssertionError("backward_params ran a layer in front of every parameter")


class _SpyLinear(Linear):
    """A Linear that records which of its backward methods ran."""

    def __init__(self, in_features: int, out_features: int, rng: int) -> None:
        super().__init__(in_features, out_features, rng=rng)
        self.ran: list[str] = []

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self.ran.append("backward")
        return super().backward(grad_out)

    def backward_params(self, grad_out: np.ndarray) -> None:
        self.ran.append("backward_params")
        super().backward_params(grad_out)


def test_sequential_backward_params_skips_the_layers_before_the_first_parameter(rng):
    # Nothing in front of the first layer with parameters needs a gradient: those layers do
    # not run, and that layer takes the parameter-only path; the gradients are backward's.
    x, g = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    grads = []
    for method in ("backward", "backward_params"):
        lead, first = _NoBackward(), _SpyLinear(4, 3, rng=0)
        inner = Sequential(_NoBackward(), Sequential(_NoBackward(), first))
        seq = Sequential(lead, inner, Tanh(), Linear(3, 2, rng=1))
        seq(x)
        if method == "backward":
            with pytest.raises(AssertionError, match="in front of every parameter"):
                seq.backward(g)  # the spy is honest: backward does reach it
            seq.zero_grad()  # and the gradients of backward, by hand, up to ``first``
            first.backward(seq[2].backward(seq[3].backward(g)))
        else:
            seq.backward_params(g)
            assert lead.calls == 0 and inner[0].calls == 0 and inner[1][0].calls == 0
            assert first.ran == ["backward_params"]
        grads.append([p.grad.copy() for p in seq.parameters()])
    for a, b in zip(*grads, strict=True):
        np.testing.assert_array_equal(a, b)
    no_params = Sequential(_NoBackward(), ReLU())
    no_params(x)
    no_params.backward_params(x)  # nothing to compute, nothing run
    assert no_params[0].calls == 0


def test_train_eval_propagate_to_children():
    seq = Sequential(Linear(2, 2), Sequential(Dropout(0.5), ReLU()))
    assert seq.eval() is seq
    assert not seq.training and not seq[1][0].training
    seq.train()
    assert seq.training and seq[1][0].training and seq[0].training


class _Custom(Module):
    """A user-defined module with a parameter and a child, to check discovery by attributes."""

    def __init__(self) -> None:
        self.scale = Parameter(np.ones(2))
        self.inner = Linear(2, 2, rng=0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.inner(x) * self.scale.data


def test_module_finds_parameters_and_children_by_attribute():
    m = _Custom()
    assert m.children() == [m.inner]
    assert m.parameters() == [m.scale, m.inner.weight, m.inner.bias]
    assert m(np.ones((1, 2))).shape == (1, 2)  # __call__ runs forward
    assert repr(m) == "_Custom()"


def test_mlp_structure():
    mlp = MLP([4, 8, 6, 3], rng=0)
    kinds = [type(m) for m in mlp]
    assert kinds == [Linear, ReLU, Linear, ReLU, Linear]
    assert mlp.sizes == [4, 8, 6, 3]
    assert mlp.num_parameters() == (4 * 8 + 8) + (8 * 6 + 6) + (6 * 3 + 3)
    assert mlp(np.zeros((2, 4))).shape == (2, 3)
    assert [type(m) for m in MLP([2, 3, 1], "tanh")] == [Linear, Tanh, Linear]
    assert [type(m) for m in MLP([2, 3, 1], "sigmoid", dropout=0.2)] == [
        Linear,
        Sigmoid,
        Dropout,
        Linear,
    ]


def test_mlp_seeding_init_and_dtype():
    a, b, c = MLP([3, 4, 2], rng=5), MLP([3, 4, 2], rng=5), MLP([3, 4, 2], rng=6)
    np.testing.assert_array_equal(a[2].weight.data, b[2].weight.data)
    assert not np.array_equal(a[0].weight.data, c[0].weight.data)
    w = MLP([300, 200, 2], "tanh", rng=0)[0].weight.data
    assert w.std() == pytest.approx(np.sqrt(2 / 500), rel=0.03)  # Xavier for tanh
    assert not MLP([3, 2], init="zeros")[0].weight.data.any()
    mlp32 = MLP([3, 4, 2], rng=0, dtype=np.float32)
    assert mlp32(np.ones((2, 3), np.float32)).dtype == np.float32


def test_mlp_errors():
    with pytest.raises(ValueError, match=r"at least an input and an output.*\[4\]"):
        MLP([4])
    with pytest.raises(ValueError, match=r"activation must be one of.*'gelu'"):
        MLP([4, 2], activation="gelu")


def test_shared_parameter_is_listed_once() -> None:
    from nnscratch.layers import Linear, Sequential

    a = Linear(3, 3, rng=0)
    b = Linear(3, 3, rng=1)
    b.weight = a.weight  # tied weights
    params = Sequential(a, b).parameters()
    assert len(params) == 3
    assert sum(p is a.weight for p in params) == 1
