"""No check hands out the answer: neither its docstring (Shift-Tab in Jupyter) nor any
message it gives for the wrong answers listed in tests/checks/test_checks_nbNN.py (their ``WRONG``
tables) states a formula in code or prints expected values."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from _checks_helpers import failure

import nnscratch.checks

MODULES = [
    importlib.import_module(f"nnscratch.checks.{p.stem}")
    for p in sorted(Path(nnscratch.checks.__file__).parent.glob("nb[0-9][0-9].py"))
]
CHECKS = [getattr(m, name) for m in MODULES for name in m.__all__]

# code that would be (part of) an answer: matrix products, NumPy calls, powers, transposes,
# accumulation, integer division, the functions an answer is made of, "x = formula"
CODE = [
    r"@",
    r"\bnp\.\w+",
    r"\*\*",
    r"\.T\b",
    r"\+=|-=|\*=",
    r"//",
    r"\b(sum|mean|sqrt|exp|log|argmax|argmin|argsort|maximum|dot|einsum|zeros|eye|ones|"
    r"where|tensor|item|to|step|zero_grad|backward)\(",
    r"\b[A-Za-z_]\w*\s=\s[^,;:()]*[+*/-]",
    r"expected\s+[A-Za-z_(][\w.]*\s*[-+*/]",
]
# printed values: expected numbers, arrays of numbers, many-digit results
VALUES = [
    r"expected\s*[:=]?\s*-?\d",
    r"should be\s*-?\d",
    r"(?<!sizes )(?<!sizes=)\[\s*-?\d",
    r"\d\.\d{3,}",
]


TESTS = sorted(p.stem for p in Path(__file__).parent.glob("test_checks_nb[0-9][0-9].py"))


def _wrong_answers() -> list:
    cases = []
    for stem in TESTS:
        module = importlib.import_module(stem)
        for check, answers in module.WRONG.items():
            for label, args, _ in answers:
                cases.append(pytest.param(check, args, id=f"{check.__name__}-{label}"))
    return cases


def _leaks(text: str, patterns: list[str]) -> list[str]:
    return [m.group(0) for p in patterns for m in re.finditer(p, text)]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_docstrings_state_no_formula(check) -> None:
    doc = inspect.getdoc(check)
    assert doc and doc.startswith("Check "), check.__name__
    assert not _leaks(doc, CODE[:6] + CODE[7:] + VALUES), doc


@pytest.mark.parametrize(("check", "args"), _wrong_answers())
def test_failure_messages_state_no_formula_and_no_expected_values(check, args) -> None:
    message = failure(check, args).message
    assert not _leaks(message, CODE + VALUES), message


def test_the_scanner_catches_the_answers_the_old_messages_gave() -> None:
    old = [
        "The answer is W = W2 @ W1 and b = W2 @ b1 + b2",
        "expected grad + lam * w",
        "got indices [3, 17], expected [17, 3]",
        "the layer is x @ W.T + b",
        "expected 0.4375",
        "dw = (2 / n) * X.T @ (X @ w + b - y)",
        "use np.mean, not np.sum",
        "accumulate with += so both uses count",
    ]
    for text in old:
        assert _leaks(text, CODE + VALUES), text
