"""Argument validation for the library: clear errors that say what was expected and what came.

Each helper returns the value it validated (``as_*``) or raises (``reject_*``, ``require_*``,
``refuse_*``): a ``TypeError`` for the wrong kind of value, a ``ValueError`` for a value of
the right kind out of range. (Exercise feedback is another thing: ``nnscratch.checks``.)
These helpers are private; every public function that takes arrays or numbers from a
student goes through them, so a mistake is reported where it is made, in plain words.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_array",
    "as_batch",
    "as_labels",
    "reject_entries",
    "as_positive",
    "as_int",
    "require_same_length",
    "divergence_message",
    "refuse_options",
]

# The dtypes the library computes in. ``dtype in _FLOATS`` finds the dtype by identity (NumPy
# has one dtype object per built-in type), cheaper than comparing it with np.float64, which
# converts the type to a dtype on every call.
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def as_array(x: object, name: str = "input") -> np.ndarray:
    """Return ``x`` as a floating NumPy array (float32 stays float32, the rest becomes float64).

    Raises:
        TypeError: if ``x`` cannot be read as numbers.
    """
    if type(x) is np.ndarray and x.dtype in _FLOATS:  # the common case, checked first: quick
        return x
    try:
        arr = np.asarray(x)
    except Exception as exc:  # pragma: no cover - numpy itself is very permissive
        raise TypeError(f"{name} must be array-like numbers, got {type(x).__name__}") from exc
    if arr.dtype in _FLOATS:
        return arr
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must contain numbers, got an array of dtype {arr.dtype}")
    return arr.astype(np.float64)


def as_batch(
    x: object,
    name: str = "input",
    features: int | None = None,
    *,
    owner: object = None,
    images: bool = False,
) -> np.ndarray:
    """Return ``x`` as a 2-D float batch of shape ``(n, features)``, or with ``images`` as a
    4-D batch of images ``(N, C, H, W)`` with ``C == features`` (channels) when given.

    ``owner`` (a layer, say) is named in the error as ``"{name} to {owner!r}"``; the message
    is only built when there is an error.

    Raises:
        ValueError: if ``x`` has the wrong number of axes or its axis 1 differs from
            ``features``.
    """
    ndim = 4 if images else 2
    # A float array of the right shape, as in every step of a training loop, passes with a
    # few attribute tests; the messages below are built only for the input they reject.
    if (
        type(x) is np.ndarray
        and x.ndim == ndim
        and x.dtype in _FLOATS
        and (features is None or x.shape[1] == features)
    ):
        return x
    if owner is not None:
        name = f"{name} to {owner!r}"
    arr = as_array(x, name)
    if images:
        want = f"(N, {'C' if features is None else features}, H, W)"
        kind, one = f"4-D batch of images {want}", "one image use x[None]"
        count = f"{features} channels, shape {want}"
    else:
        kind, one = "2-D batch of shape (n, features)", "one sample use x.reshape(1, -1)"
        count = f"{features} features per sample (shape (n, {features}))"
    if arr.ndim != ndim:
        hint = f" (for {one}, shape {(1, *arr.shape)})" if arr.ndim == ndim - 1 else ""
        raise ValueError(f"{name} must be a {kind}, got shape {arr.shape}{hint}")
    if features is not None and arr.shape[1] != features:
        raise ValueError(f"{name} must have {count}, got shape {arr.shape}")
    return arr


def as_labels(y: object, num_classes: int | None = None, name: str = "labels") -> np.ndarray:
    """Return integer class labels of shape ``(n,)``, checked to lie in ``[0, num_classes)``.

    Raises:
        TypeError: if the labels are not whole numbers.
        ValueError: if they are not 1-D or fall outside the class range.
    """
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":  # neither signed nor unsigned integers
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        elif arr.size == 0:
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must be integer class indices, got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must be >= 0, got a label {int(arr.min())}")
    if num_classes is not None and arr.size and arr.max() >= num_classes:
        raise ValueError(
            f"{name} must lie in [0, {num_classes - 1}] for {num_classes} classes, "
            f"got a label {int(arr.max())}"
        )
    return arr.astype(np.int64, copy=False)


def as_positive(value: object, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float after checking it is a real number > 0 (or >= 0).

    Raises:
        TypeError: if ``value`` is not a real number (a string, say).
        ValueError: if it is negative, zero when not allowed, or not finite.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def as_int(value: object, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is a whole number >= ``minimum``.

    The library's one integer check. Like :func:`as_positive`: the wrong kind of value is a
    ``TypeError``, a value out of range a ``ValueError``.

    Raises:
        TypeError: if ``value`` is not an int (a bool, a float such as 2.0, a string, None).
        ValueError: if it is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        kind = {1: "a positive int", 0: "a non-negative int"}.get(minimum, f"an int >= {minimum}")
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def divergence_message(what: str, epoch: int, epochs: int, lr: float) -> str:
    """The message of a training loop that diverged: ``what`` happened (``"loss became nan"``,
    say) in ``epoch`` of ``epochs``, with learning rate ``lr``."""
    return (
        f"{what} in epoch {epoch} of {epochs}: training diverged. "
        f"Try a smaller learning rate (now {lr:g}) or check the inputs for NaN/inf and "
        "scale them."
    )


def reject_entries(arr: np.ndarray, bad: np.ndarray, owner: str, name: str, expected: str) -> None:
    """Raise ``ValueError`` if any entry of the boolean mask ``bad`` is set.

    The message names ``owner`` (a loss, say), the array ``name``, what ``expected`` of its
    entries, how many are not, and the first three, e.g. ``pred[3, 0] = nan``.
    """
    if not bad.any():
        return
    where = np.argwhere(bad)
    shown = ", ".join(
        f"{name}[{', '.join(str(int(i)) for i in idx)}] = {float(arr[tuple(idx)]):.6g}"
        for idx in where[:3]
    )
    raise ValueError(
        f"{owner}: every entry of {name} must be {expected}; {len(where)} of {arr.size} "
        f"{'is' if len(where) == 1 else 'are'} not: {shown}{', ...' if len(where) > 3 else ''}"
    )


def refuse_options(
    owner: str, options: dict[str, object], refused: dict[str, tuple[object, str]], takes: str
) -> None:
    """Raise ``TypeError`` for keyword options that ``owner`` does not take.

    ``refused`` maps each torch option we do not implement to ``(default, advice)``: its
    default is accepted (it asks for what we do anyway); any other value gets an error that
    names the option and gives the advice. Any other name is an error that lists ``takes``.
    """
    for key, value in options.items():
        if key not in refused:
            raise TypeError(f"{owner} got an unexpected option {key!r}; it takes {takes}")
        default, advice = refused[key]
        plain = (bool, int, float, str)
        if value is default or (
            isinstance(value, plain) and isinstance(default, plain) and value == default
        ):
            continue
        raise TypeError(f"{owner} does not support torch's option {key}={value!r}: {advice}")


def require_same_length(X: np.ndarray, y: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``X`` and ``y`` have the same number of samples."""
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of samples, got {len(X)} inputs "
            f"and {len(y)} targets"
        )
