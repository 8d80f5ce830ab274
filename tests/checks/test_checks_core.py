"""The helpers every exercise check shares (nnscratch.checks._core): numbers, arrays, the
input-mutation guard, the short display in Jupyter, and "Exercise N is not done yet"."""

from __future__ import annotations

import numpy as np
import pytest
from _checks_helpers import failure
from test_checks_nb05 import RefCE, RefLinear, RefReLU

import nnscratch.checks as checks
from nnscratch.checks._core import (
    EXERCISES,
    CheckFailed,
    ExerciseNotDone,
    answer_array,
    answer_number,
    call_student,
)


@pytest.mark.parametrize("value", [0.5, 3, np.float32(0.5), np.array(0.5), np.array([0.5])])
def test_answer_number_accepts_one_number(value: object) -> None:
    assert answer_number("check_x", value, "should be one number") == pytest.approx(
        0.5 if value != 3 else 3
    )


@pytest.mark.parametrize("value", ["0.5", [0.1, 0.2], (0.5,), np.zeros(3), True, None])
def test_answer_number_rejects_the_rest_with_the_given_sentence(value: object) -> None:
    with pytest.raises(CheckFailed, match=r"check_x: the loss should be one number, got"):
        answer_number("check_x", value, "the loss should be one number")


def test_answer_number_never_repeats_a_string_it_was_given() -> None:
    with pytest.raises(CheckFailed) as info:
        answer_number("check_x", "0.123456", "one number")
    assert "0.123456" not in str(info.value)


def test_answer_number_can_accept_booleans() -> None:
    assert answer_number("check_x", np.True_, "a 0/1 output", allow_bool=True) == 1.0


def test_answer_array_refuses_lists_and_wrong_shapes() -> None:
    with pytest.raises(CheckFailed, match="Python list"):
        answer_array("check_x", [1.0, 2.0], (2,), "the output")
    with pytest.raises(CheckFailed, match=r"shape \(2,\), got shape \(2, 1\)"):
        answer_array("check_x", np.zeros((2, 1)), (2,), "the output")
    assert answer_array("check_x", 1.5, (), "the output", scalar_ok=True) == 1.5


def test_call_student_reports_an_input_changed_in_place_by_its_name() -> None:
    def scale(values, factor):
        values *= factor
        return values

    with pytest.raises(CheckFailed, match="changed its input `values` in place"):
        call_student("check_x", scale, np.ones(3), 2.0)
    assert call_student("check_x", lambda v, f: v * f, np.ones(3), 2.0).tolist() == [2.0] * 3


def test_call_student_quotes_a_crash_and_prefers_a_matching_hint() -> None:
    def crash(x):
        raise ValueError("matmul: shapes do not align")

    with pytest.raises(CheckFailed, match=r"your function raised ValueError: matmul"):
        call_student("check_x", crash, 1)
    with pytest.raises(CheckFailed, match=r"^check_x: W is stored \(out, in\)"):
        call_student("check_x", crash, 1, hints=[(("matmul",), "W is stored (out, in)")])


def test_the_jupyter_display_is_a_short_block_naming_the_exercise() -> None:
    exc = CheckFailed("check_gd_step", "you stepped uphill: the gradient points to where the "
                                       "loss grows")
    lines = exc._render_traceback_()
    assert lines[0] == "\u2718 Exercise 4 (notebook 03) is not right yet (check_gd_step)"
    assert lines[1] == "  You stepped uphill: the gradient points to where the loss grows"
    assert lines[-1].strip().startswith("Change your code")
    assert str(exc) == (
        "check_gd_step: you stepped uphill: the gradient points to where the loss grows"
    )
    assert isinstance(exc, AssertionError)  # pytest and plain Python still treat it as a failure


def stub(*args, **kwargs):
    raise NotImplementedError()


class StubLinear(RefLinear):
    def backward(self, grad_out):
        raise NotImplementedError()


class StubReLU(RefReLU):
    def backward(self, grad_out):
        raise NotImplementedError()


class StubCE(RefCE):
    def backward(self):
        raise NotImplementedError()


STUBS = {"check_linear_backward": StubLinear, "check_relu_backward": StubReLU,
         "check_softmax_ce_backward": StubCE}
FUNCTION_CHECKS = [
    n for n, (nb, _) in EXERCISES.items() if n != "check_nand_weights" and nb <= "10"
]


@pytest.mark.parametrize("name", FUNCTION_CHECKS)
def test_a_stub_says_which_exercise_is_not_done_yet(name: str) -> None:
    if name in ("check_build_mlp", "check_to_float64_tensor", "check_torch_train_step",
                "check_conv_params", "check_conv_output_size", "check_move_batch"):
        pytest.importorskip("torch")
    exc = failure(getattr(checks, name), (STUBS.get(name, stub),))
    notebook, number = EXERCISES[name]
    assert isinstance(exc, ExerciseNotDone)
    assert f"Exercise {number} (notebook {notebook}) is not done yet" in exc.message
    assert exc._render_traceback_()[0].endswith(f"is not done yet ({name})")
    assert "NotImplementedError()" in exc._render_traceback_()[-1]


def test_failures_survive_pickling() -> None:
    import pickle

    for exc in (CheckFailed("check_mse", "not squared"), ExerciseNotDone("check_mse")):
        again = pickle.loads(pickle.dumps(exc))
        assert type(again) is type(exc) and str(again) == str(exc)
        assert again._render_traceback_() == exc._render_traceback_()
