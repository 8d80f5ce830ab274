"""Devices, for notebook 10 (and 09): ``get_device`` picks CUDA, Apple MPS or the CPU (or the one
named in ``NNSCRATCH_DEVICE``), and ``amp_dtype`` the mixed-precision type for it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch


#: Environment variable that forces a device, e.g. ``NNSCRATCH_DEVICE=cpu``.
DEVICE_ENV = "NNSCRATCH_DEVICE"


def _mps_available(torch: Any) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the ``torch.device`` to compute on.

    With ``prefer=None`` the environment variable ``NNSCRATCH_DEVICE`` decides if it is set
    (``make execute`` and ``make test`` set ``NNSCRATCH_DEVICE=cpu``, so a GPU machine
    reproduces the stored CPU outputs; a notebook run by hand is not pinned); otherwise, and
    for ``"auto"``, the best available one: CUDA, then Apple MPS, then the CPU.
    ``prefer`` may be ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``, ``"auto"`` or a
    ``torch.device``.

    A device that is asked for by name but is not available is an error, never a silent
    fall-back to the CPU: code that asked for a GPU should not quietly run 50x slower.

    Raises:
        ValueError: for a name that is not one of the above.
        RuntimeError: when the requested device is not available on this machine.
    """
    import torch

    source = "prefer"
    if prefer is None:
        prefer = os.environ.get(DEVICE_ENV) or "auto"
        source = f"the environment variable {DEVICE_ENV}"
    if isinstance(prefer, torch.device):
        name = str(prefer)
    elif isinstance(prefer, str):
        name = prefer.strip().lower()
    else:
        raise TypeError(
            f"prefer must be a device name (str) or a torch.device, got {type(prefer).__name__}"
        )
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available(torch):
            return torch.device("mps")
        return torch.device("cpu")
    kind, _, index = name.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(
            f"unknown device {name!r} (from {source}): expected 'auto', 'cpu', 'cuda', "
            "'cuda:N' or 'mps'"
        )
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {name!r} was requested (from {source}) but CUDA is not available here "
                "(no NVIDIA GPU, or a CPU-only torch build). Use get_device() to pick the best "
                "available device, or 'cpu'."
            )
        if index and int(index) >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {name!r} was requested but only {torch.cuda.device_count()} CUDA "
                "device(s) exist"
            )
    if kind == "mps" and not _mps_available(torch):
        raise RuntimeError(
            f"device 'mps' was requested (from {source}) but Apple MPS is not available here "
            "(it needs an Apple-silicon Mac). Use get_device() or 'cpu'."
        )
    return torch.device(name)


def _resolve_device(device: str | torch.device | None) -> torch.device | None:
    return None if device is None else get_device(device)


def amp_dtype(device: str | torch.device) -> torch.dtype:
    """The half-precision type ``torch.autocast`` should use on ``device``:
    ``torch.bfloat16`` on the CPU, ``torch.float16`` on CUDA and MPS."""
    import torch

    kind = torch.device(device).type
    return torch.bfloat16 if kind == "cpu" else torch.float16
