"""The notebook 06 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.checks import (
    CheckFailed,
    check_best_epoch,
    check_count_parameters,
    check_epoch_loss,
    check_train_step,
)


def step_ok(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    optimizer.zero_grad()
    return value


def step_zero_first(model, loss_fn, optimizer, Xb, yb):
    optimizer.zero_grad()  # clearing before the backward pass is just as right
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    return value


def step_no_zero(model, loss_fn, optimizer, Xb, yb):
    value = loss_fn(model(Xb), yb)
    model.backward(loss_fn.backward())
    optimizer.step()
    return value


def step_no_update(model, loss_fn, optimizer, Xb, yb):
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


def step_no_return(model, loss_fn, optimizer, Xb, yb):
    step_ok(model, loss_fn, optimizer, Xb, yb)


def test_train_step_passes(capsys):
    check_train_step(step_ok)
    check_train_step(step_zero_first)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (step_no_zero, "zero_grad"),
        (step_no_update, "did not change"),
        (step_no_backward, "did not change"),
        (step_loss_after, "after the update"),
        (step_no_return, "returned None"),
    ],
)
def test_train_step_names_the_mistake(fn, message):
    with pytest.raises(CheckFailed, match=message):
        check_train_step(fn)


def test_epoch_loss(capsys):
    check_epoch_loss(lambda losses, sizes: float(np.dot(losses, sizes) / np.sum(sizes)))
    assert "passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="plain mean"):
        check_epoch_loss(lambda losses, sizes: float(np.mean(losses)))
    with pytest.raises(CheckFailed, match="summed loss"):
        check_epoch_loss(lambda losses, sizes: float(np.dot(losses, sizes)))
    with pytest.raises(CheckFailed, match="not the number of batches"):
        check_epoch_loss(lambda losses, sizes: float(np.dot(losses, sizes) / len(losses)))
    with pytest.raises(CheckFailed, match="must be a number"):
        check_epoch_loss(lambda losses, sizes: "0.5")


def count_ok(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def test_count_parameters(capsys):
    check_count_parameters(count_ok)
    assert "passed" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="weights only"):
        check_count_parameters(lambda s: sum(a * b for a, b in zip(s[:-1], s[1:], strict=True)))
    with pytest.raises(CheckFailed, match="per OUTPUT"):
        check_count_parameters(lambda s: sum(a * b + a for a, b in zip(s[:-1], s[1:], strict=True)))
    with pytest.raises(CheckFailed, match="len\\(sizes\\) - 1 layers"):
        check_count_parameters(lambda s: count_ok(s) + s[0])
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError"):
        check_count_parameters(lambda s: 1 / 0)


def test_best_epoch(capsys):
    check_best_epoch(lambda v: int(np.argmin(v)) + 1)
    assert "epoch 4" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="counted from 1"):
        check_best_epoch(lambda v: int(np.argmin(v)))
    with pytest.raises(CheckFailed, match="highest"):
        check_best_epoch(lambda v: int(np.argmax(v)) + 1)
    with pytest.raises(CheckFailed, match="last epoch"):
        check_best_epoch(lambda v: len(v))
