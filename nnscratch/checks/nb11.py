"""Exercise checks for notebook 11 (convolution from scratch).

The reference answers come from ``nnscratch.conv.Conv2d`` and ``MaxPool2d`` (themselves
cross-checked against torch), run on non-square images and kernels so that a swapped axis
shows. Each check names the most likely mistake and never prints the expected array.
"""

from __future__ import annotations

import numpy as np

from ..conv import Conv2d, MaxPool2d
from ._core import call_student, close, fail, passed

__all__ = ["check_corr2d", "check_maxpool_backward"]


def _reference_corr2d(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    conv = Conv2d(1, 1, w.shape, bias=False)
    conv.weight.data = w[None, None].astype(np.float64)
    return conv(x[None, None])[0, 0]


def _array(name: str, out: object, what: str) -> np.ndarray:
    try:
        arr = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        fail(name, f"{what} should be an array of numbers, got {type(out).__name__}")
    if out is None:
        fail(name, f"{what} is None: did you forget to return it?")
    return arr


# (image shape, kernel shape): non-square images, non-square kernels, a 1x1 kernel, and a
# kernel as large as the image (exactly one position).
_CORR_CASES = [
    ((5, 7), (2, 3)),
    ((6, 4), (3, 3)),
    ((4, 5), (1, 1)),
    ((3, 4), (3, 4)),
    ((7, 6), (4, 2)),
]


def check_corr2d(fn: object) -> None:
    """Check ``fn(x, w)``: the cross-correlation of one image ``x (H, W)`` with one kernel
    ``w (kH, kW)``, no padding, stride 1 (what ``torch.nn.functional.conv2d`` computes).

    Cases: non-square images and kernels, a 1x1 kernel, a kernel as large as the image.
    Recognised mistakes: a flipped kernel (true convolution), an output one row or column
    too small or too large, swapped height and width, changing the input arrays.
    """
    name = "check_corr2d"
    rng = np.random.default_rng(11)
    for x_shape, w_shape in _CORR_CASES:
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        x_in, w_in = x.copy(), w.copy()
        out = _array(name, call_student(name, fn, x_in, w_in), "the result")
        want = _reference_corr2d(x, w)
        if not (np.array_equal(x_in, x) and np.array_equal(w_in, w)):
            fail(name, "your function changed its input x or w: compute into a new array")
        if out.shape != want.shape:
            if out.ndim == 2 and out.shape == want.shape[::-1]:
                fail(
                    name,
                    f"for an image of shape {x_shape} and a kernel of shape {w_shape} the result "
                    f"has shape {out.shape}: height and width are swapped (the result's first axis "
                    "runs down the image's rows)",
                )
            if out.ndim == 2 and np.abs(np.subtract(out.shape, want.shape)).max() == 1:
                fail(
                    name,
                    f"for an image of shape {x_shape} and a kernel of shape {w_shape} the result "
                    f"has shape {out.shape}: off by one. The kernel must lie fully inside the "
                    "image; count its positions along each axis, from the first one (touching "
                    "the top-left corner) to the last one (touching the far edge)",
                )
            fail(
                name,
                f"for an image of shape {x_shape} and a kernel of shape {w_shape} the result "
                f"has shape {out.shape}, which is not the number of positions of the kernel "
                "inside the image along each axis",
            )
        if close(out, want, rtol=1e-9, atol=1e-12):
            continue
        if w.size > 1 and close(out, _reference_corr2d(x, w[::-1, ::-1]), rtol=1e-9, atol=1e-12):
            fail(
                name,
                "your result is a true convolution (the kernel flipped in both axes): "
                "frameworks slide the kernel as it is, multiplying w[u, v] with the pixel "
                "at offset (u, v) from the window's top-left corner",
            )
        if w.shape[0] != w.shape[1] and close(out, _reference_corr2d(x.T, w.T).T):
            fail(
                name,
                "rows and columns are swapped somewhere: the first index runs down the rows "
                "of both x and w",
            )
        bad = np.argwhere(~np.isclose(out, want, rtol=1e-9, atol=1e-12))[0]
        fail(
            name,
            f"for an image of shape {x_shape} and a kernel of shape {w_shape}, the output at "
            f"row {bad[0]}, column {bad[1]} is wrong: it comes from the window of x whose "
            f"top-left corner is at row {bad[0]}, column {bad[1]}, multiplied entry by entry "
            "with the kernel as it is",
        )
    passed(name, f"{len(_CORR_CASES)} image/kernel pairs, non-square ones included")


def _reference_pool_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    pool = MaxPool2d(2)
    pool(x[None, None])
    return pool.backward(g[None, None])[0, 0]


def check_maxpool_backward(fn: object) -> None:
    """Check ``fn(x, grad_out)``: the gradient of 2x2 max-pooling (stride 2) with respect
    to one image ``x (H, W)`` (H and W even), given ``grad_out (H/2, W/2)``.

    Recognised mistakes: spreading the gradient over the whole window (average pooling) or
    copying it to every pixel, sending it to the wrong pixel of the window (the smallest, or
    always the same corner), a result without the input's shape, changing the inputs.
    """
    name = "check_maxpool_backward"
    rng = np.random.default_rng(12)
    for shape in [(4, 6), (2, 2), (6, 4), (8, 8)]:
        x = rng.permutation(np.prod(shape)).reshape(shape) + rng.random(shape) * 0.5
        g = rng.normal(size=(shape[0] // 2, shape[1] // 2))
        x_in, g_in = x.copy(), g.copy()
        out = _array(name, call_student(name, fn, x_in, g_in), "the gradient")
        if not (np.array_equal(x_in, x) and np.array_equal(g_in, g)):
            fail(name, "your function changed x or grad_out: build the gradient in a new array")
        if out.shape != x.shape:
            fail(
                name,
                f"the gradient for x of shape {shape} has shape {out.shape}: dL/dx always has "
                "the shape of x",
            )
        want = _reference_pool_backward(x, g)
        if close(out, want):
            continue
        up = np.kron(g, np.ones((2, 2)))
        if close(out, up / 4):
            fail(
                name,
                "the gradient is spread evenly over each window: that is average pooling. "
                "Only the pixel that won the max changed the output",
            )
        if close(out, up):
            fail(name, "every pixel of a window gets the gradient: only the maximum one should")
        if close(out, _reference_pool_backward(-x, g)):
            fail(name, "the gradient goes to the smallest pixel of each window, not the largest")
        if np.count_nonzero(out) == g.size and close(out.sum(), g.sum()):
            fail(
                name,
                "one pixel per window gets the gradient, but not always the one holding the "
                "window's maximum (check how you turn the argmax into a row and a column)",
            )
        fail(name, f"the gradient for x of shape {shape} is wrong")
    passed(name, "4 images, non-square ones included")
