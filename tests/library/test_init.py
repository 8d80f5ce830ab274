"""Weight initialisers (nnscratch.init): torch's fans, the documented spreads, the draws
``Linear`` and ``Conv2d`` make, and a clear error for an unknown ``init``."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch import init
from nnscratch.conv import Conv2d
from nnscratch.layers import Linear

SHAPES = [(7, 5), (6, 3, 3, 3), (4, 2, 5, 1)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_fans_are_torchs(shape):
    torch = pytest.importorskip("torch")
    fans = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == fans


@pytest.mark.parametrize(
    "fn, std",
    [
        (init.he_normal, lambda fi, fo: np.sqrt(2 / fi)),
        (init.xavier_normal, lambda fi, fo: np.sqrt(2 / (fi + fo))),
        (init.torch_uniform, lambda fi, fo: np.sqrt(1 / (3 * fi))),  # U(-b, b): std b/sqrt(3)
    ],
)
def test_each_initialiser_has_its_documented_spread(fn, std):
    shape = (400, 30, 3, 3)
    w = fn(shape, np.random.default_rng(0))
    assert w.shape == shape and w.dtype == np.float64
    fan_in, fan_out = init.fan_in_and_fan_out(shape)
    assert abs(w.std() / std(fan_in, fan_out) - 1) < 0.01  # 108,000 draws: 1% is 4 sigma
    assert abs(w.mean()) < 0.01 * std(fan_in, fan_out)
    if fn is init.torch_uniform:
        assert np.abs(w).max() <= 1 / np.sqrt(fan_in)


def test_linear_draws_the_same_numbers_as_the_formulas():
    def gen():
        return np.random.default_rng(3)

    cases = {
        "he": gen().normal(0, np.sqrt(2 / 5), (4, 5)),
        "xavier": gen().normal(0, np.sqrt(2 / 9), (4, 5)),
        "torch": gen().uniform(-1 / np.sqrt(5), 1 / np.sqrt(5), (4, 5)),
        "zeros": np.zeros((4, 5)),
        0.3: gen().normal(0, 0.3, (4, 5)),
    }
    for how, want in cases.items():
        layer = Linear(5, 4, init=how, rng=3)
        np.testing.assert_array_equal(layer.weight.data, want)
    g = gen()
    g.uniform(size=(4, 5))
    torch_bias = g.uniform(-1 / np.sqrt(5), 1 / np.sqrt(5), 4)
    np.testing.assert_array_equal(Linear(5, 4, init="torch", rng=3).bias.data, torch_bias)
    np.testing.assert_array_equal(Linear(5, 4, rng=3).bias.data, np.zeros(4))


def test_conv2d_draws_with_fan_in_of_the_kernel_volume():
    w = Conv2d(2, 3, (3, 2), rng=4).weight.data
    np.testing.assert_array_equal(w, np.random.default_rng(4).normal(0, np.sqrt(2 / 12), w.shape))
    conv = Conv2d(2, 3, (3, 2), init="torch", rng=4, dtype=np.float32)
    g = np.random.default_rng(4)
    bound = 1 / np.sqrt(12)
    want_w = g.uniform(-bound, bound, (3, 2, 3, 2)).astype(np.float32)
    np.testing.assert_array_equal(conv.weight.data, want_w)
    np.testing.assert_array_equal(conv.bias.data, g.uniform(-bound, bound, 3).astype(np.float32))


@pytest.mark.parametrize("bad", ["kaiming", True, None, "HE"])
def test_an_unknown_init_names_the_choices(bad):
    with pytest.raises(ValueError, match=r"init must be 'he', 'xavier', 'torch', 'zeros' or a"):
        Linear(3, 2, init=bad)
    with pytest.raises(ValueError, match="got " + repr(bad).replace("(", r"\(")):
        Conv2d(1, 2, 3, init=bad)


def test_dtype_must_be_a_float_type():
    with pytest.raises(TypeError, match="float32 or float64, got int64"):
        Conv2d(1, 2, 3, dtype=np.int64)
    with pytest.raises(TypeError, match="float32 or float64, got float16"):
        Linear(1, 2, dtype=np.float16)
