"""``python -m nnscratch``: the same as the ``nnscratch`` command (see nnscratch_tools.cli)."""

import sys

from .cli import main

sys.exit(main())
