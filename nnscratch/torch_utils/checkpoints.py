"""Checkpoints, for notebook 10: ``save_checkpoint`` / ``load_checkpoint``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch


def save_checkpoint(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    **extra: Any,
) -> Path:
    """Save ``model``'s ``state_dict`` (and ``optimizer``'s, if given) plus ``extra`` values
    (epoch, accuracy, ...: numbers, strings, lists, dicts or tensors) to ``path``.
    Returns the path. Load it with ``load_checkpoint``."""
    import torch

    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    state = {
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "extra": dict(extra),
    }
    torch.save(state, path)
    return path


def load_checkpoint(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: str | torch.device | None = None,
) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from a ``save_checkpoint`` file; return ``extra``.

    The file is read with ``weights_only=True`` (no arbitrary code from pickles).
    ``map_location="cpu"`` loads a GPU checkpoint on a machine without one.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if an optimizer is given but the checkpoint holds no optimizer state.
        RuntimeError: (from torch) if the model's layers do not match the checkpoint.
    """
    import torch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint")
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise ValueError(f"{path} holds no optimizer state: it was saved without optimizer=")
        optimizer.load_state_dict(state["optimizer"])
    return dict(state.get("extra") or {})
