"""Small 2-D classification sets, a train/validation split and a mini-batch iterator.

Every ``make_*`` function returns ``X`` of shape ``(n, 2)`` (float64) and ``y`` of shape
``(n,)`` (int64). Classes are as balanced as ``n`` allows (sizes differ by at most one),
the samples come in random order, and the same int seed always gives the same data.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator

import numpy as np

from .._rng import as_generator
from .._validate import as_int, as_positive, require_same_length

__all__ = [
    "make_xor",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_blobs",
    "train_val_split",
    "iterate_minibatches",
]

RNGLike = np.random.Generator | int | None


def _sample_args(
    n: object, noise: object, rng: RNGLike, *, min_n: int
) -> tuple[int, float, np.random.Generator]:
    """Every toy set starts from these: ``n`` (>= ``min_n``), ``noise`` (>= 0), a generator."""
    return as_int(n, "n", min_n), as_positive(noise, "noise", allow_zero=True), as_generator(rng)


def _class_sizes(n: int, classes: int) -> np.ndarray:
    """Split ``n`` samples over ``classes`` as evenly as possible, shape ``(classes,)``."""
    sizes = np.full(classes, n // classes, dtype=np.int64)
    sizes[: n % classes] += 1
    return sizes


def _shuffled(
    X: np.ndarray, y: np.ndarray, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` (float64) and ``y`` (int64) in one random order."""
    order = gen.permutation(len(y))
    return X[order].astype(np.float64, copy=False), y[order].astype(np.int64, copy=False)


def make_xor(
    n: int = 200, noise: float = 0.15, rng: RNGLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: four Gaussian clouds around the corners of the unit square.

    A point near corner ``(a, b)`` with ``a, b`` in ``{0, 1}`` has label ``a XOR b``,
    so ``(0, 0)`` and ``(1, 1)`` are class 0 and ``(0, 1)`` and ``(1, 0)`` are class 1:
    no single straight line separates the classes.

    Args:
        n: number of points (>= 4), spread evenly over the four corners.
        noise: standard deviation of the Gaussian noise around each corner (>= 0).
        rng: ``None``, an int seed or a ``numpy.random.Generator``.

    Returns:
        ``X`` of shape ``(n, 2)`` float64 and ``y`` of shape ``(n,)`` int64 in ``{0, 1}``.
    """
    n, noise, gen = _sample_args(n, noise, rng, min_n=4)
    corners = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    labels = np.array([0, 0, 1, 1])
    which = np.repeat(np.arange(4), _class_sizes(n, 4))
    X = corners[which] + noise * gen.standard_normal((n, 2))
    return _shuffled(X, labels[which], gen)


def make_moons(
    n: int = 200, noise: float = 0.1, rng: RNGLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles ("moons").

    Class 0 is the upper arc ``(cos t, sin t)``, class 1 the lower arc
    ``(1 - cos t, 0.5 - sin t)``, for ``t`` evenly spaced in ``[0, pi]``; then Gaussian
    noise of standard deviation ``noise`` is added to both coordinates.

    Args:
        n: number of points (>= 2), half in each moon.
        noise: standard deviation of the added noise (>= 0).
        rng: ``None``, an int seed or a ``numpy.random.Generator``.

    Returns:
        ``X`` of shape ``(n, 2)`` float64 and ``y`` of shape ``(n,)`` int64 in ``{0, 1}``.
    """
    n, noise, gen = _sample_args(n, noise, rng, min_n=2)
    n0, n1 = _class_sizes(n, 2)
    t0 = np.linspace(0.0, np.pi, n0)
    t1 = np.linspace(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) + noise * gen.standard_normal((n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(X, y, gen)


def make_circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, rng: RNGLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one.

    Class 0 lies on the unit circle, class 1 on a circle of radius ``factor``; points are
    evenly spaced in angle, then Gaussian noise of standard deviation ``noise`` is added.

    Args:
        n: number of points (>= 2), half on each circle.
        noise: standard deviation of the added noise (>= 0).
        factor: radius of the inner circle relative to the outer one, in ``(0, 1)``.
        rng: ``None``, an int seed or a ``numpy.random.Generator``.

    Returns:
        ``X`` of shape ``(n, 2)`` float64 and ``y`` of shape ``(n,)`` int64 in ``{0, 1}``.
    """
    n = as_int(n, "n", 2)
    noise = as_positive(noise, "noise", allow_zero=True)
    factor = as_positive(factor, "factor")
    if factor >= 1:
        raise ValueError(f"factor must lie in (0, 1), got {factor}")
    gen = as_generator(rng)
    n0, n1 = _class_sizes(n, 2)
    t0 = np.linspace(0.0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0.0, 2 * np.pi, n1, endpoint=False)
    outer = np.column_stack([np.cos(t0), np.sin(t0)])
    inner = factor * np.column_stack([np.cos(t1), np.sin(t1)])
    X = np.vstack([outer, inner]) + noise * gen.standard_normal((n, 2))
    y = np.repeat([0, 1], [n0, n1])
    return _shuffled(X, y, gen)


def make_spirals(
    n: int = 300, classes: int = 3, noise: float = 0.2, rng: RNGLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one arm per class.

    Along arm ``k`` the radius grows from 0 to 1 while the angle runs over
    ``[4k, 4(k + 1)]`` radians; ``noise`` is the standard deviation of Gaussian noise
    added to the angle, so larger values blur the arms into each other.

    Args:
        n: number of points (>= ``classes``), spread evenly over the arms.
        classes: number of arms / classes (>= 2).
        noise: standard deviation of the angular noise in radians (>= 0).
        rng: ``None``, an int seed or a ``numpy.random.Generator``.

    Returns:
        ``X`` of shape ``(n, 2)`` float64 and ``y`` of shape ``(n,)`` int64 in
        ``{0, ..., classes - 1}``.
    """
    classes = as_int(classes, "classes", 2)
    n, noise, gen = _sample_args(n, noise, rng, min_n=classes)
    sizes = _class_sizes(n, classes)
    parts = []
    for k, m in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, m)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), m) + noise * gen.standard_normal(m)
        parts.append(radius[:, None] * np.column_stack([np.sin(angle), np.cos(angle)]))
    X = np.vstack(parts)
    y = np.repeat(np.arange(classes), sizes)
    return _shuffled(X, y, gen)


def make_blobs(
    n: int = 300,
    centers: int | np.ndarray = 3,
    std: float = 1.0,
    rng: RNGLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian blobs, one per class.

    Args:
        n: number of points (>= number of centers), spread evenly over the blobs.
        centers: either the number of blobs (>= 1), placed evenly on a circle of
            radius 5 around the origin, or an array of centers of shape ``(k, 2)``.
        std: standard deviation of every blob (>= 0).
        rng: ``None``, an int seed or a ``numpy.random.Generator``.

    Returns:
        ``X`` of shape ``(n, 2)`` float64 and ``y`` of shape ``(n,)`` int64, where
        ``y == k`` means the point was drawn around ``centers[k]``.
    """
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = as_int(centers, "centers", 1)
        angle = np.pi / 2 + 2 * np.pi * np.arange(k) / k
        means = 5.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    else:
        means = np.asarray(centers, dtype=np.float64)
        if means.ndim != 2 or means.shape[1] != 2 or means.shape[0] < 1:
            raise ValueError(
                f"centers must be an int or an array of shape (k, 2), got shape {means.shape}"
            )
        k = means.shape[0]
    n = as_int(n, "n", k)
    std = as_positive(std, "std", allow_zero=True)
    gen = as_generator(rng)
    y = np.repeat(np.arange(k), _class_sizes(n, k))
    X = means[y] + std * gen.standard_normal((n, 2))
    return _shuffled(X, y, gen)


def train_val_split(
    X: np.ndarray,
    y: np.ndarray,
    val_fraction: float = 0.2,
    *,
    rng: RNGLike = None,
    stratify: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split a data set into a training part and a validation part.

    Args:
        X: inputs, shape ``(n, ...)``.
        y: targets, shape ``(n, ...)``.
        val_fraction: share of samples for validation, in ``(0, 1)``; the validation
            part gets ``round(n * val_fraction)`` samples, at least one and at most
            ``n - 1``.
        rng: ``None``, an int seed or a ``numpy.random.Generator``.
        stratify: if True, ``y`` must hold class labels ``(n,)`` and every class is split
            in the same proportion, so both parts keep the class balance.

    Returns:
        ``(X_train, X_val, y_train, y_val)``, in the order scikit-learn uses.

    Raises:
        ValueError: if ``X`` and ``y`` differ in length, there are fewer than two
            samples, or ``val_fraction`` is outside ``(0, 1)``.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y must be arrays of samples, got shapes {X.shape} and {y.shape}")
    require_same_length(X, y)
    n = len(y)
    if n < 2:
        raise ValueError(f"need at least 2 samples to split, got {n}")
    val_fraction = as_positive(val_fraction, "val_fraction")
    if val_fraction >= 1:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    gen = as_generator(rng)

    if stratify:
        if y.ndim != 1:
            raise ValueError(f"stratify=True needs class labels of shape (n,), got shape {y.shape}")
        val_parts, train_parts = [], []
        for label in np.unique(y):
            idx = gen.permutation(np.flatnonzero(y == label))
            n_val = int(round(len(idx) * val_fraction))
            val_parts.append(idx[:n_val])
            train_parts.append(idx[n_val:])
        val_idx = gen.permutation(np.concatenate(val_parts))
        train_idx = gen.permutation(np.concatenate(train_parts))
        if len(val_idx) == 0 or len(train_idx) == 0:
            raise ValueError(
                f"val_fraction={val_fraction} leaves one part empty with stratify=True "
                f"for {n} samples; use a larger data set or stratify=False"
            )
    else:
        n_val = min(max(int(round(n * val_fraction)), 1), n - 1)
        order = gen.permutation(n)
        val_idx, train_idx = order[:n_val], order[n_val:]
    return X[train_idx], X[val_idx], y[train_idx], y[val_idx]


def iterate_minibatches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    rng: RNGLike = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield mini-batches ``(X_batch, y_batch)`` that cover every sample exactly once.

    Each batch has ``batch_size`` samples except possibly the last, which holds the rest.
    Arguments are checked when the function is called, not when iteration starts.

    Args:
        X: inputs, shape ``(n, ...)``.
        y: targets, shape ``(n, ...)``.
        batch_size: samples per batch (int >= 1).
        shuffle: visit the samples in a fresh random order (from ``rng``) if True,
            in their stored order if False.
        rng: ``None``, an int seed or a ``numpy.random.Generator``.

    Yields:
        ``X_batch`` of shape ``(b, ...)`` and ``y_batch`` of shape ``(b, ...)``,
        ``b <= batch_size``.

    Raises:
        TypeError: if ``batch_size`` is not an int.
        ValueError: if ``batch_size < 1`` or ``X`` and ``y`` differ in length.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y must be arrays of samples, got shapes {X.shape} and {y.shape}")
    require_same_length(X, y)
    batch_size = as_int(batch_size, "batch_size", 1)
    order = as_generator(rng).permutation(len(y)) if shuffle else None
    return _batches(X, y, batch_size, order)


def _batches(
    X: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Generator behind :func:`iterate_minibatches` (arguments already checked)."""
    for start in range(0, len(y), batch_size):
        if order is None:
            yield X[start : start + batch_size], y[start : start + batch_size]
        else:
            idx = order[start : start + batch_size]
            yield X[idx], y[idx]
