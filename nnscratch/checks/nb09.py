"""Exercise checks for notebook 09 (PyTorch basics).

torch is imported inside each check, so ``import nnscratch.checks`` stays NumPy-only.
Reference answers come from torch itself and from ``nnscratch.torch_utils.to_torch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import MLP
from ._core import (
    answer_number,
    call_student,
    close,
    diagnose_train_step,
    diagnose_update,
    fail,
    passed,
)

__all__ = ["check_to_float64_tensor", "check_build_mlp", "check_torch_train_step"]


def check_to_float64_tensor(fn: Any) -> None:
    """Check your ``to_float64_tensor(batch)``: a NumPy batch ``(n, features)`` of integer,
    float32 or float64 values in, a float64 tensor with the same shape and values out (the
    batch itself unchanged).

    Names the typical mistakes: a NumPy array, torch's default float32, the integer type
    kept, a transposed or flattened result.
    """
    import torch

    name = "check_to_float64_tensor"
    rng = np.random.default_rng(9)
    cases: list[np.ndarray] = [
        rng.integers(0, 17, size=(4, 6)),
        rng.normal(size=(5, 3)).astype(np.float32),
        rng.normal(size=(2, 7)),
        rng.normal(size=(1, 1)),
    ]
    for batch in cases:
        out = call_student(name, fn, batch)
        what = f"for a batch of dtype {batch.dtype} and shape {batch.shape}"
        if isinstance(out, np.ndarray):
            fail(name, f"{what} you returned a NumPy array: the exercise asks for a tensor")
        if not isinstance(out, torch.Tensor):
            fail(name, f"{what} expected a torch.Tensor, got {type(out).__name__}")
        if out.dtype != torch.float64:
            if out.dtype == torch.float32:
                hint = "float32 is torch's default float type; ask for float64 explicitly"
            elif not out.is_floating_point():
                hint = "the integer type was kept: ask for float64 explicitly"
            else:
                hint = "ask for float64"
            fail(name, f"{what} the tensor has dtype {out.dtype}; {hint}")
        if tuple(out.shape) != batch.shape:
            hint = " (transposed?)" if tuple(out.shape) == batch.shape[::-1] else ""
            fail(name, f"{what} the tensor has shape {tuple(out.shape)}{hint}: keep the batch's "
                       "shape")
        values = out.detach().cpu().numpy()
        if not np.array_equal(values, batch.astype(np.float64)):
            lossy = np.array_equal(values, batch.astype(np.float32).astype(np.float64))
            fail(name, f"{what} the values differ from the batch's" + (
                ": they went through float32 on the way and lost digits" if lossy else ""))
    passed(name, "float64 tensors with the batch's shape and values")


def _diagnose_linears(name: str, linears: list[Any], sizes: list[int]) -> None:
    """Fail if a ``torch.nn.Linear`` of ``linears`` does not map sizes[i] to sizes[i + 1]."""
    for i, (lin, a, b) in enumerate(zip(linears, sizes[:-1], sizes[1:], strict=True)):
        got = (lin.in_features, lin.out_features)
        if got == (b, a) and a != b:
            fail(name, f"for sizes={sizes}, Linear layer {i} takes {b} inputs and gives {a} "
                       "outputs: in and out are swapped (in_features comes first)")
        if got != (a, b):
            fail(name, f"for sizes={sizes}, Linear layer {i} has the wrong sizes: layer i "
                       "maps sizes[i] features to sizes[i + 1]")
        if lin.bias is None:
            fail(name, f"Linear layer {i} has no bias (bias=False): the network of the "
                       "notebook, like nnscratch's MLP, has a bias in every layer")


def check_build_mlp(fn: Any) -> None:
    """Check your ``build_mlp(sizes)``: a ``torch.nn.Sequential`` of ``nn.Linear`` layers (with
    biases) of the given sizes, with ``nn.ReLU()`` between them and nothing after the last one
    (it gives logits), for networks of one to three layers.

    Names the typical mistakes: a ReLU after the last layer, no ReLU between layers, another
    activation, in and out sizes swapped, a layer too many or too few, and layers without a
    bias.
    """
    import torch

    name = "check_build_mlp"
    tnn = torch.nn
    for sizes in ([64, 32, 16, 10], [5, 3], [4, 7, 2], [3, 3, 3]):
        model = call_student(name, fn, list(sizes))
        if not isinstance(model, tnn.Sequential):
            fail(name, f"expected a torch.nn.Sequential, got {type(model).__name__}")
        layers = list(model)
        linears = [m for m in layers if isinstance(m, tnn.Linear)]
        want_linear = len(sizes) - 1
        if len(linears) != want_linear:
            fail(name, f"sizes={sizes} needs {want_linear} nn.Linear layer(s), one per pair of "
                       f"neighbouring sizes; found {len(linears)}")
        _diagnose_linears(name, linears, sizes)
        if isinstance(layers[-1], tnn.ReLU):
            fail(name, "the model ends with a ReLU: the last layer must give raw logits (no "
                       "activation) for nn.CrossEntropyLoss")
        kinds = [
            "L" if isinstance(m, tnn.Linear) else "R" if isinstance(m, tnn.ReLU) else "?"
            for m in layers
        ]
        want = "LR" * (want_linear - 1) + "L"
        if "".join(kinds) != want:
            if "R" not in kinds and "?" not in kinds and want_linear > 1:
                fail(name, "no nn.ReLU() between the Linear layers: without it they collapse "
                           "into one linear map")
            if "?" in kinds:
                odd = next(type(m).__name__ for m, k in zip(layers, kinds, strict=True)
                           if k == "?")
                fail(name, f"the model contains {odd}; this network uses nn.ReLU between the "
                           "Linear layers and nothing else")
            fail(name, f"for sizes={sizes} the layers should alternate Linear, ReLU, ..., "
                       "Linear; got " + ", ".join(type(m).__name__ for m in layers))
        out = model(torch.zeros(2, sizes[0], dtype=linears[0].weight.dtype))
        if tuple(out.shape) != (2, sizes[-1]):
            fail(name, f"output shape {tuple(out.shape)} for a batch of 2 with sizes={sizes}")
    passed(name, "Linear layers of the right sizes, with biases, and ReLU between them")


def _probe_class(torch: Any) -> type:
    class Probe(torch.nn.Module):
        """Identity that records, per forward call, whether the model was training."""

        def __init__(self) -> None:
            super().__init__()
            self.seen: list[bool] = []

        def forward(self, x: Any) -> Any:
            self.seen.append(self.training)
            return x

    return Probe


def _counting_sgd(torch: Any) -> type:
    class CountingSGD(torch.optim.SGD):
        """``torch.optim.SGD`` that counts its ``step`` calls."""

        step_calls = 0

        def step(self, closure: Any = None) -> Any:
            self.step_calls += 1
            return super().step(closure)

    return CountingSGD


# momentum and a learning rate of neither 1 nor 0.1: only the optimiser's own step gets it right
_LR, _MOMENTUM = 0.3, 0.5


def _torch_model(torch: Any) -> tuple[Any, Any]:
    from ..torch_utils import to_torch

    model: Any = to_torch(MLP([4, 5, 3], rng=0))
    probe = _probe_class(torch)()
    model.insert(2, probe)
    return model, probe


def _reference(torch: Any, batches: list, *, zero_grad: bool = True, own: bool = False):
    """Losses and parameters after each step of the right loop, of one that never clears the
    gradients (``zero_grad=False``), or of one that updates by hand (``own``)."""
    model, _ = _torch_model(torch)
    opt = torch.optim.SGD(model.parameters(), lr=_LR, momentum=_MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses, params = [], []
    for xb, yb in batches:
        if zero_grad:
            opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if own:
            with torch.no_grad():
                for p in model.parameters():
                    p -= _LR * p.grad
        else:
            opt.step()
        losses.append(float(loss.item()))
        params.append([p.detach().clone() for p in model.parameters()])
    return losses, params


def _same_params(a: list, b: list) -> bool:
    return all(
        close(p.numpy(), q.numpy(), rtol=1e-10, atol=1e-12) for p, q in zip(a, b, strict=True)
    )


def check_torch_train_step(fn: Any) -> None:
    """Check your ``train_step(model, loss_fn, optimizer, xb, yb)``: one training step returning
    the batch's loss (from before the update) as a Python float.

    Three steps on a small float64 MLP with an ``SGD`` optimiser with momentum are compared
    with the reference, watching the optimiser's calls and the model's mode. Names the
    typical mistakes: gradients piling up across steps, no update, the parameters updated by
    hand instead of by the optimiser, evaluation mode during the step, an extra forward pass,
    the loss tensor returned instead of a float, and the loss after the update.
    """
    import torch

    name = "check_torch_train_step"
    rng = np.random.default_rng(4)
    batches = [
        (torch.from_numpy(rng.normal(size=(n, 4))), torch.from_numpy(rng.integers(0, 3, n)))
        for n in (6, 6, 3)
    ]
    want_losses, want_params = _reference(torch, batches)
    _, piled = _reference(torch, batches, zero_grad=False)
    _, by_hand = _reference(torch, batches, own=True)
    model, probe = _torch_model(torch)
    opt = _counting_sgd(torch)(model.parameters(), lr=_LR, momentum=_MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    for k, (xb, yb) in enumerate(batches):
        before = [p.detach().clone() for p in model.parameters()]
        steps_before, seen_before = opt.step_calls, len(probe.seen)
        got = call_student(name, fn, model, loss_fn, opt, xb, yb)
        params = [p.detach().clone() for p in model.parameters()]
        forwards = probe.seen[seen_before:]
        diagnose_train_step(name, forwards, model.training, opt.step_calls - steps_before,
                            not _same_params(params, before), k)
        diagnose_update(name, k, right=_same_params(params, want_params[k]),
                        piled=_same_params(params, piled[k]),
                        by_hand=_same_params(params, by_hand[k]),
                        order="clear the gradients, forward, loss, backward, step")
        if isinstance(got, torch.Tensor):
            fail(name, "you returned the loss tensor: return a Python float (a tensor keeps the "
                       "whole graph alive)")
        if isinstance(got, bool) or not isinstance(got, float | int | np.floating):
            fail(name, f"return the batch's loss as a Python float, got {type(got).__name__}")
        if not close(answer_number(name, got, "return one number"), want_losses[k], rtol=1e-10,
                     atol=1e-12):
            fail(name, f"step {k + 1} returned the wrong number: return the loss computed before "
                       "the update")
    passed(name, "zero_grad, forward, loss, backward, step: same weights as the reference")
