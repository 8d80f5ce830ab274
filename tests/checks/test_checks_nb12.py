"""The notebook 12 checks pass right answers (float64 and float32, written several ways) and
name typical mistakes: a table of wrong answers per check, each with the message it must get."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _checks_helpers import assert_passes, assert_rejects, failure, right_cases, wrong_cases

from nnscratch.checks import check_attention, check_causal_mask, check_sinusoidal_positions


def _softmax(s, axis=-1):
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def make(scale="sqrt", axis=-1, mask_mode="before", fill=-np.inf):
    def attention(Q, K, V, mask=None):
        d = Q.shape[-1]
        s = Q @ K.T
        div = {"sqrt": np.sqrt(d), "none": 1.0, "d": d, "times": 1 / np.sqrt(d),
               "keys": np.sqrt(K.shape[0]), "values": np.sqrt(V.shape[-1])}[scale]
        s = s / div
        if mask is not None and mask_mode == "before":
            s = np.where(mask, s, fill)
        if mask is not None and mask_mode == "inverted":
            s = np.where(mask, fill, s)
        if axis is None:  # one softmax over the whole matrix
            w = _softmax(s.ravel()).reshape(s.shape)
        else:
            w = _softmax(s, axis=axis)
        if mask is not None and mask_mode == "after":
            w = w * mask
        return w @ V, w

    return attention


reference = make()


def float32_attention(Q, K, V, mask=None):
    return reference(*(a.astype(np.float32) for a in (Q, K, V)), mask)


def large_negative(Q, K, V, mask=None):  # -1e9 instead of -inf: the weights are the same
    return make(fill=-1e9)(Q, K, V, mask)


def torch_based(Q, K, V, mask=None):
    q, k, v = (torch.from_numpy(a) for a in (Q, K, V))
    s = q @ k.T / Q.shape[-1] ** 0.5
    if mask is not None:
        s = s.masked_fill(~torch.from_numpy(mask), float("-inf"))
    w = torch.softmax(s, dim=-1)
    return (w @ v).numpy(), w.numpy()


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


def output_from_scores(Q, K, V, mask=None):
    out, w = reference(Q, K, V, mask)
    return Q @ K.T / np.sqrt(Q.shape[-1]) @ V, w


def transposed_weights(Q, K, V, mask=None):
    out, w = reference(Q, K, V, mask)
    return out, w.T


def mask_ignored(Q, K, V, mask=None):
    return reference(Q, K, V)


def as_lists(Q, K, V, mask=None):
    out, w = reference(Q, K, V, mask)
    return out.tolist(), w.tolist()


def as_tensors(Q, K, V, mask=None):
    return torch_based(Q, K, V, mask)[0], torch.from_numpy(reference(Q, K, V, mask)[1])


# ---------------------------------------------------------------- positional encodings


def positions(length, d_model):
    pe = np.zeros((length, d_model))
    for p in range(length):
        for m in range(d_model // 2):
            angle = p / 10000 ** (2 * m / d_model)
            pe[p, 2 * m], pe[p, 2 * m + 1] = np.sin(angle), np.cos(angle)
    return pe


def positions_vectorised(length, d_model):
    angle = np.arange(length)[:, None] / 10000 ** (np.arange(0, d_model, 2) / d_model)
    return np.stack([np.sin(angle), np.cos(angle)], axis=-1).reshape(length, d_model)


def positions_wrong(kind):
    def fn(length, d_model):
        pe = np.zeros((length, d_model))
        for p in range(length):
            for j in range(d_model):
                m = j // 2
                expo = {"column": j / d_model, "pair": m / d_model}.get(kind, 2 * m / d_model)
                pos = p + 1 if kind == "from-one" else p
                angle = pos * 10000**expo if kind == "sign" else pos / 10000**expo
                even = j % 2 == 0
                if kind == "swapped":
                    even = not even
                pe[p, j] = np.sin(angle) if even else np.cos(angle)
        if kind == "halves":
            pe = np.concatenate([pe[:, 0::2], pe[:, 1::2]], axis=1)
        return pe

    return fn


RIGHT = {
    check_attention: [(reference,), (float32_attention,), (large_negative,), (torch_based,)],
    check_causal_mask: [
        (lambda n: np.tril(np.ones((n, n), dtype=bool)),),
        (lambda n: np.arange(n)[:, None] >= np.arange(n)[None, :],),
        (lambda n: ~np.triu(np.ones((n, n), dtype=bool), 1),),
    ],
    check_sinusoidal_positions: [
        (positions,),
        (positions_vectorised,),
        (lambda length, d: positions(length, d).astype(np.float32),),
    ],
}

WRONG = {
    check_attention: [
        ("no-scaling", (make(scale="none"),), r"no scaling.*section 2"),
        ("divided-by-d", (make(scale="d"),), r"divided by d"),
        ("multiplied", (make(scale="times"),), r"multiplied by the scale"),
        ("scale-by-keys", (make(scale="keys"),), r"number of keys"),
        ("scale-by-values", (make(scale="values"),), r"width of the values"),
        ("softmax-over-queries", (make(axis=0),), r"over the queries"),
        ("softmax-over-everything", (make(axis=None),), r"do not sum to 1"),
        ("mask-after-softmax", (make(mask_mode="after"),), r"after the softmax"),
        ("mask-inverted", (make(mask_mode="inverted"),), r"wrong way round: True means"),
        ("mask-fills-zero", (make(fill=0.0),), r"score of 0 is not hidden"),
        ("mask-ignored", (mask_ignored,), r"mask is ignored"),
        ("mutates-q", (mutating,), r"changed its input `Q` in place"),
        ("swapped-pair", (swapped,), r"swapped"),
        ("output-only", (output_only,), r"return a pair"),
        ("wrong-output", (wrong_output,), r"weights are right but the output is not"),
        ("output-from-scores", (output_from_scores,), r"built from the scores"),
        ("transposed-weights", (transposed_weights,), r"transposed"),
        ("lists", (as_lists,), r"Python list"),
        ("tensors", (as_tensors,), r"torch tensor"),
        ("none", (lambda Q, K, V, mask=None: (None, None),), r"forget to return"),
        ("no-mask-argument", (lambda Q, K, V: reference(Q, K, V),), r"TypeError"),
    ],
    check_causal_mask: [
        ("inverted", (lambda n: np.triu(np.ones((n, n), dtype=bool), 1),),
         r"True exactly where a position must NOT look.*True means may look"),
        ("future", (lambda n: np.triu(np.ones((n, n), dtype=bool)),), r"later positions"),
        ("strict", (lambda n: np.tril(np.ones((n, n), dtype=bool), -1),), r"hidden from itself"),
        ("floats", (lambda n: np.tril(np.ones((n, n))),), r"make it boolean"),
        ("ints", (lambda n: np.tril(np.ones((n, n), dtype=int)),), r"make it boolean"),
        ("all-true", (lambda n: np.ones((n, n), dtype=bool),), r"may look everywhere"),
        ("identity", (lambda n: np.eye(n, dtype=bool),), r"only itself"),
        ("wrong-shape", (lambda n: np.tril(np.ones((n, n + 1), dtype=bool)),), r"shape"),
        ("list", (lambda n: np.tril(np.ones((n, n), dtype=bool)).tolist(),), r"Python list"),
        ("tensor", (lambda n: torch.tril(torch.ones(n, n, dtype=torch.bool)),), r"torch tensor"),
        ("none", (lambda n: None,), r"forget to return"),
    ],
    check_sinusoidal_positions: [
        ("sin-cos-swapped", (positions_wrong("swapped"),), r"exchanged"),
        ("halves", (positions_wrong("halves"),), r"two halves"),
        ("column-index", (positions_wrong("column"),), r"another frequency"),
        ("pair-index", (positions_wrong("pair"),), r"which index goes into the exponent"),
        ("sign", (positions_wrong("sign"),), r"sign of the exponent"),
        ("from-one", (positions_wrong("from-one"),), r"start at 1"),
        ("transposed", (lambda length, d: positions(length, d).T,), r"one row per position"),
        ("list", (lambda length, d: positions(length, d).tolist(),), r"Python list"),
        ("tensor", (lambda length, d: torch.from_numpy(positions(length, d)),), r"torch tensor"),
        ("rounded", (lambda length, d: np.round(positions(length, d)),), r"whole numbers"),
        ("base-1000", (lambda length, d: positions(length, d) if d == 6 else
                       np.sin(np.arange(length)[:, None] + np.zeros(d)),), r"position \d+, "
                                                                          r"feature \d+"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


def test_attention_messages_do_not_print_arrays() -> None:
    for answer in (make(scale="none"), wrong_output):
        assert "[[" not in failure(check_attention, (answer,)).message
