"""What every exercise check shares: a one-line success, or an error naming the first mistake.

A check calls the student's function on cases whose answers are known (computed by the
library, never typed in), and raises ``CheckFailed`` with a hint about the most likely
mistake when something differs. Instructors' solutions pass every check.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CheckFailed", "passed", "fail", "close", "call_student", "as_number"]


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message says what differs and the likely reason."""


def passed(name: str, detail: str = "") -> None:
    """Print the one-line success message of check ``name``."""
    print(f"\u2714 {name} passed" + (f": {detail}" if detail else ""))


def fail(name: str, message: str) -> None:
    """Raise ``CheckFailed`` for check ``name`` with ``message``."""
    raise CheckFailed(f"{name}: {message}")


def close(a: object, b: object, *, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """True when ``a`` and ``b`` have the same shape and agree to the given tolerances."""
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def call_student(name: str, fn: object, *args: object) -> object:
    """Call the student's ``fn(*args)``; turn a crash into a ``CheckFailed`` that says so."""
    if not callable(fn):
        fail(name, f"expected a function, got {type(fn).__name__}")
    try:
        return fn(*args)
    except NotImplementedError:
        fail(name, "the function still raises NotImplementedError: replace it with your code")
    except Exception as exc:  # the student's code crashed: report it as the mistake
        fail(name, f"your function raised {type(exc).__name__}: {exc}")
    return None  # pragma: no cover - fail() always raises


def as_number(name: str, out: object, expected: str, *, allow_bool: bool = False) -> float:
    """The student's output as one float, or a ``CheckFailed`` saying ``expected``.

    A one-element array counts as a number; strings, several values and (unless
    ``allow_bool``) booleans do not. ``expected`` is the sentence the student reads, e.g.
    ``"the loss should be a single number"``.
    """
    arr = np.asarray(out)
    kinds = (np.number, np.bool_) if allow_bool else (np.number,)
    if arr.size != 1 or not any(np.issubdtype(arr.dtype, k) for k in kinds):
        got = f"{type(out).__name__} of shape {arr.shape}" if arr.ndim else repr(out)
        fail(name, f"{expected}, got {got}")
    return float(arr.reshape(()))
