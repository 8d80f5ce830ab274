"""The 8x8 handwritten digits (1,797 images), shipped inside the package so it works offline.

Source and licences: ``nnscratch/data/files/DIGITS_README.txt``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ._files import ChecksumError, sha256_file

__all__ = ["load_digits", "verify_digits", "DIGITS_FILE", "DIGITS_SHA256"]

DIGITS_FILE = Path(__file__).resolve().parent / "files" / "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
_N_SAMPLES, _N_PIXELS = 1797, 64

# Parsed arrays, keyed by file path, so a second call does not re-read the file.
_cache: dict[Path, tuple[np.ndarray, np.ndarray]] = {}


def verify_digits(path: str | Path | None = None) -> str:
    """Check the SHA-256 of the packaged digits file and return the digest.

    Args:
        path: file to check; defaults to the copy inside the package.

    Raises:
        FileNotFoundError: if the file is missing (a broken installation).
        ChecksumError: if its digest differs from :data:`DIGITS_SHA256`.
    """
    path = Path(DIGITS_FILE if path is None else path)
    if not path.is_file():
        raise FileNotFoundError(
            f"the digits data file is missing: {path}. Reinstall nnscratch "
            "(pip install -e . from the course folder)."
        )
    digest = sha256_file(path)
    if digest != DIGITS_SHA256:
        raise ChecksumError(
            f"the digits data file {path} is corrupt: SHA-256 {digest}, expected "
            f"{DIGITS_SHA256}. Restore it with `git checkout -- nnscratch/data/files` "
            "or reinstall nnscratch."
        )
    return digest


def _parse(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the CSV (64 pixels then the label per line) into X (1797, 64) and y (1797,)."""
    with gzip.open(path, "rt", encoding="ascii") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (_N_SAMPLES, _N_PIXELS + 1):
        raise ChecksumError(
            f"the digits data file {path} has shape {table.shape}, "
            f"expected ({_N_SAMPLES}, {_N_PIXELS + 1})"
        )
    return table[:, :_N_PIXELS].astype(np.float64), table[:, _N_PIXELS].copy()


def load_digits(*, return_images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load the 1,797 handwritten digits (UCI "Optical Recognition of Handwritten Digits").

    Each image is 8x8 pixels whose values are whole numbers from 0 (white) to 16 (black).
    The file's SHA-256 is checked before it is read; the parsed arrays are kept in memory,
    and every call returns fresh copies, so changing them cannot affect the next call.

    Args:
        return_images: if True, ``X`` has shape ``(1797, 8, 8)`` instead of ``(1797, 64)``.

    Returns:
        ``X``: float64 pixels, shape ``(1797, 64)`` (or ``(1797, 8, 8)``), values 0..16.
        ``y``: int64 digit labels 0..9, shape ``(1797,)``.

    Raises:
        ChecksumError: if the packaged file is corrupt.
    """
    path = Path(DIGITS_FILE)
    if path not in _cache:
        verify_digits(path)
        _cache[path] = _parse(path)
    X, y = _cache[path]
    X = X.copy()
    if return_images:
        X = X.reshape(-1, 8, 8)
    return X, y.copy()
