"""``nnscratch`` command entry point kept in the student library for old installs.

The command line lives with the instructor's tools, in :mod:`nnscratch_tools.cli`; this
module only forwards to it, importing it when the command runs (``import nnscratch``
never imports the tools).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``nnscratch ARGS`` through :func:`nnscratch_tools.cli.main`."""
    from nnscratch_tools.cli import main as tools_main

    return tools_main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
