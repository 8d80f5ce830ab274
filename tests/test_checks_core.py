"""The helpers every exercise check shares (nnscratch.checks._core)."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.checks._core import CheckFailed, as_number


@pytest.mark.parametrize("value", [0.5, 3, np.float32(0.5), np.array(0.5), np.array([0.5])])
def test_as_number_accepts_one_number(value: object) -> None:
    assert as_number("check_x", value, "should be one number") == pytest.approx(
        0.5 if value != 3 else 3
    )


@pytest.mark.parametrize("value", ["0.5", [0.1, 0.2], np.zeros(3), True, None])
def test_as_number_rejects_the_rest_with_the_given_sentence(value: object) -> None:
    with pytest.raises(CheckFailed, match=r"check_x: the loss should be one number, got"):
        as_number("check_x", value, "the loss should be one number")


def test_as_number_can_accept_booleans() -> None:
    assert as_number("check_x", np.True_, "a 0/1 output", allow_bool=True) == 1.0
