"""Re-execute course notebooks in place, top to bottom, and report the time of each.

Usage: python tools/execute_notebooks.py [PATH ...]   (folders or .ipynb files)
`make execute` runs this with the same environment variables as `make test`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


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


def execute(path: Path, *, inplace: bool = True, timeout: int = 600) -> float:
    """Execute ``path`` with the current environment's kernel; return the wall time in seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
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
