"""Loss functions with a hand-written backward pass, numerically matching ``torch.nn``.

Each loss is a small object: ``loss(pred, target)`` returns the mean loss as a Python
float and caches what ``loss.backward()`` needs; ``backward()`` returns dL/dpred with
the shape of ``pred``. Defaults follow torch (mean reduction). Input that torch would
turn into NaN (a NaN, a probability outside [0, 1]) is an error that names the loss and
the bad entries; torch options we do not implement are errors that say what to do instead.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_array, as_batch, as_labels, refuse_options, reject_entries
from .functional import log_softmax, sigmoid

__all__ = ["Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss"]

_MEAN_ONLY = (
    "nnscratch losses always return the mean (torch's default reduction='mean'); for "
    "'sum' multiply the loss by the number of terms it averages ({terms}), and for 'none' "
    "compute the formula in help({name}) with NumPy"
)
_DEPRECATED = "deprecated in torch too, where reduction replaced it; " + _MEAN_ONLY
_NO_WEIGHTS = (
    "weighted losses are not implemented; to weight a class more, repeat its samples in "
    "the training set, or use torch.nn.{name}({option}=...)"
)


class Loss:
    """Base class: ``loss(pred, target)`` returns a float; ``backward()`` gives dL/dpred.

    Takes no options. Torch's options (``reduction``, ``weight``, ...) at their default
    values are accepted; any other value is refused with a note on what to do instead.
    """

    _grad: np.ndarray | None = None
    #: what the mean divides by, for the advice on reduction="sum"
    _terms = "pred.size"
    #: torch's positional parameters, in order, and the options we refuse: (default, advice)
    _torch_positional: tuple[str, ...] = ("size_average", "reduce", "reduction")
    _refused: dict[str, tuple[object, str]] = {}

    def __init__(self, *args: object, **options: object) -> None:
        name = type(self).__name__
        if args:
            raise TypeError(
                f"{name}() takes no positional arguments; torch's first one is "
                f"{self._torch_positional[0]}, which nnscratch does not support: "
                + self._refusals()[self._torch_positional[0]][1]
            )
        refuse_options(f"{name}()", options, self._refusals(), takes="no options")

    def _refusals(self) -> dict[str, tuple[object, str]]:
        fill = {"name": type(self).__name__, "terms": self._terms}
        common: dict[str, tuple[object, str]] = {
            "reduction": ("mean", _MEAN_ONLY.format(**fill)),
            "size_average": (None, _DEPRECATED.format(**fill)),
            "reduce": (None, _DEPRECATED.format(**fill)),
        }
        return common | {
            k: (default, advice.format(option=k, **fill))
            for k, (default, advice) in self._refused.items()
        }

    def __call__(self, pred: np.ndarray, target: np.ndarray) -> float:
        return self.forward(pred, target)

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:  # pragma: no cover
        raise NotImplementedError

    def backward(self) -> np.ndarray:
        """Return dL/dpred for the last call, shape of ``pred``."""
        if self._grad is None:
            raise RuntimeError(
                f"call the {type(self).__name__} on (pred, target) before backward()"
            )
        return self._grad

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _matching(loss: Loss, pred: object, target: object) -> tuple[np.ndarray, np.ndarray]:
    p = as_array(pred, "pred")
    t = as_array(target, "target").astype(p.dtype, copy=False)
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape, got {p.shape} and {t.shape}")
    if p.size == 0:
        raise ValueError("pred is empty: a loss needs at least one sample")
    reject_entries(t, np.isnan(t), type(loss).__name__, "target", "a number, not NaN")
    return p, t


def _check_probabilities(loss: Loss, t: np.ndarray, name: str, hint: str = "") -> None:
    # (t >= 0) & (t <= 1) is False for NaN too
    reject_entries(t, ~((t >= 0) & (t <= 1)), type(loss).__name__, name, "in [0, 1]" + hint)


def _check_logits(loss: Loss, z: np.ndarray) -> None:
    reject_entries(z, ~np.isfinite(z), type(loss).__name__, "pred", "a finite logit")


class MSELoss(Loss):
    """Mean squared error, mean((pred - target)**2) over every element, like ``torch.nn.MSELoss``.

    Shapes: ``pred`` and ``target`` any matching shape; ``backward()`` has that shape.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        p, t = _matching(self, pred, target)
        reject_entries(p, np.isnan(p), "MSELoss", "pred", "a number, not NaN")
        diff = p - t
        self._grad = (2.0 / diff.size) * diff
        return float(np.mean(diff * diff))


class BCELoss(Loss):
    """Binary cross-entropy on probabilities in [0, 1], like ``torch.nn.BCELoss``.

    L = -mean(t * log p + (1 - t) * log(1 - p)); logs are clamped at -100 as torch does.
    Shapes: ``pred`` (probabilities) and ``target`` (in [0, 1]) any matching shape.
    """

    _torch_positional = ("weight", "size_average", "reduce", "reduction")
    _refused = {"weight": (None, _NO_WEIGHTS)}

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        p, t = _matching(self, pred, target)
        _check_probabilities(self, p, "pred", " (a probability; for logits use BCEWithLogitsLoss)")
        _check_probabilities(self, t, "target")
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(p), -100.0)
            log_1mp = np.maximum(np.log1p(-p), -100.0)
        # torch's gradient: (p - t) / max((1 - p) * p, eps) with eps = 1e-12
        self._grad = (p - t) / np.maximum((1 - p) * p, 1e-12) / p.size
        return float(-np.mean(t * log_p + (1 - t) * log_1mp))


class BCEWithLogitsLoss(Loss):
    """Sigmoid + binary cross-entropy in one stable step, like ``torch.nn.BCEWithLogitsLoss``.

    L = mean(max(z, 0) - z * t + log(1 + exp(-|z|))) for logits ``z``; the gradient is
    (sigmoid(z) - t) / N. Shapes: ``pred`` (finite logits) and ``target`` (in [0, 1]) any
    matching shape.
    """

    _torch_positional = ("weight", "size_average", "reduce", "reduction", "pos_weight")
    _refused = {"weight": (None, _NO_WEIGHTS), "pos_weight": (None, _NO_WEIGHTS)}

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z, t = _matching(self, pred, target)
        _check_logits(self, z)
        _check_probabilities(self, t, "target")
        self._grad = (sigmoid(z) - t) / z.size
        with np.errstate(under="ignore"):  # exp(-|z|) underflows to 0 for large |z|, harmlessly
            softplus = np.log1p(np.exp(-np.abs(z)))
        return float(np.mean(np.maximum(z, 0) - z * t + softplus))


class CrossEntropyLoss(Loss):
    """Softmax + negative log-likelihood on logits, like ``torch.nn.CrossEntropyLoss``.

    Shapes: ``pred`` finite logits ``(n, C)``; ``target`` integer labels ``(n,)`` in
    ``[0, C)`` or class probabilities ``(n, C)`` (soft targets, each >= 0).
    ``backward()`` returns ``(softmax(pred) - onehot) / n``, shape ``(n, C)``.
    """

    _terms = "len(y), the number of samples"
    _torch_positional = (
        "weight", "size_average", "ignore_index", "reduce", "reduction", "label_smoothing"
    )  # fmt: skip
    _refused = {
        "weight": (None, _NO_WEIGHTS),
        "ignore_index": (
            -100,
            "drop those samples before the loss, which gives torch's number: "
            "keep = y != ignore_index; loss(logits[keep], y[keep])",
        ),
        "label_smoothing": (
            0.0,
            "soft targets give exactly torch's label smoothing eps: "
            "loss(logits, (1 - eps) * one_hot(y, C) + eps / C), with "
            "nnscratch.functional.one_hot",
        ),
    }

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        z = as_batch(pred, "pred (logits)")
        n, num_classes = z.shape
        if n == 0:
            raise ValueError("pred is empty: a loss needs at least one sample")
        t = np.asarray(target)
        if t.ndim == 2:
            probs = as_array(t, "target").astype(z.dtype, copy=False)
            if probs.shape != z.shape:
                raise ValueError(
                    f"probability targets must have the logits' shape {z.shape}, got {probs.shape}"
                )
            _check_logits(self, z)
            reject_entries(
                probs, ~(np.isfinite(probs) & (probs >= 0)), "CrossEntropyLoss", "target",
                "a finite class probability >= 0",
            )  # fmt: skip
        else:
            if t.ndim != 1 or t.shape[0] != n:
                raise ValueError(
                    f"target must be {n} integer labels of shape ({n},) or probabilities of "
                    f"shape {z.shape}, got shape {t.shape}"
                )
            labels = as_labels(t, num_classes, "target")
            # One softmax, and one-hot targets without building them. With s = z - max(z)
            # and S = sum(exp(s)), log p = s - log S: the loss needs it only at the labels,
            # and the gradient is softmax(z) - onehot = exp(s) / S - onehot.
            rows = np.arange(n)
            shifted = z - z.max(axis=1, keepdims=True)
            with np.errstate(under="ignore"):  # exp of a very negative number is 0, harmlessly
                grad = np.exp(shifted)
            sums = grad.sum(axis=1, keepdims=True)
            grad /= sums
            grad[rows, labels] -= 1
            grad /= n
            self._grad = grad
            value = float(np.log(sums).sum() - shifted[rows, labels].sum()) / n
            if not math.isfinite(value):  # finite logits always give a finite loss: look
                _check_logits(self, z)
            return value
        log_p = log_softmax(z, axis=1)
        # d/dz of -sum(t * log_softmax(z)) is softmax(z) * sum(t) - t
        with np.errstate(under="ignore"):
            softmax = np.exp(log_p)
        self._grad = (softmax * probs.sum(axis=1, keepdims=True) - probs) / n
        return float(-np.sum(probs * log_p) / n)
