"""Exercise checks for notebook 09 (PyTorch basics).

torch is imported inside each check, so ``import nnscratch.checks`` stays NumPy-only.
Reference answers come from torch itself and from ``nnscratch.torch_utils.to_torch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import MLP
from ._core import call_student, close, fail, passed

__all__ = ["check_to_float64_tensor", "check_build_mlp", "check_torch_train_step"]


def check_to_float64_tensor(fn: object) -> None:
    """Check ``fn(batch)``: a NumPy batch ``(n, features)`` in, a float64 tensor with the same
    shape and values out.

    Recognised mistakes: returning a NumPy array, torch's default float32, keeping the
    integer type of an integer batch, a transposed or flattened result.
    """
    import torch

    name = "check_to_float64_tensor"
    rng = np.random.default_rng(9)
    cases = [
        rng.integers(0, 17, size=(4, 6)),
        rng.normal(size=(5, 3)).astype(np.float32),
        rng.normal(size=(2, 7)),
    ]
    for batch in cases:
        out = call_student(name, fn, batch.copy())
        what = f"for a {batch.dtype} batch of shape {batch.shape}"
        if isinstance(out, np.ndarray):
            fail(name, f"{what} you returned a NumPy array: build a tensor (torch.tensor(...))")
        if not isinstance(out, torch.Tensor):
            fail(name, f"{what} expected a torch.Tensor, got {type(out).__name__}")
        if out.dtype != torch.float64:
            if out.dtype == torch.float32:
                hint = (
                    "float32 is torch's default float (and .float() means float32): "
                    "ask for dtype=torch.float64"
                )
            elif not out.is_floating_point():
                hint = (
                    "the integer type was kept (torch.from_numpy keeps the array's dtype): "
                    "convert with dtype=torch.float64"
                )
            else:
                hint = "use dtype=torch.float64"
            fail(name, f"{what} the tensor has dtype {out.dtype}; {hint}")
        if tuple(out.shape) != batch.shape:
            hint = " (transposed?)" if tuple(out.shape) == batch.shape[::-1] else ""
            fail(
                name,
                f"{what} the tensor has shape {tuple(out.shape)}{hint}: keep the batch's shape",
            )
        if not close(out.detach().cpu().numpy(), batch, rtol=1e-7, atol=0):
            fail(name, f"{what} the values differ from the batch's")
    passed(name, "float64 tensors with the batch's shape and values")


def check_build_mlp(fn: object) -> None:
    """Check ``fn(sizes)``: a ``torch.nn.Sequential`` of ``nn.Linear`` layers of the given
    sizes with ``nn.ReLU()`` between them and nothing after the last one (it gives logits).

    Recognised mistakes: a ReLU after the last layer, no ReLU between layers, in and out
    sizes swapped, a layer too many or too few.
    """
    import torch

    name = "check_build_mlp"
    tnn = torch.nn
    for sizes in ([64, 32, 16, 10], [5, 3], [4, 7, 2]):
        model = call_student(name, fn, list(sizes))
        if not isinstance(model, tnn.Sequential):
            fail(name, f"expected a torch.nn.Sequential, got {type(model).__name__}")
        layers = list(model)
        linears = [m for m in layers if isinstance(m, tnn.Linear)]
        want_linear = len(sizes) - 1
        if len(linears) != want_linear:
            fail(
                name,
                f"sizes={sizes} needs {want_linear} nn.Linear layer(s) (one per pair of "
                f"neighbouring sizes), found {len(linears)}",
            )
        for i, (lin, a, b) in enumerate(zip(linears, sizes[:-1], sizes[1:], strict=True)):
            got = (lin.in_features, lin.out_features)
            if got == (b, a) and a != b:
                fail(
                    name,
                    f"Linear layer {i} is nn.Linear({b}, {a}): in and out are swapped, "
                    f"it should be nn.Linear({a}, {b}) (in_features first)",
                )
            if got != (a, b):
                fail(name, f"Linear layer {i} is nn.Linear{got}, expected nn.Linear({a}, {b})")
        if isinstance(layers[-1], tnn.ReLU):
            fail(
                name,
                "the model ends with a ReLU: the last layer must output raw logits (no "
                "activation) for nn.CrossEntropyLoss",
            )
        kinds = [
            "L" if isinstance(m, tnn.Linear) else "R" if isinstance(m, tnn.ReLU) else "?"
            for m in layers
        ]
        want = "LR" * (want_linear - 1) + "L"
        if "".join(kinds) != want:
            if "R" not in kinds and "?" not in kinds and want_linear > 1:
                fail(
                    name,
                    "no nn.ReLU() between the Linear layers: without it they collapse "
                    "into one linear map",
                )
            fail(
                name,
                f"for sizes={sizes} expected Linear, ReLU, ..., Linear (alternating), got "
                + ", ".join(type(m).__name__ for m in layers),
            )
        out = model(torch.zeros(2, sizes[0], dtype=linears[0].weight.dtype))
        if tuple(out.shape) != (2, sizes[-1]):
            fail(
                name, f"output shape {tuple(out.shape)} for a batch of 2, expected (2, {sizes[-1]})"
            )
    passed(name, "Linear layers of the right sizes with ReLU between them")


def _torch_model(torch: Any) -> Any:
    from ..torch_utils import to_torch

    return to_torch(MLP([4, 5, 3], rng=0))


def _reference(torch: Any, batches: list, *, zero_grad: bool) -> tuple[list[float], list[Any]]:
    """Run plain SGD steps on a fresh model; return the losses and parameters after each."""
    model = _torch_model(torch)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses, params = [], []
    for xb, yb in batches:
        if zero_grad:
            opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(float(loss.item()))
        params.append([p.detach().clone() for p in model.parameters()])
    return losses, params


def _same_params(a: list, b: list) -> bool:
    return all(
        close(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12) for p, q in zip(a, b, strict=True)
    )


def check_torch_train_step(fn: object) -> None:
    """Check ``fn(model, loss_fn, optimizer, xb, yb)``: one training step (zero the gradients,
    forward, loss, backward, optimizer step) returning the batch's loss as a Python float.

    Three steps on a small float64 MLP are compared with the reference. Recognised mistakes:
    no ``zero_grad`` (gradients pile up across steps), no ``step`` or ``zero_grad`` between
    ``backward`` and ``step`` (the weights do not move), returning the loss tensor instead of
    ``loss.item()``, returning the loss after the update.
    """
    import torch

    name = "check_torch_train_step"
    rng = np.random.default_rng(4)
    batches = [
        (torch.from_numpy(rng.normal(size=(6, 4))), torch.from_numpy(rng.integers(0, 3, 6)))
        for _ in range(3)
    ]
    want_losses, want_params = _reference(torch, batches, zero_grad=True)
    _, piled_params = _reference(torch, batches, zero_grad=False)
    model = _torch_model(torch)
    start = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loss_fn = torch.nn.CrossEntropyLoss()
    for k, (xb, yb) in enumerate(batches):
        got = call_student(name, fn, model, loss_fn, opt, xb, yb)
        params = [p.detach().clone() for p in model.parameters()]
        if k == 0 and _same_params(params, start):
            fail(
                name,
                "the weights did not change: call optimizer.step() after loss.backward() "
                "(and call optimizer.zero_grad() before backward, not between backward and step)",
            )
        if not _same_params(params, want_params[k]):
            if _same_params(params, piled_params[k]):
                fail(
                    name,
                    f"step {k + 1} used gradients added up over the earlier steps: torch "
                    "accumulates .grad, so call optimizer.zero_grad() at the start of each step",
                )
            fail(
                name,
                f"the weights after step {k + 1} differ from one plain step: order it "
                "zero_grad, forward, loss, backward, step",
            )
        if isinstance(got, torch.Tensor):
            fail(
                name,
                "you returned the loss tensor: return loss.item(), a Python float (a tensor "
                "keeps the whole graph alive)",
            )
        if isinstance(got, bool) or not isinstance(got, (float, int, np.floating)):
            fail(name, f"return the batch's loss as a float (loss.item()), got {got!r}")
        if not close(got, want_losses[k], rtol=1e-10, atol=1e-12):
            fail(
                name,
                f"step {k + 1} returned {float(got):.6g}, expected {want_losses[k]:.6g}: return "
                "the loss computed before the update (loss.item())",
            )
    passed(name, "zero_grad, forward, loss, backward, step: same weights as the reference")
