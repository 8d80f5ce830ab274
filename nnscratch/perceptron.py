"""Rosenblatt's perceptron: a step-function unit and its classic learning rule."""

from __future__ import annotations

import numpy as np

from ._rng import as_generator
from ._validate import as_batch, as_int, as_positive, require_same_length
from .functional import step

__all__ = ["Perceptron"]


class Perceptron:
    """A single threshold unit: predict 1 when ``x @ w + b >= 0``, else 0.

    The learning rule, for each sample in turn: ``w += lr * (y - y_hat) * x`` and
    ``b += lr * (y - y_hat)``. Shapes: ``w (features,)``, ``b`` a float, inputs ``(n, features)``,
    labels ``(n,)`` in {0, 1}.
    """

    def __init__(
        self,
        n_features: int,
        lr: float = 1.0,
        *,
        weights: np.ndarray | None = None,
        bias: float = 0.0,
        rng: np.random.Generator | int | None = None,
    ) -> None:
        self.n_features = as_int(n_features, "n_features")
        self.lr = as_positive(lr, "learning rate lr")
        if weights is None:
            self.w = np.zeros(self.n_features)
        else:
            self.w = np.asarray(weights, dtype=np.float64).reshape(-1)
            if self.w.shape != (self.n_features,):
                raise ValueError(
                    f"weights must have shape ({self.n_features},), got {self.w.shape}"
                )
        self.b = float(bias)
        self._rng = as_generator(rng)
        self.history: list[tuple[np.ndarray, float, int]] = []

    def net_input(self, X: np.ndarray) -> np.ndarray:
        """Weighted sum plus bias ``X @ w + b``: ``(n, features) -> (n,)``."""
        return as_batch(X, "X", self.n_features) @ self.w + self.b

    def predict(self, X: np.ndarray) -> np.ndarray:
        """0/1 decisions ``(n,)`` for inputs ``(n, features)``."""
        return step(self.net_input(X)).astype(np.int64)

    def fit(
        self, X: np.ndarray, y: np.ndarray, epochs: int = 10, shuffle: bool = False
    ) -> Perceptron:
        """Apply the learning rule for up to ``epochs`` passes; stop early when a pass makes no
        mistake. After each epoch ``history`` gets ``(w.copy(), b, mistakes)``. Returns ``self``."""
        X = as_batch(X, "X", self.n_features)
        y = np.asarray(y)
        require_same_length(X, y)
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"perceptron labels must be 0 or 1, got values {np.unique(y)}")
        as_int(epochs, "epochs")
        for _ in range(epochs):
            order = self._rng.permutation(len(X)) if shuffle else np.arange(len(X))
            mistakes = 0
            for i in order:
                error = y[i] - int(step(X[i] @ self.w + self.b))
                if error:
                    self.w = self.w + self.lr * error * X[i]
                    self.b += self.lr * error
                    mistakes += 1
            self.history.append((self.w.copy(), self.b, mistakes))
            if mistakes == 0:
                break
        return self

    def __repr__(self) -> str:
        return f"Perceptron(w={np.round(self.w, 4).tolist()}, b={self.b:.4g})"
