"""Exercise checks for notebook 06 (an MLP from scratch: the training loop).

Every expected answer comes from the library (``MLP``, ``SGD``, ``CrossEntropyLoss``,
``Module.num_parameters``); the checks only decide which typical mistake explains a
difference.
"""

from __future__ import annotations

import numpy as np

from ..layers import MLP
from ..losses import CrossEntropyLoss
from ..optim import SGD
from ._core import as_number, call_student, close, fail, passed

__all__ = ["check_train_step", "check_epoch_loss", "check_count_parameters", "check_best_epoch"]


def _params(model: MLP) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()]


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(close(x, y, rtol=1e-10, atol=1e-12) for x, y in zip(a, b, strict=True))


def check_train_step(fn: object) -> None:
    """Check ``train_step(model, loss_fn, optimizer, Xb, yb) -> float``: one mini-batch update.

    Runs two steps on a small ``MLP`` with ``SGD`` next to the library's reference sequence
    (forward, loss, ``loss_fn.backward()``, ``model.backward``, ``optimizer.step()``,
    ``optimizer.zero_grad()``). Recognised mistakes: no update at all (backward or step
    missing, or gradients cleared before the step), gradients never cleared (the second step
    goes wrong), the loss returned after the update or not returned.
    """
    name = "check_train_step"
    rng = np.random.default_rng(6)
    X = rng.normal(size=(12, 3))
    y = rng.integers(0, 3, size=12)
    batches = [(X[:6], y[:6]), (X[6:], y[6:])]
    ref, stu = MLP([3, 5, 3], rng=0), MLP([3, 5, 3], rng=0)
    ref_loss, stu_loss = CrossEntropyLoss(), CrossEntropyLoss()
    ref_opt, stu_opt = SGD(ref.parameters(), lr=0.5), SGD(stu.parameters(), lr=0.5)
    for step, (Xb, yb) in enumerate(batches, start=1):
        before = _params(ref)
        want = ref_loss(ref(Xb), yb)
        ref.backward(ref_loss.backward())
        ref_opt.step()
        ref_opt.zero_grad()
        loss_after = CrossEntropyLoss()(ref(Xb), yb)

        got = call_student(name, fn, stu, stu_loss, stu_opt, Xb.copy(), yb.copy())
        if got is None:
            fail(name, "train_step returned None: return the batch's loss value (a float)")
        got_f = as_number(name, got, "the returned loss must be a number")
        params = _params(stu)
        if _same(params, before):
            fail(
                name,
                f"the parameters did not change in step {step}: after the forward pass and the "
                "loss, call model.backward(loss_fn.backward()) and then optimizer.step() "
                "(and clear the gradients only after the step)",
            )
        if not _same(params, _params(ref)):
            if step == 2:
                fail(
                    name,
                    "the first step was right but the second was not: the gradients of the "
                    "first batch were still there. Call optimizer.zero_grad() after each step "
                    "(backward adds into .grad, it does not overwrite it)",
                )
            fail(
                name,
                "the parameters after the step differ from one SGD step on this batch: the "
                "order is forward -> loss -> loss_fn.backward() -> model.backward(...) -> "
                "optimizer.step()",
            )
        if not close(got_f, want, rtol=1e-9):
            if close(got_f, loss_after, rtol=1e-9):
                fail(
                    name,
                    "you returned the loss after the update: return the value computed in the "
                    "forward pass, before optimizer.step()",
                )
            fail(name, f"returned loss {got_f:.6g}, expected the batch loss {want:.6g}")
    passed(name, "forward, loss, backward, step and zero_grad in the right order")


def check_epoch_loss(fn: object) -> None:
    """Check ``epoch_loss(batch_losses, batch_sizes) -> float``: the mean loss over all samples
    of an epoch, from per-batch mean losses (the last batch may be smaller).

    Recognised mistakes: the plain mean of the batch losses (ignores the short last batch),
    the total without dividing, dividing by the number of batches.
    """
    name = "check_epoch_loss"
    losses = np.array([0.9, 0.7, 0.6, 2.0])
    sizes = np.array([32, 32, 32, 4])
    want = float(np.average(losses, weights=sizes))
    got = as_number(
        name, call_student(name, fn, losses.tolist(), sizes.tolist()), "the result must be a number"
    )
    if close(got, want):
        passed(name, f"{got:.4g} (the short last batch counts for its 4 samples only)")
        return
    if close(got, np.mean(losses)):
        fail(
            name,
            "that is the plain mean of the batch losses: each batch loss is already a mean, so "
            "weight it by its batch size (the last batch has only 4 samples)",
        )
    if close(got, np.sum(losses * sizes)):
        fail(name, "that is the summed loss: divide by the number of samples, sum(batch_sizes)")
    if close(got, np.sum(losses * sizes) / len(losses)):
        fail(name, "divide by the number of samples, sum(batch_sizes), not the number of batches")
    fail(name, f"got {got:.6g}, expected {want:.6g} = sum(loss_b * size_b) / sum(size_b)")


def check_count_parameters(fn: object) -> None:
    """Check ``count_parameters(sizes) -> int`` for an MLP with layer sizes ``sizes``
    (``[inputs, hidden..., outputs]``), against ``MLP(sizes).num_parameters()``.

    Recognised mistakes: biases left out, one bias per input instead of per output,
    a layer too many or too few.
    """
    name = "check_count_parameters"
    for sizes in ([2, 3, 1], [4, 8, 8, 3], [64, 32, 10]):
        want = MLP(sizes, rng=0).num_parameters()
        got = call_student(name, fn, list(sizes))
        got_f = as_number(name, got, f"count_parameters({sizes}) must be a number")
        if got_f == want:
            continue
        pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
        weights = sum(a * b for a, b in pairs)
        if got_f == weights:
            fail(
                name,
                f"count_parameters({sizes}) = {got_f:g} counts the weights only: add the biases",
            )
        if got_f == weights + sum(a for a, _ in pairs):
            fail(
                name,
                f"count_parameters({sizes}) = {got_f:g}: each layer has one bias per OUTPUT unit, "
                "not per input",
            )
        fail(
            name,
            f"count_parameters({sizes}) = {got_f:g}, expected {want}: a layer from a to b units "
            "has a*b weights and b biases, and there are len(sizes) - 1 layers",
        )
    passed(name, "weights and biases of every layer")


def check_best_epoch(fn: object) -> None:
    """Check ``best_epoch(val_losses) -> int``: the epoch (counted from 1, as ``fit`` prints
    them) with the lowest validation loss.

    Recognised mistakes: counting from 0, the highest loss instead of the lowest, the last
    epoch.
    """
    name = "check_best_epoch"
    val = [1.2, 0.8, 0.55, 0.5, 0.52, 0.61, 0.74]
    want = int(np.argmin(val)) + 1
    got = as_number(name, call_student(name, fn, list(val)), "the result must be a number")
    if got == want:
        passed(name, f"epoch {want} has the lowest validation loss")
        return
    if got == want - 1:
        fail(name, f"got {got:g}: epochs are counted from 1 here, so add 1 to the array index")
    if got in (int(np.argmax(val)), int(np.argmax(val)) + 1):
        fail(name, f"got {got:g}: that is where the loss is highest; we want the lowest")
    if got in (len(val), len(val) - 1):
        fail(name, f"got {got:g}: that is the last epoch, not the one with the lowest loss")
    fail(name, f"got {got:g}, expected epoch {want} (the position of the minimum, from 1)")
