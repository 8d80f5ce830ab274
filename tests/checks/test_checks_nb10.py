"""The notebook 10 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import math

import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import check_conv_output_size, check_conv_params, check_move_batch

torch = pytest.importorskip("torch")


def size_ref(size, kernel_size, padding=0, stride=1):
    return (size + 2 * padding - kernel_size) // stride + 1


def move_ref(batch, device):
    X, y = batch
    return X.to(device), y.to(device)


def move_forgets(batch, device):
    X, y = batch
    X.to(device)
    y.to(device)
    return X, y


RIGHT = {
    check_conv_output_size: [
        (size_ref,),
        (lambda n, k, p=0, s=1: int(math.floor((n + 2 * p - k) / s)) + 1,),
        (lambda n, k, p=0, s=1: len(range(0, n + 2 * p - k + 1, s)),),
    ],
    check_conv_params: [
        (lambda i, o, k: o * (i * k * k + 1),),
        (lambda i, o, k: sum(p.numel() for p in torch.nn.Conv2d(i, o, k).parameters()),),
    ],
    check_move_batch: [
        (move_ref,),
        (lambda batch, device: [t.to(device) for t in batch],),
        (lambda batch, device: tuple(t.to(device=device) for t in batch),),
    ],
}

WRONG = {
    check_conv_output_size: [
        ("no-padding", (lambda n, k, p=0, s=1: (n - k) // s + 1,), r"padding is ignored"),
        ("one-side", (lambda n, k, p=0, s=1: (n + p - k) // s + 1,), r"one side"),
        ("no-stride", (lambda n, k, p=0, s=1: n + 2 * p - k + 1,), r"stride is ignored"),
        ("no-plus-one", (lambda n, k, p=0, s=1: (n + 2 * p - k) // s,), r"position is missing"),
        ("float", (lambda n, k, p=0, s=1: (n + 2 * p - k) / s + 1,), r"fraction"),
        ("ceil", (lambda n, k, p=0, s=1: math.ceil((n + 2 * p - k) / s) + 1,), r"rounded up"),
        ("round", (lambda n, k, p=0, s=1: round((n + 2 * p - k) / s) + 1,), r"nearest"),
        ("float-whole", (lambda n, k, p=0, s=1: float((n + 2 * p - k) // s + 1),),
         r"they are floats"),
        ("kernel-sign", (lambda n, k, p=0, s=1: (n + 2 * p + k) // s + 1,), r"wrong size"),
        ("string", (lambda n, k, p=0, s=1: str(size_ref(n, k, p, s)),), r"return an int"),
        ("tensor-shape", (lambda n, k, p=0, s=1: (size_ref(n, k, p, s),) * 2,),
         r"return an int"),
    ],
    check_conv_params: [
        ("no-bias", (lambda i, o, k: o * i * k * k,), r"bias is missing"),
        ("bias-per-input", (lambda i, o, k: o * i * k * k + i,), r"not per input channel"),
        ("no-in", (lambda i, o, k: o * k * k + o,), r"input channels are missing"),
        ("k-not-squared", (lambda i, o, k: o * i * k + o,), r"k times k"),
        ("one-bias", (lambda i, o, k: o * i * k * k + 1,), r"wrong count"),
        ("string", (lambda i, o, k: str(o * (i * k * k + 1)),), r"return an int"),
        ("weights-shape", (lambda i, o, k: (o, i, k, k),), r"return an int"),
        ("plus", (lambda i, o, k: o + i + k * k,), r"wrong count"),
    ],
    check_move_batch: [
        ("forgets", (move_forgets,), r"keep the result|nothing reached"),
        ("only-x", (lambda batch, device: (batch[0].to(device), batch[1]),), r"labels y stayed"),
        ("only-y", (lambda batch, device: (batch[0], batch[1].to(device)),), r"images X stayed"),
        ("cpu", (lambda batch, device: (batch[0].cpu(), batch[1].cpu()),), r"nothing reached"),
        ("float-labels", (lambda batch, device: (batch[0].to(device),
                                                 batch[1].to(device, torch.float32)),),
         r"dtypes changed"),
        ("none", (lambda batch, device: None,), r"returned None"),
        ("only-one", (lambda batch, device: batch[0].to(device),), r"pair"),
        ("flattened", (lambda batch, device: (batch[0].to(device).flatten(1),
                                              batch[1].to(device)),), r"shapes changed"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)
