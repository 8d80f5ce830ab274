"""Exercise checks for notebook 06 (an MLP from scratch: the training loop).

Every expected answer comes from the library (``Linear``, ``SGD``, ``CrossEntropyLoss``,
``Module.num_parameters``); the checks only decide which typical mistake explains a
difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import MLP, Dropout, Linear, Module, ReLU, Sequential
from ..losses import CrossEntropyLoss
from ..optim import SGD
from ._core import (
    answer_number,
    call_student,
    close,
    diagnose_train_step,
    diagnose_update,
    fail,
    passed,
)

__all__ = ["check_train_step", "check_epoch_loss", "check_count_parameters", "check_best_epoch"]


class _Probe(Module):
    """Passes data through unchanged and records, per forward call, whether it was training."""

    def __init__(self) -> None:
        self.seen: list[bool] = []

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.seen.append(self.training)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out


class _CountingSGD(SGD):
    """``SGD`` that counts its ``step`` calls."""

    def __init__(self, params: list, lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=momentum)
        self.step_calls = 0

    def step(self) -> None:
        self.step_calls += 1
        super().step()


# momentum and a learning rate of neither 1 nor 0.1: only the optimiser's own step gets it right
_LR, _MOMENTUM = 0.3, 0.5


def _model() -> tuple[Sequential, _Probe]:
    probe = _Probe()
    model = Sequential(
        Linear(3, 5, rng=0), ReLU(), probe, Dropout(0.25, rng=1), Linear(5, 3, rng=2)
    )
    return model, probe


def _params(model: Module) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(close(x, y, rtol=1e-10, atol=1e-12) for x, y in zip(a, b, strict=True))


def _reference(batches: list, *, zero: bool = True, own: bool = False) -> tuple[list, list]:
    """Losses and parameters after each step: the right step, or one that never clears the
    gradients (``zero=False``), or one that updates by hand without the optimiser (``own``)."""
    model, _ = _model()
    loss_fn, opt = CrossEntropyLoss(), SGD(model.parameters(), lr=_LR, momentum=_MOMENTUM)
    losses, params = [], []
    for Xb, yb in batches:
        losses.append(loss_fn(model(Xb), yb))
        model.backward(loss_fn.backward())
        if own:
            for p in model.parameters():
                p.data -= _LR * p.grad
        else:
            opt.step()
        if zero:
            opt.zero_grad()
        params.append(_params(model))
    return losses, params


def check_train_step(fn: Any) -> None:
    """Check your ``train_step(model, loss_fn, optimizer, Xb, yb) -> float``: one mini-batch
    update, returning the batch's loss from before the update.

    Runs three steps on a small model with dropout and an ``SGD`` optimiser with momentum,
    next to the library's reference sequence, and watches the optimiser's calls and the
    model's mode. Names the typical mistakes: no update (backward or step missing, or the
    gradients cleared before the step), gradients never cleared, the parameters updated by
    hand instead of by the optimiser, evaluation mode during the step, an extra forward pass,
    and the loss returned after the update or not returned.
    """
    name = "check_train_step"
    rng = np.random.default_rng(6)
    X = rng.normal(size=(16, 3))
    y = rng.integers(0, 3, size=16)
    batches = [(X[:6], y[:6]), (X[6:12], y[6:12]), (X[12:], y[12:])]
    want_losses, want_params = _reference(batches)
    _, piled = _reference(batches, zero=False)
    _, by_hand = _reference(batches, own=True)
    model, probe = _model()
    loss_fn = CrossEntropyLoss()
    opt = _CountingSGD(model.parameters(), lr=_LR, momentum=_MOMENTUM)
    for k, (Xb, yb) in enumerate(batches):
        before, steps_before, seen_before = _params(model), opt.step_calls, len(probe.seen)
        got = call_student(name, fn, model, loss_fn, opt, Xb, yb)
        params = _params(model)
        forwards = probe.seen[seen_before:]
        diagnose_train_step(name, forwards, model.training, opt.step_calls - steps_before,
                            not _same(params, before), k)
        if got is None:
            fail(name, "train_step returned None: return the batch's loss (a number)")
        got_f = answer_number(name, got, "the returned loss must be a single number")
        diagnose_update(name, k, right=_same(params, want_params[k]),
                        piled=_same(params, piled[k]), by_hand=_same(params, by_hand[k]),
                        order="forward, loss, the loss's backward, the model's backward, "
                              "then the optimiser's step")
        if not close(got_f, want_losses[k], rtol=1e-9):
            fail(name, "the returned loss is not the batch's loss from the forward pass before "
                       "the update")
    passed(name, "forward, loss, backward, the optimiser's step and zero_grad, in order")


def check_epoch_loss(fn: Any) -> None:
    """Check your ``epoch_loss(batch_losses, batch_sizes) -> float``: the mean loss over all
    samples of an epoch from per-batch mean losses, for epochs of several sizes (the last
    batch is often smaller), given as lists or arrays.

    Names the typical mistakes: the plain mean of the batch losses, the total without
    dividing, dividing by the number of batches, and a sample count typed in.
    """
    name = "check_epoch_loss"
    cases = [
        ([0.9, 0.7, 0.6, 2.0], [32, 32, 32, 4]),
        ([1.5, 0.5], [10, 3]),
        (np.array([0.25]), np.array([7])),
        (np.array([0.3, 0.8, 1.1, 0.2, 0.9]), np.array([16, 16, 16, 16, 1])),
        ([2.0, 1.0, 4.0], [5, 20, 2]),
    ]
    for losses, sizes in cases:
        la, sa = np.asarray(losses, dtype=float), np.asarray(sizes, dtype=float)
        want = float(np.sum(la * sa) / np.sum(sa))
        got = answer_number(name, call_student(name, fn, losses, sizes),
                        "the result must be a single number")
        if close(got, want):
            continue
        if close(got, np.mean(la)):
            fail(name, "that is the plain mean of the batch losses: each batch loss is already a "
                       "mean, so a small last batch must count for fewer samples")
        if close(got, np.sum(la * sa)):
            fail(name, "that is the summed loss over the epoch: divide by the number of samples")
        if close(got, np.sum(la * sa) / len(la)):
            fail(name, "divide by the number of samples, not by the number of batches")
        if close(got, np.sum(la) / np.sum(sa)):
            fail(name, "each batch loss must be weighted by its batch size before dividing")
        fail(name, f"wrong result for an epoch of {len(la)} batches and {int(sa.sum())} samples "
                   "(is a sample count typed into your code?)")
    passed(name, "the mean over samples, for epochs of five shapes")


def check_count_parameters(fn: Any) -> None:
    """Check your ``count_parameters(sizes) -> int`` for an MLP with layer sizes
    ``[inputs, hidden..., outputs]``, against ``MLP(sizes).num_parameters()`` for networks of
    one to four layers.

    Names the typical mistakes: biases left out, one bias per input instead of per output,
    a layer too many or too few, and a non-integer result.
    """
    name = "check_count_parameters"
    for sizes in ([4, 8, 8, 3], [2, 3, 1], [64, 32, 10], [3, 1], [5, 2, 7, 4, 6]):
        want = MLP(sizes, rng=0).num_parameters()
        got = call_student(name, fn, list(sizes))
        got_f = answer_number(name, got, f"the count for sizes {sizes} must be a single number")
        if not float(got_f).is_integer():
            fail(name, f"the count for sizes {sizes} is not a whole number")
        if got_f == want:
            continue
        pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
        weights = sum(a * b for a, b in pairs)
        if got_f == weights:
            fail(name, f"for sizes {sizes} you counted the weights only: add the biases")
        if got_f == weights + sum(a for a, _ in pairs):
            fail(name, f"for sizes {sizes}: each layer has one bias per OUTPUT unit, not per "
                       "input")
        if got_f == weights + sum(sizes):
            fail(name, f"for sizes {sizes}: the inputs have no biases; only the layers' output "
                       "units do")
        if len(pairs) > 1 and got_f in (
            sum(a * b + b for a, b in pairs[1:]), sum(a * b + b for a, b in pairs[:-1])
        ):
            fail(name, f"for sizes {sizes} one layer is missing: a network with sizes of length "
                       "L has L - 1 layers")
        fail(name, f"wrong count for sizes {sizes}: count each layer's weights and biases")
    passed(name, "weights and biases of every layer, for five networks")


def check_best_epoch(fn: Any) -> None:
    """Check your ``best_epoch(val_losses) -> int``: the epoch (counted from 1, as ``fit``
    prints them) with the lowest validation loss, for several loss curves given as lists or
    arrays, including curves with an early local minimum.

    Names the typical mistakes: counting from 0, the highest loss, the last epoch, the first
    local minimum, and the loss value instead of the epoch.
    """
    name = "check_best_epoch"
    curves: list[Any] = [
        [1.2, 0.8, 0.55, 0.5, 0.52, 0.61, 0.74],
        [1.0, 0.8, 0.9, 0.6, 0.7, 0.45, 0.5, 0.55],
        np.array([0.3, 0.5, 0.7, 0.6]),
        [2.0, 1.5, 1.2, 1.1],
        np.array([0.9, 0.7, 0.75, 0.72, 0.71, 0.65, 0.66]),
    ]
    for val in curves:
        want = int(np.argmin(val)) + 1
        got = answer_number(name, call_student(name, fn, val), "the result must be a single number")
        if got == want:
            continue
        if close(got, min(val)):
            fail(name, "you returned the lowest loss itself; return its epoch number")
        if got == want - 1:
            fail(name, "epochs are counted from 1 here, while array positions start at 0")
        if got in (int(np.argmax(val)), int(np.argmax(val)) + 1):
            fail(name, "that is where the validation loss is highest; we want the lowest")
        if got in (len(val), len(val) - 1):
            fail(name, "that is the last epoch, not the one with the lowest loss")
        first_rise = next((i for i in range(1, len(val)) if val[i] > val[i - 1]), None)
        if first_rise is not None and got in (first_rise, first_rise - 1):
            fail(name, "that is the first epoch after which the loss rises (a local minimum); "
                       "the loss may fall lower later, so look at every epoch")
        fail(name, f"wrong epoch for a curve of {len(val)} epochs")
    passed(name, "the epoch with the lowest validation loss, on five curves")
