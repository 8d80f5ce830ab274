"""Grade a folder of submissions: list every entry, clean and run a copy of each, score.

A submission is an ``.ipynb`` file (any case) directly in the submissions folder, or a
sub-folder holding one notebook (its other files, data for instance, are copied along).
Every entry of the folder gets a :class:`SubmissionResult`: symbolic links, hidden
entries and other files are listed as ``skipped`` with the reason. Originals are only
read, never followed through links, and each run works from its own copy, in its own
sandbox (:mod:`.sandbox`), ``jobs`` at a time.
"""

from __future__ import annotations

import itertools
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .criteria import CriterionScore, cell_errors, score_automatic
from .names import labels
from .rubric import Rubric
from .sandbox import Limits, RunOutcome, execute_isolated, library_copy

__all__ = [
    "Submission",
    "SubmissionResult",
    "clean_notebook",
    "discover_submissions",
    "grade_all",
    "grade_submission",
    "read_notebook",
]

#: Largest submitted notebook the grader reads, in bytes.
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
#: Largest submission folder copied for a run, in bytes, and most entries in it.
MAX_FOLDER_BYTES = 200 * 1024 * 1024
MAX_FOLDER_ENTRIES = 5000
#: Deepest folder nesting walked in a submission folder.
MAX_FOLDER_DEPTH = 32
#: Most cells in a notebook the grader runs (a real project has a few dozen).
MAX_CELLS = 2000
_PREFERRED = ("submission.ipynb", "project.ipynb", "main.ipynb")
_KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@dataclass
class Submission:
    """One entry of the submissions folder.

    Attributes:
        name: row label (:func:`.names.normalise_name`, unique in the run).
        path: the entry (file or folder).
        notebook: the notebook to grade, or None.
        problem: why no notebook is graded (empty otherwise).
        skipped: True for entries that are not submissions (links, hidden, other files).
    """

    name: str
    path: Path
    notebook: Path | None
    problem: str = ""
    skipped: bool = False


@dataclass
class SubmissionResult:
    """The grade of one submission.

    Attributes:
        submission: what was graded.
        status: ``ok`` (ran to the end), ``incomplete`` (stopped: timeout, dead kernel),
            ``could not run`` (not a valid notebook, none found, runner failure) or
            ``skipped`` (not a submission; the reason says why).
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


def _is_notebook_name(name: str) -> bool:
    return name.lower().endswith(".ipynb") and len(name) > len(".ipynb")


class FolderProblem(ValueError):
    """A submission folder the grader will not walk (too deep, too many entries)."""


def _walk(folder: Path) -> list[tuple[Path, list[str]]]:
    """Visible regular files under ``folder``, as ``(folder, names)`` pairs, sorted.

    Iterative (a folder nested a thousand levels deep cannot exhaust the stack), never
    follows links, skips hidden entries and ``__pycache__``.

    Raises:
        FolderProblem: more than :data:`MAX_FOLDER_DEPTH` levels or
            :data:`MAX_FOLDER_ENTRIES` entries.
    """
    found: list[tuple[Path, list[str]]] = []
    stack: list[tuple[Path, int]] = [(folder, 0)]
    seen = 0
    while stack:
        here, depth = stack.pop()
        if depth > MAX_FOLDER_DEPTH:
            raise FolderProblem(f"the folder is nested more than {MAX_FOLDER_DEPTH} levels deep")
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        seen += len(entries)
        if seen > MAX_FOLDER_ENTRIES:
            raise FolderProblem(f"the folder holds more than {MAX_FOLDER_ENTRIES} entries")
        files = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                stack.append((Path(entry.path), depth + 1))
            elif stat.S_ISREG(mode):
                files.append(entry.name)
        found.append((here, files))
    return sorted(found)


def _folder_notebooks(folder: Path) -> tuple[list[Path], str]:
    """Regular, visible notebooks under ``folder`` (links never followed), or a problem."""
    try:
        walked = _walk(folder)
    except FolderProblem as exc:
        return [], str(exc)
    found = [root / name for root, files in walked for name in files if _is_notebook_name(name)]
    return found, ""


def _folder_submission(name: str, path: Path) -> Submission:
    """The submission in folder ``path``: its one notebook, or its submission.ipynb."""
    notebooks, problem = _folder_notebooks(path)
    preferred = [p for p in notebooks if p.name.lower() in _PREFERRED]
    if problem:
        return Submission(name, path, None, problem)
    if len(notebooks) == 1:
        return Submission(name, path, notebooks[0])
    if len(preferred) == 1:
        return Submission(name, path, preferred[0])
    if not notebooks:
        return Submission(name, path, None, "no .ipynb file in the folder")
    names = ", ".join(str(p.relative_to(path)) for p in notebooks[:5])
    problem = f"several notebooks ({names}); name the one to grade submission.ipynb"
    return Submission(name, path, None, problem)


def discover_submissions(folder: str | Path) -> list[Submission]:
    """Every entry of ``folder``, sorted by name, each a :class:`Submission`.

    Raises:
        ValueError: ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions folder {folder} does not exist or is not a folder")
    found: list[Submission] = []
    raws = sorted(os.listdir(folder))
    stems = [raw[: -len(".ipynb")] if _is_notebook_name(raw) else raw for raw in raws]
    for raw, name in zip(raws, labels(raws, stems), strict=True):
        path = folder / raw

        def skip(why: str, path: Path = path, name: str = name) -> None:
            found.append(Submission(name, path, None, f"skipped: {why}", skipped=True))

        try:
            mode = os.lstat(path).st_mode
        except OSError as exc:
            skip(f"cannot be read ({type(exc).__name__})")
            continue
        if stat.S_ISLNK(mode):
            skip("a symbolic link (never followed, so it cannot point the grader elsewhere)")
        elif raw.startswith("."):
            skip("a hidden entry (its name starts with '.')")
        elif stat.S_ISREG(mode) and _is_notebook_name(raw):
            found.append(Submission(name, path, path))
        elif stat.S_ISDIR(mode):
            found.append(_folder_submission(name, path))
        elif stat.S_ISREG(mode):
            skip("not a notebook (.ipynb) or a folder")
        else:
            skip("not a regular file or folder (a device, pipe or socket)")
    return found


def _read_regular(path: Path, limit: int) -> bytes:
    """The bytes of regular file ``path``, never following a link, at most ``limit``."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path.name} is not a regular file")
        if info.st_nlink > 1:
            # A hard link can name any file of the same file system (the grader may run
            # as root): never read one on a student's behalf.
            raise OSError(f"{path.name} is a hard link ({info.st_nlink} names); not read")
        if info.st_size > limit:
            raise ValueError(f"{path.name} is {info.st_size / 1e6:.0f} MB, above the limit")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit / 1e6:.0f} MB")
    return data


def read_notebook(path: Path) -> tuple[Any | None, list[str]]:
    """Read and validate the notebook at ``path``: ``(notebook or None, problems)``.

    The notebook is returned (for the section checks) when it parses even if the schema
    validation finds problems; those problems are listed.
    """
    import nbformat

    try:
        text = _read_regular(path, MAX_NOTEBOOK_BYTES).decode("utf-8")
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        return None, [f"cannot read the notebook: {type(exc).__name__}: {str(exc)[:200]}"]
    try:
        raw = json.loads(text)
        cells = raw.get("cells") if isinstance(raw, dict) else None
        if isinstance(cells, list):
            if len(cells) > MAX_CELLS:
                return None, [f"the notebook has {len(cells)} cells, more than {MAX_CELLS}"]
            for cell in cells:
                if isinstance(cell, dict) and cell.get("cell_type") in ("markdown", "raw"):
                    # keys only code cells have (Jupyter opens and runs such a notebook)
                    cell.pop("outputs", None)
                    cell.pop("execution_count", None)
        nb = nbformat.reads(json.dumps(raw), as_version=4)
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


def clean_notebook(nb: Any) -> Any:
    """A copy of ``nb`` with no outputs, execution counts, tags or other metadata.

    Only what the run produces can then score: stored figures, ``skip-execution`` tags and
    stored error outputs are gone before the kernel starts.
    """
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    cells = []
    for cell in nb.cells:
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        make = {"code": new_code_cell, "markdown": new_markdown_cell}.get(
            cell.get("cell_type"), new_raw_cell
        )
        cells.append(make(source))
    clean = new_notebook(cells=cells)
    clean.metadata = nbformat.from_dict(
        {"kernelspec": dict(_KERNELSPEC), "language_info": {"name": "python"}}
    )
    return clean


def _copy_submission(sub: Submission, work: Path) -> Path:
    """Copy the submission's regular files into ``work``; return the copy of its notebook."""
    assert sub.notebook is not None
    work.mkdir(parents=True, exist_ok=True)
    if sub.path == sub.notebook:
        target = work / "submission.ipynb"
        target.write_bytes(_read_regular(sub.notebook, MAX_NOTEBOOK_BYTES))
        return target
    total = 0
    for root, files in _walk(sub.path):
        for name in files:
            path = root / name
            try:
                data = _read_regular(path, MAX_FOLDER_BYTES - total)
            except (OSError, ValueError) as exc:
                if isinstance(exc, ValueError):
                    raise ValueError("the submission folder is larger than 200 MB") from exc
                if path == sub.notebook:
                    raise
                continue
            total += len(data)
            target = work / path.relative_to(sub.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return work / sub.notebook.relative_to(sub.path)


def _remove(path: Path) -> None:
    """Remove ``path`` whatever is in it (modes changed, many files, folders nested
    thousands deep); never raises.

    No recursion and no long paths: the contents of each sub-folder are moved up into
    ``path`` (a rename on one file system) until every sub-folder is empty.
    """
    try:
        os.chmod(path, 0o700)
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            os.unlink(path)
            return
    except OSError:
        return
    counter = itertools.count(1)  # names of the entries moved up: .up-1, .up-2, ...
    for _ in range(10_000_000):  # bounded: each pass removes or moves up entries
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        if not entries or not _flatten_once(path, entries, counter):
            break
    try:
        os.rmdir(path)
    except OSError:
        pass


def _flatten_once(path: Path, entries: list[os.DirEntry], counter: Iterator[int]) -> bool:
    """One pass of :func:`_remove` over ``entries`` (those of ``path``): unlink each entry
    that is not a folder, remove each empty sub-folder, move each sub-folder's contents up
    into ``path``; True when anything was removed or moved."""
    progress = False
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
                progress = True
                continue
            os.chmod(entry.path, 0o700)
            inner = list(os.scandir(entry.path))
            if not inner:
                os.rmdir(entry.path)
            for child in inner:
                os.rename(child.path, os.path.join(path, f".up-{next(counter)}"))
            progress = True
        except OSError:
            continue
    return progress


def _result(sub: Submission, status: str, reason: str, rubric: Rubric, **kw: Any) -> Any:
    scores = score_automatic(rubric, kw.pop("nb", None), None, None, reason)
    return SubmissionResult(sub, status, reason, scores, **kw)


def grade_submission(
    sub: Submission,
    rubric: Rubric,
    limits: Limits,
    scratch: Path,
    library: Path,
    *,
    sandbox: bool = True,
    private: Sequence[Path] = (),
    kernel_prefix: Sequence[str] = (),
) -> SubmissionResult:
    """Grade one submission; never raises for anything the submission contains.

    Args:
        sub: the submission.
        rubric: the rubric (its automatic criteria are scored).
        limits: timeout and memory limits of the run.
        scratch: an empty folder of the grader's for this submission's copy and run.
        library: the grader's copy of the library (:func:`.sandbox.library_copy`).
        sandbox: False only for ``--unsafe-no-sandbox``.
        private: host paths the sandbox must not see (checked from inside it).
        kernel_prefix: without a sandbox only, what starts the kernel's command line
            (:func:`.sandbox.execute_isolated`).
    """
    start = time.monotonic()
    if sub.notebook is None:
        status = "skipped" if sub.skipped else "could not run"
        return _result(sub, status, sub.problem, rubric, wall_s=time.monotonic() - start)
    nb, problems = read_notebook(sub.notebook)
    if problems:
        return _result(
            sub, "could not run", problems[0], rubric, nb=nb, validation=problems,
            wall_s=time.monotonic() - start,
        )  # fmt: skip
    import nbformat

    source, run = scratch / "source", scratch / "run"
    run.mkdir(parents=True)
    try:
        _copy_submission(sub, source)
    except (OSError, ValueError) as exc:
        return _result(
            sub, "could not run", f"could not copy the submission: {exc}", rubric, nb=nb,
            wall_s=time.monotonic() - start,
        )  # fmt: skip
    nbformat.write(clean_notebook(nb), run / "input.ipynb")
    outcome = execute_isolated(
        run / "input.ipynb", source, run, library, limits, sandbox=sandbox, private=private,
        kernel_prefix=kernel_prefix,
    )
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


#: Scratch folders are named with this prefix, the grader's process id and a random part.
SCRATCH_PREFIX = "nnscratch-grade-"


def _remove_stale_scratch() -> None:
    """Remove scratch folders (and cgroups) of graders that were killed (by the OOM
    killer, say) before they could clean up: those whose process is gone."""
    from .sandbox import remove_stale_cgroups

    remove_stale_cgroups()
    base = Path(tempfile.gettempdir())
    try:
        entries = list(base.glob(f"{SCRATCH_PREFIX}*-*"))
    except OSError:
        return
    for folder in entries:
        pid = folder.name[len(SCRATCH_PREFIX) :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and folder.is_dir():
            _remove(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def grade_all(
    folder: str | Path,
    rubric: Rubric,
    limits: Limits,
    *,
    jobs: int | None = None,
    progress: Callable[[SubmissionResult], None] | None = None,
    sandbox: bool = True,
    private: Sequence[Path] = (),
    submissions: Sequence[Submission] | None = None,
    kernel_prefix: Sequence[str] = (),
) -> list[SubmissionResult]:
    """Grade every entry of ``folder``, ``jobs`` at a time; one result per entry.

    ``progress`` is called (in this thread) with each result as soon as it is known, so
    a caller can write it at once. Each submission runs from a fresh copy in its own
    sandbox; the copies are removed afterwards, whatever they hold.

    Args:
        folder: the submissions folder.
        rubric: the rubric.
        limits: limits of each run.
        jobs: submissions graded side by side (default: the number of CPU cores).
        progress: called with each result as it finishes.
        sandbox: False only for ``--unsafe-no-sandbox``.
        private: more host paths the sandboxes must not see (the output folder, the
            rubric, ...); the submissions folder, the home folder and the grader's own
            files are always on the list.
        submissions: grade only these entries of :func:`discover_submissions` ``(folder)``
            (a shard, or the one Gradescope submission); default every entry.
        kernel_prefix: without a sandbox only: see :func:`grade_submission`.
    """
    from .names import file_stem

    folder = Path(folder)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    if submissions is None:
        submissions = discover_submissions(folder)
    results: list[SubmissionResult] = []
    stems: set[str] = set()
    _remove_stale_scratch()
    scratch_root = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    hidden = [folder.resolve(), Path.home(), Path(__file__).resolve().parents[2], scratch_root]
    hidden += [Path(p).resolve() for p in private]

    def done(result: SubmissionResult) -> None:
        result.file_name = file_stem(result.submission.name, stems)
        results.append(result)
        if progress is None:
            return
        try:
            progress(result)
        except Exception as exc:  # writing this result failed: its row says why instead
            reason = f"grader error while recording the result: {type(exc).__name__}: {exc}"
            fallback = _result(result.submission, "could not run", reason[:500], rubric)
            fallback.file_name, results[-1] = result.file_name, fallback
            progress(fallback)

    def one(index: int, sub: Submission) -> SubmissionResult:
        scratch = scratch_root / f"s{index}"
        scratch.mkdir()
        try:
            return grade_submission(
                sub, rubric, limits, scratch, library, sandbox=sandbox, private=hidden,
                kernel_prefix=kernel_prefix,
            )
        except Exception as exc:  # a grader bug must not stop the other submissions
            reason = f"grader error: {type(exc).__name__}: {exc}"[:500]
            return _result(sub, "could not run", reason, rubric)
        finally:
            _remove(scratch)

    try:
        library = library_copy(scratch_root / "lib")
        runnable = [(i, s) for i, s in enumerate(submissions) if s.notebook is not None]
        for sub in submissions:
            if sub.notebook is None:
                done(grade_submission(sub, rubric, limits, scratch_root, library))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(one, i, s) for i, s in runnable]
            for future in as_completed(futures):
                done(future.result())
    finally:
        _remove(scratch_root)
    return results
