"""Exercise checks for notebook 07 (handwritten digits from scratch).

Expected answers come from the library (``functional.one_hot``, ``functional.softmax``,
``training.accuracy``); the checks decide which typical mistake explains a difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functional import one_hot, softmax
from ..training import accuracy
from ._core import answer_number, call_student, close, fail, passed

__all__ = ["check_one_hot", "check_accuracy_from_logits", "check_confident_mistakes"]


def check_one_hot(fn: Any) -> None:
    """Check your ``one_hot(y, num_classes)``: a float array ``(len(y), num_classes)``, compared
    with ``functional.one_hot`` on batches that miss some classes, a single sample, and more
    classes than samples.

    Names the typical mistakes: the transposed matrix, one column too many or too few, the 1
    in the wrong column, the number of columns taken from the labels instead of
    ``num_classes``, a list or an integer array, and changing ``y``.
    """
    name = "check_one_hot"
    for y, c in (([3, 0, 9, 1, 1, 7], 10), ([0, 2, 1, 2], 5), ([4], 6), ([1, 0, 1, 1, 0, 2, 1],
                                                                        3)):
        labels = np.array(y)
        want = one_hot(labels, c)
        arr = call_student(name, fn, labels, c)
        if isinstance(arr, list | tuple):
            fail(name, "you returned a Python list: return a NumPy array (one row per sample)")
        if not isinstance(arr, np.ndarray):
            fail(name, f"return a NumPy array, got {type(arr).__name__}")
        if arr.shape == want.T.shape and arr.shape != want.shape:
            fail(name, f"shape {arr.shape} is transposed: one ROW per sample, one column per "
                       "class")
        if arr.ndim == 2 and arr.shape[0] == len(labels) and arr.shape[1] != c:
            if arr.shape[1] == labels.max() + 1:
                fail(name, f"shape {arr.shape}: the number of columns must come from "
                           "num_classes, not from the largest label (a batch need not contain "
                           "every class)")
            fail(name, f"shape {arr.shape}: the number of columns is off (classes are counted "
                       "from 0, and there are num_classes of them)")
        if arr.shape != want.shape:
            fail(name, f"for {len(labels)} labels and num_classes={c} your array has shape "
                       f"{arr.shape}: one row per sample, one column per class")
        if not np.issubdtype(arr.dtype, np.floating):
            fail(name, f"your array has dtype {arr.dtype}; the exercise asks for a float array "
                       "(it is compared with float outputs later)")
        if close(arr, want):
            continue
        for shift in (1, -1):
            if close(arr, np.roll(want, shift, axis=1)):
                fail(name, "each 1 sits one column off: label k belongs in column k (counting "
                           "from 0)")
        fail(name, "a row must be all zeros except a single 1 in the column of its label")
    passed(name, "shape (n, num_classes), a single 1 per row in the label's column")


def _logit_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    cases = []
    for n, c, wrong in ((12, 5, [1, 4, 8]), (7, 10, [0, 6]), (10, 10, [2, 3, 5, 9]),
                        (3, 4, [1])):
        logits = rng.normal(size=(n, c)) * 3
        y = np.argmax(logits, axis=1)
        y[wrong] = (y[wrong] + 1 + rng.integers(0, c - 1, len(wrong))) % c
        cases.append((logits, y))
    return cases


def check_accuracy_from_logits(fn: Any) -> None:
    """Check your ``accuracy_from_logits(logits, y) -> float`` for logits ``(n, C)`` with as
    many, more or fewer classes than samples: the fraction of samples whose largest logit is
    at the true class, compared with ``training.accuracy``.

    Names the typical mistakes: the wrong axis, dividing by the number of classes, the count
    instead of the fraction, a percentage, the error rate, and the smallest logit.
    """
    name = "check_accuracy_from_logits"
    for logits, y in _logit_cases():
        n, c = logits.shape
        want = accuracy(np.argmax(logits, axis=1), y)
        g = answer_number(name, call_student(name, fn, logits, y, hints=[
            (("shape", "broadcast"),
             "the predictions and the labels do not line up: take the largest logit of each "
             "sample (each row)"),
        ]), "return one number (a fraction)")
        if close(g, want):
            continue
        correct = want * n
        if close(g, correct) and n > 1:
            fail(name, "that is the number of correct predictions; return the fraction")
        if n != c and close(g, correct / c):
            fail(name, "you divided by the number of classes: divide by the number of samples")
        if close(g, 100 * want):
            fail(name, "return a fraction between 0 and 1, not a percentage")
        if close(g, 1 - want):
            fail(name, "that is the error rate; count the samples that are RIGHT")
        if n == c and close(g, accuracy(np.argmax(logits, axis=0), y)):
            fail(name, "take the largest logit along the classes (one row per sample), not down "
                       "the columns")
        if close(g, accuracy(np.argmin(logits, axis=1), y)):
            fail(name, "the predicted class has the LARGEST logit, not the smallest")
        fail(name, f"wrong accuracy for {n} samples and {c} classes")
    passed(name, "the fraction of correct predictions, for four logit shapes")


def check_confident_mistakes(fn: Any) -> None:
    """Check your ``confident_mistakes(probs, y, k)``: the integer indices of the ``k``
    misclassified samples whose predicted class had the highest probability, most confident
    first, for several batches and values of ``k``.

    Names the typical mistakes: correct predictions included, the order reversed, confidence
    measured by the true class's probability, probabilities returned instead of indices, and
    the wrong number of indices.
    """
    name = "check_confident_mistakes"
    rng = np.random.default_rng(3)
    for n, c, n_wrong, k in ((40, 5, 12, 4), (25, 3, 6, 1), (30, 10, 9, 6)):
        probs = softmax(3 * rng.normal(size=(n, c)), axis=1)
        pred = np.argmax(probs, axis=1)
        y = pred.copy()
        wrong_idx = rng.choice(n, size=n_wrong, replace=False)
        y[wrong_idx] = (pred[wrong_idx] + 1 + rng.integers(0, c - 1, size=n_wrong)) % c
        conf = probs.max(axis=1)
        wrong = np.flatnonzero(pred != y)
        want = wrong[np.argsort(-conf[wrong], kind="stable")][:k]
        out = call_student(name, fn, probs, y, k)
        got = np.asarray(out).reshape(-1)
        if not np.issubdtype(got.dtype, np.integer):
            fail(name, f"return integer indices of samples, got values of dtype {got.dtype} "
                       "(probabilities or confidences?)")
        if len(got) != k:
            fail(name, f"with k={k} return exactly k indices, got {len(got)}")
        if np.array_equal(got, want):
            continue
        if np.any((got < 0) | (got >= n)):
            fail(name, "some indices are not sample positions")
        if np.any(pred[got] == y[got]):
            fail(name, "some of your samples are predicted correctly: keep only the mistakes")
        if set(got.tolist()) == set(want.tolist()):
            fail(name, "the right samples in the wrong order: the MOST confident mistake first")
        if np.array_equal(got, wrong[np.argsort(conf[wrong], kind="stable")][:k]):
            fail(name, "these are the LEAST confident mistakes: sort so the most confident "
                       "comes first")
        true_p = probs[wrong, y[wrong]]
        for order in (np.argsort(-true_p, kind="stable"), np.argsort(true_p, kind="stable")):
            if np.array_equal(got, wrong[order][:k]):
                fail(name, "measure confidence by the probability of the PREDICTED class, not "
                           "of the true class")
        fail(name, f"not the {k} most confident mistakes of a batch of {n}")
    passed(name, "the most confident mistakes, in order, for three batches")
