"""Data augmentation, for notebook 10: ``shifted_copies`` adds copies of each image moved by a
few pixels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._validate import as_int
from .loop import to_tensor

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch


def shifted_copies(X: Any, y: Any, pixels: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Data augmentation: ``X (n, C, H, W)`` plus four copies moved by ``pixels`` up, down,
    left and right (zeros fill in). Returns ``(5n, C, H, W)`` images and ``(5n,)`` labels,
    originals first. Deterministic: no random numbers."""
    import torch

    Xt, yt = to_tensor(X), to_tensor(y)
    if Xt.ndim != 4:
        raise ValueError(f"X must be images of shape (n, C, H, W), got shape {tuple(Xt.shape)}")
    if len(Xt) != len(yt):
        raise ValueError(f"X has {len(Xt)} samples but y has {len(yt)}")
    k = as_int(pixels, "pixels")
    h, w = Xt.shape[-2:]
    padded = torch.nn.functional.pad(Xt, (k, k, k, k))
    copies = [Xt]
    for dy, dx in ((0, k), (2 * k, k), (k, 0), (k, 2 * k)):
        copies.append(padded[:, :, dy : dy + h, dx : dx + w])
    return torch.cat(copies), yt.repeat(len(copies))
