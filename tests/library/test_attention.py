"""Attention's reference functions against torch's ``scaled_dot_product_attention`` in float64.

Forward values and all three gradients, over every broadcast of query, key, value and mask
that forward accepts; masks follow torch (boolean True = may attend, float added, a query
with no visible key gives zeros, integer masks refused).
"""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.attention import attention, attention_backward, causal_mask, sinusoidal_positions

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = 1e-12


def _torch_attention(q, k, v, mask, g):
    """torch's output and gradients (dQ, dK, dV) for dL/d(output) = ``g``."""
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tmask = None if mask is None else torch.tensor(mask)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), (tq.grad.numpy(), tk.grad.numpy(), tv.grad.numpy())


def _assert_matches_torch(q, k, v, mask=None, seed=0):
    rng = np.random.default_rng(seed)
    out, weights = attention(q, k, v, mask)
    g = rng.normal(size=out.shape)
    want_out, want_grads = _torch_attention(q, k, v, mask, g)
    assert out.shape == want_out.shape
    assert np.abs(out - want_out).max() < TOL
    grads = attention_backward(g, q, k, v, mask)
    for name, mine, theirs, inp in zip("QKV", grads, want_grads, (q, k, v), strict=True):
        assert mine.shape == inp.shape == theirs.shape, f"d{name}"
        assert np.abs(mine - theirs).max() < TOL, f"d{name}"
    return out, weights, grads


@pytest.mark.parametrize("masked", [False, True])
def test_attention_and_its_backward_match_torch(masked):
    rng = np.random.default_rng(5)
    q, k, v = (
        rng.normal(size=(2, 3, 5, 4)),
        rng.normal(size=(2, 3, 7, 4)),
        rng.normal(size=(2, 3, 7, 6)),
    )
    mask = rng.random((5, 7)) > 0.5 if masked else None
    if masked:
        mask[:, 0] = True
    _, weights, _ = _assert_matches_torch(q, k, v, mask)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)
    if masked:
        assert np.all(weights[..., ~mask] == 0)


# (query, key, value, mask) shapes: every kind of broadcast forward accepts
BROADCASTS = [
    ((2, 3, 4, 5), (6, 5), (6, 7), None),  # keys and values shared by all batches and heads
    ((4, 5), (2, 6, 5), (6, 7), None),  # only the key batched
    ((4, 5), (6, 5), (3, 1, 6, 7), None),  # only the value batched
    ((2, 1, 4, 5), (1, 3, 6, 5), (2, 3, 6, 7), None),  # batch from q, heads from k
    ((3, 4, 5), (2, 1, 6, 5), (1, 3, 6, 7), (4, 6)),  # every input a different shape
    ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7), (3, 1, 6)),  # a mask per head, shared by queries
    ((1, 4, 5), (6, 5), (2, 6, 7), (1, 4, 6)),
]


@pytest.mark.parametrize("qs, ks, vs, ms", BROADCASTS, ids=str)
@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_gradients_have_their_inputs_shapes_under_broadcasting(qs, ks, vs, ms, mask_kind):
    rng = np.random.default_rng(6)
    q, k, v = rng.normal(size=qs), rng.normal(size=ks), rng.normal(size=vs)
    mask = None
    if ms is not None:
        mask = rng.random(ms) > 0.3
        mask[..., 0] = True
        if mask_kind == "float":
            mask = np.where(mask, rng.normal(size=ms), -np.inf)
    _assert_matches_torch(q, k, v, mask)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_a_query_with_no_visible_key_gives_zeros_like_torch(kind):
    rng = np.random.default_rng(7)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 2))
    allowed = rng.random((2, 4, 5)) > 0.4
    allowed[:, :, 0] = True
    allowed[0, 1] = False  # query 1 of batch 0 sees nothing
    allowed[1, 3] = False
    mask = allowed if kind == "bool" else np.where(allowed, 0.0, -np.inf)
    with np.errstate(all="raise"):  # no NaN made and hidden behind a warning
        out, weights, (dq, dk, dv) = _assert_matches_torch(q, k, v, mask)
    assert np.all(out[0, 1] == 0) and np.all(out[1, 3] == 0)
    assert np.all(weights[0, 1] == 0) and np.all(weights[1, 3] == 0)
    assert np.all(dq[0, 1] == 0) and np.all(dq[1, 3] == 0)
    assert np.all(np.isfinite(dk)) and np.all(np.isfinite(dv))


def test_fully_masked_scores_of_a_float_mask_without_inf_are_ordinary():
    # -1e30 is finite: torch attends (uniformly, here) rather than returning zeros
    q = np.ones((2, 3))
    mask = np.full((2, 2), -1e30)
    _assert_matches_torch(q, q, q, mask)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.int8])
def test_an_integer_mask_is_refused_with_advice_to_use_booleans(dtype):
    q = np.ones((3, 4))
    with pytest.raises(TypeError, match=r"boolean mask \(True = may attend\).*int|int.*boolean"):
        attention(q, q, q, np.tril(np.ones((3, 3), dtype=dtype)))
    with pytest.raises(TypeError, match="boolean"):
        attention_backward(np.ones((3, 4)), q, q, q, np.ones((3, 3), dtype=dtype))
    with pytest.raises(TypeError, match="boolean"):
        attention(q, q, q, [[1, 0, 0], [1, 1, 0], [1, 1, 1]])


def test_float32_attention_stays_float32_with_any_mask():
    rng = np.random.default_rng(12)
    q = rng.normal(size=(2, 3, 4)).astype(np.float32)
    for mask in (None, causal_mask(3), np.where(causal_mask(3), 0.0, -np.inf)):
        out, weights = attention(q, q, q, mask)
        assert out.dtype == weights.dtype == np.float32
        grads = attention_backward(np.ones_like(out), q, q, q, mask)
        assert all(g.dtype == np.float32 for g in grads)


def test_a_mask_that_would_enlarge_the_scores_is_refused_like_torch():
    q = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"mask of shape \(2, 3, 3\).*\(3, 3\)"):
        attention(q, q, q, np.ones((2, 3, 3), bool))


def test_attention_backward_names_the_output_shape_for_a_wrong_grad_out():
    q, k, v = np.ones((4, 5)), np.ones((2, 6, 5)), np.ones((6, 7))
    with pytest.raises(ValueError, match=r"output's shape \(2, 4, 7\), got \(4, 7\)"):
        attention_backward(np.ones((4, 7)), q, k, v)


def test_attention_errors_and_helpers():
    q = np.ones((3, 4))
    with pytest.raises(ValueError, match="same feature size d"):
        attention(q, np.ones((3, 5)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="same length S"):
        attention(q, np.ones((3, 4)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="does not broadcast"):
        attention(q, q, q, np.ones((2, 2), bool))
    np.testing.assert_array_equal(causal_mask(3), np.tril(np.ones((3, 3), bool)))
    pe = sinusoidal_positions(6, 8)
    assert pe.shape == (6, 8) and np.allclose(pe[0, 0::2], 0) and np.allclose(pe[0, 1::2], 1)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(4, 5)
