"""The notebook 12 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.checks import CheckFailed, nb12


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


def test_attention_reference_passes(capsys):
    nb12.check_attention(reference)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (make(scale="none"), "no scaling"),
        (make(scale="d"), "divided by d"),
        (make(axis=0), "over the queries"),
        (make(mask_mode="after"), "after the softmax"),
        (make(mask_mode="inverted"), "wrong way round"),
        (make(fill=0.0), r"-inf \(not 0\)"),
        (mutating, "changed"),
        (swapped, "swapped"),
        (output_only, "return a pair"),
        (wrong_output, "weighted average"),
        (transposed_weights, "one row per query"),
        (lambda Q, K, V, mask=None: (None, None), "forget to return"),
        (lambda Q, K, V: reference(Q, K, V), "TypeError"),
    ],
)
def test_attention_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb12.check_attention(answer)


def test_attention_messages_do_not_print_arrays():
    with pytest.raises(CheckFailed) as err:
        nb12.check_attention(make(scale="none"))
    assert "[[" not in str(err.value)


def test_causal_mask_reference_passes(capsys):
    nb12.check_causal_mask(lambda n: np.tril(np.ones((n, n), dtype=bool)))
    nb12.check_causal_mask(lambda n: np.arange(n)[:, None] >= np.arange(n)[None, :])
    assert capsys.readouterr().out.count("passed") == 2


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda n: np.triu(np.ones((n, n), dtype=bool)), "later positions"),
        (lambda n: np.tril(np.ones((n, n), dtype=bool), -1), "hidden from itself"),
        (lambda n: np.triu(np.ones((n, n), dtype=bool), 1), "future and hides"),
        (lambda n: np.tril(np.ones((n, n))), "make it boolean"),
        (lambda n: np.ones((n, n), dtype=bool), "mask is wrong"),
        (lambda n: np.tril(np.ones((n, n + 1), dtype=bool)), "shape"),
    ],
)
def test_causal_mask_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb12.check_causal_mask(answer)
