"""Exercise checks for notebook 12 (attention from scratch).

The reference answers come from ``nnscratch.attention`` (cross-checked against torch's
``scaled_dot_product_attention``). The attention cases have more keys than queries, a value
width unlike the key width and unlike the number of keys, so a transposed product, a softmax
over the wrong axis or a scale taken from the wrong size shows. Messages name the likely
mistake and point at the notebook's section, never at the answer.
"""

from __future__ import annotations

import numpy as np

from ..attention import attention, causal_mask, sinusoidal_positions
from ..functional import softmax
from ._core import answer_array, answer_pair, call_student, close, fail, passed

__all__ = ["check_attention", "check_causal_mask", "check_sinusoidal_positions"]


def _array(name: str, out: object, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``answer_array``, with a "did you return it?" for None."""
    if out is None:
        fail(name, f"{what} is None: did you forget to return it?")
    return answer_array(name, out, shape, what)


def _same(got: np.ndarray, want: np.ndarray) -> bool:
    """Equal up to what single precision loses (every known mistake is far outside)."""
    return close(got, want, rtol=1e-4, atol=1e-6)



def _wrong_weights(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None
) -> list[tuple[str, np.ndarray]]:
    """The weights typical mistakes produce, each with the hint to give."""
    d = q.shape[-1]
    s = q @ k.T

    def soft(scores: np.ndarray, axis: int = -1) -> np.ndarray:
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        with np.errstate(all="ignore"):
            return softmax(scores, axis=axis)

    out = [
        ("no scaling: the raw scores grow with the width d and saturate the softmax; section 2 "
         "shows what to divide them by", soft(s)),
        ("the scores are divided by d: that shrinks them too much; section 2 shows how the "
         "spread of the scores grows with d", soft(s / d)),
        ("the scores are multiplied by the scale instead of divided by it", soft(s * np.sqrt(d))),
        ("the scale uses the number of keys; the d of the scaling is the width of the "
         "queries and keys", soft(s / np.sqrt(k.shape[0]))),
        ("the scale uses the width of the values; the d of the scaling is the width of the "
         "queries and keys", soft(s / np.sqrt(v.shape[-1]))),
        ("the softmax runs over the queries (axis 0): each query's weights over the keys must "
         "sum to 1, so normalise along the key axis", soft(s / np.sqrt(d), axis=0)),
    ]
    if mask is not None:
        plain = softmax(s / np.sqrt(d), axis=-1)
        out += [
            ("the mask is applied after the softmax: hidden keys must be removed from the "
             "scores before it, so that the remaining weights still sum to 1", plain * mask),
            ("the mask is ignored: hidden keys still get weight", plain),
            ("masked keys still get weight: a score of 0 is not hidden, the softmax still "
             "gives it weight (section 2, Masking)", softmax(np.where(mask, s / np.sqrt(d), 0.0),
                                                            axis=-1)),
        ]
        if (~mask).any(axis=-1).all():
            out.append((
                "the mask is used the wrong way round: True means the query MAY look at that "
                "key (torch's convention), False hides it",
                softmax(np.where(mask, -np.inf, s / np.sqrt(d)), axis=-1),
            ))
    return out


# (queries, keys, width d, value width, masked)
_ATTENTION_CASES = [(3, 5, 4, 2, False), (4, 6, 8, 3, True), (1, 3, 2, 5, True), (5, 5, 6, 7, True)]


def check_attention(fn: object) -> None:
    """Check your ``attention(Q, K, V, mask=None)`` returning ``(output, weights)``: scaled
    dot-product attention for ``Q (L, d)``, ``K (S, d)``, ``V (S, d_v)`` with an optional
    boolean ``mask (L, S)`` (``True`` = the query may look at that key), compared with
    ``nnscratch.attention`` on four cases with more keys than queries and masks.

    Names the typical mistakes: no scaling, a scale from the wrong size or applied the wrong
    way, a softmax over the queries, a mask ignored, applied after the softmax, used the wrong
    way round or filled with 0; the output and the weights swapped or transposed, a list or a
    tensor instead of an array, and changing the inputs.
    """
    name = "check_attention"
    rng = np.random.default_rng(21)
    for n_q, n_k, d, d_v, masked in _ATTENTION_CASES:
        q = rng.normal(size=(n_q, d)) * 1.5
        k = rng.normal(size=(n_k, d)) * 1.5
        v = rng.normal(size=(n_k, d_v))
        mask = None
        if masked:
            mask = rng.random((n_q, n_k)) > 0.4
            mask[np.arange(n_q), rng.integers(0, n_k, n_q)] = True  # each query sees a key
        args = (q, k, v) if mask is None else (q, k, v, mask)
        res = call_student(name, fn, *(a.copy() for a in args))
        out_raw, w_raw = answer_pair(name, res, "(output, weights)")
        want_out, want_w = attention(q, k, v, mask)
        where = f"(Q {q.shape}, K {k.shape}, V {v.shape}" + (", with a mask)" if masked else ")")
        if np.shape(out_raw) == want_w.shape and np.shape(w_raw) == want_out.shape and (
            want_w.shape != want_out.shape
        ):
            fail(name, f"{where} output and weights are swapped: return (output, weights)")
        if np.shape(w_raw) == want_w.shape[::-1] and n_q != n_k:
            fail(name, f"{where} the weights have shape {np.shape(w_raw)}, transposed: one row "
                       "per query and one column per key")
        w = _array(name, w_raw, want_w.shape, f"{where} the weights")
        if not _same(w, want_w):
            for hint, wrong in _wrong_weights(q, k, v, mask):
                if _same(w, wrong):
                    fail(name, f"{where} {hint}")
            if not np.allclose(w.sum(axis=-1), 1.0, atol=1e-4):
                fail(name, f"{where} the weights of each query do not sum to 1")
            fail(name, f"{where} the weights are wrong: compare each step of your code with "
                       "section 2 (scores, scale, mask, softmax over the keys)")
        out = _array(name, out_raw, want_out.shape, f"{where} the output")
        if not _same(out, want_out):
            if _same(out, (q @ k.T / np.sqrt(d)) @ v):
                fail(name, f"{where} the output is built from the scores; it is built from the "
                           "weights")
            fail(name, f"{where} the weights are right but the output is not: look again at "
                       "how section 2 combines the weights with the values")
    passed(name, f"{len(_ATTENTION_CASES)} cases, with more keys than queries and masks")


def check_causal_mask(fn: object) -> None:
    """Check your ``causal_mask(n)``: the boolean ``(n, n)`` mask (rows are queries, columns
    keys) that lets position ``i`` look at positions ``0 .. i``, itself included, and never at
    later ones; for several lengths, 1 included.

    Names the typical mistakes: a mask that hides the position itself, that looks at the
    future, that uses True for "hidden" instead of torch's True = may look, that lets every
    position see everything or only itself, numbers instead of booleans, a list or a tensor,
    and a wrong shape.
    """
    name = "check_causal_mask"
    for n in (5, 2, 7, 1):
        out = call_student(name, fn, n)
        if out is None:
            fail(name, "the mask is None: did you forget to return it?")
        arr = answer_array(name, out, (n, n), f"the mask for n = {n}")
        if out.dtype != np.bool_:
            fail(name, f"the mask has dtype {out.dtype}: make it boolean (True = may look); "
                       "torch adds a number mask to the scores instead of hiding keys")
        got, want = out, causal_mask(n)
        if np.array_equal(got, want):
            continue
        if np.array_equal(got, ~want):
            fail(name, "your mask is True exactly where a position must NOT look: in torch's "
                       "convention, which this notebook follows, True means may look")
        if np.array_equal(got, want.T):
            fail(name, "the mask lets each position look at later positions (the future), "
                       "not at earlier ones")
        if np.array_equal(got, np.tril(want, -1)):
            fail(name, "each position is hidden from itself: a position may look at itself")
        if np.array_equal(got, np.ones_like(want)):
            fail(name, "every position may look everywhere: the future must be hidden")
        if np.array_equal(got, np.eye(n, dtype=bool)):
            fail(name, "each position sees only itself: it may also look at the earlier ones")
        fail(name, f"for n = {n} the mask is wrong (it has {int(arr.sum())} True entries): "
                   "check each row against the rule above")
    passed(name, "n = 5, 2, 7 and 1")


def _halves(length: int, d: int) -> np.ndarray:
    pe = sinusoidal_positions(length, d)
    return np.concatenate([pe[:, 0::2], pe[:, 1::2]], axis=1)


def check_sinusoidal_positions(fn: object) -> None:
    """Check your ``sinusoidal_positions(length, d_model)``: the ``(length, d_model)`` array of
    sine and cosine positional encodings of section 5 (``d_model`` even, base 10000),
    compared with ``nnscratch.attention.sinusoidal_positions`` for several sizes.

    Names the typical mistakes: sine and cosine exchanged, the two in separate halves instead
    of alternating, a cosine with another frequency than its sine partner, the wrong index in
    the exponent, the exponent's sign, positions counted from 1, the array transposed, a list
    or a tensor, and numbers rounded to integers.
    """
    name = "check_sinusoidal_positions"
    for length, d in ((7, 6), (12, 16), (3, 2), (20, 8)):
        out = call_student(name, fn, length, d)
        where = f"for length = {length}, d_model = {d}"
        if np.shape(out) == (d, length) and length != d:
            fail(name, f"{where} the encodings have shape {np.shape(out)}: one row per "
                       "position, one column per feature")
        got = _array(name, out, (length, d), f"{where} the encodings")
        want = sinusoidal_positions(length, d)
        if _same(got, want):
            continue
        pos, pairs = np.arange(length)[:, None], np.arange(d // 2)
        col = np.arange(d)

        def laid_out(angle_sin: np.ndarray, angle_cos: np.ndarray) -> np.ndarray:
            pe = np.empty(want.shape)  # noqa: B023 - used within this loop pass only
            pe[:, 0::2], pe[:, 1::2] = np.sin(angle_sin), np.cos(angle_cos)
            return pe

        freq = 10000.0 ** (-2 * pairs / d)
        wrong = [
            ("sine and cosine are exchanged: the even columns hold the sines",
             want[:, np.arange(d) ^ 1]),
            ("the sines and the cosines sit in two halves; here (as in the original paper) they "
             "alternate, each pair of columns sharing one frequency", _halves(length, d)),
            ("each cosine column uses another frequency than the sine column before it: the "
             "two columns of a pair share one frequency",
             laid_out(pos * 10000.0 ** (-col[0::2] / d), pos * 10000.0 ** (-col[1::2] / d))),
            ("the frequencies fall too slowly from pair to pair: check which index goes into "
             "the exponent (section 5)", laid_out(pos * 10000.0 ** (-pairs / d),
                                                  pos * 10000.0 ** (-pairs / d))),
            ("the wavelengths shrink from pair to pair instead of growing: check the sign of "
             "the exponent", laid_out(pos / freq, pos / freq)),
            ("the positions start at 1; the first position is 0", laid_out((pos + 1) * freq,
                                                                           (pos + 1) * freq)),
        ]
        for hint, value in wrong:
            if _same(got, value):
                fail(name, f"{where} {hint}")
        if close(got, np.round(want)):
            fail(name, "the values are rounded to whole numbers: use a float array")
        bad = np.argwhere(~np.isclose(got, want, rtol=1e-4, atol=1e-6))[0]
        fail(name, f"{where} the value at position {bad[0]}, feature {bad[1]} is wrong: "
                   "compare it with section 5's formula")
    passed(name, "four sizes agree with nnscratch.attention.sinusoidal_positions")
