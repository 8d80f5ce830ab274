"""The training loop: epochs of shuffled mini-batches, forward, loss, backward, update.

``fit`` is the pseudocode of notebook 06 made real. It records a ``History`` of
per-epoch loss and accuracy, stops with a clear message if the loss turns NaN or
infinite, and prints a progress line now and then (never one per batch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ._rng import as_generator
from ._validate import (
    as_batch,
    as_int,
    as_labels,
    divergence_message,
    require_same_length,
)
from .data import iterate_minibatches
from .layers import Module
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .optim import LRScheduler, Optimizer

__all__ = [
    "History",
    "TrainingDiverged",
    "fit",
    "predict",
    "predict_proba",
    "accuracy",
    "evaluate",
    "labels_from_outputs",
    "confusion_matrix",
    "progress_every",
    "report_progress",
]


class TrainingDiverged(FloatingPointError):
    """Raised by ``fit`` when the loss becomes NaN or infinite."""


@dataclass
class History:
    """Per-epoch records of a ``fit`` run: ``loss``/``acc`` on training data and
    ``val_loss``/``val_acc`` on the validation set (empty lists when there is none)."""

    loss: list[float] = field(default_factory=list)
    acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.loss)

    def as_dict(self) -> dict[str, list[float]]:
        """The curves as a dict of lists, for plotting."""
        return {
            k: v
            for k, v in (
                ("loss", self.loss),
                ("acc", self.acc),
                ("val_loss", self.val_loss),
                ("val_acc", self.val_acc),
            )
            if v
        }


def predict_proba(model: Module, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for ``X (n, features)`` in eval mode, batch by batch: ``(n, outputs)``."""
    X = as_batch(X, "X")
    was_training = model.training
    model.eval()
    try:
        outs = [model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(outs, axis=0) if outs else np.zeros((0, 0))


def labels_from_outputs(out: np.ndarray, loss: Loss | None = None) -> np.ndarray:
    """Turn model outputs ``(n, C)`` into class labels ``(n,)``; the loss says how.

    - ``C >= 2`` columns (logits for ``CrossEntropyLoss``, or outputs trained on one-hot
      targets with ``MSELoss``): the argmax of each row; any loss, or none.
    - one column and ``BCELoss`` (probabilities, after a ``Sigmoid``): 1 where p > 0.5;
    - one column and ``BCEWithLogitsLoss`` (logits): 1 where z > 0 (the same decision,
      since sigmoid(z) > 0.5 exactly when z > 0).
    - one column with any other loss, or none: a ``ValueError``, because the threshold
      depends on whether the column is a probability or a logit.
    """
    if out.ndim != 2 or out.shape[1] == 0:
        raise ValueError(f"model outputs must have shape (n, C), got {out.shape}")
    if out.shape[1] > 1:
        return np.argmax(out, axis=1)
    if isinstance(loss, BCELoss):
        return (out[:, 0] > 0.5).astype(np.int64)
    if isinstance(loss, BCEWithLogitsLoss):
        return (out[:, 0] > 0).astype(np.int64)
    got = "no loss" if loss is None else f"loss={loss!r}"
    raise ValueError(
        f"one output column, and {got}: is it a probability or a logit? Pass the loss the "
        "model was trained with: loss=BCELoss() for probabilities (threshold 0.5, after a "
        "Sigmoid), loss=BCEWithLogitsLoss() for logits (threshold 0)"
    )


def _true_labels(y: np.ndarray) -> np.ndarray:
    # Labels (n,), a column (n, 1) of 0/1 targets, or one-hot / probability rows (n, C).
    y = np.asarray(y)
    if y.ndim == 2:
        return y[:, 0] if y.shape[1] == 1 else np.argmax(y, axis=1)
    return y


def predict(
    model: Module, X: np.ndarray, batch_size: int = 1024, *, loss: Loss | None = None
) -> np.ndarray:
    """Predicted class per sample ``(n,)`` for ``X (n, features)``.

    The outputs become classes as ``labels_from_outputs`` says: the argmax for two or more
    output columns; for one column, pass the training ``loss`` (``BCELoss``: threshold the
    probability at 0.5, ``BCEWithLogitsLoss``: the logit at 0), or get a ``ValueError``.
    """
    return labels_from_outputs(predict_proba(model, X, batch_size), loss)


def accuracy(
    model_or_pred: Module | np.ndarray,
    X_or_y: np.ndarray,
    y: np.ndarray | None = None,
    *,
    loss: Loss | None = None,
) -> float:
    """Fraction correct: ``accuracy(model, X, y, loss=...)`` or ``accuracy(y_pred, y_true)``.

    With a model, predictions come from ``predict(model, X, loss=loss)`` (``loss`` is
    needed for a model with one output column). ``y`` may be labels ``(n,)``, a 0/1
    column ``(n, 1)`` or one-hot rows ``(n, C)`` (compared by their argmax), so the number
    is the one ``fit`` records in ``History.acc`` for the same outputs and targets.
    """
    if isinstance(model_or_pred, Module):
        if y is None:
            raise TypeError("accuracy(model, X, y) needs the labels y")
        pred, true = predict(model_or_pred, X_or_y, loss=loss), _true_labels(y)
    else:
        pred, true = np.asarray(model_or_pred), _true_labels(X_or_y)
    if pred.shape != true.shape:
        raise ValueError(f"predictions {pred.shape} and labels {true.shape} differ in shape")
    return float(np.mean(pred == true)) if len(true) else float("nan")


def confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """Counts ``(C, C)``: entry ``[i, j]`` is how many samples of true class i were predicted j."""

    t, p = as_labels(y_true, name="y_true"), as_labels(y_pred, name="y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    c = (
        int(num_classes)
        if num_classes is not None
        else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    )
    as_labels(t, c, "y_true"), as_labels(p, c, "y_pred")
    return np.bincount(t * c + p, minlength=c * c).reshape(c, c)


def _targets_for(loss: Loss, y: np.ndarray) -> np.ndarray:
    # Binary losses on one output want (n, 1) float targets; accept (n,) labels too.
    if isinstance(loss, (BCELoss, BCEWithLogitsLoss)) and y.ndim == 1:
        return y.reshape(-1, 1).astype(np.float64)
    return y


def _is_one_hot(y: np.ndarray) -> bool:
    # Float one-hot targets (n, C) of an MSE classifier: every row one 1, the rest 0.
    return (
        y.ndim == 2
        and y.shape[1] > 1
        and bool(np.all((y == 0) | (y == 1)))
        and bool(np.all(y.sum(axis=1) == 1))
    )


def _is_classification(loss: Loss, y: np.ndarray, out_columns: int) -> bool:
    # Whether outputs with ``out_columns`` columns and targets ``y`` have a "correct": an
    # MSELoss counts as classification only with one-hot targets (n, C), C >= 2; a loss of
    # one's own only with an argmax to take and integer labels.
    if isinstance(loss, MSELoss):
        return _is_one_hot(y)
    if isinstance(loss, (CrossEntropyLoss, BCELoss, BCEWithLogitsLoss)):
        return True
    return out_columns > 1 and np.issubdtype(y.dtype, np.integer)


def _count_correct(out: np.ndarray, y: np.ndarray, loss: Loss) -> int:
    # Predictions equal to the labels, for a task that _is_classification.
    return int(np.count_nonzero(labels_from_outputs(out, loss) == _true_labels(y)))


def _n_correct(out: np.ndarray, y: np.ndarray, loss: Loss) -> float:
    # Number of correct predictions, or NaN when the task is not classification.
    y = np.asarray(y)
    if not _is_classification(loss, y, out.shape[1]):
        return float("nan")
    return float(_count_correct(out, y, loss))


def evaluate(model: Module, loss: Loss, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on ``(X (n, features), y)`` in eval mode.

    Accuracy counts ``labels_from_outputs(outputs, loss)`` equal to the labels (the rule
    of ``predict`` and ``History.acc``); it is NaN for regression (``MSELoss`` without
    one-hot targets). Parameters and gradients are left unchanged.
    """
    out = predict_proba(model, X)
    return loss(out, _targets_for(loss, y)), _n_correct(out, y, loss) / max(len(out), 1)


def progress_every(verbose: bool | int, epochs: int) -> int:
    """How often a training loop prints: ``True`` gives about ten lines in all, an int
    ``k`` every ``k`` epochs, ``False``/0 never (0)."""
    return max(1, math.ceil(epochs / 10)) if verbose is True else int(verbose or 0)


def report_progress(hist: History, epoch: int, epochs: int, every: int) -> None:
    """Print the latest epoch of ``hist`` as one line when it is due (the first, the last,
    and every ``every``-th epoch), so long runs never flood a notebook."""
    if not every or not (epoch % every == 0 or epoch == epochs or epoch == 1):
        return
    msg = f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {hist.loss[-1]:.4f}"
    if hist.acc and not math.isnan(hist.acc[-1]):
        msg += f"  acc {hist.acc[-1]:.3f}"
    if hist.val_loss:
        msg += f"  val_loss {hist.val_loss[-1]:.4f}"
        if not math.isnan(hist.val_acc[-1]):
            msg += f"  val_acc {hist.val_acc[-1]:.3f}"
    print(msg, flush=True)


def _train_step(
    model: Module, loss: Loss, optimizer: Optimizer, Xb: np.ndarray, yb: np.ndarray,
    when: tuple[int, int],
) -> tuple[float, np.ndarray]:
    """One step of notebook 06's loop on the batch ``(Xb, yb)``: the loss value and outputs.

    ``when`` is ``(epoch, epochs)``, named in the error if training diverges.
    """
    optimizer.zero_grad()
    out = model(Xb)
    if not np.isfinite(out).all():  # before the loss, which refuses NaN outputs
        what = "the model's outputs became NaN or infinite"
        raise TrainingDiverged(divergence_message(what, *when, optimizer.lr))
    value = loss(out, _targets_for(loss, yb))
    if not math.isfinite(value):
        raise TrainingDiverged(divergence_message(f"loss became {value}", *when, optimizer.lr))
    # dL/dX of the data is never needed: backward_params skips it (notebook 05).
    model.backward_params(loss.backward())
    optimizer.step()
    return value, out


def _train_epoch(
    model: Module, loss: Loss, optimizer: Optimizer,
    batches: Iterable[tuple[np.ndarray, np.ndarray]], when: tuple[int, int], y: np.ndarray,
) -> tuple[float, float]:
    """One epoch in training mode: the mean loss and accuracy over its batches.

    ``y`` holds all the epoch's targets: whether there is an accuracy to count is decided
    once, on them, rather than again for every batch.
    """
    model.train()
    total, correct, count = 0.0, 0.0, 0
    classify: bool | None = None  # known after the first forward pass (its output columns)
    # One errstate for the whole epoch, not one per step (entering and leaving it is work
    # done at every step otherwise). A blow-up (overflow, NaN) is not a warning here: it
    # ends in TrainingDiverged instead.
    with np.errstate(over="ignore", invalid="ignore"):
        for Xb, yb in batches:
            value, out = _train_step(model, loss, optimizer, Xb, yb, when)
            total += value * len(Xb)
            if classify is None:
                classify = _is_classification(loss, y, out.shape[1])
            correct += _count_correct(out, yb, loss) if classify else math.nan
            count += len(Xb)
    # Training curves are running means over the epoch's batches (as Keras reports them).
    return total / count, correct / count


class _BestWeights:
    """Early stopping's memory: the lowest validation loss so far, its epoch and weights."""

    def __init__(self, patience: int) -> None:
        self.patience, self.waited = patience, 0
        self.loss, self.epoch = math.inf, -1
        self.weights: list[np.ndarray] | None = None

    def update(self, model: Module, val_loss: float, epoch: int) -> bool:
        """Remember ``model`` if ``val_loss`` is the best yet; True when patience runs out."""
        if val_loss < self.loss:
            self.loss, self.epoch, self.waited = val_loss, epoch, 0
            self.weights = [p.data.copy() for p in model.parameters()]
        else:
            self.waited += 1
        return self.waited >= self.patience

    def restore(self, model: Module) -> bool:
        """Put the best weights back into ``model``; False if there were none."""
        if self.weights is None:
            return False
        for p, saved in zip(model.parameters(), self.weights, strict=True):
            p.data[...] = saved
        return True


def fit(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 32,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    rng: np.random.Generator | int | None = None,
    scheduler: LRScheduler | None = None,
    early_stopping: int | None = None,
    verbose: bool | int = True,
    callback: Callable[[int, History], None] | None = None,
) -> History:
    """Train ``model`` with mini-batch gradient descent and return the ``History``.

    Each epoch shuffles ``X (n, features)`` / ``y (n,)`` (or ``(n, outputs)``) with ``rng``,
    and for every mini-batch runs the loop of notebook 06: ``optimizer.zero_grad()``,
    forward, ``loss``, backward, ``optimizer.step()``. The backward pass is
    ``model.backward_params(loss.backward())``: the parameter gradients of
    ``model.backward``, without dL/dX of the data (notebook 05).
    ``validation=(X_val, y_val)`` is evaluated after each epoch.
    ``History.loss``/``acc`` are means over the epoch's batches (in training mode);
    accuracy turns outputs into classes as ``labels_from_outputs`` decides from the loss
    (the rule of ``predict`` and ``accuracy``), and is NaN for regression;
    ``early_stopping=k`` stops after ``k`` epochs without a better validation loss and
    restores the best weights. ``verbose``: True prints about ten progress lines,
    an int prints every that many epochs, False prints nothing.

    Raises:
        TrainingDiverged: when the loss becomes NaN or infinite (names the epoch).
    """
    epochs = as_int(epochs, "epochs")
    X = as_batch(X, "X")
    y = np.asarray(y)
    require_same_length(X, y)
    if early_stopping is not None and validation is None:
        raise ValueError("early_stopping needs a validation set: pass validation=(X_val, y_val)")
    gen = as_generator(rng)  # one generator for the whole run: a fresh order every epoch
    every = progress_every(verbose, epochs)
    best = _BestWeights(early_stopping) if early_stopping is not None else None
    hist = History()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        batches = iterate_minibatches(X, y, batch_size, shuffle=True, rng=gen)
        train_loss, train_acc = _train_epoch(
            model, loss, optimizer, batches, (epoch, epochs), y
        )
        hist.lr.append(optimizer.lr)
        hist.loss.append(train_loss)
        hist.acc.append(train_acc)
        stop = False
        if validation is not None:
            val_loss, val_acc = evaluate(model, loss, *validation)
            hist.val_loss.append(val_loss)
            hist.val_acc.append(val_acc)
            stop = best is not None and best.update(model, val_loss, epoch)
        if scheduler is not None:
            scheduler.step()
        if callback is not None:
            callback(epoch, hist)
        report_progress(hist, epoch, epochs, every)
        if stop:
            hist.stopped_early = True
            if every:
                print(f"early stopping after epoch {epoch}: best validation loss in epoch "
                      f"{best.epoch if best else -1}")
            break
    if best is not None and best.restore(model):
        hist.best_epoch = best.epoch
    hist.seconds = time.perf_counter() - start
    return hist
