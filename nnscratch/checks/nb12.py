"""Exercise checks for notebook 12 (attention from scratch).

The reference answers come from ``nnscratch.attention`` (cross-checked against
``torch.nn.functional.scaled_dot_product_attention``). The cases have more keys than
queries and value vectors of another width than the keys, so a transposed product or a
softmax over the wrong axis shows. Messages name the likely mistake, never the answer.
"""

from __future__ import annotations

import numpy as np

from ..attention import attention, causal_mask
from ..functional import softmax
from ._core import call_student, close, fail, passed

__all__ = ["check_attention", "check_causal_mask"]


def _as_array(name: str, out: object, what: str) -> np.ndarray:
    if out is None:
        fail(name, f"{what} is None: did you forget to return it?")
    try:
        return np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, f"{what} should be an array of numbers, got {type(out).__name__}")
    return np.empty(0)  # pragma: no cover - fail() always raises


def _wrong_weights(q: np.ndarray, k: np.ndarray, mask: np.ndarray | None) -> dict[str, object]:
    """Weights that typical mistakes produce, each with the hint to give."""
    d = q.shape[-1]
    s = q @ k.T
    hidden = None if mask is None else np.where(mask, 0.0, -np.inf)
    out: dict[str, object] = {
        "no scaling: the raw scores grow with the width d and saturate the softmax; "
        "scale them down before it, as section 3 shows": softmax(
            s if hidden is None else s + hidden, axis=-1
        ),
        "the scores are divided by d: that shrinks them too much; look again at how the "
        "spread of a dot product of d unit-variance terms grows with d": softmax(
            s / d if hidden is None else s / d + hidden, axis=-1
        ),
    }
    if mask is None:
        out[
            "the softmax runs over the queries (axis 0): each query's weights over the keys "
            "must sum to 1, so normalise along the key axis"
        ] = softmax(s / np.sqrt(d), axis=0)
    else:
        plain = softmax(s / np.sqrt(d), axis=-1)
        out[
            "the mask is applied after the softmax: hidden keys must be removed from the "
            "scores before it (set them to -inf), so the remaining weights still sum to 1"
        ] = plain * mask
        inverse = ~mask
        if inverse.any(axis=-1).all():
            out[
                "the mask is used the wrong way round: True means the query may look at that "
                "key (torch's convention)"
            ] = softmax(np.where(inverse, s / np.sqrt(d), -np.inf), axis=-1)
        out[
            "masked keys still get weight: with a boolean mask, put -inf (not 0) in the "
            "scores where the mask is False"
        ] = softmax(np.where(mask, s / np.sqrt(d), 0.0), axis=-1)
    return out


def check_attention(fn: object) -> None:
    """Check ``fn(Q, K, V, mask=None)`` returning ``(output, weights)``: scaled dot-product
    attention for ``Q (L, d)``, ``K (S, d)``, ``V (S, d_v)``, with an optional boolean
    ``mask (L, S)`` (``True`` = the query may look at that key).

    Recognised mistakes: no 1/sqrt(d) scaling or 1/d instead, a softmax over the queries,
    the mask applied after the softmax, used the wrong way round, or with 0 instead of
    -inf; weights and output swapped; changing the inputs.
    """
    name = "check_attention"
    rng = np.random.default_rng(21)
    cases = [(3, 5, 4, 2, False), (4, 6, 8, 3, True), (1, 3, 2, 5, True), (5, 5, 6, 6, True)]
    for n_q, n_k, d, d_v, masked in cases:
        q = rng.normal(size=(n_q, d)) * 1.5
        k = rng.normal(size=(n_k, d)) * 1.5
        v = rng.normal(size=(n_k, d_v))
        mask = None
        if masked:
            mask = rng.random((n_q, n_k)) > 0.4
            mask[np.arange(n_q), rng.integers(0, n_k, n_q)] = True
        args = [a.copy() for a in (q, k, v)]
        if mask is None:
            res = call_student(name, fn, *args)
        else:
            res = call_student(name, fn, *args, mask.copy())
        if not all(np.array_equal(a, b) for a, b in zip(args, (q, k, v), strict=True)):
            fail(name, "your function changed Q, K or V: compute into new arrays")
        if not isinstance(res, tuple) or len(res) != 2:
            fail(name, f"return a pair (output, weights), got {type(res).__name__}")
        out = _as_array(name, res[0], "the output")
        w = _as_array(name, res[1], "the weights")
        want_out, want_w = attention(q, k, v, mask)
        where = f"Q {q.shape}, K {k.shape}, V {v.shape}" + (", with a mask" if masked else "")
        if out.shape == want_w.shape and w.shape == want_out.shape and out.shape != w.shape:
            fail(name, f"({where}) output and weights are swapped: return (output, weights)")
        if w.shape != want_w.shape:
            fail(
                name,
                f"({where}) the weights have shape {w.shape}: one row per query and one column "
                "per key",
            )
        if not close(w, want_w):
            for hint, wrong in _wrong_weights(q, k, mask).items():
                if close(w, wrong):
                    fail(name, f"({where}) {hint}")
            if not np.allclose(w.sum(axis=-1), 1.0):
                fail(name, f"({where}) the weights of each query do not sum to 1")
            fail(
                name,
                f"({where}) the weights are wrong: compare each step with the recipe above "
                "(scores, scale, mask, softmax over the keys)",
            )
        if out.shape != want_out.shape:
            fail(
                name,
                f"({where}) the output has shape {out.shape}: one row per query, with the "
                "width of the values",
            )
        if not close(out, want_out):
            fail(
                name,
                f"({where}) the weights are right but the output is not: each output row is "
                "the weighted average of the value rows",
            )
    passed(name, f"{len(cases)} cases, with more keys than queries and masks")


def check_causal_mask(fn: object) -> None:
    """Check ``fn(n)``: the boolean ``(n, n)`` mask that lets position ``i`` look at
    positions ``0 .. i`` (itself included) and never at later ones.

    Recognised mistakes: a mask that hides the position itself, one that looks at the future
    instead of the past, numbers instead of booleans, a wrong shape.
    """
    name = "check_causal_mask"
    for n in (2, 5, 7, 1):
        out = call_student(name, fn, n)
        arr = np.asarray(out)
        want = causal_mask(n)
        if arr.shape != want.shape:
            fail(
                name,
                f"for n = {n} the mask has shape {arr.shape}: one row per query and one "
                "column per key",
            )
        if arr.dtype != np.bool_:
            fail(
                name,
                f"the mask has dtype {arr.dtype}: make it boolean (True = may look), since "
                "torch adds a float mask to the scores instead of hiding keys",
            )
        if np.array_equal(arr, want):
            continue
        if np.array_equal(arr, want.T):
            fail(
                name,
                "the mask lets each position look at later positions (the future), "
                "not at earlier ones",
            )
        if np.array_equal(arr, np.tril(want, -1)):
            fail(name, "each position is hidden from itself: a position may look at itself")
        if np.array_equal(arr, np.triu(want.T, 1)):
            fail(name, "the mask looks at the future and hides the position itself")
        fail(name, f"for n = {n} the mask is wrong: check each row against the rule above")
    passed(name, "n = 2, 5, 7 and 1")
