"""Shared pytest fixtures for the nnscratch tests."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator, so every test sees the same numbers."""
    return np.random.default_rng(0)


@contextmanager
def _strict_numerics() -> Iterator[None]:
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


@pytest.fixture
def strict() -> Callable[[], AbstractContextManager[None]]:
    """A context manager factory: inside ``with strict():`` every NumPy floating-point event
    (overflow, underflow, invalid, divide) and every warning is an error."""
    return _strict_numerics
