"""Submission names: one normalisation for grading and ``--merge``, safe CSV cells, file stems.

A folder entry's name can hold anything a file system allows: trailing spaces, control
characters, undecodable bytes, 250 characters. :func:`normalise_name` turns it into the
row label used everywhere (the same function reads names back in ``--merge``, so a name
re-typed by a spreadsheet still matches); :func:`csv_cell` stops a cell from being read as
a formula; :func:`file_stem` gives the feedback file a short, safe, unique name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["MAX_NAME", "csv_cell", "file_stem", "from_csv_cell", "normalise_name", "unique"]

#: Longest row label, in characters (longer names are cut and given a short hash).
MAX_NAME = 80
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACES = re.compile(r"\s+")


def normalise_name(raw: str) -> str:
    """The row label of a submission called ``raw``: NFC, printable, single spaces, short.

    Idempotent: ``normalise_name(normalise_name(x)) == normalise_name(x)``.
    """
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > MAX_NAME:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        text = text[: MAX_NAME - 9].rstrip() + "~" + digest
    return text or "unnamed"


def unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``, ... the first not in ``taken`` (added to it)."""
    folded = {t.casefold() for t in taken}
    candidate, n = name, 2
    while candidate.casefold() in folded:
        suffix = f" ({n})"
        candidate, n = name[: MAX_NAME - len(suffix)].rstrip() + suffix, n + 1
    taken.add(candidate)
    return candidate


def csv_cell(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def from_csv_cell(text: str) -> str:
    """Undo :func:`csv_cell`."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def file_stem(name: str, taken: set[str]) -> str:
    """A short ASCII file stem for ``name``, unique in ``taken`` (added to it)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")[:60] or "submission"
    candidate, n = base, 2
    while candidate.lower() in {t.lower() for t in taken}:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate
