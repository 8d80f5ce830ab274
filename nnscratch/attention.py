"""Scaled dot-product attention in NumPy, its backward pass, masks and positional encodings.

The reference version of what notebook 12 derives. Shapes follow
``torch.nn.functional.scaled_dot_product_attention``: queries ``(..., L, d)``, keys
``(..., S, d)``, values ``(..., S, d_v)``, output ``(..., L, d_v)``; any leading axes
(batch, heads) are carried along. A boolean mask is ``True`` where a query may look at a
key (torch's convention); a float mask is added to the scores.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_array, as_int
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
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)
    scores = (q @ np.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        m = np.asarray(mask)
        try:
            np.broadcast_shapes(m.shape, scores.shape)
        except ValueError:
            raise ValueError(
                f"mask of shape {m.shape} does not broadcast to the scores (..., L, S) "
                f"{scores.shape}"
            ) from None
        if m.dtype == np.bool_:
            if not np.all(np.broadcast_to(m, scores.shape).any(axis=-1)):
                raise ValueError(
                    "the mask hides every key from some query: its softmax would be 0/0 "
                    "(torch returns NaN there); let each query see at least one key"
                )
            scores = np.where(m, scores, -np.inf)
        else:
            scores = scores + as_array(m, "mask")
    return scores, scale


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
    ``mask`` broadcasts to ``(..., L, S)`` (bool: ``True`` = may attend; float: added).
    ``scale`` defaults to ``1 / sqrt(d)``, as in torch.
    Returns ``(output (..., L, d_v), weights (..., L, S))``; each row of weights sums to 1.
    """
    q, k, v = _inputs(query, key, value)
    scores, _ = _scores(q, k, mask, scale)
    weights = softmax(scores, axis=-1)
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
    ``dQ = dS K * scale`` and ``dK = dS^T Q * scale``. Masked entries get no gradient.
    """
    q, k, v = _inputs(query, key, value)
    scores, used = _scores(q, k, mask, scale)
    a = softmax(scores, axis=-1)
    g = as_array(grad_out, "grad_out")
    want = (*np.broadcast_shapes(q.shape[:-2], v.shape[:-2]), q.shape[-2], v.shape[-1])
    if g.shape != want:
        raise ValueError(f"grad_out must have the output's shape {want}, got {g.shape}")
    d_v = np.swapaxes(a, -1, -2) @ g
    d_a = g @ np.swapaxes(v, -1, -2)
    d_s = a * (d_a - np.sum(d_a * a, axis=-1, keepdims=True))
    return (d_s @ k) * used, (np.swapaxes(d_s, -1, -2) @ q) * used, d_v


def causal_mask(length: int) -> np.ndarray:
    """Boolean ``(length, length)`` mask: query ``i`` may look at keys ``0 .. i`` only."""
    as_int(length, "length")
    return np.tril(np.ones((length, length), dtype=bool))


def sinusoidal_positions(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """The sine/cosine positional encodings of "Attention is all you need": ``(length, d_model)``.

    Column pair ``(2i, 2i+1)`` holds ``sin(p / base**(2i/d_model))`` and the matching cosine
    for position ``p``; ``d_model`` must be even.
    """
    as_int(length, "length")
    as_int(d_model, "d_model")
    if d_model % 2:
        raise ValueError(f"d_model must be even (sine and cosine pairs), got {d_model}")
    pos = np.arange(length)[:, None]
    freq = base ** (-np.arange(0, d_model, 2) / d_model)
    enc = np.empty((length, d_model))
    enc[:, 0::2] = np.sin(pos * freq)
    enc[:, 1::2] = np.cos(pos * freq)
    return enc
