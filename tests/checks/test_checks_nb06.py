"""The notebook 06 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import (
    check_best_epoch,
    check_count_parameters,
    check_epoch_loss,
    check_train_step,
)


def step_ref(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    optimizer.zero_grad()
    return value


def step_zero_first(model, loss_fn, optimizer, Xb, yb):
    optimizer.zero_grad()
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    return value


def step_model_zero(model, loss_fn, optimizer, Xb, yb):
    model.train()
    value = loss_fn.forward(model.forward(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    model.zero_grad()
    return float(value)


def step_no_zero(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    return value


def step_zero_before_step(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.zero_grad()
    optimizer.step()
    return value


def step_no_backward(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    optimizer.step()
    return value


def step_loss_after(model, loss_fn, optimizer, Xb, yb):
    loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    optimizer.zero_grad()
    return loss_fn(model(Xb), yb)


def step_by_hand(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    for p in model.parameters():
        p.data -= optimizer.lr * p.grad
    optimizer.zero_grad()
    return value


def step_by_hand_fixed_lr(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    for p in model.parameters():
        p.data -= 0.1 * p.grad
        p.grad[...] = 0.0
    return value


def step_eval(model, loss_fn, optimizer, Xb, yb):
    model.eval()
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    optimizer.zero_grad()
    model.train()
    return value


def step_eval_left(model, loss_fn, optimizer, Xb, yb):
    value = step_ref(model, loss_fn, optimizer, Xb, yb)
    model.eval()
    return value


def step_twice(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    optimizer.step()
    optimizer.zero_grad()
    return value


def step_none(model, loss_fn, optimizer, Xb, yb):
    step_ref(model, loss_fn, optimizer, Xb, yb)


def step_first_sample(model, loss_fn, optimizer, Xb, yb):
    return step_ref(model, loss_fn, optimizer, Xb[:1], yb[:1])


def step_shuffles_inplace(model, loss_fn, optimizer, Xb, yb):
    np.random.default_rng(0).shuffle(Xb)
    return step_ref(model, loss_fn, optimizer, Xb, yb)


def step_returns_array(model, loss_fn, optimizer, Xb, yb):
    return np.full(3, step_ref(model, loss_fn, optimizer, Xb, yb))


def pairs(sizes):
    return zip(sizes[:-1], sizes[1:], strict=True)


def epoch_ref(batch_losses, batch_sizes):
    batch_losses, batch_sizes = np.asarray(batch_losses), np.asarray(batch_sizes)
    return float(np.sum(batch_losses * batch_sizes) / np.sum(batch_sizes))


def epoch_inplace(batch_losses, batch_sizes):
    for i in range(len(batch_losses)):
        batch_losses[i] *= batch_sizes[i]
    return sum(batch_losses) / sum(batch_sizes)


RIGHT = {
    check_train_step: [(step_ref,), (step_zero_first,), (step_model_zero,)],
    check_epoch_loss: [
        (epoch_ref,),
        (lambda losses, sizes: float(np.average(losses, weights=sizes)),),
        (lambda ls, ns: sum(a * b for a, b in zip(ls, ns, strict=True)) / sum(ns),),
    ],
    check_count_parameters: [
        (lambda sizes: sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True)),),
        (lambda sizes: int(sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(sizes) - 1))),),
    ],
    check_best_epoch: [
        (lambda v: int(np.argmin(v)) + 1,),
        (lambda v: min(range(len(v)), key=lambda i: v[i]) + 1,),
        (lambda v: list(v).index(min(v)) + 1,),
    ],
}

WRONG = {
    check_train_step: [
        ("no-zero", (step_no_zero,), r"left over from the earlier steps"),
        ("zero-before-step", (step_zero_before_step,), r"did not change"),
        ("no-backward", (step_no_backward,), r"did not change"),
        ("loss-after", (step_loss_after,), r"forward 2 times"),
        ("by-hand", (step_by_hand,), r"yourself instead of calling the optimiser"),
        ("by-hand-fixed-lr", (step_by_hand_fixed_lr,), r"yourself"),
        ("eval", (step_eval,), r"evaluation mode"),
        ("eval-left", (step_eval_left,), r"left in evaluation mode"),
        ("twice", (step_twice,), r"more than once"),
        ("none", (step_none,), r"returned None"),
        ("first-sample", (step_first_sample,), r"differ from one optimiser step"),
        ("inplace", (step_shuffles_inplace,), r"in place"),
        ("array", (step_returns_array,), r"single number"),
        ("nothing", (lambda model, loss_fn, optimizer, Xb, yb: 0.0,), r"never ran the model"),
    ],
    check_epoch_loss: [
        ("plain-mean", (lambda losses, sizes: float(np.mean(losses)),), r"plain mean"),
        ("total", (lambda losses, sizes: float(np.dot(losses, sizes)),), r"summed loss"),
        ("per-batch", (lambda losses, sizes: float(np.dot(losses, sizes)) / len(losses),),
         r"number of batches"),
        ("hard-100", (lambda losses, sizes: float(np.dot(losses, sizes)) / 100,), r"typed into"),
        ("unweighted", (lambda losses, sizes: float(np.sum(losses) / np.sum(sizes)),),
         r"weighted by its batch size"),
        ("inplace", (epoch_inplace,), r"in place"),
        ("array", (lambda losses, sizes: np.asarray(losses) * np.asarray(sizes) / np.sum(sizes),),
         r"single number"),
        ("drop-last", (lambda losses, sizes: float(np.mean(losses[:-1])) if len(losses) > 1
                       else float(losses[0]),), r"wrong result"),
        ("full-batches", (lambda losses, sizes: float(np.dot(losses, sizes)) / (
            sizes[0] * len(sizes)),), r"wrong result|typed into|number of batches"),
    ],
    check_count_parameters: [
        ("weights-only", (lambda s: sum(a * b for a, b in pairs(s)),),
         r"weights only"),
        ("bias-per-input", (lambda s: sum(a * b + a for a, b in pairs(s)),),
         r"per OUTPUT unit"),
        ("all-units-bias", (lambda s: sum(a * b for a, b in pairs(s)) + sum(s),),
         r"inputs have no biases"),
        ("first-layer-missing", (lambda s: sum(a * b + b for a, b in pairs(s[1:])),),
         r"one layer is missing|wrong count"),
        ("last-layer-missing", (lambda s: sum(a * b + b for a, b in pairs(s[:-1])),),
         r"one layer is missing|wrong count"),
        ("product", (lambda s: int(np.prod(s)),), r"wrong count|weights only"),
        ("float-div", (lambda s: sum(a * b + b for a, b in pairs(s)) + 0.5,),
         r"whole number"),
        ("string", (lambda s: str(sum(a * b + b for a, b in pairs(s))),),
         r"single number"),
        ("hard", (lambda s: 13,), r"wrong count|weights only|layer"),
    ],
    check_best_epoch: [
        ("from-zero", (lambda v: int(np.argmin(v)),), r"counted from 1"),
        ("argmax", (lambda v: int(np.argmax(v)) + 1,), r"highest"),
        ("last", (lambda v: len(v),), r"last epoch"),
        ("first-local-min", (lambda v: next((i for i in range(1, len(v)) if v[i] > v[i - 1]),
                                            len(v)),), r"local minimum"),
        ("value", (lambda v: float(np.min(v)),), r"lowest loss itself"),
        ("list", (lambda v: [int(np.argmin(v)) + 1],), r"single number"),
        ("sorted", (lambda v: int(np.argsort(v)[1]) + 1,), r"wrong epoch|counted|local"),
        ("hard", (lambda v: 4,), r"wrong epoch|counted|last|highest|local"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)
