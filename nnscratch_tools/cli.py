"""The ``nnscratch`` command (also ``python -m nnscratch_tools``): doctor, data, release, grade.

Each module in :data:`SUBCOMMANDS` provides ``add_parser(subparsers)``, which adds its
parser and sets ``parser.set_defaults(func=run)``, where ``run(args) -> int`` returns the
exit code. Students run ``doctor`` to check their setup; the rest are the instructor's
tools. Heavy imports (torch, nbformat, ...)
stay inside ``run`` so that ``nnscratch --help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

# Modules providing add_parser(subparsers); the order is the order in --help.
SUBCOMMANDS: list[str] = [
    "nnscratch_tools.doctor",
    "nnscratch_tools.data_command",
    "nnscratch_tools.release",
    "nnscratch_tools.grading.command",
]


def _version() -> str:
    """Installed version of nnscratch, or the package's own ``__version__``."""
    try:
        from importlib.metadata import version

        return version("nnscratch")
    except Exception:  # not installed, e.g. run from a source checkout via PYTHONPATH
        import nnscratch

        return getattr(nnscratch, "__version__", "unknown")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per module in :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="nnscratch",
        description="Tools for the Neural Networks from Scratch course.",
    )
    parser.add_argument("--version", action="version", version=f"nnscratch {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
