"""Re-execute course notebooks in place, top to bottom, and report the time of each.

Usage: python tools/execute_notebooks.py [PATH ...]   (folders or .ipynb files)
`make execute` runs this with the same environment variables as `make test`.

Widgets are stored as their plain text only (see :func:`drop_widget_views`): a live widget
needs its kernel, and a stored view whose model is gone shows as "Error displaying widget:
model not found" once JupyterLab trusts the notebook.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors.coalescestreams import CoalesceStreamsPreprocessor


def find_notebooks(paths: list[str]) -> list[Path]:
    """Every ``.ipynb`` under the given folders (sorted), or the given files themselves."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(
                sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
            )
        elif p.suffix == ".ipynb" and p.exists():
            found.append(p)
        else:
            raise SystemExit(f"not a notebook or folder: {p}")
    return found


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def drop_widget_views(nb: nbformat.NotebookNode) -> int:
    """Remove stored widget views (where a plain-text form exists) and the notebook's widget
    state, in place; return how many views were removed.

    The plain text stays (``nnscratch.widgets`` makes it say how to get the sliders), so a
    fresh clone, the website and GitHub show a sentence, and running the cell brings the
    live widget.
    """
    nb.metadata.pop("widgets", None)
    removed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and "text/plain" in data:
                del data[WIDGET_VIEW]
                removed += 1
    return removed


def execute(path: Path, *, inplace: bool = True, timeout: int = 600) -> float:
    """Execute ``path`` with the current environment's kernel; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        # Every cell has run when the kernel is shut down, so nothing is lost by stopping it at
        # once; a graceful shutdown costs the kernel about 0.3 s of CPU per notebook.
        shutdown_kernel="immediate",
        # nbclient must track widget state while running (its Output-widget hook fails
        # without it); drop_widget_views then removes that state before the notebook is saved.
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    drop_widget_views(nb)
    # The kernel flushes printed text on a timer, so on a busy machine one print can arrive as
    # two stream outputs; merge neighbours, as nbval does when it compares them.
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    if inplace:
        nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=["notebooks", "lectures", "projects"])
    parser.add_argument("--dry-run", action="store_true", help="execute but do not write")
    args = parser.parse_args(argv)
    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print("no notebooks found")
        return 0
    total = 0.0
    for nb in notebooks:
        print(f"executing {nb} ...", end=" ", flush=True)
        seconds = execute(nb, inplace=not args.dry_run)
        total += seconds
        print(f"{seconds:.1f} s", flush=True)
    print(f"{len(notebooks)} notebooks in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
