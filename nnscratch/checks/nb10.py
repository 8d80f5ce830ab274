"""Exercise checks for notebook 10 (PyTorch on a GPU).

torch is imported inside each check, so ``import nnscratch.checks`` stays NumPy-only.
Reference answers come from torch's own layers, built on the ``meta`` device (shapes only:
no memory, no random numbers drawn, no GPU needed).
"""

from __future__ import annotations

import math

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
]


def _torch_conv_size(n: int, k: int, p: int, s: int) -> int:
    import torch

    x = torch.zeros(1, 1, n, n, device="meta")
    w = torch.zeros(1, 1, k, k, device="meta")
    return int(torch.nn.functional.conv2d(x, w, stride=s, padding=p).shape[-1])


def check_conv_output_size(fn: object) -> None:
    """Check ``fn(size, kernel_size, padding, stride)``: the side of a convolution's output,
    ``floor((size + 2 * padding - kernel_size) / stride) + 1``, as an int.

    The answers are read off torch's ``conv2d``. Recognised mistakes: padding left out or added
    on one side only, stride left out, the ``+ 1`` missing, no rounding down (a float result).
    """
    name = "check_conv_output_size"
    wrong = {
        "padding is ignored: the input grows by padding on *both* sides, add 2 * padding": (
            lambda n, k, p, s: (n - k) // s + 1
        ),
        "padding is added on one side only: add 2 * padding (both sides)": (
            lambda n, k, p, s: (n + p - k) // s + 1
        ),
        "stride is ignored: the kernel jumps `stride` pixels, so divide by stride": (
            lambda n, k, p, s: n + 2 * p - k + 1
        ),
        "the + 1 is missing (a kernel as large as the input still gives one output)": (
            lambda n, k, p, s: (n + 2 * p - k) // s
        ),
    }
    got_all, want_all = [], []
    for n, k, p, s in _CONV_CASES:
        got = call_student(name, fn, n, k, p, s)
        want = _torch_conv_size(n, k, p, s)
        got_all.append(got)
        want_all.append(want)
        if isinstance(got, float) and not float(got).is_integer():
            fail(
                name,
                f"size={n}, kernel_size={k}, padding={p}, stride={s} gave {got}: round down "
                "with integer division // (a kernel cannot stop half way)",
            )
    for hint, formula in wrong.items():
        if all(_eq(g, formula(*c)) for g, c in zip(got_all, _CONV_CASES, strict=True)) and not all(
            _eq(g, w) for g, w in zip(got_all, want_all, strict=True)
        ):
            fail(name, hint)
    for got, want, (n, k, p, s) in zip(got_all, want_all, _CONV_CASES, strict=True):
        if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
            fail(name, f"return an int, got {got!r}")
        if not _eq(got, want):
            fail(
                name,
                f"size={n}, kernel_size={k}, padding={p}, stride={s}: you gave {got}, torch "
                f"gives {want} = floor(({n} + 2*{p} - {k}) / {s}) + 1",
            )
    passed(name, f"matches torch's conv2d on {len(_CONV_CASES)} cases")


def _eq(a: object, b: object) -> bool:
    try:
        return math.isclose(float(a), float(b))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def check_conv_params(fn: object) -> None:
    """Check ``fn(in_channels, out_channels, kernel_size)``: the number of parameters of
    ``nn.Conv2d(in_channels, out_channels, kernel_size)`` (square kernel, with bias).

    Recognised mistakes: the bias left out, the input channels left out, the kernel not
    squared (``k`` instead of ``k * k`` weights per channel).
    """
    import torch

    name = "check_conv_params"
    cases = [(1, 16, 3), (16, 32, 3), (3, 8, 5), (2, 1, 1)]
    wrong = {
        "the bias is missing: each output channel (filter) has one bias": (
            lambda i, o, k: o * i * k * k
        ),
        "the input channels are missing: each filter has a k x k kernel for every input channel": (
            lambda i, o, k: o * k * k + o
        ),
        "the kernel has k * k weights (it is square), not k": (lambda i, o, k: o * i * k + o),
    }
    got_all, want_all = [], []
    for i, o, k in cases:
        conv = torch.nn.Conv2d(i, o, k, device="meta")
        want_all.append(sum(p.numel() for p in conv.parameters()))
        got_all.append(call_student(name, fn, i, o, k))
    for hint, formula in wrong.items():
        if all(_eq(g, formula(*c)) for g, c in zip(got_all, cases, strict=True)):
            fail(name, hint)
    for got, want, (i, o, k) in zip(got_all, want_all, cases, strict=True):
        if not _eq(got, want):
            fail(
                name,
                f"nn.Conv2d({i}, {o}, {k}) has {want} parameters, you gave {got}: "
                "out * in * k * k weights plus out biases",
            )
    passed(name, f"matches sum(p.numel() for p in conv.parameters()) on {len(cases)} layers")


def check_move_batch(fn: object) -> None:
    """Check ``fn(batch, device)``: the tuple ``(X, y)`` of tensors moved to ``device``,
    returned as a tuple with the same shapes and dtypes.

    It moves a batch to torch's ``meta`` device (a device that stores only shapes), so it
    works on any machine. Recognised mistakes: calling ``.to(device)`` without keeping the
    result (``to`` returns a new tensor), moving only the images, changing the labels' dtype.
    """
    import torch

    name = "check_move_batch"
    device = torch.device("meta")
    X = torch.zeros(4, 1, 8, 8)
    y = torch.arange(4)
    out = call_student(name, fn, (X, y), device)
    if out is None:
        fail(name, "the function returned None: return the moved tensors, e.g. return X, y")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(name, f"return a pair (X, y) of tensors, got {type(out).__name__}")
    Xo, yo = out
    if not isinstance(Xo, torch.Tensor) or not isinstance(yo, torch.Tensor):
        fail(name, "both items must be tensors")
    if Xo.device != device and yo.device != device:
        fail(
            name,
            "nothing was moved: tensor.to(device) does not change the tensor in place, it "
            "returns a new one, so keep the result (X = X.to(device))",
        )
    if yo.device != device:
        fail(name, "the labels y stayed behind: move them too (the loss needs both on one device)")
    if Xo.device != device:
        fail(name, "the images X stayed behind: move them too")
    if Xo.dtype != X.dtype or yo.dtype != y.dtype:
        fail(
            name,
            f"dtypes changed (X {X.dtype} -> {Xo.dtype}, y {y.dtype} -> {yo.dtype}): move with "
            ".to(device) only; the labels must stay int64 for the loss",
        )
    if Xo.shape != X.shape or yo.shape != y.shape:
        fail(name, "the shapes changed: only move the tensors")
    passed(name, "both tensors moved, shapes and dtypes kept")
