"""``nnscratch grade``: grade final-project notebooks, then merge the instructor's scores.

    nnscratch grade SUBMISSIONS_DIR --rubric projects/rubric.yml --out grades/
    nnscratch grade --merge manual.csv --out grades/
    nnscratch grade SUBMISSIONS_DIR --shard k/N --out grades_k/    (one shard, :mod:`.shards`)
    nnscratch grade --combine grades_0 ... grades_N-1 --out grades/
    nnscratch grade --gradescope-autograder autograder.zip          (:mod:`.gradescope`)

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
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .grader import Submission, SubmissionResult
    from .report import GradesWriter
    from .rubric import Rubric
    from .sandbox import Limits

    #: ``(k, N)``, this shard's entries and the whole class's; all None without --shard
    Sharding = tuple[tuple[int, int] | None, list[Submission] | None, list[Submission] | None]

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
    parser.add_argument(
        "--shard",
        default=None,
        metavar="k/N",
        help="grade only shard k of N (every N-th entry from the k-th); with N alone, k "
        "comes from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job)",
    )
    parser.add_argument(
        "--combine",
        nargs="+",
        type=Path,
        default=None,
        metavar="SHARD_DIR",
        help="combine the --out folders of shards 0..N-1 into OUT (each one's manifest checked)",
    )
    parser.add_argument(
        "--gradescope-autograder",
        type=Path,
        default=None,
        metavar="ZIP",
        help="write the Gradescope autograder zip (setup.sh, run_autograder, the rubric)",
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


def rubric_limits(rubric: Rubric, **overrides: float | None) -> Limits:
    """The rubric's ``limits``, each override that is not None taking precedence.

    The values come from YAML, so a count may be written as a float; ``Limits`` checks that
    each one is a positive number.
    """
    from . import Limits

    settings: dict[str, Any] = dict(rubric.limits)
    settings.update({key: value for key, value in overrides.items() if value is not None})
    return Limits(**settings)


def _folders(args: argparse.Namespace) -> tuple[Path, Path]:
    """The resolved submissions and output folders; ValueError if they overlap."""
    subs, out = Path(args.submissions).resolve(), Path(args.out).resolve()
    if not subs.is_dir():
        raise ValueError(f"submissions folder {args.submissions} does not exist or is not a folder")
    if out == subs or out.is_relative_to(subs) or subs.is_relative_to(out):
        raise ValueError("--out must be outside the submissions folder (and not contain it)")
    return subs, out


def _sandbox_refusal(args: argparse.Namespace) -> str | None:
    """Why grading must not start (no sandbox and no --unsafe-no-sandbox), else None."""
    from .sandbox import sandbox_problem

    if args.unsafe_no_sandbox:
        print(UNSAFE_WARNING, file=sys.stderr)
        return None
    problem = sandbox_problem()
    if problem is None:
        return None
    return (
        f"error: refusing to grade: no sandbox is available ({problem}). Student "
        "notebooks are untrusted code; nnscratch grade runs each one inside a "
        "bubblewrap sandbox. Install bubblewrap, or grade inside a disposable "
        "virtual machine and pass --unsafe-no-sandbox (read what it means in "
        "projects/README.md)."
    )


def _shard_of(args: argparse.Namespace, subs: Path) -> Sharding:
    """``(shard, mine, everyone)`` for ``--shard k/N``; three Nones without it."""
    if args.shard is None:
        return None, None, None
    from .grader import discover_submissions
    from .shards import parse_shard, select_shard

    shard = parse_shard(args.shard)
    everyone = discover_submissions(subs)
    mine = select_shard(everyone, *shard)
    print(f"shard {shard[0]} of {shard[1]}: {len(mine)} of {len(everyone)} entries")
    return shard, mine, everyone


def _progress(writer: GradesWriter, auto: float) -> Callable[[SubmissionResult], None]:
    """The per-submission callback: record the result, print one line about it."""
    from .shown import terminal

    def show(result: SubmissionResult) -> None:
        writer.add(result)
        print(  # what the submission chose (name, reason) cannot move the cursor
            f"  {terminal(result.submission.name, 28):<28} {result.wall_s:6.1f} s  "
            f"{result.automatic_points:g}/{auto:g}  {result.status}"
            + (f": {terminal(result.reason, 200)}" if result.reason else ""),
            flush=True,
        )

    return show


def _extra_files(args: argparse.Namespace, rubric_path: Path, sharding: Sharding) -> list[Path]:
    """Copy the rubric (and write SHARD.json for a shard) into ``--out``; their paths there."""
    copy = args.out / "rubric.yml"
    if rubric_path.resolve() != copy.resolve():
        shutil.copyfile(rubric_path, copy)
    extra = [Path("rubric.yml")]
    shard, mine, everyone = sharding
    if shard is not None and mine is not None and everyone is not None:
        from .shards import write_shard_file

        names = [s.name for s in everyone]
        info = write_shard_file(args.out, *shard, [s.name for s in mine], names)
        extra.append(info.relative_to(args.out))
    return extra


def _grade(args: argparse.Namespace) -> int:
    from . import grade_all, load_rubric
    from .report import GradesWriter

    rubric_path = Path(args.rubric or DEFAULT_RUBRIC)
    rubric = load_rubric(rubric_path)
    limits = rubric_limits(rubric, timeout_s=args.timeout, memory_mb=args.memory_mb)
    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    subs, out = _folders(args)
    refusal = _sandbox_refusal(args)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    jobs = args.jobs or os.cpu_count() or 1
    sharding = _shard_of(args, subs)
    print(
        f"grading {args.submissions} with {rubric_path}: timeout {limits.timeout_s:g} s, "
        f"memory {limits.memory_mb} MiB, {jobs} at a time, "
        + ("NO SANDBOX" if args.unsafe_no_sandbox else "each in its own bubblewrap sandbox"),
        flush=True,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    writer = GradesWriter(rubric, args.out)
    show = _progress(writer, sum(c.points for c in rubric.automatic))
    private = [out, rubric_path.resolve(), Path.cwd().resolve()]
    results = grade_all(
        subs, rubric, limits, jobs=jobs, progress=show,
        sandbox=not args.unsafe_no_sandbox, private=private, submissions=sharding[1],
    )  # fmt: skip
    path = writer.close(extra=_extra_files(args, rubric_path, sharding))
    print(f"{len(results)} entries graded: {path}; feedback in {args.out / 'feedback'}")
    manual = ", ".join(c.id for c in rubric.manual)
    if manual:
        print(f"next: fill in {manual} and run `nnscratch grade --merge FILE --out {args.out}`")
    return 0


def _combine(args: argparse.Namespace) -> int:
    from .shards import combine

    path = combine(args.combine, args.out)
    print(f"{len(args.combine)} shards combined into {path} (each shard's manifest verified)")
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from .gradescope import build_autograder

    path = build_autograder(args.gradescope_autograder, args.rubric or DEFAULT_RUBRIC)
    print(f"Gradescope autograder written to {path}: upload it as the assignment's autograder")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``nnscratch grade``; 0 on success, 2 on bad input (with the reason on stderr)."""
    modes = [args.submissions, args.merge, args.combine, args.gradescope_autograder]
    if sum(m is not None for m in modes) != 1:
        print(
            "error: give SUBMISSIONS_DIR to grade, or --merge MANUAL_CSV to merge, or "
            "--combine SHARD_DIR... to combine shards, or --gradescope-autograder ZIP "
            "(exactly one of them)",
            file=sys.stderr,
        )
        return 2
    try:
        if args.merge is not None:
            return _merge(args)
        if args.combine is not None:
            return _combine(args)
        if args.gradescope_autograder is not None:
            return _gradescope(args)
        return _grade(args)
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
