"""An IPython start-up file for the course bench: where a notebook's time goes.

``bench.course.time_notebooks`` runs this file (``runpy.run_path``, in a namespace of its own,
not the notebook's) from the start-up folder of a throw-away IPython profile (``IPYTHONDIR``)
for the kernels it starts. In each kernel it counts the seconds spent in three library
functions and writes the totals, after every call, to the JSON file named by
``$NNSCRATCH_BENCH_PROBE``:

* ``fit``: ``nnscratch.fit``, training with the NumPy library;
* ``torch_train``: ``nnscratch.torch_utils.train``, training with torch;
* ``show``: ``nnscratch.plotting.show``, drawing a figure to PNG and storing it.

A function is wrapped when its module is first imported (an import hook, below), before any
``from nnscratch import fit`` binds the name, so every caller gets the counting version and a
notebook that never imports the module pays nothing. A call made inside another call of the
same function is counted once. Nothing else changes: the functions return what they return.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

#: module -> (function name, key in the totals)
TARGETS = {
    "nnscratch.training": ("fit", "fit"),
    "nnscratch.torch_utils.loop": ("train", "torch_train"),
    "nnscratch.plotting.figures": ("show", "show"),
}
OUT = os.environ.get("NNSCRATCH_BENCH_PROBE", "")
totals: dict[str, float] = {f"{key}_{what}": 0 for _, key in TARGETS.values() for what in "sn"}


def _write() -> None:
    with open(OUT, "w") as f:
        json.dump(totals, f)


def _counted(fn: Callable[..., Any], key: str) -> Callable[..., Any]:
    depth = 0

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal depth
        depth += 1
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            depth -= 1
            if depth == 0:  # the outermost call only
                totals[f"{key}_s"] += time.perf_counter() - start
                totals[f"{key}_n"] += 1
                _write()

    return wrapper


class _WrapOnImport(importlib.abc.MetaPathFinder):
    """Finds the ``TARGETS`` modules with the other finders, then wraps their function
    right after the module's code has run."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name not in TARGETS:
            return None
        others = [f for f in sys.meta_path if f is not self and hasattr(f, "find_spec")]
        spec = next((s for f in others if (s := f.find_spec(name, path, target))), None)
        loader = getattr(spec, "loader", None)
        if spec is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module
        attr, key = TARGETS[name]

        def exec_module(module: ModuleType) -> None:
            run(module)
            setattr(module, attr, _counted(getattr(module, attr), key))

        loader.exec_module = exec_module  # type: ignore[union-attr]  # this module's loader only
        return spec


if OUT:
    _write()  # a notebook that trains nothing and draws nothing still reports zeros
    sys.meta_path.insert(0, _WrapOnImport())
