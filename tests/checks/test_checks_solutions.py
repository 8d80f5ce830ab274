"""The instructors' solutions in the notebooks pass the exercise checks.

Each notebook's first code cell (its imports, without ``setup_notebook``) and then every
exercise cell, cut right after its ``check_...(...)`` call, run in one namespace, in order:
so a solution that uses an earlier one (``perceptron_update`` calls ``perceptron_output``)
runs as it does in the notebook. Nothing else of the notebook is executed.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from nnscratch.checks._core import EXERCISES

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHECK_CALL = re.compile(r"^(check_\w+)\(.*\)\s*$", re.M)


def exercise_cells(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """The import cell and the exercise cells (check name, source up to the check call)."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    imports = "\n".join(line for line in code[0].splitlines() if "setup_notebook" not in line)
    cells = []
    for src in code:
        if "### BEGIN SOLUTION" not in src:
            continue
        m = CHECK_CALL.search(src)
        assert m, f"{path.name}: an exercise cell without a check call:\n{src[:200]}"
        cells.append((m.group(1), src[: m.end()]))
    return imports, cells


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_reference_solutions_pass_their_checks(path: Path) -> None:
    imports, cells = exercise_cells(path)
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(imports, f"{path.name}:imports", "exec"), namespace)
        for check, src in cells:
            exec(compile(src, f"{path.name}:{check}", "exec"), namespace)
    lines = out.getvalue().splitlines()
    passed = [line for line in lines if line.startswith("\u2714 check_")]
    assert len(passed) == len(cells), lines
    listed = {n for n, (nb, _) in EXERCISES.items() if nb == path.name[:2]}
    assert {c for c, _ in cells} == listed, "nnscratch.checks._core.EXERCISES is out of date"
