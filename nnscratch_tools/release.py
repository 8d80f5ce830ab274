"""``nnscratch release``: write the student edition of the course.

    nnscratch release                          -> build/student/
    nnscratch release --out DIR --source REPO

What changes, following nbgrader's markers (nbgrader's ``ClearSolutions`` and
``ClearHiddenTests`` are the reference for the semantics):

- in a code cell, every region from a line containing ``BEGIN SOLUTION`` to the line
  containing ``END SOLUTION`` (written ``### BEGIN SOLUTION`` in the course) becomes
  ``# YOUR CODE HERE`` + ``raise NotImplementedError()``, indented like the BEGIN line;
- every region from ``BEGIN HIDDEN TESTS`` to ``END HIDDEN TESTS`` is removed, markers included;
- outputs and execution counts of code cells are cleared.

Everything else (markdown, metadata, the ``check_...`` calls, the other lines of an
exercise cell) is kept as it is. Markers that are unbalanced, nested, or outside code
cells stop the release with a :class:`ReleaseError` naming the notebook and the cell,
and nothing is written. The sources are only read; the output is built in a temporary
folder and moved into place at the end, so a release is all or nothing, and releasing
twice gives byte-identical files.

Released: every file under ``notebooks/`` (notebooks transformed, other files copied),
and from ``projects/`` the README, the rubric, the submission template and the starters.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_HIDDEN_TESTS",
    "END_HIDDEN_TESTS",
    "CODE_STUB",
    "RELEASE_STAMP",
    "MarkerProblem",
    "ReleaseError",
    "add_parser",
    "find_release_files",
    "release",
    "release_notebook",
    "release_source",
    "run",
    "solution_regions",
]

BEGIN_SOLUTION = "BEGIN SOLUTION"
END_SOLUTION = "END SOLUTION"
BEGIN_HIDDEN_TESTS = "BEGIN HIDDEN TESTS"
END_HIDDEN_TESTS = "END HIDDEN TESTS"
#: What replaces a solution region (nbgrader's default stub for Python).
CODE_STUB: tuple[str, ...] = ("# YOUR CODE HERE", "raise NotImplementedError()")
#: File written at the top of a release; only a folder holding it may be replaced.
RELEASE_STAMP = ".nnscratch-release"
_STAMP_TEXT = "Student edition written by `nnscratch release`; rebuilt from the sources each run.\n"

# From projects/, only what students need (never the worked example or instructor notes).
_PROJECT_FILES = ("README.md", "rubric.yml", "template.ipynb")
_PROJECT_DIRS = ("starters",)
_SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", ".git"}

# marker text -> (kind, opens?)
_MARKERS: dict[str, tuple[str, bool]] = {
    BEGIN_SOLUTION: ("solution", True),
    END_SOLUTION: ("solution", False),
    BEGIN_HIDDEN_TESTS: ("hidden tests", True),
    END_HIDDEN_TESTS: ("hidden tests", False),
}


@dataclass(frozen=True)
class MarkerProblem:
    """One bad marker: where it is and what is wrong.

    Attributes:
        notebook: the notebook's path as given (relative to the source when releasing).
        cell: 1-based position of the cell in the notebook.
        cell_id: the cell's nbformat id ('' when the notebook has none).
        line: 1-based line in the cell source (0 when the problem is the cell's end).
        message: what is wrong, e.g. ``"BEGIN SOLUTION inside a solution region (nested)"``.
    """

    notebook: str
    cell: int
    cell_id: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.notebook}, cell {self.cell}"
        if self.cell_id:
            where += f" (id {self.cell_id})"
        if self.line:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


class ReleaseError(ValueError):
    """The sources cannot be released; ``problems`` lists every bad marker found."""

    def __init__(self, problems: Sequence[MarkerProblem | str]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        super().__init__(
            "cannot release the student edition (nothing was written):\n  " + "\n  ".join(lines)
        )


def _marker_in(line: str) -> str | None:
    """The marker that ``line`` contains (nbgrader matches the text anywhere in the line)."""
    for marker in (BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS, BEGIN_SOLUTION, END_SOLUTION):
        if marker in line:
            return marker
    return None


def _scan(
    source: str, *, notebook: str = "<notebook>", cell: int = 0, cell_id: str = ""
) -> tuple[list[tuple[int, int, str, str]], list[MarkerProblem]]:
    """Find the marker regions of one code cell's source.

    Returns ``(regions, problems)``: each region is ``(begin, end, kind, indent)`` with
    0-based line numbers of its two marker lines.
    """
    regions: list[tuple[int, int, str, str]] = []
    problems: list[MarkerProblem] = []
    open_at: tuple[int, str, str] | None = None  # (line, kind, indent)

    def problem(line: int, message: str) -> None:
        problems.append(MarkerProblem(notebook, cell, cell_id, line, message))

    for i, line in enumerate(source.split("\n")):
        marker = _marker_in(line)
        if marker is None:
            continue
        kind, opens = _MARKERS[marker]
        if opens:
            if open_at is not None:
                problem(
                    i + 1,
                    f"{marker} inside the {open_at[1]} region opened on line {open_at[0] + 1}"
                    " (markers cannot be nested)",
                )
                continue
            open_at = (i, kind, line[: len(line) - len(line.lstrip())])
        elif open_at is None:
            problem(i + 1, f"{marker} without a matching BEGIN {marker.split(' ', 1)[1]}")
        elif open_at[1] != kind:
            problem(
                i + 1,
                f"{marker} closes the {open_at[1]} region opened on line {open_at[0] + 1}"
                " (unbalanced markers)",
            )
            open_at = None
        else:
            regions.append((open_at[0], i, kind, open_at[2]))
            open_at = None
    if open_at is not None:
        problem(
            open_at[0] + 1,
            f"the {open_at[1]} region opened here has no END {open_at[1].upper()} (unbalanced)",
        )
    return regions, problems


def solution_regions(source: str) -> list[list[str]]:
    """The lines strictly inside each solution region of a code cell source.

    Args:
        source: the cell source (one string).

    Returns:
        one list of lines per ``BEGIN SOLUTION`` ... ``END SOLUTION`` region, in order.

    Raises:
        ReleaseError: when the markers are unbalanced or nested.
    """
    regions, problems = _scan(source)
    if problems:
        raise ReleaseError(problems)
    lines = source.split("\n")
    return [lines[b + 1 : e] for b, e, kind, _ in regions if kind == "solution"]


def release_source(
    source: str, *, notebook: str = "<notebook>", cell: int = 0, cell_id: str = ""
) -> str:
    """The student version of one code cell's source.

    Solution regions become ``CODE_STUB`` (indented like their BEGIN line); hidden-test
    regions disappear; every other line is kept exactly, and a source without markers
    comes back unchanged.

    Raises:
        ReleaseError: when the markers are unbalanced or nested (naming ``notebook`` and
            ``cell``).
    """
    regions, problems = _scan(source, notebook=notebook, cell=cell, cell_id=cell_id)
    if problems:
        raise ReleaseError(problems)
    if not regions:
        return source
    lines = source.split("\n")
    out: list[str] = []
    start = 0
    for begin, end, kind, indent in regions:
        out.extend(lines[start:begin])
        if kind == "solution":
            out.extend(indent + stub for stub in CODE_STUB)
        start = end + 1
    out.extend(lines[start:])
    return "\n".join(out)


def _check_notebook(nb: Any, name: str) -> list[MarkerProblem]:
    """Every marker problem in notebook ``nb`` (markers outside code cells included)."""
    problems: list[MarkerProblem] = []
    for index, cell in enumerate(nb.cells, start=1):
        cell_id = str(cell.get("id", ""))
        if cell.cell_type == "code":
            problems.extend(_scan(cell.source, notebook=name, cell=index, cell_id=cell_id)[1])
            continue
        for i, line in enumerate(cell.source.split("\n"), start=1):
            marker = _marker_in(line)
            if marker is not None:
                problems.append(
                    MarkerProblem(
                        name,
                        index,
                        cell_id,
                        i,
                        f"{marker} in a {cell.cell_type} cell (markers belong in code cells)",
                    )
                )
    return problems


def release_notebook(nb: Any, *, name: str = "<notebook>") -> Any:
    """The student edition of notebook ``nb`` (an nbformat v4 ``NotebookNode``), as a copy.

    ``nb`` itself is not modified.

    Raises:
        ReleaseError: listing every marker problem in the notebook, by cell.
    """
    problems = _check_notebook(nb, name)
    if problems:
        raise ReleaseError(problems)
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells, start=1):
        if cell.cell_type != "code":
            continue
        cell.source = release_source(cell.source, notebook=name, cell=index)
        cell.outputs = []
        cell.execution_count = None
    return student


def find_release_files(source: Path) -> list[Path]:
    """The files a release reads, relative to ``source``, sorted.

    Everything under ``notebooks/`` plus the student part of ``projects/``; checkpoint,
    cache and hidden files are skipped.
    """
    found: list[Path] = []

    def walk(folder: Path) -> Iterable[Path]:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(source)
            if path.is_file() and not any(
                part in _SKIP_PARTS or part.startswith(".") for part in rel.parts
            ):
                yield rel

    notebooks = source / "notebooks"
    if notebooks.is_dir():
        found.extend(walk(notebooks))
    projects = source / "projects"
    for name in _PROJECT_FILES:
        if (projects / name).is_file():
            found.append(Path("projects") / name)
    for name in _PROJECT_DIRS:
        if (projects / name).is_dir():
            found.extend(walk(projects / name))
    return sorted(set(found))


def _render(source: Path, files: Sequence[Path]) -> dict[Path, bytes]:
    """The content of every released file, in memory; raises ReleaseError on any problem."""
    import nbformat

    rendered: dict[Path, bytes] = {}
    problems: list[MarkerProblem | str] = []
    for rel in files:
        path = source / rel
        if rel.suffix != ".ipynb":
            rendered[rel] = path.read_bytes()
            continue
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # invalid JSON or not a notebook
            problems.append(f"{rel}: cannot read the notebook ({type(exc).__name__}: {exc})")
            continue
        try:
            student = release_notebook(nb, name=str(rel))
        except ReleaseError as exc:
            problems.extend(exc.problems)
            continue
        text = nbformat.writes(student)
        rendered[rel] = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    if problems:
        raise ReleaseError(problems)
    return rendered


def _check_out_folder(out: Path, source: Path) -> None:
    """Refuse an output folder whose replacement could destroy something else."""
    if out == source or source.is_relative_to(out):
        raise ValueError(f"--out {out} would replace the source folder {source}")
    for sub in ("notebooks", "projects", "lectures", "nnscratch"):
        if out.is_relative_to(source / sub):
            raise ValueError(f"--out {out} is inside the sources ({source / sub})")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / RELEASE_STAMP).is_file():
        raise ValueError(
            f"--out {out} is a non-empty folder that was not written by `nnscratch release` "
            f"(no {RELEASE_STAMP} file); choose an empty or new folder"
        )


def release(source: str | Path = ".", out: str | Path = "build/student") -> list[Path]:
    """Write the student edition of ``source`` into ``out``; return the written paths.

    ``out`` is replaced as a whole (only if empty or written by an earlier release), after
    everything has been built in a temporary folder beside it, so a failed release leaves
    ``out`` as it was. The sources are only read.

    Args:
        source: the course folder (holding ``notebooks/`` and ``projects/``).
        out: the folder to write, relative paths resolved from the current directory.

    Returns:
        the written files, relative to ``out``, sorted (the stamp file excluded).

    Raises:
        ReleaseError: a notebook has bad markers or cannot be read (nothing is written).
        ValueError: ``source`` has nothing to release, or ``out`` is unsafe to replace.
    """
    source, out = Path(source).resolve(), Path(out).resolve()
    if not (source / "notebooks").is_dir() and not (source / "projects").is_dir():
        raise ValueError(f"{source} has no notebooks/ or projects/ folder to release")
    _check_out_folder(out, source)
    rendered = _render(source, find_release_files(source))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (tmp / RELEASE_STAMP).write_text(_STAMP_TEXT, encoding="utf-8")
        for rel, data in rendered.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        if out.exists():
            old = out.with_name(f".{out.name}-old-{os.getpid()}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return sorted(rendered)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``release`` subcommand to the ``nnscratch`` command line."""
    parser = subparsers.add_parser(
        "release",
        help="write the student edition (solutions replaced, outputs cleared)",
        description="Write the student edition of notebooks/ and the project starters: each "
        "### BEGIN SOLUTION ... ### END SOLUTION region becomes '# YOUR CODE HERE' + "
        "'raise NotImplementedError()', hidden tests are removed, outputs are cleared. "
        "The sources are never modified; nothing is written if a marker is wrong.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("build/student"),
        metavar="DIR",
        help="folder to write (replaced as a whole; default: build/student)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="course folder holding notebooks/ and projects/ (default: .)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``nnscratch release``; 0 on success, 1 when the release was refused."""
    try:
        written = release(args.source, args.out)
    except ValueError as exc:  # ReleaseError included
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n_nb = sum(p.suffix == ".ipynb" for p in written)
    print(f"student edition written to {args.out}: {n_nb} notebooks, {len(written)} files")
    for rel in written:
        print(f"  {rel}")
    return 0
