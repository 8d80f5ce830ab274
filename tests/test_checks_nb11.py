"""The notebook 11 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import CheckFailed, nb11
from nnscratch.checks.nb11 import check_corr2d, check_maxpool_backward


def corr2d(x, w):
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * w)
    return out


def convolve(x, w):
    return corr2d(x, w[::-1, ::-1])


def too_small(x, w):
    return corr2d(x, w)[:-1, :-1]


def too_large(x, w):
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 2, x.shape[1] - kw + 2))
    xp = np.pad(x, ((0, 1), (0, 1)))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(xp[i : i + kh, j : j + kw] * w)
    return out


def square_only(x, w):
    k = w.shape[0]
    n = x.shape[0] - k + 1
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            out[i, j] = np.sum(x[i : i + k, j : j + k] * w[:k, :k])
    return out


def swapped_shape(x, w):
    return corr2d(x, w).T


def mutates(x, w):
    w *= 1.0
    x -= x.mean()
    return corr2d(x + x.mean(), w)


def one_wrong_entry(x, w):
    out = corr2d(x, w)
    out[-1, -1] += 1
    return out


def no_return(x, w):
    corr2d(x, w)


def _windows(x):
    h, w = x.shape
    return x.reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3).reshape(h // 2, w // 2, 4)


def pool_backward(x, g):
    idx = _windows(x).argmax(axis=-1)
    dx = np.zeros_like(x)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            u, v = divmod(idx[i, j], 2)
            dx[2 * i + u, 2 * j + v] = g[i, j]
    return dx


def pool_backward_mask(x, g):  # another correct way: compare with the upsampled maximum
    m = np.kron(_windows(x).max(axis=-1), np.ones((2, 2)))
    return (x == m) * np.kron(g, np.ones((2, 2)))


def average(x, g):
    return np.kron(g, np.ones((2, 2))) / 4


def everywhere(x, g):
    return np.kron(g, np.ones((2, 2)))


def argmin(x, g):
    return pool_backward(-x, g)


def top_left(x, g):
    dx = np.zeros_like(x)
    dx[::2, ::2] = g
    return dx


def swapped_divmod(x, g):
    idx = _windows(x).argmax(axis=-1)
    dx = np.zeros_like(x)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            v, u = divmod(idx[i, j], 2)
            dx[2 * i + u, 2 * j + v] = g[i, j]
    return dx


def pooled_shape(x, g):
    return g.copy()


def mutates_g(x, g):
    dx = pool_backward(x, g)
    g[...] = 0
    return dx


RIGHT = {
    check_corr2d: [(corr2d,), (lambda x, w: np.array(corr2d(x, w).tolist()),)],
    check_maxpool_backward: [(pool_backward,), (pool_backward_mask,)],
}

WRONG = {
    check_corr2d: [
        ("flipped-kernel", (convolve,), r"true convolution"),
        ("one-too-small", (too_small,), r"off by one"),
        ("one-too-large", (too_large,), r"off by one"),
        ("square-only", (square_only,), r"shape"),
        ("swapped-shape", (swapped_shape,), r"swapped"),
        ("mutates-input", (mutates,), r"changed"),
        ("one-wrong-entry", (one_wrong_entry,), r"row \d+, column \d+ is wrong"),
        ("no-return", (no_return,), r"forget to return"),
        ("string", (lambda x, w: "abc",), r"array of numbers"),
        ("crash", (lambda x, w: 1 / 0,), r"ZeroDivisionError"),
        ("not-callable", (42,), r"expected a function"),
    ],
    check_maxpool_backward: [
        ("average", (average,), r"average pooling"),
        ("everywhere", (everywhere,), r"every pixel"),
        ("argmin", (argmin,), r"smallest"),
        ("top-left", (top_left,), r"not always the one holding"),
        ("swapped-divmod", (swapped_divmod,), r"not always the one holding"),
        ("pooled-shape", (pooled_shape,), r"has the shape of x"),
        ("mutates-grad", (mutates_g,), r"changed"),
        ("doubled", (lambda x, g: pool_backward(x, g) * 2,), r"is wrong"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


def test_messages_never_print_arrays():
    for answer in (one_wrong_entry, too_small):
        with pytest.raises(CheckFailed) as err:
            nb11.check_corr2d(answer)
        assert "[[" not in str(err.value) and "array(" not in str(err.value)
