"""Exercise checks for notebook 07 (handwritten digits from scratch).

Expected answers come from the library (``functional.one_hot``, ``functional.softmax``,
``training.accuracy``); the checks decide which typical mistake explains a difference.
"""

from __future__ import annotations

import numpy as np

from ..functional import one_hot, softmax
from ..training import accuracy
from ._core import as_number, call_student, close, fail, passed

__all__ = ["check_one_hot", "check_accuracy_from_logits", "check_confident_mistakes"]


def check_one_hot(fn: object) -> None:
    """Check ``one_hot(y, num_classes) -> (n, num_classes)`` against ``functional.one_hot``.

    Recognised mistakes: the transposed matrix ``(num_classes, n)``, one column too many or
    too few, the 1 in the wrong column (shifted by one), the number of columns taken from the
    largest label instead of ``num_classes``.
    """
    name = "check_one_hot"
    for y, c in (([3, 0, 9, 1, 1, 7], 10), ([0, 2, 1, 2], 5)):
        labels = np.array(y)
        want = one_hot(labels, c)
        got = call_student(name, fn, labels.copy(), c)
        arr = np.asarray(got)
        if arr.shape == want.T.shape and arr.shape != want.shape:
            fail(
                name,
                f"shape {arr.shape} is transposed: one ROW per sample, one column per class, "
                f"so {want.shape}",
            )
        if arr.ndim == 2 and arr.shape[0] == len(labels) and arr.shape[1] != c:
            if arr.shape[1] == labels.max() + 1:
                fail(
                    name,
                    f"shape {arr.shape}: the number of columns must be num_classes={c}, not the "
                    "largest label + 1 (a batch need not contain every class)",
                )
            fail(
                name,
                f"shape {arr.shape}: off by one in the number of columns, expected {want.shape} "
                f"(classes 0..{c - 1} make {c} columns)",
            )
        if arr.shape != want.shape:
            fail(name, f"expected shape {want.shape} (samples, classes), got {arr.shape}")
        if close(arr, want):
            continue
        for shift in (1, -1):
            if close(arr[:, :], np.roll(want, shift, axis=1)):
                fail(
                    name,
                    "each 1 sits one column off: label k belongs in column k (counting from 0)",
                )
        fail(name, f"for y = {y}: a row must be all zeros except a 1 in column y[i]")
    passed(name, "shape (n, num_classes), a single 1 per row in the label's column")


def check_accuracy_from_logits(fn: object) -> None:
    """Check ``accuracy_from_logits(logits, y) -> float``: the fraction of samples whose
    largest logit is at the true class (``training.accuracy`` of the argmax).

    Recognised mistakes: argmax over the wrong axis, the count instead of the fraction,
    a percentage, the error rate, argmin.
    """
    name = "check_accuracy_from_logits"
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(10, 10))
    pred = np.argmax(logits, axis=1)
    y = pred.copy()
    y[[1, 4, 8]] = (y[[1, 4, 8]] + 3) % 10  # three mistakes: accuracy 0.7
    want = accuracy(pred, y)
    got = call_student(name, fn, logits.copy(), y.copy())
    g = as_number(name, got, "return one number (a fraction)")
    if close(g, want):
        passed(name, f"accuracy {g:.4g}")
        return
    if close(g, want * len(y)):
        fail(name, f"got {g:g}: that is the number correct; divide by the number of samples")
    if close(g, 100 * want):
        fail(name, f"got {g:g}: return a fraction between 0 and 1, not a percentage")
    if close(g, 1 - want):
        fail(name, f"got {g:g}: that is the error rate; count the samples that are RIGHT")
    if close(g, accuracy(np.argmax(logits, axis=0), y)):
        fail(name, "take the argmax over the classes, axis=1 (one row per sample), not axis=0")
    if close(g, accuracy(np.argmin(logits, axis=1), y)):
        fail(name, "the predicted class is the LARGEST logit: use argmax, not argmin")
    fail(name, f"got {g:.6g}, expected {want:.6g}")


def check_confident_mistakes(fn: object) -> None:
    """Check ``confident_mistakes(probs, y, k) -> indices (k,)``: the k misclassified samples
    whose predicted class had the highest probability, most confident first.

    Recognised mistakes: correct predictions included, the order reversed, confidence
    measured as the probability of the true class instead of the predicted one.
    """
    name = "check_confident_mistakes"
    rng = np.random.default_rng(3)
    probs = softmax(3 * rng.normal(size=(40, 5)), axis=1)
    pred = np.argmax(probs, axis=1)
    y = pred.copy()
    wrong_idx = rng.choice(40, size=12, replace=False)
    y[wrong_idx] = (pred[wrong_idx] + 1 + rng.integers(0, 4, size=12)) % 5
    k = 4
    conf = probs.max(axis=1)
    wrong = np.flatnonzero(pred != y)
    want = wrong[np.argsort(-conf[wrong], kind="stable")][:k]
    got = np.asarray(call_student(name, fn, probs.copy(), y.copy(), k)).reshape(-1)
    if not np.issubdtype(got.dtype, np.integer):
        fail(name, f"return integer indices into the samples, got dtype {got.dtype}")
    if np.array_equal(got, want):
        passed(name, f"indices {want.tolist()}")
        return
    if len(got) != k:
        fail(name, f"return exactly k={k} indices, got {len(got)}")
    if np.any(pred[got] == y[got]):
        fail(name, "some of your samples are predicted correctly: keep only pred != y")
    if np.array_equal(got, want[::-1]) or np.array_equal(
        got, wrong[np.argsort(conf[wrong], kind="stable")][:k]
    ):
        fail(name, "the order is reversed: the MOST confident mistake comes first")
    by_true = wrong[np.argsort(-probs[wrong, y[wrong]], kind="stable")][:k]
    by_true_low = wrong[np.argsort(probs[wrong, y[wrong]], kind="stable")][:k]
    if np.array_equal(got, by_true) or np.array_equal(got, by_true_low):
        fail(
            name,
            "measure confidence by the probability of the PREDICTED class, probs.max(axis=1), "
            "not of the true class",
        )
    fail(name, f"got indices {got.tolist()}, expected {want.tolist()}")
