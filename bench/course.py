"""Course execution time (every notebook and lecture under nbclient) and import time."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _execute_notebooks_tool() -> Any:
    # tools/ is not a package: load tools/execute_notebooks.py by path (the one executor).
    spec = importlib.util.spec_from_file_location(
        "execute_notebooks", ROOT / "tools" / "execute_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_env() -> dict[str, str]:
    """The environment of ``make execute`` / ``make test`` (threads, backend, venv on PATH)."""
    from nnscratch.notebook import NOTEBOOK_ENV

    env = dict(NOTEBOOK_ENV, PYDEVD_DISABLE_FILE_VALIDATION="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return env


@contextlib.contextmanager
def _notebook_environment() -> Iterator[None]:
    """``notebook_env()`` set in this process, inherited by the kernels nbclient starts."""
    saved = dict(os.environ)
    os.environ.update(notebook_env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def time_notebooks(
    paths: list[str | Path], *, timeout: int = 300, verbose: bool = True
) -> dict[str, Any]:
    """Part 3: execute each notebook (nothing is written back) and time it.

    Returns ``{"notebooks": [{"path", "seconds", "error", "fit_s", "fits", "torch_train_s",
    "show_s", "figures"}], "total_s", "slowest", "fit_s", "fits", "torch_train_s", "show_s",
    "figures"}``: besides its time, each notebook's seconds in ``nnscratch.fit`` (over
    ``fits`` calls), in ``nnscratch.torch_utils.train`` and in ``show`` (drawing its
    ``figures``), counted in the kernel by ``course_probe.py``. A notebook that fails is
    timed up to its failure and its first error line kept. Kernels start with
    ``notebook_env()``, as under ``make execute``, and a throw-away IPython profile.
    """
    existing = [str(p) for p in map(Path, paths) if p.exists()]
    tool = _execute_notebooks_tool() if existing else None  # it loads nbclient: seconds
    notebooks = tool.find_notebooks(existing) if tool else []
    rows: list[dict[str, Any]] = []
    with _notebook_environment(), tempfile.TemporaryDirectory() as tmp:
        startup = Path(tmp, "profile_default", "startup")
        startup.mkdir(parents=True)
        # One expression, so that no name lands in the notebooks' namespace (where start-up
        # files run): the probe runs as a module of its own.
        (startup / "00-course-probe.py").write_text(
            f"__import__('runpy').run_path({str(HERE / 'course_probe.py')!r})\n"
        )
        os.environ["IPYTHONDIR"] = tmp
        for i, nb in enumerate(notebooks):
            full = nb.resolve()
            rel = str(full.relative_to(ROOT)) if full.is_relative_to(ROOT) else str(nb)
            if verbose:
                print(f"  executing {rel} ...", end=" ", flush=True)
            probe = Path(tmp, f"probe-{i}.json")
            os.environ["NNSCRATCH_BENCH_PROBE"] = str(probe)
            start, error = time.perf_counter(), None
            try:
                seconds = tool.execute(nb, inplace=False, timeout=timeout)
            except Exception as exc:  # a broken notebook is reported, not fatal to the bench
                seconds = time.perf_counter() - start
                error = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:200]
            rows.append({"path": rel, "seconds": seconds, "error": error, **_probed(probe)})
            if verbose:
                print(f"{seconds:.1f} s" + (f"  (failed: {error})" if error else ""), flush=True)
    slowest = sorted(rows, key=lambda r: r["seconds"], reverse=True)[:3]
    return {
        "notebooks": rows,
        "count": len(rows),
        "failed": sum(r["error"] is not None for r in rows),
        "total_s": float(sum(r["seconds"] for r in rows)),
        "max_s": float(max((r["seconds"] for r in rows), default=0.0)),
        "slowest": [{"path": r["path"], "seconds": r["seconds"]} for r in slowest],
        **{key: float(sum(r[key] for r in rows)) for key in PROBED},
        "figures": int(sum(r["figures"] for r in rows)),
        "fits": int(sum(r["fits"] for r in rows)),
    }


#: What ``course_probe.py`` counts in each notebook's kernel: seconds in ``fit``, in torch's
#: ``train`` and in ``show``.
PROBED = ("fit_s", "torch_train_s", "show_s")


def _probed(path: Path) -> dict[str, Any]:
    # The totals the kernel wrote; zeros if it wrote none (it died before its start-up file ran).
    try:
        got = json.loads(path.read_text())
    except (OSError, ValueError):
        got = {}
    counts = {"figures": int(got.get("show_n", 0)), "fits": int(got.get("fit_n", 0))}
    return {**{key: float(got.get(key, 0.0)) for key in PROBED}, **counts}


#: The start-up costs a notebook pays before its lesson runs, each cell adding one to the one
#: before: a kernel; the plotting imports of a first cell; torch; and the first step of a torch
#: optimiser, which imports torch's compiler package (``torch._dynamo``, about a second).
STARTUP_CELLS = {
    "kernel": "pass",
    "plotting": "import matplotlib.pyplot as plt\nimport nnscratch as nn\nnn.setup_notebook(0)",
    "torch": "import matplotlib.pyplot as plt\nimport nnscratch as nn\nimport torch\n"
    "nn.setup_notebook(0, torch=True)",
    "optimiser": "import matplotlib.pyplot as plt\nimport nnscratch as nn\nimport torch\n"
    "nn.setup_notebook(0, torch=True)\n"
    "torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1).step()",
}
_TORCH_IMPORT = re.compile(r"^\s*(import torch|from torch)\b", re.MULTILINE)


def uses_torch(path: str | Path) -> bool:
    """Whether a notebook's code imports torch (a comment that mentions it does not count)."""
    nb = nbformat.read(path, as_version=4)
    return any(_TORCH_IMPORT.search(c.source) for c in nb.cells if c.cell_type == "code")


def time_startup(paths: list[str | Path], rounds: int = 3) -> dict[str, Any]:
    """The course's start-up floor: what its notebooks cost before any lesson runs.

    Executes the one-cell notebooks of ``STARTUP_CELLS`` ``rounds`` times each, as
    ``time_notebooks`` does, and takes medians. The floor counts a kernel and the plotting
    imports for every notebook, and torch's import for each one that imports torch; the
    optimiser's first step is reported beside it, not counted (not every torch notebook
    trains with a torch optimiser).
    """
    tool = _execute_notebooks_tool()
    notebooks = tool.find_notebooks([str(p) for p in map(Path, paths) if p.exists()])
    seconds: dict[str, list[float]] = {name: [] for name in STARTUP_CELLS}
    with _notebook_environment(), tempfile.TemporaryDirectory() as tmp:
        for name, code in STARTUP_CELLS.items():
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
            nbformat.write(nb, Path(tmp) / f"{name}.ipynb")
        for _ in range(rounds):
            for name in STARTUP_CELLS:
                seconds[name].append(tool.execute(Path(tmp) / f"{name}.ipynb", inplace=False))
    kernel, plotting, torch, optimiser = (float(np.median(seconds[n])) for n in STARTUP_CELLS)
    with_torch = sum(uses_torch(nb) for nb in notebooks)
    return {
        "kernel_s": kernel,
        "plotting_imports_s": plotting - kernel,
        "torch_import_s": torch - plotting,
        "optimiser_first_step_s": optimiser - torch,
        "notebooks": len(notebooks),
        "notebooks_with_torch": with_torch,
        "floor_s": len(notebooks) * plotting + with_torch * (torch - plotting),
        "rounds": rounds,
    }


def time_import(rounds: int = 9, module: str = "nnscratch") -> dict[str, Any]:
    """Part 4: wall time of ``python -c "import nnscratch"`` against ``python -c pass``.

    Both run as fresh subprocesses, alternating, ``rounds`` times each; the extra cost is
    the median of the paired differences. ``import numpy`` is timed alongside, to show
    how much of the extra is NumPy's. Also lists heavy modules the import pulled in.
    """

    def wall(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        return time.perf_counter() - start

    wall("pass")  # warm the file cache
    bare, numpy_only, imported = [], [], []
    for _ in range(rounds):
        bare.append(wall("pass"))
        numpy_only.append(wall("import numpy"))
        imported.append(wall(f"import {module}"))
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {module}; print(' '.join(sorted("
            "{m.split('.')[0] for m in sys.modules} & {'torch', 'matplotlib', 'ipywidgets'})))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return {
        "bare_s": float(np.median(bare)),
        "import_s": float(np.median(imported)),
        "extra_s": float(np.median(np.subtract(imported, bare))),
        "numpy_extra_s": float(np.median(np.subtract(numpy_only, bare))),
        "rounds": rounds,
        "heavy_modules_imported": heavy,
    }
