"""Scaled dot-product attention in NumPy, its backward pass, masks and positional encodings.

The reference version of what notebook 12 derives. Shapes follow
``torch.nn.functional.scaled_dot_product_attention``: queries ``(..., L, d)``, keys
``(..., S, d)``, values ``(..., S, d_v)``, output ``(..., L, d_v)``; any leading axes
(batch, heads) are carried along and broadcast as in a matrix product. A boolean mask is
``True`` where a query may look at a key (torch's convention); a float mask is added to the
scores. A query that can see no key at all (every score ``-inf``) gets zero weights and a
zero output, as torch >= 2.5 gives, instead of the 0/0 of a plain softmax.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_array, check_positive_int
from .functional import softmax

__all__ = ["attention", "attention_backward", "causal_mask", "sinusoidal_positions"]


def _inputs(query: object, key: object, value: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q, k, v = as_array(query, "query"), as_array(key, "key"), as_array(value, "value")
    for name, arr in (("query", q), ("key", k), ("value", v)):
        if arr.ndim < 2:
            raise ValueError(
                f"{name} must have at least 2 axes (..., length, features), got shape {arr.shape}"
            )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"query and key must have the same feature size d: query {q.shape}, key {k.shape}"
        )
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"key and value must have the same length S: key {k.shape}, value {v.shape}"
        )
    return q, k, v


def _scores(
    q: np.ndarray, k: np.ndarray, mask: object, scale: float | None
) -> tuple[np.ndarray, float]:
    """The masked, scaled scores ``(..., L, S)`` and the scale used."""
    # A Python float: a NumPy float64 scalar would turn float32 scores into float64.
    scale = 1.0 / float(np.sqrt(q.shape[-1])) if scale is None else float(scale)
    scores = (q @ np.swapaxes(k, -1, -2)) * scale
    if mask is None:
        return scores, scale
    m = np.asarray(mask)
    if m.dtype != np.bool_ and np.issubdtype(m.dtype, np.integer):
        # A 0/1 integer mask added to the scores would shift them by 0 or 1 and hide nothing;
        # torch refuses it too.
        raise TypeError(
            f"the mask has integer dtype {m.dtype}; use a boolean mask (True = may attend), "
            "e.g. mask.astype(bool), or a float mask of values added to the scores"
        )
    try:
        # The mask may broadcast over the scores, never enlarge them (as in torch): the
        # output keeps the shape the inputs give it.
        np.broadcast_to(m, scores.shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {m.shape} does not broadcast to the scores (..., L, S) "
            f"{scores.shape}"
        ) from None
    if m.dtype == np.bool_:
        return np.where(m, scores, -np.inf), scale
    # In the scores' dtype, as torch adds it: a float64 mask leaves float32 scores float32.
    return scores + as_array(m, "mask").astype(scores.dtype, copy=False), scale


def _softmax_or_zeros(scores: np.ndarray) -> np.ndarray:
    """Softmax over the keys; a row whose scores are all ``-inf`` gives zeros (torch >= 2.5).

    Such a row has no key to attend to: a plain softmax would divide 0 by 0 there.
    """
    blind = np.all(scores == -np.inf, axis=-1, keepdims=True)
    if not blind.any():
        return softmax(scores, axis=-1)
    weights = softmax(np.where(blind, 0.0, scores), axis=-1)
    return np.where(blind, 0.0, weights)


def _sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape``.

    An input used by several batches or heads receives the sum of their gradients.
    """
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes).reshape(shape) if axes else grad


def attention(
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``softmax(Q K^T * scale + mask) V`` with the softmax over the keys.

    Shapes: ``query (..., L, d)``, ``key (..., S, d)``, ``value (..., S, d_v)``;
    ``mask`` broadcasts to ``(..., L, S)`` (bool: ``True`` = may attend; float: added;
    integer masks are refused, as in torch). ``scale`` defaults to ``1 / sqrt(d)``, as in torch.
    Returns ``(output (..., L, d_v), weights (..., L, S))``; each row of weights sums to 1,
    except the row of a query that sees no key (all its scores ``-inf``): its weights and
    its output are zeros, as in torch >= 2.5.
    """
    q, k, v = _inputs(query, key, value)
    scores, _ = _scores(q, k, mask, scale)
    weights = _softmax_or_zeros(scores)
    return weights @ v, weights


def attention_backward(
    grad_out: np.ndarray,
    query: np.ndarray,
    key: np.ndarray,
    value: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dQ, dK, dV)`` of a loss with dL/d(output) = ``grad_out (..., L, d_v)``.

    With ``A = softmax(S)`` and ``S = Q K^T * scale``: ``dV = A^T G``, ``dA = G V^T``,
    ``dS = A * (dA - sum(dA * A, over keys))`` (the softmax's Jacobian row by row),
    ``dQ = dS K * scale`` and ``dK = dS^T Q * scale``. Masked entries get no gradient, and a
    query that sees no key gets none either (its output is the constant 0).
    Each gradient has the shape of its own input: where an input was broadcast over batches
    or heads, the gradients of its copies are summed.
    """
    q, k, v = _inputs(query, key, value)
    scores, used = _scores(q, k, mask, scale)
    a = _softmax_or_zeros(scores)
    g = as_array(grad_out, "grad_out")
    want = (*np.broadcast_shapes(a.shape[:-2], v.shape[:-2]), a.shape[-2], v.shape[-1])
    if g.shape != want:
        raise ValueError(f"grad_out must have the output's shape {want}, got {g.shape}")
    d_v = np.swapaxes(a, -1, -2) @ g
    d_a = g @ np.swapaxes(v, -1, -2)
    d_s = a * (d_a - np.sum(d_a * a, axis=-1, keepdims=True))
    d_q = (d_s @ k) * used
    d_k = (np.swapaxes(d_s, -1, -2) @ q) * used
    return _sum_to(d_q, q.shape), _sum_to(d_k, k.shape), _sum_to(d_v, v.shape)


def causal_mask(length: int) -> np.ndarray:
    """Boolean ``(length, length)`` mask: query ``i`` may look at keys ``0 .. i`` only."""
    check_positive_int(length, "length")
    return np.tril(np.ones((length, length), dtype=bool))


def sinusoidal_positions(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """The sine/cosine positional encodings of "Attention is all you need": ``(length, d_model)``.

    Column pair ``(2i, 2i+1)`` holds ``sin(p / base**(2i/d_model))`` and the matching cosine
    for position ``p``; ``d_model`` must be even.
    """
    check_positive_int(length, "length")
    check_positive_int(d_model, "d_model")
    if d_model % 2:
        raise ValueError(f"d_model must be even (sine and cosine pairs), got {d_model}")
    pos = np.arange(length)[:, None]
    freq = base ** (-np.arange(0, d_model, 2) / d_model)
    enc = np.empty((length, d_model))
    enc[:, 0::2] = np.sin(pos * freq)
    enc[:, 1::2] = np.cos(pos * freq)
    return enc
