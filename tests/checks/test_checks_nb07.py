"""The notebook 07 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, failure, right_cases, wrong_cases

from nnscratch.checks import check_accuracy_from_logits, check_confident_mistakes, check_one_hot
from nnscratch.functional import softmax


def one_hot_ref(y, num_classes):
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def one_hot_inplace(y, num_classes):
    out = one_hot_ref(y, num_classes)
    y[...] = 0
    return out


def conf_ref(probs, y, k):
    pred = np.argmax(probs, axis=1)
    wrong = np.flatnonzero(pred != y)
    confidence = probs.max(axis=1)
    return wrong[np.argsort(-confidence[wrong], kind="stable")][:k]


def conf_other(probs, y, k):
    pred = probs.argmax(1)
    order = sorted((i for i in range(len(y)) if pred[i] != y[i]), key=lambda i: -probs[i, pred[i]])
    return order[:k]


def conf_all(probs, y, k):
    return np.argsort(-probs.max(axis=1), kind="stable")[:k]


def conf_reversed(probs, y, k):
    return conf_ref(probs, y, k)[::-1]


def conf_least(probs, y, k):
    pred = np.argmax(probs, axis=1)
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(probs.max(axis=1)[wrong], kind="stable")][:k]


def conf_true_class(probs, y, k):
    pred = np.argmax(probs, axis=1)
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(-probs[wrong, y[wrong]], kind="stable")][:k]


def conf_values(probs, y, k):
    pred = np.argmax(probs, axis=1)
    wrong = np.flatnonzero(pred != y)
    return np.sort(probs.max(axis=1)[wrong])[::-1][:k]


def conf_positions(probs, y, k):
    pred = np.argmax(probs, axis=1)
    wrong = np.flatnonzero(pred != y)
    return np.argsort(-probs.max(axis=1)[wrong], kind="stable")[:k]  # positions among the wrong


RIGHT = {
    check_one_hot: [
        (one_hot_ref,),
        (lambda y, c: np.eye(c)[y],),
        (lambda y, c: (np.asarray(y)[:, None] == np.arange(c)).astype(float),),
    ],
    check_accuracy_from_logits: [
        (lambda logits, y: float(np.mean(np.argmax(logits, axis=1) == y)),),
        (lambda logits, y: np.sum(softmax(logits, axis=1).argmax(-1) == y) / len(y),),
    ],
    check_confident_mistakes: [(conf_ref,), (conf_other,)],
}

WRONG = {
    check_one_hot: [
        ("transposed", (lambda y, c: one_hot_ref(y, c).T,), r"transposed"),
        ("max-label", (lambda y, c: one_hot_ref(y, max(y) + 1),), r"largest label"),
        ("extra-col", (lambda y, c: one_hot_ref(y, c + 1),), r"columns is off"),
        ("shift", (lambda y, c: np.roll(one_hot_ref(y, c), 1, axis=1),), r"one column off"),
        ("minus-one", (lambda y, c: np.eye(c)[np.asarray(y) - 1],), r"one column off"),
        ("int", (lambda y, c: one_hot_ref(y, c).astype(int),), r"float array"),
        ("bool", (lambda y, c: one_hot_ref(y, c).astype(bool),), r"float array"),
        ("list", (lambda y, c: one_hot_ref(y, c).tolist(),), r"list"),
        ("inplace", (one_hot_inplace,), r"in place"),
        ("ones", (lambda y, c: np.ones((len(y), c)),), r"single 1"),
        ("labels", (lambda y, c: np.asarray(y, dtype=float),), r"shape"),
        ("flat", (lambda y, c: one_hot_ref(y, c).ravel(),), r"shape"),
    ],
    check_accuracy_from_logits: [
        ("by-classes", (lambda logits, y: float(np.sum(logits.argmax(1) == y) / logits.shape[1]),),
         r"number of classes"),
        ("count", (lambda logits, y: float(np.sum(logits.argmax(1) == y)),), r"number of correct"),
        ("percent", (lambda logits, y: 100 * float(np.mean(logits.argmax(1) == y)),),
         r"percentage"),
        ("error-rate", (lambda logits, y: float(np.mean(logits.argmax(1) != y)),), r"error rate"),
        ("axis0", (lambda logits, y: float(np.mean(logits.argmax(0) == y)),),
         r"down the columns|line up|wrong accuracy"),
        ("argmin", (lambda logits, y: float(np.mean(logits.argmin(1) == y)),), r"LARGEST"),
        ("flat-argmax", (lambda logits, y: float(np.mean(np.argmax(logits) == y)),),
         r"wrong accuracy"),
        ("array", (lambda logits, y: (logits.argmax(1) == y).astype(float),), r"one number"),
        ("hard-n", (lambda logits, y: float(np.sum(logits.argmax(1) == y) / 10),),
         r"wrong accuracy|number of classes"),
        ("max-value", (lambda logits, y: float(np.mean(logits.max(1) == y)),), r"wrong accuracy"),
    ],
    check_confident_mistakes: [
        ("includes-correct", (conf_all,), r"predicted correctly"),
        ("reversed", (conf_reversed,), r"wrong order|LEAST"),
        ("least", (conf_least,), r"LEAST"),
        ("true-class", (conf_true_class,), r"PREDICTED class"),
        ("values", (conf_values,), r"integer indices"),
        ("positions", (conf_positions,), r"predicted correctly|not the"),
        ("one-extra", (lambda probs, y, k: conf_ref(probs, y, k + 1),), r"exactly"),
        ("hard-k", (lambda probs, y, k: conf_ref(probs, y, 4),), r"exactly"),
        ("float-indices", (lambda probs, y, k: conf_ref(probs, y, k).astype(float),),
         r"integer indices"),
        ("wrong-first", (lambda probs, y, k: np.flatnonzero(probs.argmax(1) != y)[:k],),
         r"not the|wrong order"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


@pytest.mark.parametrize("answer", [conf_all, conf_reversed, conf_least, conf_true_class])
def test_confident_mistakes_never_prints_the_expected_indices(answer) -> None:
    message = failure(check_confident_mistakes, (answer,)).message
    assert not any(ch.isdigit() for ch in message.replace("k=", "")), message
