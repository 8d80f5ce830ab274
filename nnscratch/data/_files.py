"""Where data files live and how they are checked: the cache folder and SHA-256 digests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["ChecksumError", "data_home", "sha256_file"]


class ChecksumError(RuntimeError):
    """A data file's SHA-256 differs from the published one (corrupt or wrong file)."""


def data_home() -> Path:
    """Folder for downloaded data sets (it is not created here).

    ``$NNSCRATCH_DATA`` if set, else ``$XDG_CACHE_HOME/nnscratch``, else
    ``~/.cache/nnscratch``.
    """
    env = os.environ.get("NNSCRATCH_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "nnscratch"


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Return the SHA-256 hex digest (64 lower-case characters) of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
