"""Turning the ``rng`` argument (a Generator, an int seed, or None) into a Generator."""

from __future__ import annotations

import numpy as np

__all__ = ["as_generator"]


def as_generator(rng: np.random.Generator | int | None = None) -> np.random.Generator:
    """Return a ``numpy.random.Generator``: ``rng`` itself, a new one seeded with the int ``rng``,
    or a freshly seeded one for ``None``. Never touches NumPy's global random state."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator, an int seed or None, got {rng!r}")
