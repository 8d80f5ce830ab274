"""What the grader writes: ``grades.csv``, one feedback file per submission, and the merge.

``grades.csv`` has one row per submission: ``submission, status, reason``, one column per
rubric criterion (automatic ones filled, manual ones blank), then ``automatic_points,
manual_points, total, max_points, wall_s, feedback``. :func:`merge_manual` reads the
instructor's manual scores and writes ``final.csv`` with the totals.

Rows are appended as each submission finishes (:class:`GradesWriter`), so a crash keeps
what was done; at the end the rows are sorted by name and ``MANIFEST.sha256`` records the
SHA-256 of ``grades.csv``, the rubric copy and every feedback and executed file.
``--merge`` refuses a ``grades.csv`` (or rubric) that does not match its manifest. Text
cells that a spreadsheet would read as a formula start with ``'`` (:func:`.names.csv_cell`).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from collections.abc import Sequence
from pathlib import Path

from .grader import SubmissionResult
from .names import csv_cell, from_csv_cell, looks_alike, normalise_name
from .rubric import Criterion, Rubric
from .shown import markdown

__all__ = [
    "FIXED_COLUMNS",
    "MANIFEST",
    "TAIL_COLUMNS",
    "GradesWriter",
    "verify_manifest",
    "feedback_markdown",
    "grade_columns",
    "merge_manual",
    "write_grades",
]

FIXED_COLUMNS = ("submission", "status", "reason")
TAIL_COLUMNS = ("automatic_points", "manual_points", "total", "max_points", "wall_s", "feedback")
#: The hash manifest written beside grades.csv.
MANIFEST = "MANIFEST.sha256"


def _num(x: float) -> str:
    """A score as short text: 3, 2.5, 1.33."""
    return f"{round(x, 2):g}"


def grade_columns(rubric: Rubric) -> list[str]:
    """The header of ``grades.csv`` for ``rubric``."""
    return [*FIXED_COLUMNS, *(c.id for c in rubric.criteria), *TAIL_COLUMNS]


def _md_escape(text: str) -> str:
    """Anything a submission may have chosen, as literal text on one Markdown line."""
    return markdown(text)


def feedback_markdown(result: SubmissionResult, rubric: Rubric) -> str:
    """The feedback file of one submission: what passed, what failed and why."""
    sub = result.submission
    lines = [
        f"# Feedback: {_md_escape(sub.name)}",
        "",
        f"- Submission: {_md_escape(ascii(str(sub.notebook or sub.path)))}",
        f"- Status: **{result.status}**"
        + (f": {_md_escape(result.reason)}" if result.reason else ""),
        f"- Automatic points: {_num(result.automatic_points)} of "
        f"{_num(sum(c.points for c in rubric.automatic))}",
        f"- Time spent grading: {result.wall_s:.1f} s",
        "",
        "## Automatic criteria",
        "",
        "| criterion | points | result | why |",
        "|---|---|---|---|",
    ]
    for score in result.scores:
        c = score.criterion
        mark = "passed" if score.passed else "not met"
        lines.append(
            f"| {c.id} | {_num(score.points)} / {_num(c.points)} | {mark} | "
            f"{_md_escape(score.why)} |"
        )
    if result.validation:
        lines += ["", "## Notebook validation", ""]
        lines += [f"- {_md_escape(v)}" for v in result.validation]
    outcome = result.outcome
    if outcome is not None and outcome.executed is not None:
        from .criteria import cell_errors

        errors = cell_errors(outcome.executed)
        if errors:
            lines += ["", "## Errors while running", ""]
            for index, name, value in errors[:20]:
                lines.append(f"- cell {index + 1}: {_md_escape(name)}: {_md_escape(value)}")
            if len(errors) > 20:
                lines.append(f"- ... and {len(errors) - 20} more")
    lines += ["", "## Scored by the instructor", ""]
    lines += [f"- {c.id} ({_num(c.points)} points): {c.description}" for c in rubric.manual]
    if outcome is not None:
        lines += ["", "## How it was run", ""]
        # the grader's own sentences (the probe runs before any of the submission's code)
        lines += [f"- enforced: {e}" for e in outcome.enforced]
        lines += [f"- not enforced: {e}" for e in outcome.not_enforced]
    return "\n".join(lines) + "\n"


class GradesWriter:
    """Writes ``out/grades.csv`` row by row, the feedback files, and the manifest.

    Use :meth:`add` for each result as it finishes (the row is on disk at once) and
    :meth:`close` at the end (sorts the rows by name, writes ``MANIFEST.sha256``).
    """

    def __init__(self, rubric: Rubric, out: str | Path) -> None:
        self.rubric = rubric
        self.out = Path(out)
        (self.out / "feedback").mkdir(parents=True, exist_ok=True)
        (self.out / "executed").mkdir(exist_ok=True)
        self.path = self.out / "grades.csv"
        self.rows: list[dict[str, str]] = []
        self.files: list[Path] = []
        (self.out / MANIFEST).unlink(missing_ok=True)
        self._handle = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.DictWriter(self._handle, fieldnames=grade_columns(rubric))
        self._writer.writeheader()
        self._handle.flush()

    def add(self, result: SubmissionResult) -> None:
        """Write ``result``'s feedback (and executed copy) and append its row."""
        import nbformat

        rubric = self.rubric
        feedback = Path("feedback") / f"{result.file_name}.md"
        (self.out / feedback).write_text(feedback_markdown(result, rubric), encoding="utf-8")
        self.files.append(feedback)
        if result.outcome is not None and result.outcome.executed is not None:
            executed = Path("executed") / f"{result.file_name}.ipynb"
            nbformat.write(result.outcome.executed, self.out / executed)
            self.files.append(executed)
        row = {
            "submission": result.submission.name,
            "status": result.status,
            "reason": result.reason,
            "automatic_points": _num(result.automatic_points),
            "manual_points": "",
            "total": "",
            "max_points": _num(rubric.max_points),
            "wall_s": f"{result.wall_s:.1f}",
            "feedback": feedback.as_posix(),
        }
        row.update({c.id: "" for c in rubric.manual})
        row.update({s.criterion.id: _num(s.points) for s in result.scores})
        row = {k: csv_cell(v) for k, v in row.items()}
        self.rows.append(row)
        self._writer.writerow(row)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self, extra: Sequence[Path] = ()) -> Path:
        """Sort the rows by name, write the manifest (also over ``extra`` files in ``out``)."""
        self._handle.close()
        tmp = self.path.with_name("grades.csv.tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=grade_columns(self.rubric))
            writer.writeheader()
            writer.writerows(sorted(self.rows, key=lambda r: r["submission"].casefold()))
        os.replace(tmp, self.path)
        names = [Path("grades.csv"), *self.files, *extra]
        lines = [f"{_sha256(self.out / n)}  {n.as_posix()}" for n in names]
        (self.out / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return self.path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_manifest(out: str | Path) -> None:
    """Check every file listed in ``out/MANIFEST.sha256`` against its SHA-256.

    Raises:
        ValueError: no manifest, or a file missing or changed since grading (named).
    """
    out = Path(out)
    manifest = out / MANIFEST
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(
            f"{manifest} is missing ({type(exc).__name__}): grades.csv cannot be verified; "
            "grade again"
        ) from exc
    bad = []
    for line in lines:
        digest, _, name = line.partition("  ")
        path = out / name
        if ".." in Path(name).parts or not path.is_file() or _sha256(path) != digest:
            bad.append(name)
    if not any(line.endswith("  grades.csv") for line in lines):
        bad.append("grades.csv (not in the manifest)")
    if bad:
        raise ValueError(
            f"refusing to merge: these files changed since grading (their SHA-256 no longer "
            f"matches {manifest}): {', '.join(bad[:10])}"
        )


def write_grades(results: Sequence[SubmissionResult], rubric: Rubric, out: str | Path) -> Path:
    """Write ``out/grades.csv``, ``out/feedback/*.md``, ``out/executed/*.ipynb`` and the
    manifest for finished ``results``.

    Returns:
        the path of ``grades.csv``.
    """
    writer = GradesWriter(rubric, out)
    for result in results:
        writer.add(result)
    return writer.close()


def _read_csv(path: Path, what: str) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except OSError as exc:
        raise ValueError(f"cannot read {what} {path}: {exc}") from exc
    except csv.Error as exc:
        raise ValueError(f"{what} {path} is not a valid CSV file: {exc}") from exc


def _stripped(cell: str | None) -> str:
    return from_csv_cell(cell or "").strip()


def _key(cell: str) -> str:
    """The submission name in a CSV cell, normalised as the grader names submissions."""
    return normalise_name(from_csv_cell(cell))


def _check_columns(
    rubric: Rubric, grades_csv: Path, grade_header: list[str], manual_csv: Path,
    header: list[str],
) -> None:
    """Raise ``ValueError`` unless both files have the columns the rubric needs."""
    missing_cols = [c.id for c in rubric.criteria if c.id not in grade_header]
    if missing_cols:
        raise ValueError(
            f"{grades_csv} does not match the rubric (missing columns {missing_cols}); "
            "grade again with this rubric or pass the rubric used for grading"
        )
    if "submission" not in header:
        raise ValueError(f"{manual_csv} needs a 'submission' column; found {header}")
    absent = [c.id for c in rubric.manual if c.id not in header]
    if absent:
        raise ValueError(
            f"{manual_csv} has no column for the manual criteria {absent}; "
            f"expected columns: submission, {', '.join(c.id for c in rubric.manual)}"
        )


def _rows_by_name(
    manual_csv: Path, rows: list[dict[str, str]], problems: list[str]
) -> dict[str, dict[str, str]]:
    """The manual rows by normalised submission name; blank or repeated names are problems."""
    by_name: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        name = _key(row.get("submission") or "")
        if not (row.get("submission") or "").strip():
            problems.append(f"{manual_csv}, line {line}: empty submission name")
        elif name in by_name:
            problems.append(f"{manual_csv}, line {line}: {name!r} appears twice")
        else:
            by_name[name] = row
    return by_name


def _manual_score(name: str, c: Criterion, text: str, problems: list[str]) -> float | None:
    """``text`` as a score from 0 to ``c.points``, or ``None`` (and a problem)."""
    if not text:
        problems.append(f"{name}: {c.id} is blank (0 to {_num(c.points)} expected)")
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"{name}: {c.id} = {text!r} is not a number")
        return None
    if not math.isfinite(value) or not 0 <= value <= c.points:
        problems.append(
            f"{name}: {c.id} = {text} is outside 0 to {_num(c.points)} (its max points)"
        )
        return None
    return value


def _final_row(
    grade: dict[str, str], scores: dict[str, dict[str, float]], rubric: Rubric, grades_csv: Path
) -> dict[str, str]:
    """One row of final.csv: the graded row with its manual scores and the totals added."""
    name = grade["submission"]
    automatic = 0.0
    for c in rubric.automatic:
        try:
            automatic += float(grade.get(c.id) or 0)
        except ValueError as exc:
            raise ValueError(f"{grades_csv}: {name}: {c.id} is not a number") from exc
    if name not in scores:  # a skipped entry
        return dict(grade)
    manual_points = sum(scores[name].values())
    row = dict(grade)
    row.update({cid: _num(v) for cid, v in scores[name].items()})
    row["automatic_points"] = _num(automatic)
    row["manual_points"] = _num(manual_points)
    row["total"] = _num(automatic + manual_points)
    row["max_points"] = _num(rubric.max_points)
    return row


def merge_manual(
    grades_csv: str | Path,
    manual_csv: str | Path,
    rubric: Rubric,
    out: str | Path,
    *,
    verify: bool = True,
) -> Path:
    """Combine ``grades.csv`` with the instructor's manual scores into ``out/final.csv``.

    ``manual_csv`` needs a ``submission`` column and one column per manual criterion
    (other columns are ignored, so a filled-in copy of ``grades.csv`` works). Every
    submission of ``grades.csv`` needs a score between 0 and the criterion's points for
    every manual criterion. Names are compared after the grader's normalisation
    (:func:`.names.normalise_name`), so spaces or a spreadsheet's quoting do not matter.
    With ``verify`` (the default) ``grades.csv`` must match the manifest written when
    grading.

    Raises:
        ValueError: listing every problem (unknown or missing submissions, missing
            columns, blank, non-numeric or out-of-range scores). Nothing is written then.
    """
    grades_csv, manual_csv, out = Path(grades_csv), Path(manual_csv), Path(out)
    if verify:
        verify_manifest(grades_csv.parent)
    grade_header, grade_rows = _read_csv(grades_csv, "grades file")
    for grade in grade_rows:
        grade["submission"] = _key(grade.get("submission") or "")
    header, rows = _read_csv(manual_csv, "manual scores file")
    problems: list[str] = []
    _check_columns(rubric, grades_csv, grade_header, manual_csv, header)
    manual = rubric.manual
    by_name = _rows_by_name(manual_csv, rows, problems)
    known = {r["submission"] for r in grade_rows}
    for name in sorted(set(by_name) - known):
        # a bare name that several labelled rows could claim is refused, never guessed
        claims = sorted(k for k in known if looks_alike(k.split(" [")[0], name))
        if len(claims) > 1:
            problems.append(
                f"{manual_csv}: {name!r} is ambiguous: it could be any of {claims}; "
                "use the full label from grades.csv"
            )
        else:
            problems.append(f"{manual_csv}: {name!r} is not a graded submission in {grades_csv}")
    scores: dict[str, dict[str, float]] = {}
    for grade in grade_rows:
        name = grade["submission"]
        scored = by_name.get(name)
        if scored is None and _stripped(grade.get("status")) == "skipped":
            continue  # not a submission: no manual scores needed
        if scored is None:
            problems.append(f"{manual_csv}: no manual scores for {name!r}")
            continue
        scores[name] = {}
        for c in manual:
            value = _manual_score(name, c, (scored.get(c.id) or "").strip(), problems)
            if value is not None:
                scores[name][c.id] = value
    if problems:
        raise ValueError(
            "cannot merge the manual scores (nothing was written):\n  " + "\n  ".join(problems)
        )
    final_rows = [_final_row(grade, scores, rubric, grades_csv) for grade in grade_rows]
    path = out / "final.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=grade_columns(rubric), extrasaction="ignore")
        writer.writeheader()
        writer.writerows([{k: csv_cell(str(v)) for k, v in r.items()} for r in final_rows])
    return path
