"""``nnscratch release``: the student edition, on fixtures and on the real notebooks."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from fixtures.notebook_factory import SOLUTION_LINES, instructor_notebook, write_notebook
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from nnscratch_tools import release as rel

REPO = Path(__file__).resolve().parents[2]
PATH = os.environ.get("PATH", "")
REAL_NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
STARTERS = sorted((REPO / "projects" / "starters").glob("*.ipynb"))


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A tiny course folder: one instructor notebook, a data file, a project starter. Its
    path, under the temporary folder (/tmp), has a space: a release works from any folder."""
    src = tmp_path / "my course"
    write_notebook(instructor_notebook(), src / "notebooks" / "01_fixture.ipynb")
    (src / "notebooks" / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    write_notebook(instructor_notebook(), src / "projects" / "starters" / "A.ipynb")
    write_notebook(instructor_notebook(), src / "projects" / "examples" / "model.ipynb")
    (src / "projects" / "README.md").write_text("# Projects\n", encoding="utf-8")
    return src


def _execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


# --------------------------------------------------------------------------- transformation
def test_release_source_follows_nbgrader_semantics() -> None:
    source = (
        "def f(x):\n"
        "    ### BEGIN SOLUTION\n"
        "    return x + 1\n"
        "    ### END SOLUTION\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert f(1) == 2\n"
        "### END HIDDEN TESTS\n"
        "check_f(f)"
    )
    assert rel.release_source(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\ncheck_f(f)"
    )
    assert rel.release_source("x = 1\nprint(x)\n") == "x = 1\nprint(x)\n"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1", "no END SOLUTION"),
        ("x = 1\n### END SOLUTION", "without a matching BEGIN"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx\n### END SOLUTION", "cannot be nested"),
        ("### BEGIN SOLUTION\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n", "nested"),
        ("### BEGIN HIDDEN TESTS\nx\n### END SOLUTION", "unbalanced"),
    ],
)
def test_bad_markers_are_refused_naming_the_cell(source: str, message: str) -> None:
    with pytest.raises(rel.ReleaseError, match=message) as info:
        rel.release_source(source, notebook="nb.ipynb", cell=3)
    assert "nb.ipynb, cell 3" in str(info.value)


def test_markers_outside_code_cells_are_refused() -> None:
    nb = instructor_notebook()
    nb.cells[0].source += "\n### BEGIN SOLUTION"
    with pytest.raises(rel.ReleaseError, match=r"x\.ipynb, cell 1 .*markdown cell"):
        rel.release_notebook(nb, name="x.ipynb")


def test_release_notebook_clears_outputs_and_keeps_the_rest() -> None:
    nb = instructor_notebook()
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nb.cells[1].execution_count = 7
    nb.cells[1].metadata["tags"] = ["keep-me"]
    before = nbformat.writes(nb)
    student = rel.release_notebook(nb, name="x.ipynb")
    assert nbformat.writes(nb) == before, "the instructor notebook was modified"
    nbformat.validate(student)
    for old, new in zip(nb.cells, student.cells, strict=True):
        assert new.metadata == old.metadata and new.get("id") == old.get("id")
        if new.cell_type == "code":
            assert new.outputs == [] and new.execution_count is None
        if "BEGIN" not in old.source:
            assert new.source == old.source
    text = nbformat.writes(student)
    assert "check_sigmoid(my_sigmoid)" in text and "HIDDEN" not in text
    assert "assert double(-1)" not in text
    for line in SOLUTION_LINES:
        assert line not in text


# --------------------------------------------------------------------------- whole release
def test_release_writes_student_edition_idempotently(course: Path, tmp_path: Path) -> None:
    sources = _tree_digest(course)
    out = tmp_path / "student"
    written = rel.release(course, out)
    assert sorted(map(str, written)) == [
        "notebooks/01_fixture.ipynb",
        "notebooks/table.csv",
        "projects/README.md",
        "projects/starters/A.ipynb",
    ]
    assert _tree_digest(course) == sources, "release modified its sources"
    assert (out / "notebooks" / "table.csv").read_bytes() == b"a,b\n1,2\n"
    first = _tree_digest(out)
    rel.release(course, out)
    assert _tree_digest(out) == first, "releasing twice gave different files"
    nbformat.validate(nbformat.read(out / "notebooks" / "01_fixture.ipynb", as_version=4))


def test_failed_release_writes_nothing(course: Path, tmp_path: Path) -> None:
    bad = instructor_notebook()
    bad.cells[5].source = "### BEGIN SOLUTION\nanswer = 42"  # no END
    write_notebook(bad, course / "notebooks" / "02_bad.ipynb")
    (course / "notebooks" / "03_broken.ipynb").write_text("{not json", encoding="utf-8")
    out = tmp_path / "student"
    with pytest.raises(rel.ReleaseError) as info:
        rel.release(course, out)
    message = str(info.value)
    assert "notebooks/02_bad.ipynb, cell 6" in message and "no END SOLUTION" in message
    assert "notebooks/03_broken.ipynb" in message
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["my course"], "temporary files left behind"
    # an earlier good release in `out` survives a refused one untouched
    shutil.move(course / "notebooks" / "02_bad.ipynb", tmp_path / "bad.ipynb")
    (course / "notebooks" / "03_broken.ipynb").unlink()
    rel.release(course, out)
    before = _tree_digest(out)
    shutil.move(tmp_path / "bad.ipynb", course / "notebooks" / "02_bad.ipynb")
    with pytest.raises(rel.ReleaseError):
        rel.release(course, out)
    assert _tree_digest(out) == before


def test_release_refuses_to_replace_a_foreign_folder(course: Path, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete", encoding="utf-8")
    with pytest.raises(ValueError, match="not written by `nnscratch release`"):
        rel.release(course, precious)
    assert (precious / "thesis.txt").read_text(encoding="utf-8") == "do not delete"
    with pytest.raises(ValueError, match="inside the sources"):
        rel.release(course, course / "notebooks" / "out")


def test_cli_release(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "student edition"  # a space in the output folder too
    cmd = [sys.executable, "-m", "nnscratch_tools", "release", "--source", str(course)]
    done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "2 notebooks" in done.stdout and (out / "notebooks" / "01_fixture.ipynb").is_file()
    write_notebook(nbformat.v4.new_notebook(), course / "notebooks" / "x.ipynb")
    nb = nbformat.read(course / "notebooks" / "x.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("### END SOLUTION"))
    nbformat.write(nb, course / "notebooks" / "x.ipynb")
    done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "notebooks/x.ipynb, cell 1" in done.stderr and "nothing was written" in done.stderr


# --------------------------------------------------------------------------- execution
def test_instructor_fixture_passes_every_check(tmp_path: Path) -> None:
    nb = _execute(instructor_notebook(), tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "check_sigmoid passed" in text
    assert "double ok" in text
    assert not any(o.output_type == "error" for c in nb.cells for o in c.get("outputs", []))


def _first_exercise(nb: nbformat.NotebookNode) -> int:
    return next(
        i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "BEGIN SOLUTION" in c.source
    )


def _assert_stops_at_first_exercise(
    instructor: nbformat.NotebookNode, student: nbformat.NotebookNode, cwd: Path
) -> None:
    first = _first_exercise(instructor)
    with pytest.raises(CellExecutionError) as info:
        _execute(student, cwd)
    error = info.value
    # The student's stub raises NotImplementedError, directly or through a check that
    # reports it ("still raises NotImplementedError").
    assert error.ename == "NotImplementedError" or "NotImplementedError" in error.evalue
    failed = [
        i
        for i, c in enumerate(student.cells)
        if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)
    ]
    # It stops at the exercise cell or at the check in the next code cell, not earlier.
    next_code = next(
        (i for i in range(first + 1, len(student.cells)) if student.cells[i].cell_type == "code"),
        first,
    )
    assert failed and failed[0] in (first, next_code), (failed, first)


def test_released_fixture_stops_at_first_exercise(tmp_path: Path) -> None:
    instructor = instructor_notebook()
    student = rel.release_notebook(instructor)
    _assert_stops_at_first_exercise(instructor, student, tmp_path)


# --------------------------------------------------------------------------- real notebooks
needs_real = pytest.mark.skipif(not REAL_NOTEBOOKS, reason="no notebooks in notebooks/ yet")


@pytest.fixture(scope="module")
def real_release(course_release: Path) -> Path:
    """One release of the real repository (``nnscratch release``, which must leave notebooks/
    untouched), made once per session (tests/conftest.py) and shared with the hub's test."""
    return course_release


@needs_real
@pytest.mark.parametrize("path", REAL_NOTEBOOKS + STARTERS, ids=lambda p: p.name)
def test_real_notebook_released_without_solutions(path: Path, real_release: Path) -> None:
    instructor = nbformat.read(path, as_version=4)
    released_path = real_release / path.relative_to(REPO)
    student = nbformat.read(released_path, as_version=4)
    nbformat.validate(student)
    assert len(student.cells) == len(instructor.cells)
    for index, (old, new) in enumerate(zip(instructor.cells, student.cells, strict=True)):
        if new.cell_type == "code":
            assert new.outputs == [] and new.execution_count is None
        if old.cell_type != "code" or "BEGIN SOLUTION" not in old.source:
            if "BEGIN HIDDEN TESTS" not in old.source:
                assert new.source == old.source, f"cell {index + 1} changed"
            continue
        assert "SOLUTION" not in new.source and "raise NotImplementedError()" in new.source
        outside = set(rel.release_source(old.source).split("\n"))
        for region in rel.solution_regions(old.source):
            for line in region:
                # a solution line may only remain if the same line exists outside the regions
                if line.strip():
                    survived = line in new.source.split("\n") and line not in outside
                    assert not survived, f"cell {index + 1}: solution line survived: {line!r}"
    assert "BEGIN SOLUTION" not in released_path.read_text(encoding="utf-8")


@needs_real
def test_a_real_released_notebook_stops_at_its_first_exercise(
    real_release: Path, tmp_path: Path
) -> None:
    def cells_before_first_exercise(path: Path) -> int:
        nb = nbformat.read(path, as_version=4)
        try:
            return _first_exercise(nb)
        except StopIteration:
            return 10**9

    path = min(REAL_NOTEBOOKS, key=cells_before_first_exercise)
    if cells_before_first_exercise(path) == 10**9:
        pytest.skip("no real notebook has an exercise yet")
    instructor = nbformat.read(path, as_version=4)
    student = nbformat.read(real_release / path.relative_to(REPO), as_version=4)
    _assert_stops_at_first_exercise(instructor, student, REPO / "notebooks")


def _nbgrader_source(which: str):
    if which == "fixture":
        return instructor_notebook()
    return nbformat.read(REAL_NOTEBOOKS[0], as_version=4)


@pytest.fixture(scope="module")
def nbgrader_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An nbgrader course whose assignment ps1 holds our fixture notebook and our first real
    notebook (``fixture.ipynb``, ``real.ipynb``), after ONE `nbgrader generate_assignment`: it
    handles every notebook of an assignment, and each run pays nbgrader's start-up and its
    gradebook's creation.

    Our notebooks carry no nbgrader cell metadata, so its metadata checks are switched off.
    """
    pytest.importorskip("nbgrader")
    tmp = tmp_path_factory.mktemp("nbgrader")
    course = tmp / "course"
    for which in ("fixture", "real") if REAL_NOTEBOOKS else ("fixture",):
        write_notebook(_nbgrader_source(which), course / "source" / "ps1" / f"{which}.ipynb")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nbgrader",
            "generate_assignment",
            "ps1",
            "--CourseDirectory.root=" + str(course),
            "--ClearSolutions.enforce_metadata=False",
            "--ClearHiddenTests.enforce_metadata=False",
            "--CourseDirectory.db_url=sqlite:///" + str(tmp / "gradebook.db"),
            "--force",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=course,
        # nbgrader runs the `alembic` script of its own environment
        env={**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), PATH])},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return course


@pytest.mark.parametrize("which", ["fixture", "real"])
def test_nbgrader_generate_assignment_accepts_our_notebook(
    which: str, nbgrader_course: Path
) -> None:
    """nbgrader (if installed) reads our markers the same way as `nnscratch release`."""
    if which == "real" and not REAL_NOTEBOOKS:
        pytest.skip("no notebooks in notebooks/ yet")
    theirs = nbformat.read(nbgrader_course / "release" / "ps1" / f"{which}.ipynb", as_version=4)
    ours = rel.release_notebook(_nbgrader_source(which))
    assert [c.source for c in theirs.cells] == [c.source for c in ours.cells]
