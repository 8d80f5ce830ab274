"""What every exercise check shares: a one-line success, or a short block naming the mistake.

A check calls the student's function on cases whose answers are known (computed by the
library, never typed in), and raises ``CheckFailed`` with a hint about the most likely
mistake when something differs. Messages point at the mistake; they never print the
expected values or the formula. Instructors' solutions pass every check.

In Jupyter a ``CheckFailed`` shows as one short block (which exercise, what is wrong, what
to try) instead of a traceback through this package: IPython asks an exception for
``_render_traceback_()`` and prints the lines it returns.
"""

from __future__ import annotations

import copy
import inspect
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

__all__ = [
    "CheckFailed",
    "ExerciseNotDone",
    "EXERCISES",
    "passed",
    "fail",
    "close",
    "call_student",
    "answer_number",
    "answer_array",
    "answer_pair",
    "diagnose_train_step",
    "diagnose_update",
]

# Where each check sits in the course: (notebook, exercise number). The numbers are those of
# the "Exercise N" headings; tests/checks/test_checks_display.py proves they match the notebooks.
EXERCISES: dict[str, tuple[str, int]] = {
    "check_perceptron_output": ("01", 1),
    "check_nand_weights": ("01", 2),
    "check_perceptron_update": ("01", 3),
    "check_sigmoid": ("02", 1),
    "check_dense_forward": ("02", 2),
    "check_mlp_forward": ("02", 3),
    "check_collapse": ("02", 4),
    "check_mse": ("03", 1),
    "check_bce": ("03", 2),
    "check_linear_regression_grad": ("03", 3),
    "check_gd_step": ("03", 4),
    "check_sigmoid_derivative": ("04", 1),
    "check_output_gradient": ("04", 2),
    "check_value_mul": ("04", 3),
    "check_value_tanh": ("04", 4),
    "check_linear_backward": ("05", 1),
    "check_relu_backward": ("05", 2),
    "check_softmax_ce_backward": ("05", 3),
    "check_train_step": ("06", 1),
    "check_epoch_loss": ("06", 2),
    "check_count_parameters": ("06", 3),
    "check_best_epoch": ("06", 4),
    "check_one_hot": ("07", 1),
    "check_accuracy_from_logits": ("07", 2),
    "check_confident_mistakes": ("07", 3),
    "check_xavier_std": ("08", 1),
    "check_momentum_step": ("08", 2),
    "check_l2_gradient": ("08", 3),
    "check_to_float64_tensor": ("09", 1),
    "check_build_mlp": ("09", 2),
    "check_torch_train_step": ("09", 3),
    "check_move_batch": ("10", 1),
    "check_conv_output_size": ("10", 2),
    "check_conv_params": ("10", 3),
    "check_corr2d": ("11", 1),
    "check_corr2d_backward": ("11", 2),
    "check_maxpool_backward": ("11", 3),
    "check_attention": ("12", 1),
    "check_causal_mask": ("12", 2),
    "check_sinusoidal_positions": ("12", 3),
}

_TRY = "Change your code in the cell above and run the cell again."


def _exercise(name: str) -> str:
    where = EXERCISES.get(name)
    return f"Exercise {where[1]} (notebook {where[0]})" if where else "This exercise"


class CheckFailed(AssertionError):
    """An exercise answer is wrong; the message says what differs and the likely reason.

    ``str(exc)`` is ``"check_name: message"``. In Jupyter the exception renders as a short
    block without library frames (see ``_render_traceback_``).
    """

    def __init__(self, check: str, message: str, tip: str = _TRY) -> None:
        super().__init__(f"{check}: {message}")
        self.check, self.message, self.tip = check, message, tip

    def __reduce__(self) -> tuple:
        return (type(self), (self.check, self.message, self.tip))

    def headline(self) -> str:
        """The first line of the block: which exercise, and that it is not passed."""
        return f"\u2718 {_exercise(self.check)} is not right yet ({self.check})"

    def _render_traceback_(self) -> list[str]:
        """The lines IPython shows instead of a traceback."""
        body = textwrap.wrap(self.message[:1].upper() + self.message[1:], width=88)
        return [self.headline(), *("  " + line for line in body), "  " + self.tip]


class ExerciseNotDone(CheckFailed):
    """The student's function still raises the stub's ``NotImplementedError``."""

    def __init__(self, check: str) -> None:
        super().__init__(
            check,
            f"{_exercise(check)} is not done yet: your function still raises "
            "NotImplementedError.",
            tip="Replace `raise NotImplementedError()` with your code, then run the cell again.",
        )

    def __reduce__(self) -> tuple:
        return (type(self), (self.check,))

    def headline(self) -> str:
        return f"\u2718 {_exercise(self.check)} is not done yet ({self.check})"

    def _render_traceback_(self) -> list[str]:
        return [self.headline(), "  Your function still raises NotImplementedError, the "
                "placeholder of the exercise.", "  " + self.tip]


def passed(name: str, detail: str = "") -> None:
    """Print the one-line success message of check ``name``."""
    print(f"\u2714 {name} passed" + (f": {detail}" if detail else ""))


def fail(name: str, message: str) -> NoReturn:
    """Raise ``CheckFailed`` for check ``name`` with ``message``."""
    raise CheckFailed(name, message)


def close(a: Any, b: Any, *, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """True when ``a`` and ``b`` have the same shape and agree to the given tolerances
    (NaN never agrees)."""
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    with np.errstate(all="ignore"):
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _snapshot(value: Any) -> object:
    """A copy of an argument that can be compared after the call (arrays, tensors, lists)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if hasattr(value, "detach") and hasattr(value, "clone"):  # a torch tensor
        return value.detach().clone()
    if isinstance(value, list | tuple) and all(
        isinstance(v, np.ndarray | int | float | np.number) for v in value
    ):
        return copy.deepcopy(value)
    return None


def _unchanged(before: Any, after: Any) -> bool:
    if before is None:
        return True
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and bool(np.array_equal(before, after, equal_nan=True))
        )
    if hasattr(before, "detach"):
        return before.shape == after.shape and bool((before == after.detach()).all())
    if isinstance(before, list | tuple):
        return (
            isinstance(after, list | tuple)
            and len(before) == len(after)
            and all(
                np.shape(b) == np.shape(a) and bool(np.array_equal(b, a, equal_nan=True))
                for b, a in zip(before, after, strict=True)
            )
        )
    return True


def _arg_names(fn: Callable, n: int) -> list[str]:
    try:
        names = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(n)]


def call_student(
    name: str,
    fn: Any,
    *args: Any,
    what: str = "your function",
    hints: Sequence[tuple[tuple[str, ...], str]] = (),
    mutable: Sequence[int] = (),
) -> Any:
    """Call the student's ``fn(*args)`` and return what it returns.

    A stub's ``NotImplementedError`` becomes ``ExerciseNotDone``; any other crash a
    ``CheckFailed`` that quotes it (or, when the error text contains one of a hint's words,
    that hint's explanation). An argument that the call changed in place (arrays, tensors,
    lists of numbers; except the positions in ``mutable``) is reported as the mistake.
    NumPy's floating-point warnings are silenced: a NaN is the check's to explain.
    """
    if not callable(fn):
        fail(name, f"expected a function, got {type(fn).__name__}")
    before = [None if i in mutable else _snapshot(a) for i, a in enumerate(args)]
    try:
        with np.errstate(all="ignore"):
            out = fn(*args)
    except NotImplementedError:
        raise ExerciseNotDone(name) from None
    except CheckFailed:
        raise
    except Exception as exc:  # the student's code crashed: report it as the mistake
        text = f"{type(exc).__name__}: {exc}"
        for words, message in hints:
            if any(word.lower() in text.lower() for word in words):
                raise CheckFailed(name, f"{message} ({what} raised {text})") from None
        raise CheckFailed(name, f"{what} raised {text}") from None
    for arg_name, b, a in zip(_arg_names(fn, len(args)), before, args, strict=True):
        if not _unchanged(b, a):
            fail(
                name,
                f"{what} changed its input `{arg_name}` in place. The caller still needs the "
                "original values: build a new result instead of assigning into, or updating "
                "in place, an argument",
            )
    return out


def answer_number(name: str, out: Any, expected: str, *, allow_bool: bool = False) -> float:
    """The student's output as one float, or a ``CheckFailed`` saying ``expected``.

    A one-element array counts as a number; strings, several values and (unless
    ``allow_bool``) booleans do not. ``expected`` is the sentence the student reads, e.g.
    ``"the loss should be a single number"``.
    """
    if hasattr(out, "detach") and hasattr(out, "numpy"):  # a torch tensor
        out = out.detach().cpu().numpy()
    arr = np.asarray(out) if not isinstance(out, list | tuple | dict | set | str) else None
    kinds = (np.number, np.bool_) if allow_bool else (np.number,)
    if (
        arr is None
        or arr.size != 1
        or not any(np.issubdtype(arr.dtype, k) for k in kinds)
        or (isinstance(out, bool) and not allow_bool)
    ):
        shape = f" of shape {arr.shape}" if arr is not None and arr.ndim else ""
        got = "None" if out is None else f"{type(out).__name__}{shape}"
        fail(name, f"{expected}, got {got}")
    return float(arr.reshape(()))


def answer_array(
    name: str,
    out: Any,
    shape: tuple[int, ...],
    what: str,
    *,
    scalar_ok: bool = False,
) -> np.ndarray:
    """The student's output, which must be a NumPy array of ``shape`` with real numbers.

    A list or tuple is refused (later cells do array arithmetic with the result). With
    ``scalar_ok`` and ``shape == ()``, a Python or NumPy number is fine too.
    """
    if scalar_ok and shape == () and isinstance(out, int | float | np.number) and not isinstance(
        out, bool
    ):
        return np.asarray(out, dtype=np.float64)
    if isinstance(out, list | tuple):
        fail(
            name,
            f"{what} is a Python {type(out).__name__}; return a NumPy array (later cells do "
            "array arithmetic with it, and a list comprehension over the entries breaks that)",
        )
    if hasattr(out, "detach") and hasattr(out, "numpy"):
        fail(name, f"{what} is a torch tensor; this exercise works with NumPy arrays")
    if not isinstance(out, np.ndarray) or not (
        np.issubdtype(out.dtype, np.number) or np.issubdtype(out.dtype, np.bool_)
    ):
        fail(name, f"{what} should be a NumPy array of shape {shape}, got {type(out).__name__}")
    if out.shape != shape:
        fail(name, f"{what} should have shape {shape}, got shape {out.shape}")
    return out.astype(np.float64)


def answer_pair(name: str, out: Any, what: str) -> tuple[Any, Any]:
    """The student's output as two items (a tuple or list of length 2)."""
    if not isinstance(out, tuple | list) or len(out) != 2:
        length = f" of length {len(out)}" if isinstance(out, tuple | list) else ""
        got = type(out).__name__ + length
        fail(name, f"return a pair {what}, got {got}")
    return out[0], out[1]


def _stub_exercise(tb: Any) -> str | None:
    """The check called in the notebook cell where a stub's NotImplementedError was raised.

    ``tb`` is the traceback; its last frame must be code from a notebook cell (not from a
    library) whose source calls one of the checks, e.g. the student edition's
    ``raise NotImplementedError()`` above ``check_nand_weights(w_nand, b_nand)``, or a stub
    function defined in an exercise cell and called later.
    """
    import linecache
    import re

    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return None
    filename = tb.tb_frame.f_code.co_filename
    if "ipykernel_" not in filename and not filename.startswith("<ipython-input"):
        return None
    source = "".join(linecache.getlines(filename))
    if "raise NotImplementedError" not in source:
        return None
    names = [n for n in re.findall(r"\b(check_\w+)\(", source) if n in EXERCISES]
    return names[0] if names else None


def _not_done_handler(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None
) -> list[str]:
    """IPython handler for NotImplementedError: a stub's shows "Exercise N is not done yet",
    any other the usual traceback."""
    name = _stub_exercise(tb)
    if name is None:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    else:
        stb = ExerciseNotDone(name)._render_traceback_()
        stb[1] = "  The exercise's code still raises NotImplementedError, its placeholder."
    shell._showtraceback(etype, value, stb)
    return stb


def install_ipython_hook() -> bool:
    """In an IPython kernel, show a stub's ``NotImplementedError`` raised in an exercise cell
    as "Exercise N is not done yet". Does nothing outside IPython, or when another custom
    exception handler is installed; returns whether the hook is active."""
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    current = tuple(getattr(shell, "custom_exceptions", ()))
    if current and current != (NotImplementedError,):
        return False
    shell.set_custom_exc((NotImplementedError,), _not_done_handler)
    return True


def diagnose_train_step(
    name: str, forwards: list[bool], left_training: bool, steps: int, changed: bool, k: int
) -> None:
    """The mistakes a ``train_step`` can make, whatever the framework (notebooks 06 and 09).

    ``forwards``: the training flag seen by each forward pass of the step; ``left_training``:
    the model's flag after the step; ``steps``: how often the optimiser stepped; ``changed``:
    whether the parameters moved; ``k``: the step's index (from 0).
    """
    if forwards and not all(forwards):
        fail(name, "the model was in evaluation mode during the step (model.eval()): "
                   "training steps run in training mode, so dropout stays active")
    if len(forwards) > 1:
        fail(name, f"your step ran the model forward {len(forwards)} times; one forward "
                   "pass gives the loss to return and the gradients to step along")
    if not forwards:
        fail(name, "your step never ran the model on the batch")
    if not left_training:
        fail(name, "the model is left in evaluation mode after your step")
    if steps == 0 and changed:
        fail(name, "you changed the parameters yourself instead of calling the optimiser's "
                   "step: the optimiser holds the update rule (here with momentum), so let "
                   "it take the step")
    if steps > 1:
        fail(name, "the optimiser stepped more than once in one training step")
    if not changed:
        fail(name, f"the parameters did not change in step {k + 1}: after the loss, run the "
                   "backward pass and then the optimiser's step (clear the gradients only "
                   "after the step, or before the backward pass)")


def diagnose_update(name: str, k: int, *, right: bool, piled: bool, by_hand: bool,
                    order: str) -> None:
    """The parameters after step ``k`` (from 0), against the references of notebooks 06 and 09.

    ``right``: they equal one optimiser step; ``piled``: they equal a step that reused the
    gradients of the earlier steps; ``by_hand``: a step written without the optimiser.
    ``order`` is the framework's sequence of calls, named when nothing else explains it.
    """
    if right:
        return
    if piled:
        fail(name, f"step {k + 1} used gradients left over from the earlier steps: backward "
                   "adds into .grad, so clear the gradients once per step")
    if by_hand:
        fail(name, "you updated the parameters yourself instead of calling the optimiser's "
                   "step")
    fail(name, f"the parameters after step {k + 1} differ from one optimiser step on this "
               f"batch: {order}")
