"""The notebook 01 checks pass on the reference answers and name typical mistakes."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnscratch.checks import CheckFailed, nb01


def _output(x, w, b):
    return 1 if np.dot(w, x) + b >= 0 else 0


def _update(w, b, x, y, lr):
    err = y - _output(x, w, b)
    return w + lr * err * x, b + lr * err


def test_all_exported_from_the_package():
    import nnscratch.checks as checks

    for name in nb01.__all__:
        assert getattr(checks, name) is getattr(nb01, name)


def test_perceptron_output_passes(capsys):
    nb01.check_perceptron_output(_output)
    assert "check_perceptron_output passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x, w, b: np.dot(w, x) + b, "returned the weighted sum"),
        (lambda x, w, b: int(np.dot(w, x) + b > 0), "not > 0"),
        (lambda x, w, b: int(np.dot(w, x) >= 0), "forget to add b"),
        (lambda x, w, b: int(np.dot(w, x) - b >= 0), "not subtracted"),
        (lambda x, w, b: 1, "expected 0"),
        (lambda x, w, b: [0, 1], "single number"),
    ],
)
def test_perceptron_output_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb01.check_perceptron_output(wrong)


def test_unfinished_exercise_is_reported():
    def todo(x, w, b):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="NotImplementedError"):
        nb01.check_perceptron_output(todo)


@pytest.mark.parametrize(("w", "b"), [([-2, -2], 3), (np.array([-1.0, -1.0]), 1.5), ((-5, -3), 6)])
def test_nand_weights_pass(w, b, capsys):
    nb01.check_nand_weights(w, b)
    assert "check_nand_weights passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("w", "b", "message"),
    [
        ([2, 2], -3, "computes AND"),
        ([1, 1], -0.5, "computes OR"),
        ([-1, -1], -0.5, "b must be >= 0"),
        ([-1, 1], 0.5, "00->1, 01->1, 10->0, 11->1"),
        ([1, 1, 1], 0, "shape (2,)"),
        ("ab", 0, "2 numbers"),
    ],
)
def test_nand_weights_name_mistakes(w, b, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb01.check_nand_weights(w, b)


def test_perceptron_update_passes(capsys):
    nb01.check_perceptron_update(_update)
    assert "agree with nnscratch.perceptron.Perceptron" in capsys.readouterr().out


def _flipped(w, b, x, y, lr):
    err = _output(x, w, b) - y
    return w + lr * err * x, b + lr * err


def _no_bias(w, b, x, y, lr):
    return _update(w, b, x, y, lr)[0], b


def _no_lr(w, b, x, y, lr):
    return _update(w, b, x, y, 1.0)


def _always(w, b, x, y, lr):
    return w + lr * y * x, b + lr * y


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_flipped, "goes the wrong way"),
        (_no_bias, "bias never changes"),
        (_no_lr, "ignores the learning rate"),
        (_always, "even when the prediction is right"),
        (lambda w, b, x, y, lr: w, "return a pair"),
        (lambda w, b, x, y, lr: (w[:2], b), "shape of w"),
    ],
)
def test_perceptron_update_names_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=re.escape(message)):
        nb01.check_perceptron_update(wrong)


def test_perceptron_update_does_not_see_mutations_of_its_inputs():
    def in_place(w, b, x, y, lr):  # mutating w must not corrupt the check's own copy
        err = y - _output(x, w, b)
        w += lr * err * x
        return w, b + lr * err

    nb01.check_perceptron_update(in_place)
