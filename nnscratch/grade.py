"""``nnscratch grade``: grade final-project notebooks, then merge the instructor's scores.

    nnscratch grade SUBMISSIONS_DIR --rubric projects/rubric.yml --out grades/
    nnscratch grade --merge manual.csv --out grades/

The first form runs a copy of every submission (an ``.ipynb`` file, or a folder holding
one) in a separate process with a timeout, a memory limit and no network where the system
allows it, scores the automatic criteria, and writes ``grades/grades.csv`` (manual
criteria left blank), ``grades/feedback/NAME.md``, ``grades/executed/NAME.ipynb`` and a
copy of the rubric (``grades/rubric.yml``). The second form reads the manual scores
(``submission`` plus one column per manual criterion) and writes ``grades/final.csv``.
See :mod:`nnscratch.grading` for the pieces and ``projects/README.md`` for what is and is
not isolated.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]

DEFAULT_RUBRIC = Path("projects/rubric.yml")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``grade`` subcommand to the ``nnscratch`` command line."""
    parser = subparsers.add_parser(
        "grade",
        help="grade project notebooks safely; merge manual scores",
        description="Grade every submission in SUBMISSIONS_DIR (each .ipynb file or "
        "folder) against the rubric: run a copy of each with a timeout, a memory limit "
        "and no network where possible, score the automatic criteria, and write "
        "grades.csv plus one feedback file per submission. With --merge, combine the "
        "instructor's manual scores into final.csv.",
    )
    parser.add_argument("submissions", nargs="?", type=Path, metavar="SUBMISSIONS_DIR")
    parser.add_argument(
        "--rubric",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"rubric YAML (default: {DEFAULT_RUBRIC}; with --merge: OUT/rubric.yml)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("grades"), metavar="DIR", help="output folder"
    )
    parser.add_argument(
        "--merge",
        type=Path,
        default=None,
        metavar="MANUAL_CSV",
        help="combine manual scores from this CSV with OUT/grades.csv into OUT/final.csv",
    )
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds per notebook (rubric default)"
    )
    parser.add_argument(
        "--memory-mb", type=int, default=None, help="memory limit per notebook in MiB"
    )
    parser.set_defaults(func=run)
    return parser


def _merge(args: argparse.Namespace) -> int:
    from .grading import load_rubric, merge_manual

    rubric_path = args.rubric or args.out / "rubric.yml"
    rubric = load_rubric(rubric_path)
    path = merge_manual(args.out / "grades.csv", args.merge, rubric, args.out)
    print(f"final grades written to {path} (rubric {rubric_path})")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from .grading import Limits, grade_all, load_rubric, write_grades
    from .grading.sandbox import network_isolation_command

    rubric_path = args.rubric or DEFAULT_RUBRIC
    rubric = load_rubric(rubric_path)
    settings = dict(rubric.limits)
    if args.timeout is not None:
        settings["timeout_s"] = args.timeout
    if args.memory_mb is not None:
        settings["memory_mb"] = args.memory_mb
    limits = Limits(**settings)
    net = network_isolation_command()
    print(
        f"grading {args.submissions} with {rubric_path}: timeout {limits.timeout_s:g} s, "
        f"memory {limits.memory_mb} MiB, network "
        + (f"off (unshare {' '.join(net[1:])})" if net else "NOT isolated (Python guard only)")
    )

    def show(result) -> None:  # type: ignore[no-untyped-def]
        auto = sum(c.points for c in rubric.automatic)
        print(
            f"  {result.submission.name:<28} {result.wall_s:6.1f} s  "
            f"{result.automatic_points:g}/{auto:g}  {result.status}"
            + (f": {result.reason}" if result.reason else ""),
            flush=True,
        )

    args.out.mkdir(parents=True, exist_ok=True)
    home = Path.home()
    results = grade_all(args.submissions, rubric, limits, progress=show, hide=[args.out, home])
    path = write_grades(results, rubric, args.out)
    if Path(rubric_path).resolve() != (args.out / "rubric.yml").resolve():
        shutil.copyfile(rubric_path, args.out / "rubric.yml")
    print(f"{len(results)} submissions graded: {path}; feedback in {args.out / 'feedback'}")
    manual = ", ".join(c.id for c in rubric.manual)
    if manual:
        print(f"next: fill in {manual} and run `nnscratch grade --merge FILE --out {args.out}`")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``nnscratch grade``; 0 on success, 2 on bad input (with the reason on stderr)."""
    if (args.merge is None) == (args.submissions is None):
        print(
            "error: give SUBMISSIONS_DIR to grade, or --merge MANUAL_CSV to merge "
            "(not both, not neither)",
            file=sys.stderr,
        )
        return 2
    try:
        return _merge(args) if args.merge is not None else _grade(args)
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
