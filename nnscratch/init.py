"""Weight initialisation: the starting values of a layer's parameters (notebook 08).

Each initialiser is a small function of the weight's ``shape`` and a random generator, and
returns a new float64 array. Fans are read from the shape as torch does: a ``Linear``
weight ``(out, in)`` has fan-in ``in`` and fan-out ``out``; a ``Conv2d`` weight
``(out, in, kH, kW)`` has fan-in ``in*kH*kW`` and fan-out ``out*kH*kW``.

``init_weight(init, shape, rng)`` and ``init_bias(init, size, fan_in, rng)`` turn a layer's
``init=`` argument (``"he"``, ``"xavier"``, ``"torch"``, ``"zeros"`` or a float std) into
one of these calls; ``Linear`` and ``Conv2d`` use them.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "fan_in_and_fan_out",
    "he_normal",
    "xavier_normal",
    "torch_uniform",
    "normal",
    "zeros",
    "init_weight",
    "init_bias",
    "float_dtype",
]


def fan_in_and_fan_out(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` ``(out, in, *kernel)``, as torch counts."""
    if len(shape) < 2:
        raise ValueError(f"a weight needs at least 2 axes (out, in, ...), got shape {shape}")
    receptive = int(np.prod(shape[2:]))  # 1 for a Linear weight
    return shape[1] * receptive, shape[0] * receptive


def he_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Normal with std ``sqrt(2 / fan_in)`` (He et al. 2015; torch's ``kaiming_normal_``).

    Keeps the variance of activations steady through ReLU layers.
    """
    fan_in, _ = fan_in_and_fan_out(shape)
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)


def xavier_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Normal with std ``sqrt(2 / (fan_in + fan_out))`` (Glorot and Bengio 2010; torch's
    ``xavier_normal_``). Suits sigmoid and tanh layers."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)


def torch_uniform(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Uniform on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``: what ``torch.nn.Linear`` and
    ``torch.nn.Conv2d`` draw by default (their ``kaiming_uniform_`` with ``a=sqrt(5)``)."""
    fan_in, _ = fan_in_and_fan_out(shape)
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape)


def normal(shape: tuple[int, ...], std: float, rng: np.random.Generator) -> np.ndarray:
    """Normal with mean 0 and the given ``std`` (torch's ``normal_``)."""
    return rng.normal(0.0, float(std), shape)


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    """All zeros (torch's ``zeros_``): every unit starts equal, so they learn the same thing."""
    return np.zeros(shape)


_NAMED = {"he": he_normal, "xavier": xavier_normal, "torch": torch_uniform}


def init_weight(init: str | float, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """The weight of ``shape`` that a layer's ``init=`` argument asks for (float64).

    Raises:
        ValueError: if ``init`` is none of ``"he"``, ``"xavier"``, ``"torch"``, ``"zeros"``
            or a float std.
    """
    if isinstance(init, str) and init in _NAMED:
        return _NAMED[init](shape, rng)
    if init == "zeros":
        return zeros(shape)
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return normal(shape, init, rng)
    raise ValueError(
        f"init must be 'he', 'xavier', 'torch', 'zeros' or a float std, got {init!r}"
    )


def init_bias(
    init: str | float, size: int, fan_in: int, rng: np.random.Generator
) -> np.ndarray:
    """The bias ``(size,)`` that goes with ``init``: torch's uniform ``+-1/sqrt(fan_in)`` for
    ``"torch"`` (drawn after the weight, as torch does), zeros otherwise."""
    if init == "torch":
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, size)
    return np.zeros(size)


def float_dtype(dtype: type | np.dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype, checked to be float32 or float64 (the parameters' types).

    Raises:
        TypeError: for any other dtype.
    """
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt
