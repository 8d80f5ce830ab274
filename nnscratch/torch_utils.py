"""Bridges from nnscratch to PyTorch, for notebooks 09 and 10.

- ``get_device`` picks CUDA, Apple MPS or the CPU (or the one you ask for);
- ``to_torch`` / ``from_torch`` convert an nnscratch ``Sequential``/``MLP`` into an equivalent
  ``torch.nn.Sequential`` with the same weights, and back;
- ``train``, ``evaluate`` and ``accuracy`` are a device-agnostic training loop that returns the
  same ``History`` as ``nnscratch.fit`` (and, given the same seed, visits the same mini-batches);
- ``save_checkpoint`` / ``load_checkpoint``, ``small_cnn`` (a CNN for 8x8 digits),
  ``shifted_copies`` (data augmentation) and ``time_training`` (CPU vs accelerator timings).

torch is imported inside each function, so ``import nnscratch`` stays NumPy-only.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._rng import as_generator
from ._validate import as_int, divergence_message
from .layers import Dropout, Flatten, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from .training import History, TrainingDiverged, progress_every, report_progress

if TYPE_CHECKING:  # pragma: no cover - type hints only
    import torch

__all__ = [
    "DEVICE_ENV",
    "get_device",
    "to_torch",
    "from_torch",
    "to_tensor",
    "train",
    "evaluate",
    "accuracy",
    "predict_logits",
    "save_checkpoint",
    "load_checkpoint",
    "small_cnn",
    "shifted_copies",
    "amp_dtype",
    "TrainingTiming",
    "time_training",
    "count_parameters",
]

#: Environment variable that forces a device, e.g. ``NNSCRATCH_DEVICE=cpu``.
DEVICE_ENV = "NNSCRATCH_DEVICE"


# ----------------------------------------------------------------------------- devices


def _mps_available(torch: Any) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the ``torch.device`` to compute on.

    With ``prefer=None`` the environment variable ``NNSCRATCH_DEVICE`` decides if it is set
    (``make execute`` and ``make test`` set ``NNSCRATCH_DEVICE=cpu``, so a GPU machine
    reproduces the stored CPU outputs; a notebook run by hand is not pinned); otherwise, and
    for ``"auto"``, the best available one: CUDA, then Apple MPS, then the CPU.
    ``prefer`` may be ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"mps"``, ``"auto"`` or a
    ``torch.device``.

    A device that is asked for by name but is not available is an error, never a silent
    fall-back to the CPU: code that asked for a GPU should not quietly run 50x slower.

    Raises:
        ValueError: for a name that is not one of the above.
        RuntimeError: when the requested device is not available on this machine.
    """
    import torch

    source = "prefer"
    if prefer is None:
        prefer = os.environ.get(DEVICE_ENV) or "auto"
        source = f"the environment variable {DEVICE_ENV}"
    if isinstance(prefer, torch.device):
        name = str(prefer)
    elif isinstance(prefer, str):
        name = prefer.strip().lower()
    else:
        raise TypeError(
            f"prefer must be a device name (str) or a torch.device, got {type(prefer).__name__}"
        )
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available(torch):
            return torch.device("mps")
        return torch.device("cpu")
    kind, _, index = name.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(
            f"unknown device {name!r} (from {source}): expected 'auto', 'cpu', 'cuda', "
            "'cuda:N' or 'mps'"
        )
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {name!r} was requested (from {source}) but CUDA is not available here "
                "(no NVIDIA GPU, or a CPU-only torch build). Use get_device() to pick the best "
                "available device, or 'cpu'."
            )
        if index and int(index) >= torch.cuda.device_count():
            raise RuntimeError(
                f"device {name!r} was requested but only {torch.cuda.device_count()} CUDA "
                "device(s) exist"
            )
    if kind == "mps" and not _mps_available(torch):
        raise RuntimeError(
            f"device 'mps' was requested (from {source}) but Apple MPS is not available here "
            "(it needs an Apple-silicon Mac). Use get_device() or 'cpu'."
        )
    return torch.device(name)


def _resolve_device(device: str | torch.device | None) -> torch.device | None:
    return None if device is None else get_device(device)


def amp_dtype(device: str | torch.device) -> torch.dtype:
    """The half-precision type ``torch.autocast`` should use on ``device``:
    ``torch.bfloat16`` on the CPU, ``torch.float16`` on CUDA and MPS."""
    import torch

    kind = torch.device(device).type
    return torch.bfloat16 if kind == "cpu" else torch.float16


# ----------------------------------------------------------------------------- conversion


def _torch_dtype(dtype: Any, default: Any) -> torch.dtype:
    import torch

    if dtype is None:
        dtype = default
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        return dtype
    try:
        np_dtype = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}") from exc
    if np_dtype == np.float32:
        return torch.float32
    if np_dtype == np.float64:
        return torch.float64
    raise TypeError(f"dtype must be float32 or float64, got {np_dtype}")


def _supported(kind: str) -> str:
    return (
        f"{kind} supports Linear, ReLU, Sigmoid, Tanh, Dropout, Flatten and Sequential "
        "(MLP is a Sequential)"
    )


def to_torch(
    model: Module, dtype: Any = None, device: str | torch.device | None = None
) -> torch.nn.Module:
    """An equivalent torch model with the same weights (copied, not shared).

    ``Sequential`` (and ``MLP``) become ``torch.nn.Sequential``; ``Linear`` becomes
    ``torch.nn.Linear`` (same ``weight (out, in)`` and ``bias (out,)``), ``ReLU``, ``Sigmoid``,
    ``Tanh``, ``Dropout(p)`` and ``Flatten`` their torch twins. The result is in the same
    train/eval mode. ``dtype`` is ``torch.float64``/``torch.float32`` (NumPy types work too);
    the default is the dtype of the model's weights. Converting uses no random numbers.

    Raises:
        TypeError: for a module type it cannot convert, or an unsupported dtype.
    """
    import torch

    if not isinstance(model, Module):
        raise TypeError(f"to_torch expects an nnscratch Module, got {type(model).__name__}")
    params = model.parameters()
    tdtype = _torch_dtype(dtype, params[0].data.dtype if params else np.float64)
    converted = _convert_to_torch(model, tdtype, torch)
    converted.train(model.training)
    return converted if device is None else converted.to(get_device(device))


def _convert_to_torch(m: Any, dtype: torch.dtype, torch: Any) -> torch.nn.Module:
    # ``m`` is Any: the exact-type tests below (subclasses are refused) do not narrow it.
    tnn = torch.nn
    if isinstance(m, Sequential):
        return tnn.Sequential(*(_convert_to_torch(child, dtype, torch) for child in m))
    kind = type(m)
    if kind is Linear:
        lin = torch.nn.utils.skip_init(
            tnn.Linear, m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype
        )
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(m.weight.data)))
            if m.bias is not None:
                lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(m.bias.data)))
        return lin
    if kind is Dropout:
        return tnn.Dropout(m.p)
    simple = {ReLU: tnn.ReLU, Sigmoid: tnn.Sigmoid, Tanh: tnn.Tanh, Flatten: tnn.Flatten}
    if kind in simple:
        return simple[kind]()
    raise TypeError(f"to_torch cannot convert a {kind.__name__}: {_supported('to_torch')}")


def from_torch(model: torch.nn.Module, dtype: Any = np.float64) -> Module:
    """The inverse of ``to_torch``: an nnscratch model with the torch model's weights (copied).

    ``dtype`` is ``np.float64`` (default) or ``np.float32``.

    Raises:
        TypeError: for a torch module type it cannot convert.
    """
    import torch

    np_dtype = np.dtype(dtype)
    if np_dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {np_dtype}")
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"from_torch expects a torch.nn.Module, got {type(model).__name__}")
    converted = _convert_from_torch(model, np_dtype, torch)
    converted.train(model.training)
    return converted


def _convert_from_torch(m: Any, dtype: np.dtype, torch: Any) -> Module:
    # ``m`` is Any: the exact-type tests below (subclasses are refused) do not narrow it.
    tnn = torch.nn
    if isinstance(m, tnn.Sequential):
        return Sequential(*(_convert_from_torch(child, dtype, torch) for child in m))
    kind = type(m)
    if kind is tnn.Linear:
        lin = Linear(
            m.in_features, m.out_features, bias=m.bias is not None, init="zeros", dtype=dtype
        )
        lin.weight.data[...] = m.weight.detach().cpu().numpy()
        if m.bias is not None and lin.bias is not None:
            lin.bias.data[...] = m.bias.detach().cpu().numpy()
        return lin
    if kind is tnn.Dropout:
        return Dropout(m.p)
    if kind is tnn.Flatten:
        if m.start_dim != 1 or m.end_dim != -1:
            raise TypeError("from_torch converts only nn.Flatten(start_dim=1, end_dim=-1)")
        return Flatten()
    simple = {tnn.ReLU: ReLU, tnn.Sigmoid: Sigmoid, tnn.Tanh: Tanh}
    if kind in simple:
        return simple[kind]()
    raise TypeError(f"from_torch cannot convert a {kind.__name__}: {_supported('from_torch')}")


def count_parameters(model: torch.nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters of a torch model (only those with ``requires_grad``)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


# ----------------------------------------------------------------------------- training


def _model_place(model: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    import torch

    for p in model.parameters():
        if p.is_floating_point():
            return p.device, p.dtype
    return torch.device("cpu"), torch.get_default_dtype()


def to_tensor(
    x: Any, *, device: str | torch.device | None = None, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """``x`` (NumPy array, list or tensor) as a tensor on ``device``.

    Floating inputs are cast to ``dtype`` when it is given; integer labels keep their type
    (int64, as ``CrossEntropyLoss`` wants). NumPy arrays are not copied when nothing changes.
    """
    import torch

    t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    if t.is_floating_point() and dtype is not None:
        t = t.to(dtype)
    elif not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool:
        t = t.long()
    return t if device is None else t.to(device)


def _check_mps_float64(device: torch.device, dtype: torch.dtype) -> None:
    import torch

    if device.type == "mps" and dtype == torch.float64:
        raise TypeError(
            "Apple MPS does not support float64: convert the model with "
            "to_torch(model, dtype=torch.float32) or train on device='cpu'"
        )


def _n_correct(out: torch.Tensor, y: torch.Tensor) -> float:
    # Correct predictions for integer labels: argmax of several outputs, or logit > 0 for one.
    if y.is_floating_point() or out.ndim != 2:
        return float("nan")
    labels = y.reshape(-1)
    pred = (out[:, 0] > 0).long() if out.shape[1] == 1 else out.argmax(dim=1)
    return float((pred == labels).sum().item())


def _autocast(device: torch.device, enabled: bool) -> Any:
    import contextlib

    import torch

    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp_dtype(device))


def predict_logits(
    model: torch.nn.Module,
    X: Any,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 1024,
    amp: bool = False,
) -> torch.Tensor:
    """Model outputs for ``X (n, ...)`` in eval mode without gradients, batch by batch,
    returned on the CPU as ``(n, outputs)`` in the model's dtype (float32 under ``amp``).
    The model's train/eval mode is restored."""
    import torch

    dev = _resolve_device(device)
    if dev is not None:
        model.to(dev)
    place, dtype = _model_place(model)
    Xt = to_tensor(X, dtype=dtype)
    was_training = model.training
    model.eval()
    outs = []
    try:
        with torch.no_grad():
            for i in range(0, len(Xt), batch_size):
                with _autocast(place, amp):
                    out = model(Xt[i : i + batch_size].to(place))
                if out.dtype in (torch.float16, torch.bfloat16):
                    out = out.float()
                outs.append(out.cpu())
    finally:
        model.train(was_training)
    return torch.cat(outs) if outs else torch.zeros(0)


def evaluate(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: Any,
    y: Any,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 1024,
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``X (n, ...)``, ``y (n,)`` in eval mode.

    Accuracy is NaN when ``y`` holds floating targets (regression). ``loss_fn`` must use
    mean reduction (the torch default). Nothing about the model changes.
    """
    import torch

    dev = _resolve_device(device)
    if dev is not None:
        model.to(dev)
    place, dtype = _model_place(model)
    Xt, yt = to_tensor(X, dtype=dtype), to_tensor(y, dtype=dtype)
    if len(Xt) != len(yt):
        raise ValueError(f"X has {len(Xt)} samples but y has {len(yt)}")
    was_training = model.training
    model.eval()
    total = correct = 0.0
    try:
        with torch.no_grad():
            for i in range(0, len(Xt), batch_size):
                xb, yb = Xt[i : i + batch_size].to(place), yt[i : i + batch_size].to(place)
                out = model(xb)
                total += float(loss_fn(out, yb).item()) * len(xb)
                correct += _n_correct(out, yb)
    finally:
        model.train(was_training)
    n = max(len(Xt), 1)
    return total / n, correct / n


def accuracy(
    model: torch.nn.Module,
    X: Any,
    y: Any,
    *,
    device: str | torch.device | None = None,
    batch_size: int = 1024,
) -> float:
    """Fraction of ``X (n, ...)`` whose predicted class (argmax of the logits) equals ``y (n,)``."""
    logits = predict_logits(model, X, device=device, batch_size=batch_size)
    labels = to_tensor(y).reshape(-1)
    if len(labels) != len(logits):
        raise ValueError(f"X has {len(logits)} samples but y has {len(labels)}")
    return _n_correct(logits, labels) / max(len(labels), 1)


def _check_epochs(epochs: object, batch_size: object) -> None:
    as_int(epochs, "epochs")
    as_int(batch_size, "batch_size")


class _TrainStep:
    """One step of ``train``: zero_grad, forward and loss (under autocast with ``amp``),
    backward and the optimiser's step (through the gradient scaler on CUDA)."""

    def __init__(
        self, model: torch.nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        optimizer: torch.optim.Optimizer, amp: bool, scaler: Any, when: tuple[int, int],
    ) -> None:
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.amp, self.scaler, self.when = amp, scaler, when

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[float, torch.Tensor]:
        """The batch's loss (a float, before the update) and the model's outputs."""
        self.optimizer.zero_grad()
        with _autocast(xb.device, self.amp):
            out = self.model(xb)
            loss = self.loss_fn(out, yb)
        value = float(loss.item())
        if not math.isfinite(value):
            lr = self.optimizer.param_groups[0]["lr"]
            raise TrainingDiverged(divergence_message(f"loss became {value}", *self.when, lr))
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self.optimizer.step()
        return value, out


def train(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    X: Any,
    y: Any,
    *,
    epochs: int,
    batch_size: int = 32,
    device: str | torch.device | None = None,
    validation: tuple[Any, Any] | None = None,
    seed: int | np.random.Generator = 0,
    amp: bool = False,
    scheduler: Any = None,
    verbose: bool | int = True,
) -> History:
    """Train a torch ``model`` with mini-batches and return an ``nnscratch`` ``History``.

    The loop is the one of ``nnscratch.fit``: each epoch visits ``X (n, ...)`` / ``y (n,)`` in a
    fresh order drawn from ``np.random.default_rng(seed)`` (so ``fit(..., rng=
    np.random.default_rng(seed))`` sees the very same batches), and for every batch runs
    ``zero_grad``, forward, loss, ``backward`` and ``optimizer.step``. An int ``seed`` also
    seeds torch (dropout). ``History.loss``/``acc`` are means over the epoch's batches.

    Args:
        device: where to train; the model and the data are moved there (the whole data set
            at once: fine for the course's small sets). ``None`` trains where the model is.
        validation: ``(X_val, y_val)``, evaluated after every epoch.
        amp: mixed precision with ``torch.autocast`` (bfloat16 on the CPU, float16 with a
            gradient scaler on CUDA).
        scheduler: a ``torch.optim.lr_scheduler`` stepped once after every epoch.
        verbose: True prints about ten progress lines, an int every that many epochs,
            False nothing.

    Raises:
        TrainingDiverged: when the loss becomes NaN or infinite (names the epoch).
    """
    import torch

    _check_epochs(epochs, batch_size)
    dev = _resolve_device(device)
    if dev is not None:
        model.to(dev)
    place, dtype = _model_place(model)
    _check_mps_float64(place, dtype)
    Xt, yt = to_tensor(X, device=place, dtype=dtype), to_tensor(y, device=place, dtype=dtype)
    if len(Xt) != len(yt):
        raise ValueError(f"X has {len(Xt)} samples but y has {len(yt)}")
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        torch.manual_seed(int(seed))
    gen = as_generator(seed)
    scaler = torch.amp.GradScaler("cuda") if amp and place.type == "cuda" else None
    every = progress_every(verbose, epochs)
    hist = History()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.from_numpy(gen.permutation(len(Xt))).to(place)
        total, correct = 0.0, 0.0
        step = _TrainStep(model, loss_fn, optimizer, amp, scaler, (epoch, epochs))
        for i in range(0, len(Xt), batch_size):
            idx = order[i : i + batch_size]
            value, out = step(Xt[idx], yt[idx])
            total += value * len(idx)
            correct += _n_correct(out.detach(), yt[idx])
        hist.lr.append(float(optimizer.param_groups[0]["lr"]))
        hist.loss.append(total / len(Xt))
        hist.acc.append(correct / len(Xt))
        if validation is not None:
            val_loss, val_acc = evaluate(model, loss_fn, *validation, batch_size=1024)
            hist.val_loss.append(val_loss)
            hist.val_acc.append(val_acc)
        if scheduler is not None:
            scheduler.step()
        report_progress(hist, epoch, epochs, every)
    hist.seconds = time.perf_counter() - start
    return hist


# ----------------------------------------------------------------------------- checkpoints


def save_checkpoint(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    **extra: Any,
) -> Path:
    """Save ``model``'s ``state_dict`` (and ``optimizer``'s, if given) plus ``extra`` values
    (epoch, accuracy, ...: numbers, strings, lists, dicts or tensors) to ``path``.
    Returns the path. Load it with ``load_checkpoint``."""
    import torch

    path = Path(path)
    if path.parent and not path.parent.exists():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    state = {
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "extra": dict(extra),
    }
    torch.save(state, path)
    return path


def load_checkpoint(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: str | torch.device | None = None,
) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) from a ``save_checkpoint`` file; return ``extra``.

    The file is read with ``weights_only=True`` (no arbitrary code from pickles).
    ``map_location="cpu"`` loads a GPU checkpoint on a machine without one.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if an optimizer is given but the checkpoint holds no optimizer state.
        RuntimeError: (from torch) if the model's layers do not match the checkpoint.
    """
    import torch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path} is not a checkpoint written by save_checkpoint")
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise ValueError(f"{path} holds no optimizer state: it was saved without optimizer=")
        optimizer.load_state_dict(state["optimizer"])
    return dict(state.get("extra") or {})


# ----------------------------------------------------------------------------- a small CNN


def small_cnn(
    num_classes: int = 10,
    channels: tuple[int, int] = (16, 32),
    *,
    image_size: int = 8,
    dropout: float = 0.25,
) -> torch.nn.Sequential:
    """A small CNN for ``(n, 1, image_size, image_size)`` images (8x8 digits by default).

    conv1 (1 -> c1, 3x3, padding 1) - ReLU - conv2 (c1 -> c2, 3x3, padding 1) - ReLU -
    2x2 max-pool - flatten - dropout - linear to ``num_classes`` logits. The layers are named
    (``model.conv1`` ...). Initial weights come from torch's generator: seed it first.
    """
    from collections import OrderedDict

    import torch

    if image_size < 2 or image_size % 2:
        raise ValueError(f"image_size must be an even int >= 2, got {image_size!r}")
    c1, c2 = channels
    tnn = torch.nn
    side = image_size // 2
    return tnn.Sequential(
        OrderedDict(
            [
                ("conv1", tnn.Conv2d(1, c1, kernel_size=3, padding=1)),
                ("relu1", tnn.ReLU()),
                ("conv2", tnn.Conv2d(c1, c2, kernel_size=3, padding=1)),
                ("relu2", tnn.ReLU()),
                ("pool", tnn.MaxPool2d(2)),
                ("flatten", tnn.Flatten()),
                ("dropout", tnn.Dropout(dropout)),
                ("fc", tnn.Linear(c2 * side * side, num_classes)),
            ]
        )
    )


def shifted_copies(X: Any, y: Any, pixels: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Data augmentation: ``X (n, C, H, W)`` plus four copies moved by ``pixels`` up, down,
    left and right (zeros fill in). Returns ``(5n, C, H, W)`` images and ``(5n,)`` labels,
    originals first. Deterministic: no random numbers."""
    import torch

    Xt, yt = to_tensor(X), to_tensor(y)
    if Xt.ndim != 4:
        raise ValueError(f"X must be images of shape (n, C, H, W), got shape {tuple(Xt.shape)}")
    if len(Xt) != len(yt):
        raise ValueError(f"X has {len(Xt)} samples but y has {len(yt)}")
    k = as_int(pixels, "pixels")
    h, w = Xt.shape[-2:]
    padded = torch.nn.functional.pad(Xt, (k, k, k, k))
    copies = [Xt]
    for dy, dx in ((0, k), (2 * k, k), (k, 0), (k, 2 * k)):
        copies.append(padded[:, :, dy : dy + h, dx : dx + w])
    return torch.cat(copies), yt.repeat(len(copies))


# ----------------------------------------------------------------------------- timing


@dataclass
class TrainingTiming:
    """How long ``time_training`` took: ``seconds`` for ``samples`` training samples."""

    device: str
    seconds: float
    samples: int

    @property
    def samples_per_s(self) -> float:
        """Training throughput."""
        return self.samples / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        return f"device={self.device}  {self.seconds:.3g} s  {self.samples_per_s:.0f} samples/s"


def time_training(
    make_model: Callable[[], torch.nn.Module],
    X: Any,
    y: Any,
    *,
    device: str | torch.device | None = None,
    epochs: int = 1,
    batch_size: int = 64,
    lr: float = 1e-3,
) -> TrainingTiming:
    """Time ``epochs`` of Adam + cross-entropy training of ``make_model()`` on ``device``.

    One warm-up batch runs first (CUDA start-up and kernel selection are not counted) and
    the clock stops only after the device has finished (``torch.cuda.synchronize``).
    Returns a ``TrainingTiming`` (``seconds``, ``samples_per_s``).
    """
    import torch

    _check_epochs(epochs, batch_size)
    dev = get_device(device)
    model = make_model().to(dev)
    _, dtype = _model_place(model)
    Xt, yt = to_tensor(X, device=dev, dtype=dtype), to_tensor(y, device=dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        elif dev.type == "mps":
            torch.mps.synchronize()

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    step(Xt[:batch_size], yt[:batch_size])  # warm-up
    sync()
    start = time.perf_counter()
    for _ in range(epochs):
        for i in range(0, len(Xt), batch_size):
            step(Xt[i : i + batch_size], yt[i : i + batch_size])
    sync()
    return TrainingTiming(str(dev), time.perf_counter() - start, epochs * len(Xt))
