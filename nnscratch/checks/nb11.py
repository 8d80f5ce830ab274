"""Exercise checks for notebook 11 (convolution from scratch).

The reference answers come from the library's ``Conv2d`` and ``MaxPool2d`` (themselves
cross-checked against torch). The cases are chosen so that each typical mistake gives a
different answer: a square image with a square, asymmetric kernel (a transposed result shows),
non-square images and kernels (swapped heights and widths show), and, for max-pooling, windows
with tied maxima (where the gradient must go to one pixel only). Messages name the likely
mistake and never print expected arrays.
"""

from __future__ import annotations

import numpy as np

from .. import Conv2d, MaxPool2d
from ._core import answer_array, answer_pair, call_student, close, fail, passed

__all__ = ["check_corr2d", "check_corr2d_backward", "check_maxpool_backward"]

_BROADCAST = (
    ("broadcast", "shapes", "shape mismatch"),
    "a window of the image and the kernel have different shapes: each window must be as tall "
    "and as wide as the kernel (check which of the kernel's two sizes goes with which axis)",
)


def _array(name: str, out: object, what: str) -> np.ndarray:
    """The student's array as float64, with the array policy of ``answer_array`` (any shape)."""
    if out is None:
        fail(name, f"{what} is None: did you forget to return it?")
    if not isinstance(out, np.ndarray) and not isinstance(out, list | tuple):
        if not (hasattr(out, "detach") and hasattr(out, "numpy")):
            fail(name, f"{what} should be a NumPy array, got {type(out).__name__}")
    shape = out.shape if isinstance(out, np.ndarray) else ()
    return answer_array(name, out, shape, what)


def _same(got: np.ndarray, want: np.ndarray) -> bool:
    """Equal up to what single precision loses (every known mistake is far outside)."""
    return close(got, want, rtol=1e-4, atol=1e-5)



def _corr(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The library's cross-correlation of one image with one kernel (no padding, stride 1)."""
    conv = Conv2d(1, 1, w.shape, bias=False)
    conv.weight.data = np.asarray(w, dtype=np.float64)[None, None].copy()
    return conv(np.asarray(x, dtype=np.float64)[None, None])[0, 0]


# (image shape, kernel shape). First a square image with a square kernel that is not
# symmetric, so a result with rows and columns exchanged is caught by value; then non-square
# images and kernels (a 2x3 kernel read as 3x2 changes the shape), a 1x1 kernel, and a kernel
# as large as the image (exactly one position).
_CORR_CASES = [
    ((6, 6), (3, 3)),
    ((5, 7), (2, 3)),
    ((7, 6), (4, 2)),
    ((4, 5), (1, 1)),
    ((3, 4), (3, 4)),
]


def _corr_shape_mistake(name: str, got: tuple, x_shape: tuple, w_shape: tuple) -> None:
    (h, w), (kh, kw) = x_shape, w_shape
    want = (h - kh + 1, w - kw + 1)
    case = (f"for an image of shape {x_shape} and a kernel of shape {w_shape} the result has "
            f"shape {got}")
    if len(got) != 2:
        fail(name, f"{case}: return one 2-D map, rows by columns")
    if kh != kw and got == (h - kw + 1, w - kh + 1):
        fail(name, f"{case}: the kernel's height and width are swapped (the kernel's first "
                   "size counts its rows, which slide down the image's rows)")
    if got == want[::-1]:
        fail(name, f"{case}: the result's height and width are swapped (its first axis runs "
                   "down the image's rows)")
    if got == x_shape:
        fail(name, f"{case}, the image's own shape: this exercise has no padding, so the map "
                   "shrinks to the positions where the whole kernel fits inside the image")
    if max(abs(a - b) for a, b in zip(got, want, strict=True)) == 1:
        fail(name, f"{case}: off by one. Count the kernel's positions along each axis, from "
                   "the first one (touching the top-left corner) to the last one (touching the "
                   "far edge), both included")
    fail(name, f"{case}, which is not the number of positions of the whole kernel inside the "
               "image along each axis")


def check_corr2d(fn: object) -> None:
    """Check your ``corr2d(x, w)``: the cross-correlation of one image ``x (H, W)`` with one
    kernel ``w (kH, kW)``, no padding, stride 1, as the deep-learning frameworks compute it.
    Cases: a square image with an asymmetric square kernel, non-square images and kernels, a
    1x1 kernel and a kernel as large as the image.

    Names the typical mistakes: a flipped kernel (a true convolution), rows and columns
    exchanged, the kernel's height and width swapped, an output one position too small or too
    large, padding, an average instead of a sum, an integer output array, the last row or
    column left out, a list or a tensor instead of an array, and changing the inputs.
    """
    name = "check_corr2d"
    rng = np.random.default_rng(11)
    for x_shape, w_shape in _CORR_CASES:
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        out = call_student(name, fn, x.copy(), w.copy(), hints=[_BROADCAST])
        got = _array(name, out, "the result")
        want = _corr(x, w)
        if got.shape != want.shape:
            _corr_shape_mistake(name, got.shape, x_shape, w_shape)
        if _same(got, want):
            continue
        case = f"for an image of shape {x_shape} and a kernel of shape {w_shape}"
        if w.size > 1 and _same(got, _corr(x, w[::-1, ::-1])):
            fail(name, "your result is a true convolution (the kernel flipped in both axes); "
                       "the frameworks, and this exercise, slide the kernel as it is "
                       "(section 1)")
        if got.shape[0] == got.shape[1] and _same(got, want.T):
            fail(name, f"{case} your result is the right one with rows and columns exchanged: "
                       "output row i must come from the windows that start in image row i")
        if w.size > 1 and _same(got, want / w.size):
            fail(name, "each output is the mean of the products: it is their sum")
        if _same(got, np.trunc(want)) or _same(got, np.floor(want)):
            fail(name, "the output has lost its fractions: the array you fill holds integers "
                       "(make it a float array)")
        right = np.isclose(got, want, rtol=1e-4, atol=1e-5)
        last_row = not right[-1].any() and right[:-1].all()
        if last_row or (not right[:, -1].any() and right[:, :-1].all()):
            fail(name, f"{case} the last row or column of the result is wrong and the rest is "
                       "right: does your loop stop one position early?")
        bad = np.argwhere(~right)[0]
        fail(name, f"{case}, the output at row {bad[0]}, column {bad[1]} is wrong: work that "
                   "one value out by hand with the formula of section 1 and compare")
    passed(name, f"{len(_CORR_CASES)} image/kernel pairs, non-square ones included")


def _corr_backward(x: np.ndarray, w: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    conv = Conv2d(1, 1, w.shape, bias=False)
    conv.weight.data = w[None, None].copy()
    conv.zero_grad()
    conv(x[None, None])
    dx = conv.backward(g[None, None])[0, 0]
    return dx, conv.weight.grad[0, 0].copy()


def check_corr2d_backward(fn: object) -> None:
    """Check your ``corr2d_backward(x, w, grad_out)`` returning ``(dx, dw)``: the gradients of
    a loss with respect to the image ``x (H, W)`` and the kernel ``w (kH, kW)`` of
    ``y = corr2d(x, w)``, given ``grad_out``, the gradient dL/dy (the shape of ``y``).
    Compared with the library's ``Conv2d`` backward (itself checked against torch) on square,
    non-square and 1x1 kernels.

    Names the typical mistakes: a kernel left unflipped (or flipped where it should not be),
    a missing border (a gradient smaller than the image), the pair in the wrong order, the
    kernel's gradient with its rows and columns exchanged, an average instead of a sum, a list
    instead of an array, and changing the inputs.
    """
    name = "check_corr2d_backward"
    rng = np.random.default_rng(13)
    for x_shape, w_shape in ((6, 6), (3, 3)), ((5, 7), (2, 3)), ((6, 5), (4, 2)), ((4, 3), (1, 1)):
        x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
        g = rng.normal(size=(x_shape[0] - w_shape[0] + 1, x_shape[1] - w_shape[1] + 1))
        want_dx, want_dw = _corr_backward(x, w, g)
        out = call_student(name, fn, x.copy(), w.copy(), g.copy(), hints=[_BROADCAST])
        dx_out, dw_out = answer_pair(name, out, "(dx, dw)")
        if np.shape(dx_out) == w.shape and np.shape(dw_out) == x.shape:
            fail(name, "the pair is in the wrong order: return (dx, dw), the image's gradient "
                       "first")
        dx = _array(name, dx_out, "dx")
        dw = _array(name, dw_out, "dw")
        case = f"for an image of shape {x_shape} and a kernel of shape {w_shape}"
        if dw.shape != w.shape:
            fail(name, f"{case} dw has shape {dw.shape}: a gradient has the shape of what it "
                       "belongs to, here the kernel")
        if not _same(dw, want_dw):
            if _same(dw, want_dw[::-1, ::-1]):
                fail(name, f"{case} dw comes out flipped in both axes: the kernel's gradient "
                           "is not flipped; only the image's gradient reads the kernel the "
                           "other way round (section 4)")
            if w_shape[0] == w_shape[1] and _same(dw, want_dw.T):
                fail(name, f"{case} dw has its rows and columns exchanged")
            if _same(dw, want_dw / g.size):
                fail(name, "dw is averaged over the output positions: every position adds its "
                           "part to the gradient (a sum)")
            fail(name, f"{case} dw is wrong: weight (u, v) was used at every output position, "
                       "so its gradient collects one contribution from each")
        if dx.shape != x.shape:
            small = dx.shape == g.shape or (dx.ndim == 2 and all(
                a < b for a, b in zip(dx.shape, x.shape, strict=True)))
            fail(name, f"{case} dx has shape {dx.shape}; it must have the image's shape "
                       + ("(pixels near the border were read by fewer windows, but they were "
                          "read, so they get a gradient too)" if small else ""))
        if _same(dx, want_dx):
            continue
        unflipped = _corr_backward(x, w[::-1, ::-1], g)[0]
        if w.size > 1 and _same(dx, unflipped):
            fail(name, f"{case} dx uses the kernel as it is: going backward, the image's "
                       "gradient reads the kernel the other way round (section 4 shows why)")
        if _same(dx, want_dx / w.size) and w.size > 1:
            fail(name, "dx is averaged over the windows that read each pixel: their "
                       "contributions add up")
        bad = np.argwhere(~np.isclose(dx, want_dx, rtol=1e-4, atol=1e-5))[0]
        fail(name, f"{case} dx is wrong at row {bad[0]}, column {bad[1]}: that pixel gets "
                   "one contribution from every output whose window covered it")
    passed(name, "dx and dw agree with the library's Conv2d backward on 4 image/kernel pairs")


def _pool_backward(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    pool = MaxPool2d(2)
    pool(x[None, None])
    return pool.backward(g[None, None])[0, 0]


def _blocks(a: np.ndarray) -> np.ndarray:
    """``(H, W) -> (H/2, W/2, 4)``: each 2x2 window's pixels in reading order."""
    h, w = a.shape
    return a.reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3).reshape(h // 2, w // 2, 4)


def _unblocks(b: np.ndarray) -> np.ndarray:
    h, w = b.shape[:2]
    return b.reshape(h, w, 2, 2).transpose(0, 2, 1, 3).reshape(2 * h, 2 * w)


def _tie_answers(x: np.ndarray, g: np.ndarray) -> dict[str, np.ndarray]:
    """What the common ways of breaking (or not breaking) a tie give."""
    win = _blocks(x)
    is_max = win == win.max(axis=-1, keepdims=True)
    gg = g[..., None]
    last = 3 - np.argmax(is_max[..., ::-1], axis=-1)
    col_order = np.array([0, 2, 1, 3])  # reading the window column by column
    first_by_column = col_order[np.argmax(is_max[..., col_order], axis=-1)]

    def one(idx: np.ndarray) -> np.ndarray:
        return _unblocks(np.where(np.arange(4) == idx[..., None], gg, 0.0))

    return {
        "every": _unblocks(is_max * gg),
        "split": _unblocks(is_max * gg / is_max.sum(axis=-1, keepdims=True)),
        "last": one(last),
        "column": one(first_by_column),
    }


def _maxpool_mistake(x: np.ndarray, g: np.ndarray, got: np.ndarray) -> str | None:
    """The typical mistake that gives ``got`` as dL/dx of 2x2 max-pooling of ``x (H, W)``
    with ``grad_out = g (H/2, W/2)``, in words for the student; None if it is none of them."""
    up = np.kron(g, np.ones((2, 2)))
    if _same(got, up / 4):
        return ("the gradient is spread evenly over each window: that is average "
            "pooling. Only the pixel that won the max changed the output")
    ties = _tie_answers(x, g)
    if _same(got, ties["every"]) or _same(got, ties["split"]):
        how = "to every one of them" if _same(got, ties["every"]) else "shared among them"
        return (f"in a window whose maximum is tied, your gradient goes {how}. The "
            "output took its value from one pixel: like torch, give the whole "
            "gradient to the first maximum in reading order (section 5)")
    if _same(got, ties["last"]):
        return ("in a window whose maximum is tied, your gradient goes to the last of "
            "the tied pixels; like torch, give it to the first one in reading order")
    if _same(got, ties["column"]):
        return ("in a window whose maximum is tied, your gradient goes to the first "
            "tied pixel when reading column by column; torch reads the window row "
            "by row (left to right, then the next row)")
    if _same(got, up):
        return "every pixel of a window gets the gradient: only the maximum one should"
    if _same(got, _pool_backward(-x, g)):
        return "the gradient goes to the smallest pixel of each window, not the largest"
    if np.count_nonzero(got) <= g.size and close(got.sum(), g.sum()):
        return ("one pixel per window gets the gradient, but not always the one holding "
            "the window's maximum: check how the winner's position inside the "
            "window becomes a row and a column of x")
    return None


def check_maxpool_backward(fn: object) -> None:
    """Check your ``maxpool_backward(x, grad_out)``: dL/dx of 2x2 max-pooling with stride 2 of
    one image ``x (H, W)`` (H and W even), given ``grad_out (H/2, W/2)``. Compared with the
    library's ``MaxPool2d`` (torch's rule for ties) on images with distinct pixel values first,
    then on images whose windows tie at their maximum, as ReLU's zeros often do.

    Names the typical mistakes: the gradient spread over the window (average pooling) or
    copied to every pixel, sent to the smallest pixel or to a fixed corner, row and column of
    the winner exchanged, a tie given to every tied pixel, shared among them, or given to the
    wrong one of them, a result without the image's shape, a list, and changing the inputs.
    """
    name = "check_maxpool_backward"
    rng = np.random.default_rng(12)
    cases = []
    for shape in ((4, 6), (2, 2), (6, 4)):  # distinct values: one maximum per window
        cases.append(rng.permutation(np.prod(shape)).reshape(shape) + rng.random(shape) * 0.5)
    for shape in ((6, 8), (8, 8)):  # after a ReLU: many exact zeros and repeated values
        cases.append(np.maximum(rng.integers(-3, 3, size=shape), 0).astype(float))
    # two windows that tell the tie rules apart: first by rows, by columns, last
    cases[-2][:2, :4] = [[0.0, 2.0, 2.0, 2.0], [2.0, 1.0, 0.0, 1.0]]
    for x in cases:
        shape = x.shape
        g = rng.normal(size=(shape[0] // 2, shape[1] // 2))
        out = call_student(name, fn, x.copy(), g.copy())
        got = _array(name, out, "the gradient")
        if got.shape != shape:
            fail(name, f"the gradient for x of shape {shape} has shape {got.shape}: dL/dx "
                       "always has the shape of x")
        want = _pool_backward(x, g)
        if _same(got, want):
            continue
        mistake = _maxpool_mistake(x, g, got)
        if mistake is not None:
            fail(name, mistake)
        fail(name, f"the gradient for x of shape {shape} is wrong")
    passed(name, f"{len(cases)} images, non-square ones and tied windows included")
