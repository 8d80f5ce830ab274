"""nnscratch.functional (activations, softmax, one-hot) and the input checks behind it."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import functional as F
from nnscratch._rng import as_generator
from nnscratch._validate import as_array, as_batch, as_labels, as_positive, require_same_length
from nnscratch.gradcheck import numerical_gradient, rel_error

ELEMENTWISE = [F.sigmoid, F.sigmoid_grad, F.tanh, F.tanh_grad, F.relu, F.relu_grad, F.step]
ALL_ARRAY_FNS = [*ELEMENTWISE, F.softmax, F.log_softmax]
EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3.0, -2.0, 1e4], [1e4, 1e4, -5.0]])


def test_values_on_known_points():
    z = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(F.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-15)
    assert F.sigmoid(np.array(0.0)) == 0.5
    np.testing.assert_allclose(F.tanh(z), np.tanh(z))
    np.testing.assert_array_equal(F.relu(z), [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(F.step(z), [0.0, 1.0, 1.0])  # step(0) == 1
    np.testing.assert_allclose(F.sigmoid_grad(z), F.sigmoid(z) * (1 - F.sigmoid(z)))
    np.testing.assert_allclose(F.tanh_grad(z), 1 - np.tanh(z) ** 2)


@pytest.mark.parametrize(
    ("fn", "grad"),
    [(F.sigmoid, F.sigmoid_grad), (F.tanh, F.tanh_grad), (F.relu, F.relu_grad)],
)
def test_grad_functions_match_finite_differences(fn, grad, rng):
    z = rng.normal(size=(4, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from ReLU's kink
    numeric = numerical_gradient(lambda v: float(np.sum(fn(v))), z.copy())
    assert rel_error(grad(z), numeric) < 1e-7


def test_relu_grad_at_zero_is_zero():
    assert F.relu_grad(np.array(0.0)) == 0.0
    np.testing.assert_array_equal(F.relu_grad(np.array([-1.0, 0.0, 1.0])), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_sums_to_one_and_ignores_shifts(axis, rng):
    z = rng.normal(size=(3, 4))
    s = F.softmax(z, axis=axis)
    np.testing.assert_allclose(s.sum(axis=axis), 1.0, rtol=1e-14)
    assert np.all(s > 0)
    np.testing.assert_allclose(F.softmax(z + 100.0, axis=axis), s, rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(z, axis=axis), np.log(s), rtol=1e-12)


@pytest.mark.parametrize("fn", ALL_ARRAY_FNS, ids=lambda f: f.__name__)
def test_stable_at_extreme_inputs(fn, strict):
    with strict():
        out = fn(EXTREME)
    assert out.shape == EXTREME.shape
    assert np.all(np.isfinite(out))


def test_extreme_values_are_the_limits(strict):
    with strict():
        np.testing.assert_array_equal(F.sigmoid(np.array([1e4, -1e4])), [1.0, 0.0])
        np.testing.assert_array_equal(F.softmax(np.array([[1e4, -1e4]])), [[1.0, 0.0]])
        np.testing.assert_array_equal(F.log_softmax(np.array([[1e4, -1e4]])), [[0.0, -2e4]])
        np.testing.assert_array_equal(F.tanh(np.array([1e4, -1e4])), [1.0, -1.0])


@pytest.mark.parametrize("fn", ALL_ARRAY_FNS, ids=lambda f: f.__name__)
def test_float32_in_float32_out_and_float64_default(fn):
    z32 = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert fn(z32).dtype == np.float32
    assert fn(z32.astype(np.float64)).dtype == np.float64
    assert fn(np.arange(12).reshape(3, 4)).dtype == np.float64  # ints become float64
    assert fn([[0.5, -1.0]]).dtype == np.float64  # lists are accepted


@pytest.mark.parametrize("fn", ALL_ARRAY_FNS, ids=lambda f: f.__name__)
def test_non_numbers_give_a_type_error(fn):
    with pytest.raises(TypeError, match="numbers"):
        fn(np.array(["a", "b"]))


def test_one_hot():
    out = F.one_hot(np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert out.dtype == np.float64
    assert F.one_hot(np.array([1.0, 0.0]), 2).shape == (2, 2)  # whole floats are labels


def test_one_hot_rejects_bad_labels_and_class_counts():
    with pytest.raises(ValueError, match=r"\[0, 9\].*10 classes.*label 10"):
        F.one_hot(np.array([0, 10]), 10)
    with pytest.raises(ValueError, match=">= 0.*-1"):
        F.one_hot(np.array([-1, 0]), 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="1-D"):
        F.one_hot(np.array([[0, 1]]), 3)
    with pytest.raises(TypeError, match="num_classes"):
        F.one_hot(np.array([0]), 3.0)
    with pytest.raises(ValueError, match="num_classes"):
        F.one_hot(np.array([0]), 0)


# --- the private input checks every public function relies on ---------------------------


def test_as_array_keeps_float32_and_converts_the_rest():
    assert as_array(np.ones(2, np.float32)).dtype == np.float32
    assert as_array([1, 2]).dtype == np.float64
    assert as_array(np.array([True])).dtype == np.float64
    with pytest.raises(TypeError, match="x must contain numbers"):
        as_array(np.array([object()]), "x")


def test_as_batch_messages():
    with pytest.raises(ValueError, match=r"2-D batch.*\(3,\).*reshape\(1, -1\)"):
        as_batch(np.zeros(3))
    with pytest.raises(ValueError, match=r"3 features.*\(4, 5\)"):
        as_batch(np.zeros((4, 5)), features=3)
    assert as_batch(np.zeros((4, 3)), features=3).shape == (4, 3)


def test_as_labels_and_check_same_length():
    np.testing.assert_array_equal(as_labels([2, 0], 3), [2, 0])
    assert as_labels(np.array([], dtype=float)).dtype == np.int64
    with pytest.raises(ValueError, match="same number of samples.*3 inputs.*2 targets"):
        require_same_length(np.zeros((3, 1)), np.zeros(2))


@pytest.mark.parametrize(
    ("value", "exc", "match"),
    [
        ("0.1", TypeError, "must be a number.*'0.1'"),
        (True, TypeError, "must be a number"),
        (-0.1, ValueError, "> 0.*-0.1"),
        (0.0, ValueError, "> 0"),
        (float("nan"), ValueError, "finite"),
    ],
)
def test_as_positive_rejects(value, exc, match):
    with pytest.raises(exc, match=match):
        as_positive(value, "lr")


def test_as_positive_accepts():
    assert as_positive(0, "x", allow_zero=True) == 0.0
    assert as_positive(np.float32(0.5), "x") == 0.5


def test_as_generator_never_touches_global_state():
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking it is left alone
    g = np.random.default_rng(1)
    assert as_generator(g) is g
    assert as_generator(5).random() == np.random.default_rng(5).random()
    assert isinstance(as_generator(None), np.random.Generator)
    with pytest.raises(TypeError, match="rng"):
        as_generator("seed")
    with pytest.raises(TypeError, match="rng"):
        as_generator(True)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
