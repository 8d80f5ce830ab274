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

__all__ = [
    "MAX_NAME",
    "csv_cell",
    "file_stem",
    "from_csv_cell",
    "labels",
    "looks_alike",
    "normalise_name",
    "unique",
    "visible",
]

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


def looks_alike(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` could be taken for each other: equal ignoring case, or of
    one length and equal wherever both have an ASCII character (``bob`` and ``b\u043eb``,
    whose middle letter is Cyrillic)."""
    a, b = a.casefold(), b.casefold()
    if a == b:
        return True
    return len(a) == len(b) and all(x == y or not (x.isascii() and y.isascii())
                                    for x, y in zip(a, b, strict=True))  # fmt: skip


def visible(raw: str) -> str:
    """``raw`` with everything that does not show spelt out: ``bob\x20.ipynb``."""
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    shown = []
    for ch in text:
        if ch == " ":
            shown.append("\\x20")
        elif ch.isascii() and ch.isprintable():
            shown.append(ch)
        else:
            shown.append(ascii(ch)[1:-1])
    return "".join(shown)


def labels(raws: list[str], stems: list[str]) -> list[str]:
    """Row labels for folder entries called ``raws`` (``stems``: the names without
    ``.ipynb``), each one identifying its student unambiguously.

    An entry whose normalised name could be taken for another's (the same but for spaces,
    tabs or case; a look-alike letter) gets ``name [its file name spelt out]`` instead, as
    do the others of its group, so no row carries a bare name that two files could claim.
    """
    base = [normalise_name(stem) for stem in stems]
    out: list[str] = []
    taken: set[str] = set()
    for i, (raw, name) in enumerate(zip(raws, base, strict=True)):
        if any(j != i and looks_alike(name, other) for j, other in enumerate(base)):
            name = normalise_name(f"{name} [{visible(raw)}]")
        out.append(unique(name, taken))
    return out


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
