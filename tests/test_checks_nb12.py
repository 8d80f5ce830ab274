"""The notebook 12 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import CheckFailed, nb12
from nnscratch.checks.nb12 import check_attention, check_causal_mask


def _softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def make(scale="sqrt", axis=-1, mask_mode="before", fill=-np.inf):
    def attention(Q, K, V, mask=None):
        d = Q.shape[-1]
        s = Q @ K.T
        s = s / {"sqrt": np.sqrt(d), "none": 1.0, "d": d}[scale]
        if mask is not None and mask_mode == "before":
            s = np.where(mask, s, fill)
        if mask is not None and mask_mode == "inverted":
            s = np.where(mask, fill, s)
        w = _softmax(s, axis=axis)
        if mask is not None and mask_mode == "after":
            w = w * mask
        return w @ V, w

    return attention


reference = make()


def mutating(Q, K, V, mask=None):
    Q /= np.sqrt(Q.shape[-1])
    s = Q @ K.T
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    w = _softmax(s)
    return w @ V, w


def swapped(Q, K, V, mask=None):
    out, w = reference(Q, K, V, mask)
    return w, out


def output_only(Q, K, V, mask=None):
    return reference(Q, K, V, mask)[0]


def wrong_output(Q, K, V, mask=None):
    out, w = reference(Q, K, V, mask)
    return w @ V[::-1], w


def transposed_weights(Q, K, V, mask=None):
    out, w = reference(Q, K, V, mask)
    return out, w.T


def library_style(Q, K, V, mask=None):
    from nnscratch.attention import attention

    return attention(Q, K, V, mask)


RIGHT = {
    check_attention: [(reference,), (library_style,)],
    check_causal_mask: [
        (lambda n: np.tril(np.ones((n, n), dtype=bool)),),
        (lambda n: np.arange(n)[:, None] >= np.arange(n)[None, :],),
    ],
}

WRONG = {
    check_attention: [
        ("no-scaling", (make(scale="none"),), r"no scaling"),
        ("divided-by-d", (make(scale="d"),), r"divided by d"),
        ("softmax-over-queries", (make(axis=0),), r"over the queries"),
        ("mask-after-softmax", (make(mask_mode="after"),), r"after the softmax"),
        ("mask-inverted", (make(mask_mode="inverted"),), r"wrong way round"),
        ("mask-fills-zero", (make(fill=0.0),), r"-inf \(not 0\)"),
        ("mutates-q", (mutating,), r"changed"),
        ("swapped-pair", (swapped,), r"swapped"),
        ("output-only", (output_only,), r"return a pair"),
        ("wrong-output", (wrong_output,), r"weighted average"),
        ("transposed-weights", (transposed_weights,), r"one row per query"),
        ("none", (lambda Q, K, V, mask=None: (None, None),), r"forget to return"),
        ("no-mask-argument", (lambda Q, K, V: reference(Q, K, V),), r"TypeError"),
    ],
    check_causal_mask: [
        ("future", (lambda n: np.triu(np.ones((n, n), dtype=bool)),), r"later positions"),
        ("strict", (lambda n: np.tril(np.ones((n, n), dtype=bool), -1),), r"hidden from itself"),
        (
            "future-strict",
            (lambda n: np.triu(np.ones((n, n), dtype=bool), 1),),
            r"future and hides",
        ),
        ("floats", (lambda n: np.tril(np.ones((n, n))),), r"make it boolean"),
        ("all-true", (lambda n: np.ones((n, n), dtype=bool),), r"mask is wrong"),
        ("wrong-shape", (lambda n: np.tril(np.ones((n, n + 1), dtype=bool)),), r"shape"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


def test_attention_messages_do_not_print_arrays():
    with pytest.raises(CheckFailed) as err:
        nb12.check_attention(make(scale="none"))
    assert "[[" not in str(err.value)
