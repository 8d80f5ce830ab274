"""The training loop: epochs of shuffled mini-batches, forward, loss, backward, update.

``fit`` is the pseudocode of notebook 06 made real. It records a ``History`` of
per-epoch loss and accuracy, stops with a clear message if the loss turns NaN or
infinite, and prints a progress line now and then (never one per batch).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_batch, as_labels, check_same_length
from ._rng import as_generator
from .data import iterate_minibatches
from .layers import Module, Sequential
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss
from .optim import LRScheduler, Optimizer

__all__ = [
    "History",
    "TrainingDiverged",
    "fit",
    "predict",
    "predict_proba",
    "accuracy",
    "evaluate",
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


def predict(model: Module, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Predicted class per sample ``(n,)``: argmax of the outputs, or output > 0 for one logit."""
    out = predict_proba(model, X, batch_size)
    if out.shape[1] == 1:
        return (out[:, 0] > 0).astype(np.int64)
    return np.argmax(out, axis=1)


def accuracy(
    model_or_pred: Module | np.ndarray, X_or_y: np.ndarray, y: np.ndarray | None = None
) -> float:
    """Fraction correct: ``accuracy(model, X, y)`` or ``accuracy(y_pred, y_true)``."""
    if isinstance(model_or_pred, Module):
        if y is None:
            raise TypeError("accuracy(model, X, y) needs the labels y")
        pred, true = predict(model_or_pred, X_or_y), np.asarray(y)
    else:
        pred, true = np.asarray(model_or_pred), np.asarray(X_or_y)
    true = true.reshape(-1) if true.ndim == 2 and true.shape[1] == 1 else true
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


def _labels_from_outputs(out: np.ndarray, loss: Loss) -> np.ndarray:
    # One output column: threshold (0.5 for probabilities, 0 for logits); else argmax.
    if out.shape[1] == 1:
        return (out[:, 0] > (0.5 if isinstance(loss, BCELoss) else 0.0)).astype(np.int64)
    return np.argmax(out, axis=1)


def _is_one_hot(y: np.ndarray) -> bool:
    # Float one-hot targets (n, C) of an MSE classifier: every row one 1, the rest 0.
    return (
        y.ndim == 2
        and y.shape[1] > 1
        and bool(np.all((y == 0) | (y == 1)))
        and bool(np.all(y.sum(axis=1) == 1))
    )


def _n_correct(out: np.ndarray, y: np.ndarray, loss: Loss) -> float:
    # Number of correct predictions, or NaN when the task is not classification.
    y = np.asarray(y)
    if not (
        isinstance(loss, (CrossEntropyLoss, BCELoss, BCEWithLogitsLoss))
        or np.issubdtype(y.dtype, np.integer)
        or _is_one_hot(y)  # only checked (per batch) when the two cheap tests fail
    ):
        return float("nan")
    labels = np.argmax(y, axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    return float(np.sum(_labels_from_outputs(out, loss) == labels))


def evaluate(model: Module, loss: Loss, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on ``(X (n, features), y)`` in eval mode.

    Accuracy is NaN for regression targets. Parameters and gradients are left unchanged.
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


@np.errstate(over="ignore", invalid="ignore")  # a blow-up ends in TrainingDiverged instead
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
    and for every mini-batch runs forward, ``loss``, ``loss.backward``, ``model.backward``
    and ``optimizer.step``. ``validation=(X_val, y_val)`` is evaluated after each epoch.
    ``History.loss``/``acc`` are means over the epoch's batches (in training mode);
    ``early_stopping=k`` stops after ``k`` epochs without a better validation loss and
    restores the best weights. ``verbose``: True prints about ten progress lines,
    an int prints every that many epochs, False prints nothing.

    Raises:
        TrainingDiverged: when the loss becomes NaN or infinite (names the epoch).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    X = as_batch(X, "X")
    y = np.asarray(y)
    check_same_length(X, y)
    if early_stopping is not None and validation is None:
        raise ValueError("early_stopping needs a validation set: pass validation=(X_val, y_val)")
    gen = as_generator(rng)  # one generator for the whole run: a fresh order every epoch
    every = progress_every(verbose, epochs)
    hist = History()
    best = (math.inf, None, -1)
    waited = 0
    # A Sequential skips dL/dX (the data needs none) and writes its gradients over the old
    # ones instead of adding to them, so they need no zeroing between batches. Not when
    # layers share a parameter: their gradients must add up.
    params = model.parameters()
    fast = isinstance(model, Sequential) and len({id(p) for p in params}) == len(params)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        total, correct, count = 0.0, 0.0, 0
        optimizer.zero_grad()
        for Xb, yb in iterate_minibatches(X, y, batch_size, shuffle=True, rng=gen):
            out = model(Xb)
            value = loss(out, _targets_for(loss, yb))
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"loss became {value} in epoch {epoch} of {epochs}: training diverged. "
                    f"Try a smaller learning rate (now {optimizer.lr:g}) or check the inputs "
                    "for NaN/inf and scale them."
                )
            if fast:
                model.backward(loss.backward(), input_grad=False, accumulate=False)
            else:
                model.backward(loss.backward())
            optimizer.step()
            if not fast:
                optimizer.zero_grad()
            total += value * len(Xb)
            correct += _n_correct(out, yb, loss)
            count += len(Xb)
        optimizer.zero_grad()
        hist.lr.append(optimizer.lr)
        # Training curves are running means over the epoch's batches (as Keras reports them).
        train_loss, train_acc = total / count, correct / count
        hist.loss.append(train_loss)
        hist.acc.append(train_acc)
        if validation is not None:
            val_loss, val_acc = evaluate(model, loss, *validation)
            hist.val_loss.append(val_loss)
            hist.val_acc.append(val_acc)
            if early_stopping is not None:
                if val_loss < best[0]:
                    best = (val_loss, [p.data.copy() for p in model.parameters()], epoch)
                    waited = 0
                else:
                    waited += 1
        if scheduler is not None:
            scheduler.step()
        if callback is not None:
            callback(epoch, hist)
        report_progress(hist, epoch, epochs, every)
        if early_stopping is not None and waited >= early_stopping:
            hist.stopped_early = True
            if every:
                print(
                    f"early stopping after epoch {epoch}: best validation loss in epoch {best[2]}"
                )
            break
    if early_stopping is not None and best[1] is not None:
        for p, saved in zip(model.parameters(), best[1], strict=True):
            p.data[...] = saved
        hist.best_epoch = best[2]
    hist.seconds = time.perf_counter() - start
    return hist
