"""Grade a folder of submissions: find them, validate, run a copy of each, score, report.

A submission is an ``.ipynb`` file directly in the submissions folder, or a sub-folder
holding one notebook (its other files, data for instance, are copied along). Every
submission gets a :class:`SubmissionResult`, whatever it does; originals are only read.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .criteria import CriterionScore, cell_errors, score_automatic
from .rubric import Rubric
from .sandbox import Limits, RunOutcome, execute_isolated

__all__ = [
    "Submission",
    "SubmissionResult",
    "discover_submissions",
    "grade_all",
    "grade_submission",
    "read_notebook",
]

#: Largest submitted notebook the grader reads, in bytes.
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
#: Largest submission folder copied for a run, in bytes.
MAX_FOLDER_BYTES = 200 * 1024 * 1024
_PREFERRED = ("submission.ipynb", "project.ipynb", "main.ipynb")
_SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", ".git"}


@dataclass
class Submission:
    """One submission: ``name`` (row label), ``path`` (file or folder), ``notebook`` or a
    ``problem`` saying why no notebook could be picked."""

    name: str
    path: Path
    notebook: Path | None
    problem: str = ""


@dataclass
class SubmissionResult:
    """The grade of one submission.

    Attributes:
        submission: what was graded.
        status: ``ok`` (ran to the end), ``incomplete`` (stopped: timeout, dead kernel) or
            ``could not run`` (not a valid notebook, none found, runner failure).
        reason: one line saying why, empty when ``ok``.
        scores: the automatic criteria's points, with reasons.
        outcome: the run's outcome (None when it did not run).
        validation: problems found when validating the notebook.
        wall_s: seconds spent on this submission.
        file_name: safe file stem for its feedback and executed copy.
    """

    submission: Submission
    status: str
    reason: str
    scores: list[CriterionScore]
    outcome: RunOutcome | None = None
    validation: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    file_name: str = ""

    @property
    def automatic_points(self) -> float:
        """Sum of the automatic criteria's points."""
        return float(sum(s.points for s in self.scores))


def _visible(path: Path, root: Path) -> bool:
    rel = path.relative_to(root)
    return not any(p in _SKIP_PARTS or p.startswith(".") for p in rel.parts)


def discover_submissions(folder: str | Path) -> list[Submission]:
    """The submissions in ``folder``, sorted by name.

    Raises:
        ValueError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions folder {folder} does not exist or is not a folder")
    found: list[Submission] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in _SKIP_PARTS or entry.is_symlink():
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found.append(Submission(entry.stem, entry, entry))
        elif entry.is_dir():
            notebooks = sorted(
                p
                for p in entry.rglob("*.ipynb")
                if _visible(p, entry) and p.is_file() and not p.is_symlink()
            )
            preferred = [p for p in notebooks if p.name in _PREFERRED]
            if len(notebooks) == 1:
                found.append(Submission(entry.name, entry, notebooks[0]))
            elif len(preferred) == 1:
                found.append(Submission(entry.name, entry, preferred[0]))
            elif not notebooks:
                found.append(Submission(entry.name, entry, None, "no .ipynb file in the folder"))
            else:
                names = ", ".join(str(p.relative_to(entry)) for p in notebooks[:5])
                found.append(
                    Submission(
                        entry.name,
                        entry,
                        None,
                        f"several notebooks ({names}); name the one to grade submission.ipynb",
                    )
                )
    return found


def read_notebook(path: Path) -> tuple[Any | None, list[str]]:
    """Read and validate the notebook at ``path``: ``(notebook or None, problems)``.

    The notebook is returned (for the section checks) when it parses even if the schema
    validation finds problems; those problems are listed.
    """
    import nbformat

    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, [f"the notebook is {size / 1e6:.0f} MB, above the 50 MB limit"]
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"cannot read the file: {type(exc).__name__}: {exc}"]
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # NotJSONError, KeyError on a JSON that is not a notebook, ...
        first = str(exc).split("\n")[0][:300]
        return None, [f"not a readable notebook (invalid JSON or format): {first}"]
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        return nb, [f"the notebook does not follow the nbformat schema: {exc.message[:300]}"]
    except Exception as exc:
        return nb, [f"the notebook could not be validated: {str(exc)[:300]}"]
    return nb, []


def _copy_submission(sub: Submission, work: Path) -> Path:
    """Copy the submission into ``work``; return the copy of its notebook."""
    assert sub.notebook is not None
    if sub.path.is_file():
        target = work / sub.notebook.name
        shutil.copyfile(sub.notebook, target)
        return target
    total = 0
    for path in sorted(sub.path.rglob("*")):
        if path.is_symlink() or not _visible(path, sub.path) or not path.is_file():
            continue
        total += path.stat().st_size
        if total > MAX_FOLDER_BYTES:
            raise ValueError("the submission folder is larger than 200 MB")
        target = work / path.relative_to(sub.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return work / sub.notebook.relative_to(sub.path)


def safe_name(name: str, taken: set[str]) -> str:
    """A file-name-safe, unique version of ``name`` (added to ``taken``)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "submission"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def grade_submission(
    sub: Submission,
    rubric: Rubric,
    limits: Limits,
    scratch: Path,
    *,
    hide: Sequence[Path] = (),
) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission contains.

    Args:
        sub: the submission.
        rubric: the rubric (its automatic criteria are scored).
        limits: timeout and memory limits of the run.
        scratch: a folder for the temporary copy (removed by the caller).
        hide: folders the notebook must not see (see ``execute_isolated``).
    """
    start = time.monotonic()
    if sub.notebook is None:
        scores = score_automatic(rubric, None, None, None, sub.problem)
        return SubmissionResult(
            sub, "could not run", sub.problem, scores, wall_s=time.monotonic() - start
        )
    nb, problems = read_notebook(sub.notebook)
    if problems:
        reason = problems[0]
        scores = score_automatic(rubric, nb, None, None, reason)
        return SubmissionResult(
            sub, "could not run", reason, scores, None, problems, time.monotonic() - start
        )
    work, run_dir = scratch / "work", scratch / "run"
    work.mkdir(parents=True)
    try:
        copy = _copy_submission(sub, work)
    except (OSError, ValueError) as exc:
        reason = f"could not copy the submission: {exc}"
        scores = score_automatic(rubric, nb, None, None, reason)
        return SubmissionResult(
            sub, "could not run", reason, scores, wall_s=time.monotonic() - start
        )
    outcome = execute_isolated(copy, run_dir, limits, hide=hide)
    where = f" (in cell {outcome.cell + 1})" if outcome.cell is not None else ""
    if outcome.status == "completed":
        status, reason = "ok", ""
        errors = cell_errors(outcome.executed) if outcome.executed is not None else []
        if errors:
            index, name, _ = errors[0]
            reason = (
                f"ran to the end, but {len(errors)} cell(s) raised errors, "
                f"first {name} in cell {index + 1}"
            )
            if name == "MemoryError":
                reason += f" (the memory limit is {limits.memory_mb} MiB)"
    elif outcome.status in ("timeout", "kernel_died"):
        status, reason = "incomplete", outcome.detail + where
    else:
        status, reason = "could not run", outcome.detail + where
    if outcome.truncated:
        reason = (reason + "; " if reason else "") + "output truncated (it printed too much)"
    scores = score_automatic(rubric, nb, outcome.executed, outcome.status, outcome.detail + where)
    return SubmissionResult(sub, status, reason, scores, outcome, [], time.monotonic() - start)


def _fingerprint(path: Path) -> dict[str, str]:
    """SHA-256 of every file under ``path`` (or of ``path`` itself)."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def grade_all(
    folder: str | Path,
    rubric: Rubric,
    limits: Limits,
    *,
    progress: Callable[[SubmissionResult], None] | None = None,
    hide: Sequence[Path] = (),
) -> list[SubmissionResult]:
    """Grade every submission in ``folder``, in name order; one result per submission.

    Each runs from a fresh temporary copy that is deleted afterwards; ``folder`` itself
    and the folders in ``hide`` (say the grades) are hidden from the notebooks where the
    system allows it. A submission that
    changes an original (through an absolute path) is flagged in its reason.
    """
    results: list[SubmissionResult] = []
    taken: set[str] = set()
    folder = Path(folder)
    submissions = discover_submissions(folder)
    before = _fingerprint(folder)
    for sub in submissions:
        with tempfile.TemporaryDirectory(prefix="nnscratch-grade-") as scratch:
            try:
                result = grade_submission(sub, rubric, limits, Path(scratch), hide=[folder, *hide])
            except Exception as exc:  # a grader bug must not stop the other submissions
                reason = f"grader error: {type(exc).__name__}: {exc}"
                result = SubmissionResult(
                    sub, "could not run", reason, score_automatic(rubric, None, None, None)
                )
        after = _fingerprint(folder)
        if after != before:
            changed = sorted(set(before.items()) ^ set(after.items()))
            names = sorted({Path(p).name for p, _ in changed})[:5]
            result.reason = (result.reason + "; " if result.reason else "") + (
                f"WARNING: files in the submissions folder changed while it ran: {names}"
            )
            before = after
        result.file_name = safe_name(sub.name, taken)
        results.append(result)
        if progress is not None:
            progress(result)
    return results
