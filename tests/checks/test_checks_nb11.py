"""The notebook 11 checks pass right answers (float64 and float32, written several ways) and
name typical mistakes: a table of wrong answers per check, each with the message it must get."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _checks_helpers import assert_passes, assert_rejects, failure, right_cases, wrong_cases

from nnscratch.checks import check_corr2d, check_corr2d_backward, check_maxpool_backward

# ---------------------------------------------------------------- Exercise 1: corr2d


def corr2d(x, w):
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * w)
    return out


def corr2d_windows(x, w):  # vectorised, another right answer
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape)
    return np.einsum("ijuv,uv->ij", win, w)


def corr2d_float32(x, w):
    return corr2d(x.astype(np.float32), w.astype(np.float32))


def convolve(x, w):
    return corr2d(x, w[::-1, ::-1])


def too_small(x, w):
    return corr2d(x, w)[:-1, :-1]


def too_large(x, w):
    return corr2d(np.pad(x, ((0, 1), (0, 1))), w)


def same_padding(x, w):
    kh, kw = w.shape
    return corr2d(np.pad(x, ((kh // 2, (kh - 1) // 2), (kw // 2, (kw - 1) // 2))), w)


def kernel_sizes_swapped(x, w):  # the output's size computed with kh and kw read the wrong way
    kw, kh = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    if kh == kw:
        return corr2d(x, w)
    return out


def window_sizes_swapped(x, w):  # the window cut kw rows by kh columns: crashes on 2x3
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kw, j : j + kh] * w)
    return out


def indices_swapped(x, w):  # out[i, j] from the window starting at row j, column i
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[j : j + kh, i : i + kw] * w)
    return out


def output_transposed(x, w):
    return corr2d(x, w).T


def output_transposed_non_square(x, w):
    out = corr2d(x, w)
    return out if out.shape[0] == out.shape[1] else out.T


def mean_not_sum(x, w):
    return corr2d(x, w) / w.size


def integer_output(x, w):
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1), dtype=int)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * w)
    return out


def stops_early(x, w):
    kh, kw = w.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0] - 1):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i : i + kh, j : j + kw] * w)
    return out


def mutates(x, w):
    x -= x.mean()
    return corr2d(x, w)


def one_wrong_entry(x, w):
    out = corr2d(x, w)
    out[0, 0] += 1
    return out


def no_return(x, w):
    corr2d(x, w)


# ---------------------------------------------------------------- Exercise 2: its backward


def corr2d_backward(x, w, g):
    kh, kw = w.shape
    dw = corr2d(x, g)
    dx = corr2d(np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1))), w[::-1, ::-1])
    return dx, dw


def backward_loops(x, w, g):  # another right answer: scatter each output's gradient back
    kh, kw = w.shape
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            dx[i : i + kh, j : j + kw] += g[i, j] * w
            dw += g[i, j] * x[i : i + kh, j : j + kw]
    return dx, dw


def backward_float32(x, w, g):
    return backward_loops(x.astype(np.float32), w.astype(np.float32), g.astype(np.float32))


def backward_dx_unflipped(x, w, g):
    kh, kw = w.shape
    return corr2d(np.pad(g, ((kh - 1, kh - 1), (kw - 1, kw - 1))), w), corr2d(x, g)


def backward_dw_flipped(x, w, g):
    dx, dw = corr2d_backward(x, w, g)
    return dx, dw[::-1, ::-1]


def backward_no_padding(x, w, g):
    return corr2d(g, w[::-1, ::-1]) if min(g.shape) >= max(w.shape) else g.copy(), corr2d(x, g)


def backward_swapped_pair(x, w, g):
    dx, dw = corr2d_backward(x, w, g)
    return dw, dx


def backward_dw_transposed(x, w, g):
    dx, dw = corr2d_backward(x, w, g)
    return dx, dw.T


def backward_dw_mean(x, w, g):
    dx, dw = corr2d_backward(x, w, g)
    return dx, dw / g.size


def backward_dx_mean(x, w, g):
    dx, dw = corr2d_backward(x, w, g)
    return dx / w.size, dw


def backward_list(x, w, g):
    dx, dw = corr2d_backward(x, w, g)
    return dx.tolist(), dw


def backward_mutates(x, w, g):
    g *= 2.0
    dx, dw = corr2d_backward(x, w, g / 2.0)
    return dx, dw


def backward_one_thing(x, w, g):
    return corr2d_backward(x, w, g)[0]


def backward_dx_off(x, w, g):
    dx, dw = corr2d_backward(x, w, g)
    dx[-1, -1] += 1.0
    return dx, dw


# ---------------------------------------------------------------- Exercise 3: max-pool backward


def _windows(x):
    h, w = x.shape
    return x.reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3).reshape(h // 2, w // 2, 4)


def _scatter(x, g, index_of):
    dx = np.zeros_like(x, dtype=float)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            u, v = index_of(x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2])
            dx[2 * i + u, 2 * j + v] = g[i, j]
    return dx


def pool_backward(x, g):
    return _scatter(x, g, lambda win: divmod(int(np.argmax(win)), 2))


def pool_backward_loops(x, g):  # another right answer: a strict > keeps the first maximum
    def first(win):
        best = (0, 0)
        for u in range(2):
            for v in range(2):
                if win[u, v] > win[best]:
                    best = (u, v)
        return best

    return _scatter(x, g, first)


def pool_backward_float32(x, g):
    return pool_backward(x, g).astype(np.float32)


def tied_mask(x, g):  # the common answer: every pixel equal to the window's maximum
    m = np.kron(_windows(x).max(axis=-1), np.ones((2, 2)))
    return (x == m) * np.kron(g, np.ones((2, 2)))


def tied_split(x, g):
    is_max = x == np.kron(_windows(x).max(axis=-1), np.ones((2, 2)))
    count = np.kron(_windows(is_max).sum(axis=-1), np.ones((2, 2)))
    return is_max * np.kron(g, np.ones((2, 2))) / count


def last_maximum(x, g):  # a >= in the loop keeps the last maximum
    def last(win):
        best = (0, 0)
        for u in range(2):
            for v in range(2):
                if win[u, v] >= win[best]:
                    best = (u, v)
        return best

    return _scatter(x, g, last)


def column_order(x, g):  # argmax of the transposed window: first maximum column by column
    return _scatter(x, g, lambda win: divmod(int(np.argmax(win.T)), 2)[::-1])


def average(x, g):
    return np.kron(g, np.ones((2, 2))) / 4


def everywhere(x, g):
    return np.kron(g, np.ones((2, 2)))


def argmin(x, g):
    return pool_backward(-x, g)


def top_left(x, g):
    dx = np.zeros_like(x)
    dx[::2, ::2] = g
    return dx


def swapped_divmod(x, g):
    return _scatter(x, g, lambda win: divmod(int(np.argmax(win)), 2)[::-1])


def pooled_shape(x, g):
    return g.copy()


def mutates_g(x, g):
    dx = pool_backward(x, g)
    g[...] = 0
    return dx


RIGHT = {
    check_corr2d: [
        (corr2d,),
        (corr2d_windows,),
        (corr2d_float32,),
        (lambda x, w: np.array(corr2d(x, w).tolist()),),
        (lambda x, w: torch.nn.functional.conv2d(
            torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None])[0, 0].numpy(),),
    ],
    check_corr2d_backward: [(corr2d_backward,), (backward_loops,), (backward_float32,)],
    check_maxpool_backward: [(pool_backward,), (pool_backward_loops,), (pool_backward_float32,)],
}

WRONG = {
    check_corr2d: [
        ("flipped-kernel", (convolve,), r"true convolution"),
        ("one-too-small", (too_small,), r"off by one"),
        ("one-too-large", (too_large,), r"off by one"),
        ("same-padding", (same_padding,), r"no padding"),
        ("kernel-sizes-swapped", (kernel_sizes_swapped,), r"kernel's height and width are "
         r"swapped"),
        ("window-sizes-swapped", (window_sizes_swapped,), r"window .* kernel have different"),
        ("indices-swapped", (indices_swapped,), r"rows and columns exchanged"),
        ("output-transposed", (output_transposed,), r"rows and columns exchanged"),
        ("output-transposed-non-square", (output_transposed_non_square,),
         r"result's height and width are swapped"),
        ("mean", (mean_not_sum,), r"mean of the products"),
        ("integer-array", (integer_output,), r"integers"),
        ("stops-early", (stops_early,), r"one position early"),
        ("mutates-input", (mutates,), r"changed its input `x` in place"),
        ("one-wrong-entry", (one_wrong_entry,), r"row 0, column 0 is wrong"),
        ("no-return", (no_return,), r"forget to return"),
        ("list", (lambda x, w: corr2d(x, w).tolist(),), r"Python list; return a NumPy array"),
        ("tensor", (lambda x, w: torch.from_numpy(corr2d(x, w)),), r"torch tensor"),
        ("string", (lambda x, w: "abc",), r"NumPy array, got str"),
        ("crash", (lambda x, w: 1 / 0,), r"ZeroDivisionError"),
        ("not-callable", (42,), r"expected a function"),
    ],
    check_corr2d_backward: [
        ("dx-unflipped", (backward_dx_unflipped,), r"dx uses the kernel as it is"),
        ("dw-flipped", (backward_dw_flipped,), r"dw comes out flipped"),
        ("no-padding", (backward_no_padding,), r"dx has shape .* image's shape.*border"),
        ("pair-swapped", (backward_swapped_pair,), r"wrong order"),
        ("dw-transposed", (backward_dw_transposed,), r"dw has its rows and columns exchanged"),
        ("dw-mean", (backward_dw_mean,), r"dw is averaged"),
        ("dx-mean", (backward_dx_mean,), r"dx is averaged"),
        ("list", (backward_list,), r"dx is a Python list"),
        ("mutates-grad", (backward_mutates,), r"changed its input `g` in place"),
        ("one-thing", (backward_one_thing,), r"return a pair"),
        ("dx-one-entry", (backward_dx_off,), r"dx is wrong at row"),
    ],
    check_maxpool_backward: [
        ("tied-mask", (tied_mask,), r"tied.*to every one of them.*first maximum"),
        ("tied-split", (tied_split,), r"tied.*shared among them"),
        ("last-maximum", (last_maximum,), r"last of the tied"),
        ("column-order", (column_order,), r"column by column"),
        ("average", (average,), r"average pooling"),
        ("everywhere", (everywhere,), r"every pixel"),
        ("argmin", (argmin,), r"smallest"),
        ("top-left", (top_left,), r"not always the one holding"),
        ("swapped-divmod", (swapped_divmod,), r"not always the one holding"),
        ("pooled-shape", (pooled_shape,), r"has the shape of x"),
        ("mutates-grad", (mutates_g,), r"changed its input `g` in place"),
        ("list", (lambda x, g: pool_backward(x, g).tolist(),), r"Python list"),
        ("doubled", (lambda x, g: pool_backward(x, g) * 2,), r"is wrong"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)


def test_the_tie_blind_answer_passes_distinct_values_but_not_ties() -> None:
    """The ``x == max`` answer is right whenever each window has one maximum: only the tied
    windows can catch it, so the check must contain them."""
    x = np.arange(16.0).reshape(4, 4)
    g = np.ones((2, 2))
    assert np.array_equal(tied_mask(x, g), pool_backward(x, g))
    assert "tied" in failure(check_maxpool_backward, (tied_mask,)).message


def test_messages_never_print_arrays() -> None:
    for check, answer in ((check_corr2d, one_wrong_entry), (check_corr2d, too_small),
                          (check_corr2d_backward, backward_dx_off)):
        message = failure(check, (answer,)).message
        assert "[[" not in message and "array(" not in message
