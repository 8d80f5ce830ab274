"""Conversion between nnscratch and PyTorch, for notebook 09: ``to_torch`` / ``from_torch``
turn an nnscratch ``Sequential``/``MLP`` into an equivalent ``torch.nn.Sequential`` with the
same weights, and back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..layers import Dropout, Flatten, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from .device import get_device

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch


def _torch_dtype(dtype: Any, default: Any) -> torch.dtype:
    import torch

    if dtype is None:
        dtype = default
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        return dtype
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}") from exc
    if np_dtype == np.float32:
        return torch.float32
    if np_dtype == np.float64:
        return torch.float64
    raise TypeError(f"dtype must be float32 or float64, got {np_dtype}")


def _supported(kind: str) -> str:
    return (
        f"{kind} supports Linear, ReLU, Sigmoid, Tanh, Dropout, Flatten and Sequential "
        "(MLP is a Sequential)"
    )


def to_torch(
    model: Module, dtype: Any = None, device: str | torch.device | None = None
) -> torch.nn.Module:
    """An equivalent torch model with the same weights (copied, not shared).

    ``Sequential`` (and ``MLP``) become ``torch.nn.Sequential``; ``Linear`` becomes
    ``torch.nn.Linear`` (same ``weight (out, in)`` and ``bias (out,)``), ``ReLU``, ``Sigmoid``,
    ``Tanh``, ``Dropout(p)`` and ``Flatten`` their torch twins. The result is in the same
    train/eval mode. ``dtype`` is ``torch.float64``/``torch.float32`` (NumPy types work too);
    the default is the dtype of the model's weights. Converting uses no random numbers.

    Raises:
        TypeError: for a module type it cannot convert, or an unsupported dtype.
    """
    import torch

    if not isinstance(model, Module):
        raise TypeError(f"to_torch expects an nnscratch Module, got {type(model).__name__}")
    params = model.parameters()
    tdtype = _torch_dtype(dtype, params[0].data.dtype if params else np.float64)
    converted = _convert_to_torch(model, tdtype, torch)
    converted.train(model.training)
    return converted if device is None else converted.to(get_device(device))


def _convert_to_torch(m: Any, dtype: torch.dtype, torch: Any) -> torch.nn.Module:
    # ``m`` is Any: the exact-type tests below (subclasses are refused) do not narrow it.
    tnn = torch.nn
    if isinstance(m, Sequential):
        return tnn.Sequential(*(_convert_to_torch(child, dtype, torch) for child in m))
    kind = type(m)
    if kind is Linear:
        lin = torch.nn.utils.skip_init(
            tnn.Linear, m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype
        )
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(m.weight.data)))
            if m.bias is not None:
                lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(m.bias.data)))
        return lin
    if kind is Dropout:
        return tnn.Dropout(m.p)
    simple = {ReLU: tnn.ReLU, Sigmoid: tnn.Sigmoid, Tanh: tnn.Tanh, Flatten: tnn.Flatten}
    if kind in simple:
        return simple[kind]()
    raise TypeError(f"to_torch cannot convert a {kind.__name__}: {_supported('to_torch')}")


def from_torch(model: torch.nn.Module, dtype: Any = np.float64) -> Module:
    """The inverse of ``to_torch``: an nnscratch model with the torch model's weights (copied).

    ``dtype`` is ``np.float64`` (default) or ``np.float32``.

    Raises:
        TypeError: for a torch module type it cannot convert.
    """
    import torch

    np_dtype = np.dtype(dtype)
    if np_dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {np_dtype}")
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, got {type(model).__name__}")
    converted = _convert_from_torch(model, np_dtype, torch)
    converted.train(model.training)
    return converted


def _convert_from_torch(m: Any, dtype: np.dtype, torch: Any) -> Module:
    # ``m`` is Any: the exact-type tests below (subclasses are refused) do not narrow it.
    tnn = torch.nn
    if isinstance(m, tnn.Sequential):
        return Sequential(*(_convert_from_torch(child, dtype, torch) for child in m))
    kind = type(m)
    if kind is tnn.Linear:
        lin = Linear(
            m.in_features, m.out_features, bias=m.bias is not None, init="zeros", dtype=dtype
        )
        lin.weight.data[...] = m.weight.detach().cpu().numpy()
        if m.bias is not None and lin.bias is not None:
            lin.bias.data[...] = m.bias.detach().cpu().numpy()
        return lin
    if kind is tnn.Dropout:
        return Dropout(m.p)
    if kind is tnn.Flatten:
        if m.start_dim != 1 or m.end_dim != -1:
            raise TypeError("from_torch converts only nn.Flatten(start_dim=1, end_dim=-1)")
        return Flatten()
    simple = {tnn.ReLU: ReLU, tnn.Sigmoid: Sigmoid, tnn.Tanh: Tanh}
    if kind in simple:
        return simple[kind]()
    raise TypeError(f"from_torch cannot convert a {kind.__name__}: {_supported('from_torch')}")


def count_parameters(model: torch.nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters of a torch model (only those with ``requires_grad``)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))
