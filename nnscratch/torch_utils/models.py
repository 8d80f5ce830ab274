"""A ready-made model, for notebook 10: ``small_cnn``, a small CNN for 8x8 digits."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch


def small_cnn(
    num_classes: int = 10,
    channels: tuple[int, int] = (16, 32),
    *,
    image_size: int = 8,
    dropout: float = 0.25,
) -> torch.nn.Sequential:
    """A small CNN for ``(n, 1, image_size, image_size)`` images (8x8 digits by default).

    conv1 (1 -> c1, 3x3, padding 1) - ReLU - conv2 (c1 -> c2, 3x3, padding 1) - ReLU -
    2x2 max-pool - flatten - dropout - linear to ``num_classes`` logits. The layers are named
    (``model.conv1`` ...). Initial weights come from torch's generator: seed it first.
    """
    from collections import OrderedDict

    import torch

    if image_size < 2 or image_size % 2:
        raise ValueError(f"image_size must be an even int >= 2, got {image_size!r}")
    c1, c2 = channels
    tnn = torch.nn
    side = image_size // 2
    return tnn.Sequential(
        OrderedDict(
            [
                ("conv1", tnn.Conv2d(1, c1, kernel_size=3, padding=1)),
                ("relu1", tnn.ReLU()),
                ("conv2", tnn.Conv2d(c1, c2, kernel_size=3, padding=1)),
                ("relu2", tnn.ReLU()),
                ("pool", tnn.MaxPool2d(2)),
                ("flatten", tnn.Flatten()),
                ("dropout", tnn.Dropout(dropout)),
                ("fc", tnn.Linear(c2 * side * side, num_classes)),
            ]
        )
    )
