"""The notebook 09 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.checks import CheckFailed, nb09

torch = pytest.importorskip("torch")
tnn = torch.nn


def test_exported():
    import nnscratch.checks as checks

    for name in nb09.__all__:
        assert getattr(checks, name) is getattr(nb09, name)


# ----------------------------------------------------------------------------- to_float64


def test_to_float64_reference(capsys):
    nb09.check_to_float64_tensor(lambda b: torch.tensor(b, dtype=torch.float64))
    nb09.check_to_float64_tensor(lambda b: torch.from_numpy(b).double())
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda b: torch.tensor(b, dtype=torch.float32), "float32 is torch's default"),
        (lambda b: torch.from_numpy(b).float(), "float32"),
        (lambda b: torch.from_numpy(b), "integer type was kept"),
        (lambda b: np.asarray(b, dtype=np.float64), "NumPy array"),
        (lambda b: torch.tensor(b.T, dtype=torch.float64), "transposed"),
        (lambda b: torch.tensor(b, dtype=torch.float64).reshape(-1), "keep the batch's shape"),
        (lambda b: torch.zeros(b.shape, dtype=torch.float64), "values differ"),
        (lambda b: [1.0], "expected a torch.Tensor"),
    ],
)
def test_to_float64_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb09.check_to_float64_tensor(answer)


# ----------------------------------------------------------------------------- build_mlp


def _mlp(sizes, *, last_relu=False, relu=True, swap=False):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(tnn.Linear(b, a) if swap else tnn.Linear(a, b))
        if relu and (i < len(sizes) - 2 or last_relu):
            layers.append(tnn.ReLU())
    return tnn.Sequential(*layers)


def test_build_mlp_reference(capsys):
    nb09.check_build_mlp(_mlp)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda s: _mlp(s, last_relu=True), "ends with a ReLU"),
        (lambda s: _mlp(s, relu=False), "no nn.ReLU"),
        (lambda s: _mlp(s, swap=True), "swapped"),
        (lambda s: _mlp(s[:-1] if len(s) > 2 else s), "needs 3 nn.Linear"),
        (lambda s: _mlp([s[0], 9, *s[1:]]), "needs 3 nn.Linear"),
        (lambda s: [_mlp(s)], "torch.nn.Sequential"),
        (
            lambda s: tnn.Sequential(
                *[m if not isinstance(m, tnn.ReLU) else tnn.Sigmoid() for m in _mlp(s)]
            ),
            "alternating",
        ),
    ],
)
def test_build_mlp_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb09.check_build_mlp(answer)


# ----------------------------------------------------------------------------- train_step


def step_ok(model, loss_fn, optimizer, xb, yb):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_no_zero_grad(model, loss_fn, optimizer, xb, yb):
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_zero_grad_late(model, loss_fn, optimizer, xb, yb):
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def step_no_step(model, loss_fn, optimizer, xb, yb):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    return loss.item()


def step_returns_tensor(model, loss_fn, optimizer, xb, yb):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss


def step_loss_after(model, loss_fn, optimizer, xb, yb):
    step_ok(model, loss_fn, optimizer, xb, yb)
    with torch.no_grad():
        return loss_fn(model(xb), yb).item()


def step_twice(model, loss_fn, optimizer, xb, yb):
    step_ok(model, loss_fn, optimizer, xb, yb)
    return step_ok(model, loss_fn, optimizer, xb, yb)


def test_train_step_reference(capsys):
    nb09.check_torch_train_step(step_ok)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (step_no_zero_grad, "added up over the earlier steps.*zero_grad"),
        (step_zero_grad_late, "did not change"),
        (step_no_step, "optimizer.step"),
        (step_returns_tensor, "loss.item"),
        (step_loss_after, "before the update"),
        (step_twice, "differ from one plain step"),
    ],
)
def test_train_step_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb09.check_torch_train_step(answer)
