"""In a real Jupyter kernel a failed check shows one short block (which exercise, what is
wrong, what to try) with no frames from the library, and a stub says which exercise is not
done yet. Also: the exercise numbers in nnscratch.checks match the notebooks' headings."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from nnscratch.checks._core import EXERCISES

ROOT = Path(__file__).resolve().parents[2]

WRONG = """\
import numpy as np
from nnscratch.checks import check_gd_step

def gd_step(theta, grad, lr):
    return theta + lr * grad

check_gd_step(gd_step)
"""

STUB = """\
from nnscratch.checks import check_perceptron_output

def perceptron_output(x, w, b):
    # YOUR CODE HERE
    raise NotImplementedError()

check_perceptron_output(perceptron_output)
"""

RIGHT = """\
from nnscratch.checks import check_gd_step
check_gd_step(lambda theta, grad, lr: theta - lr * grad)
"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (WRONG, STUB, RIGHT)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    cwd = tmp_path_factory.mktemp("display")
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def _error(cell: nbformat.NotebookNode) -> dict:
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1, cell.outputs
    return errors[0]


def _text(lines: list[str]) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))


def test_a_wrong_answer_shows_a_short_block_without_library_frames(executed) -> None:
    err = _error(executed.cells[0])
    text = _text(err["traceback"])
    assert len(text.splitlines()) <= 6, text
    assert "nnscratch/checks" not in text and "Traceback" not in text and "File " not in text
    first = text.splitlines()[0]
    assert first == "\u2718 Exercise 4 (notebook 03) is not right yet (check_gd_step)"
    assert "uphill" in text
    assert "run the cell again" in text


def test_a_stub_says_the_exercise_is_not_done_yet(executed) -> None:
    text = _text(_error(executed.cells[1])["traceback"])
    assert len(text.splitlines()) <= 6, text
    assert "nnscratch/checks" not in text and "File " not in text
    assert text.splitlines()[0].startswith("\u2718 Exercise 1 (notebook 01) is not done yet")
    assert "NotImplementedError()" in text


def test_a_right_answer_prints_one_line(executed) -> None:
    cell = executed.cells[2]
    assert [o.output_type for o in cell.outputs] == ["stream"]
    assert cell.outputs[0].text.splitlines() == [
        "\u2714 check_gd_step passed: steps on arrays and plain numbers agree with "
        "nnscratch.optim.SGD"
    ]


def test_exercise_numbers_match_the_notebook_headings() -> None:
    found = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        last = None
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                numbers = re.findall(r"Exercise\s*(\d+)", cell.source)
                last = int(numbers[-1]) if numbers else last
            elif cell.cell_type == "code":
                for name in re.findall(r"^(check_\w+)\(", cell.source, re.M):
                    found[name] = (path.name[:2], last)
    assert {k: v for k, v in found.items() if k in EXERCISES} == {
        k: v for k, v in EXERCISES.items() if k in found
    }
    assert {k for k, (nb, _) in EXERCISES.items() if nb <= "10"} <= set(found)



NAND_STUB = """\
import numpy as np
from nnscratch.checks import check_nand_weights

# YOUR CODE HERE
raise NotImplementedError()
check_nand_weights(w_nand, b_nand)
"""

LIBRARY_NOT_IMPLEMENTED = """\
from nnscratch.checks import check_gd_step

def helper():
    raise NotImplementedError("a genuine one, from code that has no check")

helper()
"""


def test_a_stub_raised_in_the_cell_itself_names_its_exercise(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NAND_STUB), nbformat.v4.new_code_cell("x = 1\nx")]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    err = _error(nb.cells[0])
    text = _text(err["traceback"])
    assert err["ename"] == "NotImplementedError"
    assert text.splitlines()[0] == (
        "\u2718 Exercise 2 (notebook 01) is not done yet (check_nand_weights)"
    ), text
    assert len(text.splitlines()) <= 4 and "File " not in text
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "1"  # the kernel goes on as usual


def test_other_not_implemented_errors_keep_their_traceback(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(LIBRARY_NOT_IMPLEMENTED)]
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = _text(_error(nb.cells[0])["traceback"])
    assert "a genuine one" in text and "helper()" in text
