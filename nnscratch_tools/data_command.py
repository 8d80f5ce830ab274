"""``nnscratch data``: list, fetch and verify the course data sets.

    nnscratch data                  list the data sets and where they are (same as --list)
    nnscratch data --mnist          download MNIST into the cache (once)
    nnscratch data --verify         check the SHA-256 of every data file present

``--root DIR`` picks the MNIST folder, ``--mirror URL`` (repeatable) the mirrors to try.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nnscratch.data import digits
from nnscratch.data._files import ChecksumError, data_home, sha256_file
from nnscratch.data.mnist import (
    DEFAULT_MIRRORS,
    MNIST_FILES,
    DownloadError,
    fetch_mnist,
    mnist_root,
)

__all__ = ["add_parser", "run", "verify_all"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``data`` subcommand to the ``nnscratch`` command line."""
    parser = subparsers.add_parser(
        "data",
        help="list, download (MNIST) and verify the data sets",
        description="List, download and verify the course data sets. The 8x8 digits ship "
        "with the package; MNIST is downloaded once into the cache folder "
        f"(NNSCRATCH_DATA or ~/.cache/nnscratch; now {data_home()}).",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the data sets (default)")
    action.add_argument("--mnist", action="store_true", help="download MNIST if not cached")
    action.add_argument(
        "--verify", action="store_true", help="check the SHA-256 of every data file present"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder for the MNIST files (default: <cache folder>/mnist)",
    )
    parser.add_argument(
        "--mirror",
        action="append",
        default=None,
        metavar="URL",
        help="base URL to download MNIST from; repeat to try several in order "
        f"(default: {', '.join(DEFAULT_MIRRORS)})",
    )
    parser.set_defaults(func=run)
    return parser


def verify_all(root: str | Path | None = None) -> list[tuple[str, str, Path]]:
    """Check every known data file; return ``(status, name, path)`` rows.

    ``status`` is ``"OK"`` (digest matches), ``"FAIL"`` (present but corrupt) or
    ``"MISSING"`` (an MNIST file not downloaded yet).
    """
    rows = []
    digits_file = Path(digits.DIGITS_FILE)
    files = [(digits_file.name, digits_file, digits.DIGITS_SHA256)]
    folder = mnist_root(root)
    files += [(name, folder / name, digest) for name, digest in MNIST_FILES.items()]
    for name, path, digest in files:
        if not path.is_file():
            status = "MISSING"
        else:
            status = "OK" if sha256_file(path) == digest else "FAIL"
        rows.append((status, name, path))
    return rows


def _list(root: Path | None) -> int:
    """Print a table of the data sets and where they are; exit code 0."""
    folder = mnist_root(root)
    have = sum((folder / name).is_file() for name in MNIST_FILES)
    if have == len(MNIST_FILES):
        mnist_status = "cached"
    elif have:
        mnist_status = f"partial ({have} of {len(MNIST_FILES)} files)"
    else:
        mnist_status = "not downloaded"
    digits_status = "packaged" if Path(digits.DIGITS_FILE).is_file() else "MISSING"
    rows = [
        ("toy", "built in", "make_xor, make_moons, make_circles, make_spirals, make_blobs"),
        ("digits", digits_status, f"load_digits(): 1,797 8x8 images, {digits.DIGITS_FILE}"),
        ("mnist", mnist_status, f"load_mnist(): 70,000 28x28 images, {folder}"),
    ]
    print(f"{'name':<8} {'status':<26} where")
    for name, status, where in rows:
        print(f"{name:<8} {status:<26} {where}")
    if have < len(MNIST_FILES):
        root_opt = f" --root {root}" if root is not None else ""
        print(f"\nTo download MNIST (about 11 MB): nnscratch data --mnist{root_opt}")
    return 0


def _verify(root: Path | None) -> int:
    """Print one line per data file with its checksum status; exit code 1 if any is corrupt."""
    rows = verify_all(root)
    for status, name, path in rows:
        print(f"{status:<8} {name:<28} {path}")
    failed = [name for status, name, _ in rows if status == "FAIL"]
    if failed:
        print(
            f"\n{len(failed)} file(s) failed their SHA-256 check: {', '.join(failed)}. "
            "Re-download MNIST with `nnscratch data --mnist`; for the digits, reinstall "
            "nnscratch or restore nnscratch/data/files from git."
        )
        return 1
    print("\nAll files present have the expected SHA-256.")
    return 0


def _fetch(root: Path | None, mirrors: list[str] | None) -> int:
    """Download MNIST; exit code 0 on success, 1 with the reason otherwise."""
    try:
        folder = fetch_mnist(root, mirrors=mirrors)
    except (DownloadError, ChecksumError, OSError, ValueError) as exc:
        print(f"error: {exc}")
        return 1
    print(f"MNIST is ready in {folder}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Carry out ``nnscratch data`` with the parsed ``args``; return the exit code."""
    if args.mnist:
        return _fetch(args.root, args.mirror)
    if args.verify:
        return _verify(args.root)
    return _list(args.root)
