"""Conv2d, MaxPool2d and Unflatten against torch in float64.

Forward values, input gradients, weight and bias gradients on odd, non-square shapes with
strides and padding; gradients accumulate like torch; bad input gets a clear error.
"""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.conv import Conv2d, MaxPool2d, Unflatten
from nnscratch.gradcheck import gradcheck
from nnscratch.layers import Flatten, Linear, ReLU, Sequential

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
@pytest.mark.parametrize("fast", [True, False], ids=["im2col", "reference"])
def test_conv2d_matches_torch(case, bias, fast):
    n, c, h, w, o, k, s, p = case
    rng = np.random.default_rng(1)
    conv = Conv2d(c, o, k, s, p, bias=bias, init="torch", rng=0, fast=fast)
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
    before = conv.weight.grad.copy()
    conv(x)
    conv.backward_params(g)  # the same parameter gradients, without dL/dx
    assert np.abs(conv.weight.grad - 2 * before).max() < 2 * TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_fast_path_equals_the_reference(dtype):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3, 2, 9, 7)).astype(dtype)
    fast, ref = (Conv2d(2, 5, 3, (2, 1), 1, rng=0, dtype=dtype, fast=f) for f in (True, False))
    out_fast, out_ref = fast(x), ref(x)
    assert out_fast.dtype == out_ref.dtype == dtype and out_fast.flags.c_contiguous
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out_fast, out_ref, rtol=tol, atol=tol)
    g = rng.normal(size=out_fast.shape).astype(dtype)
    np.testing.assert_allclose(fast.backward(g), ref.backward(g), rtol=tol, atol=tol)
    np.testing.assert_allclose(fast.weight.grad, ref.weight.grad, rtol=tol, atol=tol)


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
    [
        ((2, 3, 8, 8), 2, None, 0),
        ((1, 2, 7, 5), (3, 2), (2, 1), (1, 0)),
        ((2, 1, 9, 6), 3, 2, 1),
        ((2, 2, 9, 7), 2, None, 0),  # tiles that leave a row and a column out
        ((1, 2, 6, 9), (2, 3), None, 0),
    ],
)
@pytest.mark.parametrize("fast", [True, False], ids=["tiles", "reference"])
def test_maxpool_matches_torch(shape, k, s, p, fast):
    rng = np.random.default_rng(3)
    pool = MaxPool2d(k, s, p, fast=fast)
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
        (
            np.ones((2, 3, 8)),
            r"4-D batch of images \(N, 2, H, W\), got shape \(2, 3, 8\) "
            r"\(for one image use x\[None\], shape \(1, 2, 3, 8\)\)",
        ),
        (np.ones((2, 3, 8, 8)), r"2 channels, shape \(N, 2, H, W\), got shape \(2, 3, 8, 8\)"),
        (np.ones((1, 2, 2, 8)), r"smaller than the 3x3 kernel"),
        (np.array([[[["a"]]]]), r"must contain numbers"),
    ],
)
def test_conv2d_bad_input_names_expected_and_got(x, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Conv2d(2, 4, 3)(x)


def test_bad_arguments_and_backward_misuse():
    with pytest.raises(ValueError, match="kernel_size must be a positive int, got 0"):
        Conv2d(1, 2, 0)
    with pytest.raises(TypeError, match=r"kernel_size must be an int, got 2.0 \(float\)"):
        Conv2d(1, 2, 2.0)
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a pair \(h, w\)"):
        Conv2d(1, 2, (3, 3, 3))
    with pytest.raises(ValueError, match=r"stride\[1\] must be a positive int, got 0"):
        Conv2d(1, 2, 3, stride=(1, 0))
    with pytest.raises(ValueError, match="padding must be a non-negative int, got -1"):
        Conv2d(1, 2, 3, padding=-1)
    with pytest.raises(TypeError, match=r"padding\[0\] must be an int, got True"):
        MaxPool2d(2, padding=(True, 0))
    with pytest.raises(ValueError, match="in_channels must be a positive int"):
        Conv2d(0, 2, 3)
    with pytest.raises(TypeError, match="out_channels must be an int, got '4'"):
        Conv2d(1, "4", 3)
    with pytest.raises(ValueError, match=r"dim \(axis 0 is the batch\) must be a positive int"):
        Unflatten(0, (1, 8, 8))
    with pytest.raises(TypeError, match=r"unflattened_size\[1\] must be an int, got 2.5"):
        Unflatten(1, (1, 2.5))
    with pytest.raises(ValueError, match=r"input to MaxPool2d.*4-D batch of images \(N, C, H, W\)"):
        MaxPool2d(2)(np.ones((4, 4)))
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


def _torch_pool(x, k, s, p, g):
    xt = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(xt, k, s, p)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("k, s, p", [(2, 2, 1), (3, 2, 1), (3, 1, 1), ((2, 3), (2, 1), (1, 1))])
def test_maxpool_window_of_minus_inf_sends_its_gradient_to_a_real_pixel_like_torch(k, s, p):
    # Every real pixel of some windows is -inf: the padding (also -inf) must not take the
    # gradient, or it is lost; torch gives it to the window's first real pixel.
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 2, 5, 6))
    x[0, 0] = -np.inf
    x[1, 1, :3, :3] = -np.inf
    pool = MaxPool2d(k, s, p)
    out = pool(x)
    g = rng.normal(size=out.shape)
    want_out, want_dx = _torch_pool(x, k, s, p, g)
    np.testing.assert_array_equal(out, want_out)
    dx = pool.backward(g)
    assert np.abs(dx - want_dx).max() < TOL
    np.testing.assert_allclose(dx.sum(), g.sum(), rtol=1e-12)  # no gradient lost


@pytest.mark.parametrize("k, s, p", [(2, None, 0), (3, 2, 1), (2, 1, 0), (3, 3, 0)])
@pytest.mark.parametrize("fast", [True, False], ids=["tiles", "reference"])
def test_maxpool_ties_everywhere_match_torch(k, s, p, fast):
    # Quantised values tie often (as after a ReLU): torch sends the gradient to the first
    # maximum of each window, in row-major order, whether windows overlap or not.
    rng = np.random.default_rng(9)
    x = np.maximum(rng.integers(-2, 3, size=(3, 2, 7, 8)), 0).astype(np.float64)
    pool = MaxPool2d(k, s, p, fast=fast)
    out = pool(x)
    g = rng.normal(size=out.shape)
    want_out, want_dx = _torch_pool(x, k, k if s is None else s, p, g)
    np.testing.assert_array_equal(out, want_out)
    assert np.abs(pool.backward(g) - want_dx).max() < TOL


@pytest.mark.parametrize("k, s", [(2, None), (3, 2)])
@pytest.mark.parametrize("fast", [True, False], ids=["tiles", "reference"])
def test_maxpool_nan_propagates_and_its_gradient_goes_where_torchs_does(k, s, fast):
    rng = np.random.default_rng(10)
    x = rng.normal(size=(1, 2, 6, 6))
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = x[0, 1, 4, 4] = np.nan
    pool = MaxPool2d(k, s, fast=fast)
    out = pool(x)
    g = rng.normal(size=out.shape)
    want_out, want_dx = _torch_pool(x, k, k if s is None else s, 0, g)
    np.testing.assert_array_equal(out, want_out)  # NaN where torch has NaN
    np.testing.assert_array_equal(pool.backward(g), want_dx)


@pytest.mark.parametrize(
    "attr, shape, match",
    [
        ("weight", (2, 1, 2, 2), r"weight must have shape \(2, 1, 3, 3\).*got \(2, 1, 2, 2\)"),
        ("weight", (3, 1, 3, 3), r"weight must have shape \(2, 1, 3, 3\).*got \(3, 1, 3, 3\)"),
        ("weight", (2, 9), r"weight must have shape \(2, 1, 3, 3\).*got \(2, 9\)"),
        ("bias", (3,), r"bias must have shape \(2,\).*got \(3,\)"),
    ],
)
def test_conv2d_weight_of_the_wrong_shape_names_expected_and_given(attr, shape, match):
    conv = Conv2d(1, 2, 3, rng=0)
    getattr(conv, attr).data = np.ones(shape)
    with pytest.raises(ValueError, match=match):
        conv(np.ones((1, 1, 5, 5)))
    conv = Conv2d(1, 2, 3, rng=0)
    conv(np.ones((1, 1, 5, 5)))
    getattr(conv, attr).data = np.ones(shape)  # changed between forward and backward
    with pytest.raises(ValueError, match=match):
        conv.backward(np.ones((1, 2, 3, 3)))


def test_a_cnn_behind_unflatten_trains_its_first_conv_without_dx(monkeypatch):
    # Sequential.backward_params runs no layer in front of the first Conv2d (the Unflatten)
    # and calls that conv's parameter-only path: no col2im, the same gradients as backward.
    rng = np.random.default_rng(12)
    x, g = rng.normal(size=(4, 64)), rng.normal(size=(4, 10))

    def build() -> Sequential:
        return Sequential(
            Unflatten(1, (1, 8, 8)),
            Conv2d(1, 3, 3, padding=1, rng=0),
            ReLU(),
            MaxPool2d(2),
            Flatten(),
            Linear(48, 10, rng=1),
        )

    full, fast = build(), build()
    full(x)
    full.backward(g)
    fast(x)

    def refuse(grad_out: np.ndarray) -> np.ndarray:
        raise AssertionError("backward ran where backward_params skips it")

    monkeypatch.setattr(fast[0], "backward", refuse)
    monkeypatch.setattr(fast[1], "backward", refuse)
    fast.backward_params(g)
    for a, b in zip(full.parameters(), fast.parameters(), strict=True):
        np.testing.assert_array_equal(a.grad, b.grad)


@pytest.mark.parametrize("fast", [True, False], ids=["im2col", "reference"])
def test_float32_stays_float32_through_a_cnn(fast):
    rng = np.random.default_rng(13)
    model = Sequential(
        Conv2d(2, 4, 3, padding=1, rng=0, dtype=np.float32, fast=fast),
        ReLU(),
        MaxPool2d(2, fast=fast),
        Conv2d(4, 3, 3, stride=2, padding=1, rng=1, dtype=np.float32, fast=fast),
    )
    x = rng.normal(size=(3, 2, 8, 6)).astype(np.float32)
    out = model(x)
    dx = model.backward(np.ones(out.shape, np.float32))
    assert out.dtype == dx.dtype == np.float32
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in model.parameters())


@pytest.mark.parametrize(
    "make",
    [
        lambda x: np.asfortranarray(x),
        lambda x: x.transpose(1, 0, 2, 3).copy().transpose(1, 0, 2, 3),  # channels first
        lambda x: np.repeat(x, 2, axis=-1)[..., ::2],  # every other column of a wider array
    ],
    ids=["fortran", "channels-first", "strided"],
)
def test_conv_and_pool_take_non_contiguous_input(make):
    rng = np.random.default_rng(14)
    x = rng.normal(size=(2, 3, 8, 9))
    view = make(x)
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(view, x)
    conv, pool = Conv2d(3, 4, 3, padding=1, rng=0), MaxPool2d(2)
    out = conv(view)
    g = rng.normal(size=out.shape)
    want_out, want_dx, want_dw, _ = _torch_conv(conv, x, g)
    assert np.abs(out - want_out).max() < TOL
    assert np.abs(conv.backward(make(g)) - want_dx).max() < TOL
    assert np.abs(conv.weight.grad - want_dw).max() < TOL
    xt = torch.tensor(x, requires_grad=True)
    pooled = F.max_pool2d(xt, 2)
    pooled.backward(torch.ones_like(pooled))
    np.testing.assert_array_equal(pool(view), pooled.detach().numpy())
    np.testing.assert_array_equal(pool.backward(np.ones(pooled.shape)), xt.grad.numpy())


def test_arrays_kept_between_calls_never_change_what_was_returned():
    # The fast path refills its padded input, columns and column gradient on each call; the
    # outputs and input gradients it returned before must stay as they were, and a new batch
    # size (the last, smaller batch of an epoch) must give torch's numbers.
    rng = np.random.default_rng(15)
    conv = Conv2d(2, 3, 3, padding=1, rng=0)
    x1, x2, x3 = (rng.normal(size=(n, 2, 6, 5)) for n in (4, 4, 3))
    out1 = conv(x1)
    g1 = rng.normal(size=out1.shape)
    dx1 = conv.backward(g1)
    kept = out1.copy(), dx1.copy()
    for x in (x2, x3):
        conv.zero_grad()
        out = conv(x)
        g = rng.normal(size=out.shape)
        want_out, want_dx, want_dw, bt = _torch_conv(conv, x, g)
        assert np.abs(out - want_out).max() < TOL
        assert np.abs(conv.backward(g) - want_dx).max() < TOL
        assert np.abs(conv.weight.grad - want_dw).max() < TOL
        assert np.abs(conv.bias.grad - bt.grad.numpy()).max() < TOL
    np.testing.assert_array_equal(out1, kept[0])
    np.testing.assert_array_equal(dx1, kept[1])


def test_maxpool_fast_path_covers_nan_windows_only_in_backward():
    # The tiles path pools NaN like torch (NaN wins) and finds NaN windows in backward, where
    # no offset matched them; their gradient then goes where torch's does.
    x = np.arange(32.0).reshape(1, 2, 4, 4)
    x[0, 0, 1, 0] = x[0, 1, 2, 3] = np.nan
    x[0, 1, 3, 2] = np.nan
    pool = MaxPool2d(2)
    out = pool(x)
    xt = torch.tensor(x, requires_grad=True)
    ot = F.max_pool2d(xt, 2)
    np.testing.assert_array_equal(out, ot.detach().numpy())
    g = np.arange(1.0, 9.0).reshape(out.shape)
    ot.backward(torch.tensor(g))
    np.testing.assert_array_equal(pool.backward(g), xt.grad.numpy())
