"""Numerical gradients by central differences, and a check of any module's backward pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._rng import as_generator
from ._validate import as_array
from .layers import Module

__all__ = ["numerical_gradient", "rel_error", "gradcheck"]


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Estimate df/dx by central differences (f(x + eps) - f(x - eps)) / (2 eps), entry by entry.

    ``f`` maps the array ``x`` (changed in place, any shape) to a scalar. ``x`` is restored
    exactly afterwards. Returns an array with the shape of ``x``.
    """
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        raise TypeError("x must be a float NumPy array (it is perturbed in place)")
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        f_plus = float(f(x))
        flat[i] = old - eps
        f_minus = float(f(x))
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest relative difference max |a - b| / max(|a| + |b|, 1e-12), a scale-free closeness."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare shapes {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)))


def gradcheck(
    module: Module,
    x: np.ndarray,
    *,
    eps: float = 1e-6,
    rng: np.random.Generator | int | None = 0,
) -> float:
    """Compare ``module.backward`` with central differences; return the worst relative error.

    Uses the scalar L = sum(out * R) with a fixed random ``R``, so dL/dout = R. Checks the
    gradient with respect to the input ``x`` (any shape the module takes) and to every
    parameter. Run in float64 for a meaningful answer (errors below ~1e-6 mean the backward
    pass is right).
    """
    x = np.array(as_array(x, "x"), dtype=np.float64)
    was_training = module.training
    module.eval()  # dropout off, so the function is deterministic
    R = as_generator(rng).standard_normal(np.shape(module(x)))

    def loss(_: np.ndarray) -> float:
        return float(np.sum(module(x) * R))

    module.zero_grad()
    module(x)
    analytic_x = module.backward(R.copy())
    errors = [rel_error(analytic_x, numerical_gradient(loss, x, eps))]
    for p in module.parameters():
        errors.append(rel_error(p.grad, numerical_gradient(loss, p.data, eps)))
    module.zero_grad()
    module.train(was_training)
    return max(errors)
