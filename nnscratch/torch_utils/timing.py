"""Timing, for notebook 10: ``time_training`` measures training throughput on the CPU and on an
accelerator (``TrainingTiming``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .device import get_device
from .loop import _check_epochs, _model_place, to_tensor

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch


@dataclass
class TrainingTiming:
    """How long ``time_training`` took: ``seconds`` for ``samples`` training samples."""

    device: str
    seconds: float
    samples: int

    @property
    def samples_per_s(self) -> float:
        """Training throughput."""
        return self.samples / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        return f"device={self.device}  {self.seconds:.3g} s  {self.samples_per_s:.0f} samples/s"


def time_training(
    make_model: Callable[[], torch.nn.Module],
    X: Any,
    y: Any,
    *,
    device: str | torch.device | None = None,
    epochs: int = 1,
    batch_size: int = 64,
    lr: float = 1e-3,
) -> TrainingTiming:
    """Time ``epochs`` of Adam + cross-entropy training of ``make_model()`` on ``device``.

    One warm-up batch runs first (CUDA start-up and kernel selection are not counted) and
    the clock stops only after the device has finished (``torch.cuda.synchronize``).
    Returns a ``TrainingTiming`` (``seconds``, ``samples_per_s``).
    """
    import torch

    _check_epochs(epochs, batch_size)
    dev = get_device(device)
    model = make_model().to(dev)
    _, dtype = _model_place(model)
    Xt, yt = to_tensor(X, device=dev, dtype=dtype), to_tensor(y, device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        elif dev.type == "mps":
            torch.mps.synchronize()

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    step(Xt[:batch_size], yt[:batch_size])  # warm-up
    sync()
    start = time.perf_counter()
    for _ in range(epochs):
        for i in range(0, len(Xt), batch_size):
            step(Xt[i : i + batch_size], yt[i : i + batch_size])
    sync()
    return TrainingTiming(str(dev), time.perf_counter() - start, epochs * len(Xt))
