"""The notebook 07 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.checks import (
    CheckFailed,
    check_accuracy_from_logits,
    check_confident_mistakes,
    check_one_hot,
)


def one_hot_ok(y, num_classes):
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1
    return out


def test_one_hot_passes(capsys):
    check_one_hot(one_hot_ok)
    check_one_hot(lambda y, c: np.eye(c, dtype=int)[y])
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda y, c: one_hot_ok(y, c).T, "transposed"),
        (lambda y, c: one_hot_ok(y, c + 1), "off by one"),
        (lambda y, c: one_hot_ok(y, int(np.max(y)) + 1), "largest label"),
        (lambda y, c: np.roll(one_hot_ok(y, c), 1, axis=1), "one column off"),
        (lambda y, c: one_hot_ok(y, c) * 2, "all zeros except a 1"),
        (lambda y, c: one_hot_ok(y, c)[:-1], "expected shape"),
    ],
)
def test_one_hot_names_the_mistake(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check_one_hot(fn)


def acc_ok(logits, y):
    return float(np.mean(np.argmax(logits, axis=1) == y))


def test_accuracy_from_logits(capsys):
    check_accuracy_from_logits(acc_ok)
    assert "0.7" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda z, y: float(np.mean(np.argmax(z, axis=0) == y)), "axis=1"),
        (lambda z, y: int(np.sum(np.argmax(z, axis=1) == y)), "number correct"),
        (lambda z, y: 100 * acc_ok(z, y), "percentage"),
        (lambda z, y: 1 - acc_ok(z, y), "error rate"),
        (lambda z, y: float(np.mean(np.argmin(z, axis=1) == y)), "argmin"),
        (lambda z, y: np.argmax(z, axis=1) == y, "one number"),
    ],
)
def test_accuracy_from_logits_names_the_mistake(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check_accuracy_from_logits(fn)


def mistakes_ok(probs, y, k):
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(-probs.max(axis=1)[wrong], kind="stable")][:k]


def test_confident_mistakes(capsys):
    check_confident_mistakes(mistakes_ok)
    assert "passed" in capsys.readouterr().out


def all_by_conf(probs, y, k):
    return np.argsort(-probs.max(axis=1), kind="stable")[:k]


def ascending(probs, y, k):
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(probs.max(axis=1)[wrong], kind="stable")][:k]


def by_true_class(probs, y, k):
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(probs[wrong, y[wrong]], kind="stable")][:k]


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (all_by_conf, "predicted correctly"),
        (ascending, "reversed"),
        (lambda p, y, k: mistakes_ok(p, y, k)[::-1], "reversed"),
        (by_true_class, "PREDICTED class"),
        (lambda p, y, k: mistakes_ok(p, y, k + 1), "exactly k=4"),
        (lambda p, y, k: mistakes_ok(p, y, k).astype(float), "integer indices"),
    ],
)
def test_confident_mistakes_names_the_mistake(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check_confident_mistakes(fn)
