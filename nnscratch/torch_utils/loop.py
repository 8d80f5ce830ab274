"""A device-agnostic training loop, for notebooks 09 and 10: ``train``, ``evaluate``,
``accuracy`` and ``predict_logits``, with ``to_tensor`` to put arrays on a device. ``train``
returns the same ``History`` as ``nnscratch.fit`` and, given the same seed, visits the same
mini-batches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._rng import as_generator
from .._validate import as_int, divergence_message
from ..training import History, TrainingDiverged, progress_every, report_progress
from .device import _resolve_device, amp_dtype

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch


def _model_place(model: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    import torch

    for p in model.parameters():
        if p.is_floating_point():
            return p.device, p.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def to_tensor(
    x: Any, *, device: str | torch.device | None = None, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``x`` (NumPy array, list or tensor) as a tensor on ``device``.

    Floating inputs are cast to ``dtype`` when it is given; integer labels keep their type
    (int64, as ``CrossEntropyLoss`` wants). NumPy arrays are not copied when nothing changes.
    """
    import torch

    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.is_floating_point() and dtype is not None:
        t = t.to(dtype)
    elif not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool:
        t = t.long()
    return t if device is None else t.to(device)


def _check_mps_float64(device: torch.device, dtype: torch.dtype) -> None:
    import torch

    if device.type == "mps" and dtype == torch.float64:
        raise TypeError(
            "Apple MPS does not support float64: convert the model with "
            "to_torch(model, dtype=torch.float32) or train on device='cpu'"
        )


def _n_correct(out: torch.Tensor, y: torch.Tensor) -> float:
    # Correct predictions for integer labels: argmax of several outputs, or logit > 0 for one.
    if y.is_floating_point() or out.ndim != 2:
        return float("nan")
    labels = y.reshape(-1)
    pred = (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(dim=1)
    return float((pred == labels).sum().item())


def _autocast(device: torch.device, enabled: bool) -> Any:
    import contextlib

    import torch

    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp_dtype(device))


def predict_logits(
    model: torch.nn.Module,
    X: Any,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 1024,
    amp: bool = False,
) -> torch.Tensor:
    """Model outputs for ``X (n, ...)`` in eval mode without gradients, batch by batch,
    returned on the CPU as ``(n, outputs)`` in the model's dtype (float32 under ``amp``).
    The model's train/eval mode is restored."""
    import torch

    dev = _resolve_device(device)
    if dev is not None:
        model.to(dev)
    place, dtype = _model_place(model)
    Xt = to_tensor(X, dtype=dtype)
    was_training = model.training
    model.eval()
    outs = []
    try:
        with torch.no_grad():
            for i in range(0, len(Xt), batch_size):
                with _autocast(place, amp):
                    out = model(Xt[i : i + batch_size].to(place))
                if out.dtype in (torch.float16, torch.bfloat16):
                    out = out.float()
                outs.append(out.cpu())
    finally:
        model.train(was_training)
    return torch.cat(outs) if outs else torch.zeros(0)


def evaluate(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: Any,
    y: Any,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``X (n, ...)``, ``y (n,)`` in eval mode.

    Accuracy is NaN when ``y`` holds floating targets (regression). ``loss_fn`` must use
    mean reduction (the torch default). Nothing about the model changes.
    """
    import torch

    dev = _resolve_device(device)
    if dev is not None:
        model.to(dev)
    place, dtype = _model_place(model)
    Xt, yt = to_tensor(X, dtype=dtype), to_tensor(y, dtype=dtype)
    if len(Xt) != len(yt):
        raise ValueError(f"X has {len(Xt)} samples but y has {len(yt)}")
    was_training = model.training
    model.eval()
    total = correct = 0.0
    try:
        with torch.no_grad():
            for i in range(0, len(Xt), batch_size):
                xb, yb = Xt[i : i + batch_size].to(place), yt[i : i + batch_size].to(place)
                out = model(xb)
                total += float(loss_fn(out, yb).item()) * len(xb)
                correct += _n_correct(out, yb)
    finally:
        model.train(was_training)
    n = max(len(Xt), 1)
    return total / n, correct / n


def accuracy(
    model: torch.nn.Module,
    X: Any,
    y: Any,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 1024,
) -> float:
    """Fraction of ``X (n, ...)`` whose predicted class (argmax of the logits) equals ``y (n,)``."""
    logits = predict_logits(model, X, device=device, batch_size=batch_size)
    labels = to_tensor(y).reshape(-1)
    if len(labels) != len(logits):
        raise ValueError(f"X has {len(logits)} samples but y has {len(labels)}")
    return _n_correct(logits, labels) / max(len(labels), 1)


def _check_epochs(epochs: object, batch_size: object) -> None:
    as_int(epochs, "epochs")
    as_int(batch_size, "batch_size")


class _TrainStep:
    """One step of ``train``: zero_grad, forward and loss (under autocast with ``amp``),
    backward and the optimiser's step (through the gradient scaler on CUDA)."""

    def __init__(
        self, model: torch.nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        optimizer: torch.optim.Optimizer, amp: bool, scaler: Any, when: tuple[int, int],
    ) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.amp, self.scaler, self.when = amp, scaler, when

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[float, torch.Tensor]:
        """The batch's loss (a float, before the update) and the model's outputs."""
        self.optimizer.zero_grad()
        with _autocast(xb.device, self.amp):
            out = self.model(xb)
            loss = self.loss_fn(out, yb)
        value = float(loss.item())
        if not math.isfinite(value):
            lr = self.optimizer.param_groups[0]["lr"]
            raise TrainingDiverged(divergence_message(f"loss became {value}", *self.when, lr))
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        return value, out


def train(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    X: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    validation: tuple[Any, Any] | None = None,
    seed: int | np.random.Generator = 0,
    amp: bool = False,
    scheduler: Any = None,
    verbose: bool | int = True,
) -> History:
    """Train a torch ``model`` with mini-batches and return an ``nnscratch`` ``History``.

    The loop is the one of ``nnscratch.fit``: each epoch visits ``X (n, ...)`` / ``y (n,)`` in a
    fresh order drawn from ``np.random.default_rng(seed)`` (so ``fit(..., rng=
    np.random.default_rng(seed))`` sees the very same batches), and for every batch runs
    ``zero_grad``, forward, loss, ``backward`` and ``optimizer.step``. An int ``seed`` also
    seeds torch (dropout). ``History.loss``/``acc`` are means over the epoch's batches.

    Args:
        device: where to train; the model and the data are moved there (the whole data set
            at once: fine for the course's small sets). ``None`` trains where the model is.
        validation: ``(X_val, y_val)``, evaluated after every epoch.
        amp: mixed precision with ``torch.autocast`` (bfloat16 on the CPU, float16 with a
            gradient scaler on CUDA).
        scheduler: a ``torch.optim.lr_scheduler`` stepped once after every epoch.
        verbose: True prints about ten progress lines, an int every that many epochs,
            False nothing.

    Raises:
        TrainingDiverged: when the loss becomes NaN or infinite (names the epoch).
    """
    import torch

    _check_epochs(epochs, batch_size)
    dev = _resolve_device(device)
    if dev is not None:
        model.to(dev)
    place, dtype = _model_place(model)
    _check_mps_float64(place, dtype)
    Xt, yt = to_tensor(X, device=place, dtype=dtype), to_tensor(y, device=place, dtype=dtype)
    if len(Xt) != len(yt):
        raise ValueError(f"X has {len(Xt)} samples but y has {len(yt)}")
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        torch.manual_seed(int(seed))
    gen = as_generator(seed)
    scaler = torch.amp.GradScaler("cuda") if amp and place.type == "cuda" else None
    every = progress_every(verbose, epochs)
    hist = History()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.from_numpy(gen.permutation(len(Xt))).to(place)
        total, correct = 0.0, 0.0
        step = _TrainStep(model, loss_fn, optimizer, amp, scaler, (epoch, epochs))
        for i in range(0, len(Xt), batch_size):
            idx = order[i : i + batch_size]
            value, out = step(Xt[idx], yt[idx])
            total += value * len(idx)
            correct += _n_correct(out.detach(), yt[idx])
        hist.lr.append(float(optimizer.param_groups[0]["lr"]))
        hist.loss.append(total / len(Xt))
        hist.acc.append(correct / len(Xt))
        if validation is not None:
            val_loss, val_acc = evaluate(model, loss_fn, *validation, batch_size=1024)
            hist.val_loss.append(val_loss)
            hist.val_acc.append(val_acc)
        if scheduler is not None:
            scheduler.step()
        report_progress(hist, epoch, epochs, every)
    hist.seconds = time.perf_counter() - start
    return hist
