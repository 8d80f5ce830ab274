"""Exercise checks for notebook 10 (PyTorch on a GPU).

torch is imported inside each check, so ``import nnscratch.checks`` stays NumPy-only.
Reference answers come from torch's own layers, built on the ``meta`` device (shapes only:
no memory, no random numbers drawn, no GPU needed).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._core import call_student, fail, passed

__all__ = ["check_conv_output_size", "check_conv_params", "check_move_batch"]

# (size, kernel_size, padding, stride): each wrong formula below gets at least one case wrong.
_CONV_CASES = [
    (8, 3, 1, 1),
    (8, 3, 0, 1),
    (28, 5, 2, 2),
    (7, 3, 0, 2),
    (10, 4, 1, 3),
    (32, 3, 1, 2),
    (9, 3, 1, 3),
    (5, 5, 0, 1),
    (11, 2, 0, 4),
]


def _torch_conv_size(n: int, k: int, p: int, s: int) -> int:
    import torch

    x = torch.zeros(1, 1, n, n, device="meta")
    w = torch.zeros(1, 1, k, k, device="meta")
    return int(torch.nn.functional.conv2d(x, w, stride=s, padding=p).shape[-1])


def check_conv_output_size(fn: Any) -> None:
    """Check your ``conv_output_size(size, kernel_size, padding, stride)``: the side of a
    convolution's output as an int, compared with torch's ``conv2d`` on square images of
    several sizes, including strides that do not divide evenly.

    Names the typical mistakes: padding left out or added on one side only, stride left
    out, the ``+ 1`` missing, rounding up or to the nearest integer, and a float result.
    """
    name = "check_conv_output_size"
    wrong = {
        "padding is ignored: the input grows by the padding on both sides": (
            lambda n, k, p, s: (n - k) // s + 1
        ),
        "the padding is added on one side only: it pads both sides": (
            lambda n, k, p, s: (n + p - k) // s + 1
        ),
        "the stride is ignored: the kernel jumps `stride` pixels at a time": (
            lambda n, k, p, s: n + 2 * p - k + 1
        ),
        "one position is missing: a kernel as large as the (padded) input still gives one "
        "output": (lambda n, k, p, s: (n + 2 * p - k) // s),
        "you rounded up (or to the nearest whole number): a kernel cannot stop part way, so "
        "round down": (lambda n, k, p, s: -(-(n + 2 * p - k) // s) + 1),
        "you rounded to the nearest whole number: a kernel cannot stop part way, so round "
        "down": (lambda n, k, p, s: round((n + 2 * p - k) / s) + 1),
    }
    got_all, want_all = [], []
    for n, k, p, s in _CONV_CASES:
        got = call_student(name, fn, n, k, p, s)
        got_all.append(got)
        want_all.append(_torch_conv_size(n, k, p, s))
        if isinstance(got, bool) or not isinstance(got, int | np.integer | float | np.floating):
            fail(name, f"return an int, got {type(got).__name__}")
        if isinstance(got, float | np.floating) and not float(got).is_integer():
            fail(name, f"size={n}, kernel_size={k}, padding={p}, stride={s} gave a fraction: "
                       "a kernel cannot stop part way, so round down to a whole number")
    if all(_eq(g, w) for g, w in zip(got_all, want_all, strict=True)):
        if any(not isinstance(g, int | np.integer) for g in got_all):
            fail(name, "the values are right but they are floats; return an int (it is used "
                       "as a layer size later)")
        passed(name, f"matches torch's conv2d on {len(_CONV_CASES)} cases")
        return
    for hint, formula in wrong.items():
        if all(_eq(g, formula(*c)) for g, c in zip(got_all, _CONV_CASES, strict=True)):
            fail(name, hint)
    for got, want, (n, k, p, s) in zip(got_all, want_all, _CONV_CASES, strict=True):
        if not _eq(got, want):
            fail(name, f"wrong size for size={n}, kernel_size={k}, padding={p}, stride={s}: "
                       "count the positions the kernel can take along one side")


def _eq(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b))
    except (TypeError, ValueError):
        return False


def check_conv_params(fn: Any) -> None:
    """Check your ``conv_params(in_channels, out_channels, kernel_size)``: the number of
    parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size)`` (square kernel, with
    bias), compared with torch's layer for several channel counts and kernel sizes.

    Names the typical mistakes: the bias left out (or one per input channel), the input
    channels left out, the kernel not squared, and a non-integer result.
    """
    import torch

    name = "check_conv_params"
    cases = [(1, 16, 3), (16, 32, 3), (3, 8, 5), (2, 1, 1), (4, 6, 2)]
    wrong = {
        "the bias is missing: each output channel (filter) has one bias": (
            lambda i, o, k: o * i * k * k
        ),
        "one bias per filter, not per input channel": (lambda i, o, k: o * i * k * k + i),
        "the input channels are missing: each filter has a kernel for every input channel": (
            lambda i, o, k: o * k * k + o
        ),
        "a square kernel of size k has k times k weights per channel, not k": (
            lambda i, o, k: o * i * k + o
        ),
    }
    got_all, want_all = [], []
    for i, o, k in cases:
        conv = torch.nn.Conv2d(i, o, k, device="meta")
        want_all.append(sum(p.numel() for p in conv.parameters()))
        got_all.append(call_student(name, fn, i, o, k))
    for got in got_all:
        if isinstance(got, bool) or not isinstance(got, int | np.integer | float | np.floating):
            fail(name, f"return an int, got {type(got).__name__}")
    if all(_eq(g, w) for g, w in zip(got_all, want_all, strict=True)):
        passed(name, f"matches torch's nn.Conv2d on {len(cases)} layers")
        return
    for hint, formula in wrong.items():
        if all(_eq(g, formula(*c)) for g, c in zip(got_all, cases, strict=True)):
            fail(name, hint)
    for got, want, (i, o, k) in zip(got_all, want_all, cases, strict=True):
        if not _eq(got, want):
            fail(name, f"wrong count for nn.Conv2d({i}, {o}, {k}): count the weights of every "
                       "filter, and the biases")


def check_move_batch(fn: Any) -> None:
    """Check your ``move_batch(batch, device)``: the pair ``(X, y)`` of tensors moved to
    ``device``, with the same shapes and dtypes.

    It moves a batch to torch's ``meta`` device (a device that stores only shapes), so it
    works on any machine. Names the typical mistakes: moving without keeping the result (it
    is a new tensor), a fixed device instead of the argument, moving only one of the two,
    and changing a dtype.
    """
    import torch

    name = "check_move_batch"
    device = torch.device("meta")
    X = torch.zeros(4, 1, 8, 8)
    y = torch.arange(4)
    out = call_student(name, fn, (X, y), device)
    if out is None:
        fail(name, "the function returned None: return the moved pair of tensors")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(name, f"return a pair (X, y) of tensors, got {type(out).__name__}")
    Xo, yo = out
    if not isinstance(Xo, torch.Tensor) or not isinstance(yo, torch.Tensor):
        fail(name, "both items must be tensors")
    if Xo.device != device and yo.device != device:
        fail(
            name,
            f"nothing reached the device you were given (the tensors are on {Xo.device}): use "
            "the device argument, and keep the result, since moving a tensor returns a new one "
            "and leaves the original where it was",
        )
    if yo.device != device:
        fail(name, "the labels y stayed behind: move them too (the loss needs both on one device)")
    if Xo.device != device:
        fail(name, "the images X stayed behind: move them too")
    if Xo.dtype != X.dtype or yo.dtype != y.dtype:
        fail(
            name,
            f"dtypes changed (X {X.dtype} -> {Xo.dtype}, y {y.dtype} -> {yo.dtype}): only move "
            "the tensors; the labels must stay int64 for the loss",
        )
    if Xo.shape != X.shape or yo.shape != y.shape:
        fail(name, "the shapes changed: only move the tensors")
    passed(name, "both tensors moved, shapes and dtypes kept")
