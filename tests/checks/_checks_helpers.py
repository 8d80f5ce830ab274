"""Shared by the tests of the exercise checks: every test module lists, per check, answers
that must pass (the reference and differently written correct ones) and wrong answers with
a pattern the failure message must match (pointing at the mistake).

``RIGHT[check]`` is a list of argument tuples; ``WRONG[check]`` a list of
``(label, argument tuple, pattern)``. ``parametrize_right`` / ``parametrize_wrong`` turn them
into pytest cases; tests/checks/test_checks_leaks.py collects them from every module.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import pytest

from nnscratch.checks import CheckFailed

Args = tuple
Table = dict[Callable, list]


def right_cases(table: Table) -> list:
    return [
        pytest.param(check, args, id=f"{check.__name__}-{i}")
        for check, answers in table.items()
        for i, args in enumerate(answers)
    ]


def wrong_cases(table: Table) -> list:
    return [
        pytest.param(check, args, pattern, id=f"{check.__name__}-{label}")
        for check, answers in table.items()
        for label, args, pattern in answers
    ]


def assert_passes(check: Callable, args: Args) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check(*args)
    assert out.getvalue().startswith(f"\u2714 {check.__name__} passed"), out.getvalue()
    return out.getvalue()


def failure(check: Callable, args: Args) -> CheckFailed:
    """The CheckFailed that ``check(*args)`` raises (the test fails if it passes)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(CheckFailed) as info:
        check(*args)
    return info.value


def assert_rejects(check: Callable, args: Args, pattern: str) -> None:
    exc = failure(check, args)
    assert str(exc).startswith(f"{check.__name__}: "), str(exc)
    import re

    assert re.search(pattern, exc.message), f"{exc.message!r} does not match {pattern!r}"
