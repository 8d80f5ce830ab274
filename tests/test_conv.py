"""Conv2d, MaxPool2d and Unflatten against torch in float64, plus attention's reference functions.

Forward values, input gradients, weight and bias gradients on odd, non-square shapes with
strides and padding; gradients accumulate like torch; bad input gets a clear error.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.attention import attention, attention_backward, causal_mask, sinusoidal_positions
from nnscratch.gradcheck import gradcheck
from nnscratch.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Unflatten

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOL = 1e-12

CONV_CASES = [
    # (N, C, H, W, out_channels, kernel_size, stride, padding)
    (1, 1, 5, 5, 1, 3, 1, 0),
    (2, 3, 7, 5, 4, (3, 2), (2, 1), (1, 0)),
    (3, 2, 6, 9, 5, (2, 4), (3, 2), (1, 2)),
    (2, 1, 8, 8, 6, 3, 1, 1),
    (1, 4, 4, 11, 2, (4, 1), 2, (0, 3)),
    (2, 2, 5, 3, 3, 5, 1, 2),  # kernel larger than the width, padding makes it fit
]


def _torch_conv(conv: Conv2d, x: np.ndarray, g: np.ndarray):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(conv.weight.data, requires_grad=True)
    bt = torch.tensor(conv.bias.data, requires_grad=True) if conv.bias is not None else None
    out = F.conv2d(xt, wt, bt, stride=conv.stride, padding=conv.padding)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(case, bias):
    n, c, h, w, o, k, s, p = case
    rng = np.random.default_rng(1)
    conv = Conv2d(c, o, k, s, p, bias=bias, init="torch", rng=0)
    x = rng.normal(size=(n, c, h, w))
    x_before = x.copy()
    out = conv(x)
    g = rng.normal(size=out.shape)
    want_out, want_dx, want_dw, bt = _torch_conv(conv, x, g)
    assert out.shape == want_out.shape
    assert np.abs(out - want_out).max() < TOL
    dx = conv.backward(g)
    assert dx.shape == x.shape
    assert np.abs(dx - want_dx).max() < TOL
    assert np.abs(conv.weight.grad - want_dw).max() < TOL
    if bias:
        assert np.abs(conv.bias.grad - bt.grad.numpy()).max() < TOL
    else:
        assert conv.bias is None and len(conv.parameters()) == 1
    np.testing.assert_array_equal(x, x_before)  # the input is not changed


def test_conv2d_layout_names_and_torch_init_match_torch():
    conv = Conv2d(3, 5, (2, 4), rng=0)
    assert conv.weight.shape == (5, 3, 2, 4) and conv.bias.shape == (5,)
    assert conv.parameters() == [conv.weight, conv.bias]
    assert conv.num_parameters() == torch.nn.Conv2d(3, 5, (2, 4)).weight.numel() + 5
    bound = 1 / np.sqrt(3 * 2 * 4)
    w = Conv2d(3, 5, (2, 4), init="torch", rng=0).weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert Conv2d(1, 2, 3, dtype=np.float32)(np.ones((1, 1, 4, 4), np.float32)).dtype == np.float32


def test_conv2d_gradients_accumulate_and_pass_gradcheck():
    rng = np.random.default_rng(2)
    conv = Conv2d(2, 3, (3, 2), stride=(1, 2), padding=1, rng=0)
    x = rng.normal(size=(2, 2, 5, 6))
    out = conv(x)
    g = rng.normal(size=out.shape)
    conv.backward(g)
    first = conv.weight.grad.copy(), conv.bias.grad.copy()
    conv(x)
    conv.backward(g)
    np.testing.assert_allclose(conv.weight.grad, 2 * first[0], rtol=1e-13)
    np.testing.assert_allclose(conv.bias.grad, 2 * first[1], rtol=1e-13)
    assert gradcheck(conv, x) < 1e-6


@pytest.mark.parametrize(
    "shape, k, s, p",
    [((2, 3, 8, 8), 2, None, 0), ((1, 2, 7, 5), (3, 2), (2, 1), (1, 0)), ((2, 1, 9, 6), 3, 2, 1)],
)
def test_maxpool_matches_torch(shape, k, s, p):
    rng = np.random.default_rng(3)
    pool = MaxPool2d(k, s, p)
    x = rng.normal(size=shape)
    out = pool(x)
    xt = torch.tensor(x, requires_grad=True)
    ot = F.max_pool2d(xt, k, s, p)
    g = rng.normal(size=out.shape)
    ot.backward(torch.tensor(g))
    np.testing.assert_array_equal(out, ot.detach().numpy())
    assert np.abs(pool.backward(g) - xt.grad.numpy()).max() < TOL
    assert gradcheck(pool, x) < 1e-6


def test_maxpool_ties_go_to_the_first_maximum_like_torch():
    x = np.zeros((1, 1, 2, 2))
    pool = MaxPool2d(2)
    pool(x)
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2).sum().backward()
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))), xt.grad.numpy())


def test_small_cnn_matches_torch_end_to_end():
    rng = np.random.default_rng(4)
    model = Sequential(
        Unflatten(1, (1, 8, 8)),
        Conv2d(1, 4, 3, padding=1, rng=0),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(64, 10, rng=1),
    )
    x = rng.normal(size=(5, 64))
    conv, lin = model[1], model[5]
    tmodel = torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 8, 8)),
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 10),
    ).double()
    with torch.no_grad():
        tmodel[1].weight.copy_(torch.tensor(conv.weight.data))
        tmodel[1].bias.copy_(torch.tensor(conv.bias.data))
        tmodel[5].weight.copy_(torch.tensor(lin.weight.data))
        tmodel[5].bias.copy_(torch.tensor(lin.bias.data))
    out = model(x)
    g = rng.normal(size=out.shape)
    xt = torch.tensor(x, requires_grad=True)
    ot = tmodel(xt)
    ot.backward(torch.tensor(g))
    assert np.abs(out - ot.detach().numpy()).max() < TOL
    assert np.abs(model.backward(g) - xt.grad.numpy()).max() < TOL
    assert np.abs(conv.weight.grad - tmodel[1].weight.grad.numpy()).max() < TOL


@pytest.mark.parametrize(
    "x, match",
    [
        (np.ones((2, 3, 8)), r"4-D batch of images \(N, 2, H, W\), got shape \(2, 3, 8\)"),
        (np.ones((2, 3, 8, 8)), r"2 channels, shape \(N, 2, H, W\), got shape \(2, 3, 8, 8\)"),
        (np.ones((1, 2, 2, 8)), r"smaller than the 3x3 kernel"),
        (np.array([[[["a"]]]]), r"must contain numbers"),
    ],
)
def test_conv2d_bad_input_names_expected_and_got(x, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Conv2d(2, 4, 3)(x)


def test_bad_arguments_and_backward_misuse():
    with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
        Conv2d(1, 2, 0)
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        Conv2d(1, 2, 3, stride=(1, 0))
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        Conv2d(0, 2, 3)
    with pytest.raises(ValueError, match="padding must be at most half"):
        MaxPool2d(2, padding=2)
    with pytest.raises(RuntimeError, match="forward before backward"):
        Conv2d(1, 2, 3).backward(np.ones((1, 2, 1, 1)))
    conv = Conv2d(1, 2, 3)
    conv(np.ones((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"output's shape \(1, 2, 2, 2\), got \(1, 2, 3, 3\)"):
        conv.backward(np.ones((1, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"axis 1 has 64 entries, got shape \(3, 60\)"):
        Unflatten(1, (1, 8, 8))(np.ones((3, 60)))


# ------------------------------------------------------------------ attention (notebook 12)


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
    out, weights = attention(q, k, v, mask)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tmask = None if mask is None else torch.tensor(mask)
    to = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask)
    g = rng.normal(size=out.shape)
    to.backward(torch.tensor(g))
    assert np.abs(out - to.detach().numpy()).max() < TOL
    for mine, theirs in zip(attention_backward(g, q, k, v, mask), (tq, tk, tv), strict=True):
        assert np.abs(mine - theirs.grad.numpy()).max() < TOL
    if masked:
        assert np.all(weights[..., ~mask] == 0)


def test_attention_errors_and_helpers():
    q = np.ones((3, 4))
    with pytest.raises(ValueError, match="same feature size d"):
        attention(q, np.ones((3, 5)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="same length S"):
        attention(q, np.ones((3, 4)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="hides every key"):
        attention(q, q, q, np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="does not broadcast"):
        attention(q, q, q, np.ones((2, 2), bool))
    np.testing.assert_array_equal(causal_mask(3), np.tril(np.ones((3, 3), bool)))
    pe = sinusoidal_positions(6, 8)
    assert pe.shape == (6, 8) and np.allclose(pe[0, 0::2], 0) and np.allclose(pe[0, 1::2], 1)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(4, 5)
