"""nnscratch.losses: values, hand-written gradients, stability, dtypes and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.functional import log_softmax, sigmoid
from nnscratch.gradcheck import numerical_gradient, rel_error
from nnscratch.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss


def _case(name: str, rng: np.random.Generator, dtype=np.float64):
    """(loss, pred, target) for each loss, with well-behaved random data."""
    z = rng.normal(size=(5, 3))
    if name == "mse":
        return MSELoss(), z.astype(dtype), rng.normal(size=(5, 3)).astype(dtype)
    if name == "bce":
        return BCELoss(), sigmoid(z).astype(dtype), (rng.random((5, 3)) > 0.5).astype(dtype)
    if name == "bce_logits":
        return BCEWithLogitsLoss(), z.astype(dtype), rng.random((5, 3)).astype(dtype)
    if name == "ce_labels":
        return CrossEntropyLoss(), z.astype(dtype), np.array([0, 2, 1, 2, 0])
    probs = rng.random((5, 3))
    return CrossEntropyLoss(), z.astype(dtype), (probs / probs.sum(1, keepdims=True)).astype(dtype)


CASES = ["mse", "bce", "bce_logits", "ce_labels", "ce_probs"]


def test_values_by_hand():
    p, t = np.array([[0.5, 2.0]]), np.array([[1.5, 0.0]])
    assert MSELoss()(p, t) == pytest.approx((1.0 + 4.0) / 2)
    q, y = np.array([0.8, 0.1]), np.array([1.0, 0.0])
    assert BCELoss()(q, y) == pytest.approx(-(np.log(0.8) + np.log(0.9)) / 2)
    z = np.array([1.0, -2.0])
    assert BCEWithLogitsLoss()(z, y) == pytest.approx(BCELoss()(sigmoid(z), y), rel=1e-12)
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    expected = -(log_softmax(logits)[0, 2] + np.log(1 / 3)) / 2
    assert CrossEntropyLoss()(logits, np.array([2, 1])) == pytest.approx(expected)


@pytest.mark.parametrize("name", CASES)
def test_returns_a_python_float(name, rng):
    loss, pred, target = _case(name, rng)
    assert type(loss(pred, target)) is float


@pytest.mark.parametrize("name", CASES)
def test_backward_matches_finite_differences(name, rng):
    loss, pred, target = _case(name, rng)
    loss(pred, target)
    analytic = loss.backward()
    assert analytic.shape == pred.shape
    numeric = numerical_gradient(lambda p: loss(p, target), pred.copy())
    assert rel_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("name", CASES)
def test_float32_in_float32_gradient_out(name, rng):
    loss, pred, target = _case(name, rng, np.float32)
    loss(pred, target)
    assert loss.backward().dtype == np.float32
    loss64, pred64, target64 = _case(name, np.random.default_rng(0))
    loss64(pred64, target64)
    assert loss64.backward().dtype == np.float64


def test_cross_entropy_one_hot_targets_equal_labels(rng):
    z = rng.normal(size=(4, 3))
    labels = np.array([0, 2, 2, 1])
    a, b = CrossEntropyLoss(), CrossEntropyLoss()
    assert a(z, labels) == pytest.approx(b(z, np.eye(3)[labels]), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14)


def test_stable_at_extreme_logits(strict):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [3.0, -2.0, 1e4]])
    with strict():
        bce = BCEWithLogitsLoss()
        v1 = bce(z, (z > 0).astype(float))  # confidently right
        v2 = bce(z, (z < 0).astype(float))  # confidently wrong
        g = bce.backward()
        ce = CrossEntropyLoss()
        v3 = ce(z, np.array([0, 2, 2]))
        v4 = ce(z, np.array([1, 0, 0]))
        g2 = ce.backward()
        probs = sigmoid(z)
        v5 = BCELoss()(probs, (z < 0).astype(float))  # log(0) is clamped at -100 like torch
    for v in (v1, v2, v3, v4, v5):
        assert np.isfinite(v)
    # only the moderate logits cost anything: log(1 + exp(-|z|)) each
    assert v1 == pytest.approx((np.log(2) + np.log1p(np.exp(-3)) + np.log1p(np.exp(-2))) / 9)
    assert v2 > 1e3 and v4 > 1e3
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(g2))
    # six saturated wrong answers cost 100 each (log clamped at -100), the rest are moderate
    moderate = np.log(2) + np.log1p(np.exp(3)) + np.log1p(np.exp(2))
    assert v5 == pytest.approx((6 * 100 + moderate) / 9, rel=1e-12)


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="MSELoss.*before backward"):
        MSELoss().backward()


@pytest.mark.parametrize("loss", [MSELoss(), BCELoss(), BCEWithLogitsLoss()])
def test_shape_mismatch_and_empty_input(loss):
    with pytest.raises(ValueError, match=r"same shape.*\(4, 1\).*\(4,\)"):
        loss(np.full((4, 1), 0.5), np.ones(4))
    with pytest.raises(ValueError, match="empty"):
        loss(np.zeros((0, 1)), np.zeros((0, 1)))


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(
        ValueError, match=r"BCELoss.*pred.*in \[0, 1\].*BCEWithLogitsLoss.*pred\[1\] = 1.5"
    ):
        BCELoss()(np.array([0.5, 1.5]), np.array([0.0, 1.0]))


def test_cross_entropy_errors():
    z = np.zeros((3, 10))
    with pytest.raises(ValueError, match=r"\[0, 9\] for 10 classes.*label 10"):
        CrossEntropyLoss()(z, np.array([0, 10, 3]))
    with pytest.raises(ValueError, match=r"2-D batch.*\(10,\)"):
        CrossEntropyLoss()(np.zeros(10), np.array([1]))
    with pytest.raises(ValueError, match=r"3 integer labels.*\(3,\).*got shape \(4,\)"):
        CrossEntropyLoss()(z, np.array([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"logits' shape \(3, 10\).*\(3, 9\)"):
        CrossEntropyLoss()(z, np.full((3, 9), 1 / 9))
    with pytest.raises(TypeError, match="integer class indices"):
        CrossEntropyLoss()(z, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match="empty"):
        CrossEntropyLoss()(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_repr_and_base_class():
    assert repr(CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert all(issubclass(c, Loss) for c in (MSELoss, BCELoss, BCEWithLogitsLoss))


# --- NaN and out-of-range input, refused torch options -------------------------------------

NAN_CASES = {
    "MSELoss pred": (MSELoss, np.array([[0.5], [np.nan]]), np.array([[0.0], [1.0]]), "pred"),
    "MSELoss target": (MSELoss, np.array([[0.5], [0.1]]), np.array([[np.nan], [1.0]]), "target"),
    "BCELoss pred": (BCELoss, np.array([[0.5], [np.nan]]), np.array([[0.0], [1.0]]), "pred"),
    "BCELoss target": (BCELoss, np.array([[0.5], [0.2]]), np.array([[np.nan], [1.0]]), "target"),
    "BCELoss target range": (
        BCELoss,
        np.array([[0.5], [0.2]]),
        np.array([[2.0], [1.0]]),
        "target",
    ),  # fmt: skip
    "BCEWithLogitsLoss pred": (
        BCEWithLogitsLoss,
        np.array([[0.5], [np.nan]]),
        np.array([[0.0], [1.0]]),
        "pred",
    ),  # fmt: skip
    "BCEWithLogitsLoss inf": (
        BCEWithLogitsLoss,
        np.array([[0.5], [np.inf]]),
        np.array([[0.0], [1.0]]),
        "pred",
    ),  # fmt: skip
    "BCEWithLogitsLoss target": (
        BCEWithLogitsLoss,
        np.array([[0.5], [0.1]]),
        np.array([[-1.0], [1.0]]),
        "target",
    ),  # fmt: skip
    "CrossEntropyLoss logits": (
        CrossEntropyLoss,
        np.array([[0.5, 1.0], [np.nan, 0.0]]),
        np.array([0, 1]),
        "pred",
    ),  # fmt: skip
    "CrossEntropyLoss probabilities": (
        CrossEntropyLoss,
        np.array([[0.5, 1.0], [1.0, 0.0]]),
        np.array([[np.nan, 1.0], [0.0, 1.0]]),
        "target",
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", NAN_CASES)
def test_nan_or_out_of_range_input_names_the_loss_and_the_entry(case):
    cls, pred, target, which = NAN_CASES[case]
    bad = pred if which == "pred" else target
    where = tuple(int(i) for i in np.argwhere(~np.isfinite(bad) | (bad < 0) | (bad > 1))[0])
    if cls in (MSELoss, CrossEntropyLoss) or which == "pred":
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(bad))[0])
    with pytest.raises(ValueError, match=rf"{cls.__name__}.*{which}.*\[{where[0]}, {where[1]}\]"):
        cls()(pred, target)


def test_bce_on_nan_probabilities_is_an_error_like_torch():
    with pytest.raises(ValueError, match=r"BCELoss.*pred\[1\] = nan"):
        BCELoss()(np.array([0.5, np.nan]), np.array([0.0, 1.0]))


REFUSED = [
    (CrossEntropyLoss, "reduction", "sum", r"mean.*len"),
    (CrossEntropyLoss, "weight", np.ones(3), r"weight"),
    (CrossEntropyLoss, "ignore_index", 0, r"keep = y != "),
    (CrossEntropyLoss, "label_smoothing", 0.1, r"one_hot"),
    (BCELoss, "weight", np.ones(3), r"weight"),
    (BCELoss, "reduction", "none", r"mean"),
    (BCEWithLogitsLoss, "pos_weight", np.ones(1), r"pos_weight"),
    (MSELoss, "reduction", "sum", r"mean"),
    (MSELoss, "size_average", False, r"reduction"),
]


@pytest.mark.parametrize(("cls", "option", "value", "advice"), REFUSED)
def test_refused_torch_options_name_the_option_and_say_what_to_do(cls, option, value, advice):
    with pytest.raises(TypeError, match=rf"{cls.__name__}.*{option}.*{advice}"):
        cls(**{option: value})


def test_unknown_loss_options_and_positional_arguments_are_named():
    with pytest.raises(TypeError, match=r"CrossEntropyLoss.*'reductoin'"):
        CrossEntropyLoss(reductoin="sum")
    with pytest.raises(TypeError, match=r"CrossEntropyLoss.*positional.*weight"):
        CrossEntropyLoss(np.ones(3))
