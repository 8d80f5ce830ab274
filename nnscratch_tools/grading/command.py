"""``nnscratch grade``: grade final-project notebooks, then merge the instructor's scores.

    nnscratch grade SUBMISSIONS_DIR --rubric projects/rubric.yml --out grades/
    nnscratch grade --merge manual.csv --out grades/

The first form runs a copy of every submission (an ``.ipynb`` file, or a folder holding
one) in its own bubblewrap sandbox, ``--jobs`` at a time (refused where no sandbox is
available, unless ``--unsafe-no-sandbox``), scores the automatic criteria from what ran,
and writes ``grades/grades.csv`` (manual criteria left blank), ``grades/feedback/NAME.md``,
``grades/executed/NAME.ipynb``, a copy of the rubric (``grades/rubric.yml``) and
``grades/MANIFEST.sha256``. The second form reads the manual scores (``submission`` plus
one column per manual criterion), checks grades.csv against the manifest, and writes
``grades/final.csv``.
See :mod:`nnscratch_tools.grading` for the pieces and ``projects/README.md`` for what is and is
not isolated.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]

DEFAULT_RUBRIC = Path("projects/rubric.yml")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``grade`` subcommand to the ``nnscratch`` command line."""
    parser = subparsers.add_parser(
        "grade",
        help="grade project notebooks, each in a sandbox; merge manual scores",
        description="Grade every submission in SUBMISSIONS_DIR (each .ipynb file or "
        "folder) against the rubric: run a copy of each in its own bubblewrap sandbox "
        "with a timeout and memory limits, score the automatic criteria, and write "
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
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="submissions graded side by side, each in its own sandbox (default: CPU cores)",
    )
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run notebooks WITHOUT a sandbox, as your user (only for trusted work; "
        "see projects/README.md)",
    )
    parser.set_defaults(func=run)
    return parser


def _merge(args: argparse.Namespace) -> int:
    from . import load_rubric, merge_manual
    from .report import verify_manifest

    verify_manifest(args.out)  # grades.csv and the rubric copy as they were written
    rubric_path = args.rubric or args.out / "rubric.yml"
    rubric = load_rubric(rubric_path)
    path = merge_manual(args.out / "grades.csv", args.merge, rubric, args.out)
    print(f"final grades written to {path} (rubric {rubric_path}; grades.csv verified)")
    return 0


UNSAFE_WARNING = (
    "WARNING: --unsafe-no-sandbox: the notebooks run as YOUR user, outside any sandbox. "
    "A submission can read and change your files (other submissions, the rubric, the "
    "grades, your home folder), use the network and leave processes running after the "
    "grader ends. Only the timeout and per-process rlimits apply. Use it only for work you "
    "trust, or inside a throwaway virtual machine or container."
)


def _grade(args: argparse.Namespace) -> int:
    from . import Limits, grade_all, load_rubric
    from .report import GradesWriter
    from .sandbox import sandbox_problem
    from .shown import terminal

    rubric_path = Path(args.rubric or DEFAULT_RUBRIC)
    rubric = load_rubric(rubric_path)
    settings: dict[str, Any] = dict(rubric.limits)
    if args.timeout is not None:
        settings["timeout_s"] = args.timeout
    if args.memory_mb is not None:
        settings["memory_mb"] = args.memory_mb
    limits = Limits(**settings)
    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    subs, out = Path(args.submissions).resolve(), Path(args.out).resolve()
    if not subs.is_dir():
        raise ValueError(f"submissions folder {args.submissions} does not exist or is not a folder")
    if out == subs or out.is_relative_to(subs) or subs.is_relative_to(out):
        raise ValueError("--out must be outside the submissions folder (and not contain it)")
    if args.unsafe_no_sandbox:
        print(UNSAFE_WARNING, file=sys.stderr)
    else:
        problem = sandbox_problem()
        if problem is not None:
            print(
                f"error: refusing to grade: no sandbox is available ({problem}). Student "
                "notebooks are untrusted code; nnscratch grade runs each one inside a "
                "bubblewrap sandbox. Install bubblewrap, or grade inside a disposable "
                "virtual machine and pass --unsafe-no-sandbox (read what it means in "
                "projects/README.md).",
                file=sys.stderr,
            )
            return 2
    jobs = args.jobs or os.cpu_count() or 1
    print(
        f"grading {args.submissions} with {rubric_path}: timeout {limits.timeout_s:g} s, "
        f"memory {limits.memory_mb} MiB, {jobs} at a time, "
        + ("NO SANDBOX" if args.unsafe_no_sandbox else "each in its own bubblewrap sandbox"),
        flush=True,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    writer = GradesWriter(rubric, args.out)
    auto = sum(c.points for c in rubric.automatic)

    def show(result: Any) -> None:
        writer.add(result)
        print(  # what the submission chose (name, reason) cannot move the cursor
            f"  {terminal(result.submission.name, 28):<28} {result.wall_s:6.1f} s  "
            f"{result.automatic_points:g}/{auto:g}  {result.status}"
            + (f": {terminal(result.reason, 200)}" if result.reason else ""),
            flush=True,
        )

    private = [out, rubric_path.resolve(), Path.cwd().resolve()]
    results = grade_all(
        subs, rubric, limits, jobs=jobs, progress=show,
        sandbox=not args.unsafe_no_sandbox, private=private,
    )  # fmt: skip
    copy = args.out / "rubric.yml"
    if rubric_path.resolve() != copy.resolve():
        shutil.copyfile(rubric_path, copy)
    path = writer.close(extra=[Path("rubric.yml")])
    print(f"{len(results)} entries graded: {path}; feedback in {args.out / 'feedback'}")
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
