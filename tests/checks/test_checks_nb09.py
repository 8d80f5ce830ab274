"""The notebook 09 checks accept right answers and name typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import assert_passes, assert_rejects, right_cases, wrong_cases

from nnscratch.checks import check_build_mlp, check_to_float64_tensor, check_torch_train_step

torch = pytest.importorskip("torch")
tnn = torch.nn


def build_ref(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(tnn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(tnn.ReLU())
    return tnn.Sequential(*layers)


def build_other(sizes):
    model = tnn.Sequential()
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        model.append(tnn.Linear(a, b, dtype=torch.float64))
        model.append(tnn.ReLU())
    return model[:-1]


def _build(act=tnn.ReLU, *, last=False, bias=True, swap=False, drop_last=False, between=True):
    def build(sizes):
        layers = []
        pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
        if drop_last:
            pairs = pairs[:-1] or pairs
        for i, (a, b) in enumerate(pairs):
            layers.append(tnn.Linear(b, a, bias=bias) if swap else tnn.Linear(a, b, bias=bias))
            if between and (i < len(pairs) - 1 or last):
                layers.append(act())
        return tnn.Sequential(*layers)

    return build


def step_ref(model, loss_fn, optimizer, xb, yb):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_zero_after(model, loss_fn, optimizer, xb, yb):
    model.train()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return float(loss.detach())


def step_no_zero(model, loss_fn, optimizer, xb, yb):
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_by_hand(model, loss_fn, optimizer, xb, yb):
    model.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.data -= optimizer.param_groups[0]["lr"] * p.grad
    return loss.item()


def step_by_hand_data(model, loss_fn, optimizer, xb, yb):
    model.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    for p in model.parameters():
        p.data -= 0.1 * p.grad
    return loss.item()


def step_eval(model, loss_fn, optimizer, xb, yb):
    model.eval()
    value = step_ref(model, loss_fn, optimizer, xb, yb)
    model.train()
    return value


def step_eval_left(model, loss_fn, optimizer, xb, yb):
    value = step_ref(model, loss_fn, optimizer, xb, yb)
    model.eval()
    return value


def step_tensor(model, loss_fn, optimizer, xb, yb):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    return loss


def step_after(model, loss_fn, optimizer, xb, yb):
    step_ref(model, loss_fn, optimizer, xb, yb)
    with torch.no_grad():
        return loss_fn(model(xb), yb).item()


def step_zero_between(model, loss_fn, optimizer, xb, yb):
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.zero_grad()
    optimizer.step()
    return loss.item()


def step_twice(model, loss_fn, optimizer, xb, yb):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimizer.step()
    optimizer.step()
    return loss.item()


def step_inplace_x(model, loss_fn, optimizer, xb, yb):
    xb /= 1.5
    return step_ref(model, loss_fn, optimizer, xb, yb)


RIGHT = {
    check_to_float64_tensor: [
        (lambda batch: torch.tensor(batch, dtype=torch.float64),),
        (lambda batch: torch.from_numpy(np.asarray(batch, dtype=np.float64)),),
        (lambda batch: torch.as_tensor(batch).double(),),
    ],
    check_build_mlp: [(build_ref,), (build_other,)],
    check_torch_train_step: [(step_ref,), (step_zero_after,)],
}

WRONG = {
    check_to_float64_tensor: [
        ("numpy", (lambda batch: batch.astype(np.float64),), r"NumPy array"),
        ("float32", (lambda batch: torch.tensor(batch, dtype=torch.float32),), r"default float"),
        ("dot-float", (lambda batch: torch.tensor(batch).float(),), r"default float"),
        ("keeps-int", (lambda batch: torch.from_numpy(batch),), r"integer type|default float"),
        ("transposed", (lambda batch: torch.tensor(batch.T, dtype=torch.float64),), r"shape"),
        ("flat", (lambda batch: torch.tensor(batch.ravel(), dtype=torch.float64),), r"shape"),
        ("list", (lambda batch: batch.tolist(),), r"torch\.Tensor"),
        ("half", (lambda batch: torch.tensor(batch, dtype=torch.float16),), r"float64"),
        ("rounded", (lambda batch: torch.tensor(np.round(batch), dtype=torch.float64),),
         r"values differ"),
        ("via-float32", (lambda b: torch.tensor(b.astype(np.float32), dtype=torch.float64),),
         r"through float32"),
        ("inplace", (lambda batch: torch.from_numpy(np.multiply(batch, 1.0, out=batch)
                                                    if batch.dtype == np.float64 else
                                                    batch.astype(np.float64)) * 2,),
         r"values differ|in place"),
    ],
    check_build_mlp: [
        ("relu-last", (_build(last=True),), r"ends with a ReLU"),
        ("no-relu", (_build(between=False),), r"no nn\.ReLU"),
        ("sigmoid", (_build(act=tnn.Sigmoid),), r"contains Sigmoid"),
        ("no-bias", (_build(bias=False),), r"no bias"),
        ("swapped", (_build(swap=True),), r"swapped"),
        ("layer-short", (_build(drop_last=True),), r"needs \d nn\.Linear"),
        ("list", (lambda sizes: list(build_ref(sizes)),), r"Sequential"),
        ("module-list", (lambda sizes: tnn.ModuleList(build_ref(sizes)),), r"Sequential"),
        ("extra-dropout", (lambda sizes: tnn.Sequential(*build_ref(sizes), tnn.Dropout(0.1)),),
         r"contains Dropout"),
        ("softmax-last", (lambda sizes: tnn.Sequential(*build_ref(sizes), tnn.Softmax(dim=1)),),
         r"contains Softmax"),
        ("fixed-sizes", (lambda sizes: build_ref([64, 32, 16, 10]),), r"needs|wrong sizes"),
    ],
    check_torch_train_step: [
        ("no-zero", (step_no_zero,), r"left over from the earlier steps"),
        ("by-hand", (step_by_hand,), r"yourself instead of calling"),
        ("by-hand-data", (step_by_hand_data,), r"yourself instead of calling"),
        ("eval", (step_eval,), r"evaluation mode"),
        ("eval-left", (step_eval_left,), r"left in evaluation mode"),
        ("tensor", (step_tensor,), r"loss tensor"),
        ("after", (step_after,), r"forward 2 times"),
        ("zero-between", (step_zero_between,), r"did not change"),
        ("twice", (step_twice,), r"more than once"),
        ("no-step", (lambda m, lf, o, xb, yb: lf(m(xb), yb).item(),), r"did not change"),
        ("inplace-x", (step_inplace_x,), r"in place"),
        ("none", (lambda m, lf, o, xb, yb: step_ref(m, lf, o, xb, yb) and None,),
         r"Python float"),
        ("nothing", (lambda m, lf, o, xb, yb: 0.0,), r"never ran the model"),
    ],
}


@pytest.mark.parametrize(("check", "args"), right_cases(RIGHT))
def test_accepts_right_answers(check, args) -> None:
    assert_passes(check, args)


@pytest.mark.parametrize(("check", "args", "pattern"), wrong_cases(WRONG))
def test_rejects_wrong_answers(check, args, pattern) -> None:
    assert_rejects(check, args, pattern)
