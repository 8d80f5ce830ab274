"""What the grader writes: ``grades.csv``, one feedback file per submission, and the merge.

``grades.csv`` has one row per submission: ``submission, status, reason``, one column per
rubric criterion (automatic ones filled, manual ones blank), then ``automatic_points,
manual_points, total, max_points, wall_s, feedback``. :func:`merge_manual` reads the
instructor's manual scores and writes ``final.csv`` with the totals.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

from .grader import SubmissionResult
from .rubric import Rubric

__all__ = [
    "FIXED_COLUMNS",
    "TAIL_COLUMNS",
    "feedback_markdown",
    "grade_columns",
    "merge_manual",
    "write_grades",
]

FIXED_COLUMNS = ("submission", "status", "reason")
TAIL_COLUMNS = ("automatic_points", "manual_points", "total", "max_points", "wall_s", "feedback")


def _num(x: float) -> str:
    """A score as short text: 3, 2.5, 1.33."""
    return f"{round(x, 2):g}"


def grade_columns(rubric: Rubric) -> list[str]:
    """The header of ``grades.csv`` for ``rubric``."""
    return [*FIXED_COLUMNS, *(c.id for c in rubric.criteria), *TAIL_COLUMNS]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def feedback_markdown(result: SubmissionResult, rubric: Rubric) -> str:
    """The feedback file of one submission: what passed, what failed and why."""
    sub = result.submission
    lines = [
        f"# Feedback: {sub.name}",
        "",
        f"- Submission: `{sub.notebook or sub.path}`",
        f"- Status: **{result.status}**" + (f": {result.reason}" if result.reason else ""),
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
                lines.append(f"- cell {index + 1}: `{name}`: {_md_escape(value)}")
            if len(errors) > 20:
                lines.append(f"- ... and {len(errors) - 20} more")
    lines += ["", "## Scored by the instructor", ""]
    lines += [f"- {c.id} ({_num(c.points)} points): {c.description}" for c in rubric.manual]
    if outcome is not None:
        lines += ["", "## How it was run", ""]
        lines += [f"- enforced: {e}" for e in outcome.enforced]
        lines += [f"- not enforced: {e}" for e in outcome.not_enforced]
    return "\n".join(lines) + "\n"


def write_grades(results: Sequence[SubmissionResult], rubric: Rubric, out: str | Path) -> Path:
    """Write ``out/grades.csv``, ``out/feedback/*.md`` and ``out/executed/*.ipynb``.

    Returns:
        the path of ``grades.csv``.
    """
    import nbformat

    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "executed").mkdir(exist_ok=True)
    path = out / "grades.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=grade_columns(rubric))
        writer.writeheader()
        for result in results:
            feedback = Path("feedback") / f"{result.file_name}.md"
            (out / feedback).write_text(feedback_markdown(result, rubric), encoding="utf-8")
            if result.outcome is not None and result.outcome.executed is not None:
                nbformat.write(
                    result.outcome.executed, out / "executed" / f"{result.file_name}.ipynb"
                )
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
            writer.writerow(row)
    return path


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


def merge_manual(
    grades_csv: str | Path, manual_csv: str | Path, rubric: Rubric, out: str | Path
) -> Path:
    """Combine ``grades.csv`` with the instructor's manual scores into ``out/final.csv``.

    ``manual_csv`` needs a ``submission`` column and one column per manual criterion
    (other columns are ignored, so a filled-in copy of ``grades.csv`` works). Every
    submission of ``grades.csv`` needs a score between 0 and the criterion's points for
    every manual criterion.

    Raises:
        ValueError: listing every problem (unknown or missing submissions, missing
            columns, blank, non-numeric or out-of-range scores). Nothing is written then.
    """
    grades_csv, manual_csv, out = Path(grades_csv), Path(manual_csv), Path(out)
    grade_header, grade_rows = _read_csv(grades_csv, "grades file")
    header, rows = _read_csv(manual_csv, "manual scores file")
    problems: list[str] = []
    expected = [c.id for c in rubric.criteria]
    missing_cols = [c for c in expected if c not in grade_header]
    if missing_cols:
        raise ValueError(
            f"{grades_csv} does not match the rubric (missing columns {missing_cols}); "
            "grade again with this rubric or pass the rubric used for grading"
        )
    if "submission" not in header:
        raise ValueError(f"{manual_csv} needs a 'submission' column; found {header}")
    manual = rubric.manual
    absent = [c.id for c in manual if c.id not in header]
    if absent:
        raise ValueError(
            f"{manual_csv} has no column for the manual criteria {absent}; "
            f"expected columns: submission, {', '.join(c.id for c in manual)}"
        )
    by_name: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        name = (row.get("submission") or "").strip()
        if not name:
            problems.append(f"{manual_csv}, line {line}: empty submission name")
        elif name in by_name:
            problems.append(f"{manual_csv}, line {line}: {name!r} appears twice")
        else:
            by_name[name] = row
    known = {r["submission"] for r in grade_rows}
    for name in sorted(set(by_name) - known):
        problems.append(f"{manual_csv}: {name!r} is not a graded submission in {grades_csv}")
    scores: dict[str, dict[str, float]] = {}
    for grade in grade_rows:
        name = grade["submission"]
        row = by_name.get(name)
        if row is None:
            problems.append(f"{manual_csv}: no manual scores for {name!r}")
            continue
        scores[name] = {}
        for c in manual:
            text = (row.get(c.id) or "").strip()
            if not text:
                problems.append(f"{name}: {c.id} is blank (0 to {_num(c.points)} expected)")
                continue
            try:
                value = float(text)
            except ValueError:
                problems.append(f"{name}: {c.id} = {text!r} is not a number")
                continue
            if not math.isfinite(value) or not 0 <= value <= c.points:
                problems.append(
                    f"{name}: {c.id} = {text} is outside 0 to {_num(c.points)} (its max points)"
                )
                continue
            scores[name][c.id] = value
    if problems:
        raise ValueError(
            "cannot merge the manual scores (nothing was written):\n  " + "\n  ".join(problems)
        )
    final_rows: list[dict[str, str]] = []
    for grade in grade_rows:
        name = grade["submission"]
        automatic = 0.0
        for c in rubric.automatic:
            try:
                automatic += float(grade.get(c.id) or 0)
            except ValueError as exc:
                raise ValueError(f"{grades_csv}: {name}: {c.id} is not a number") from exc
        manual_points = sum(scores[name].values())
        row = dict(grade)
        row.update({cid: _num(v) for cid, v in scores[name].items()})
        row["automatic_points"] = _num(automatic)
        row["manual_points"] = _num(manual_points)
        row["total"] = _num(automatic + manual_points)
        row["max_points"] = _num(rubric.max_points)
        final_rows.append(row)
    path = out / "final.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=grade_columns(rubric), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(final_rows)
    return path
