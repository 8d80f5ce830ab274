"""Grade a class in shards (one per machine or Kubernetes pod), then combine them, checked.

``nnscratch grade SUBMISSIONS --shard k/N --out grades_k`` grades entry ``i`` of the
submissions folder (sorted, as :func:`.grader.discover_submissions` lists it) when
``i % N == k``; ``--shard N`` takes ``k`` from ``JOB_COMPLETION_INDEX``, the variable a
Kubernetes Indexed Job sets in pod ``k`` (``deploy/kubernetes/grade-job.yaml``). Every
shard names submissions from the whole listing, so names are those of a single run.
Beside its ``grades.csv`` a shard writes ``SHARD.json`` (its index, the shard count, the
names it graded, a digest of the whole listing), listed in its ``MANIFEST.sha256``.

``nnscratch grade --combine grades_0 ... grades_N-1 --out grades`` checks every shard's
manifest, that the shards are exactly ``0 .. N-1`` of one listing and one rubric, and that
every submission is in exactly one of them; then writes one ``grades.csv`` (rows sorted as
a single run sorts them), the feedback and executed files, the rubric and a new manifest,
so ``--merge`` works on the result. A missing, duplicated or changed shard is refused.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .report import MANIFEST, grade_columns, verify_manifest

__all__ = [
    "SHARD_FILE",
    "combine",
    "listing_digest",
    "parse_shard",
    "select_shard",
    "write_shard_file",
]

#: The shard's description, written beside its grades.csv.
SHARD_FILE = "SHARD.json"
T = TypeVar("T")


def parse_shard(text: str, env: Mapping[str, str] = os.environ) -> tuple[int, int]:
    """``(k, N)`` from ``"k/N"``, or from ``"N"`` with ``k`` in ``JOB_COMPLETION_INDEX``.

    Raises:
        ValueError: not of that form, ``N < 1``, ``k`` outside ``0 .. N-1``, or ``"N"``
            without ``JOB_COMPLETION_INDEX``.
    """
    index, _, count = text.rpartition("/")
    if not index and "/" not in text:
        index = env.get("JOB_COMPLETION_INDEX", "")
        if not index:
            raise ValueError(
                f"--shard {text}: give k/N, or N with JOB_COMPLETION_INDEX set (a Kubernetes "
                "Indexed Job sets it in each pod)"
            )
    try:
        k, n = int(index), int(count)
    except ValueError:
        raise ValueError(f"--shard expects k/N (e.g. 0/4) or N, got {text!r}") from None
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"--shard {k}/{n}: the shard index must be in 0..{n - 1} (N >= 1)")
    return k, n


def select_shard(entries: Sequence[T], k: int, n: int) -> list[T]:
    """The entries of shard ``k`` of ``n``: every ``n``-th one, starting at ``k``.

    Over ``k = 0 .. n-1`` every entry is in exactly one shard, and shard sizes differ by at
    most one (some are empty when ``n`` exceeds the class).
    """
    if n < 1 or not 0 <= k < n:
        raise ValueError(f"shard {k} of {n}: the index must be in 0..{n - 1}")
    return list(entries[k::n])


def listing_digest(names: Sequence[str]) -> str:
    """SHA-256 of the whole folder's submission names, in order (shards must agree on it)."""
    return hashlib.sha256("\0".join(names).encode("utf-8")).hexdigest()


def write_shard_file(
    out: Path, k: int, n: int, mine: Sequence[str], everyone: Sequence[str]
) -> Path:
    """Write ``out/SHARD.json`` for shard ``k`` of ``n`` graded over ``mine``."""
    path = Path(out) / SHARD_FILE
    info = {
        "shard": k,
        "of": n,
        "submissions": list(mine),
        "class_size": len(everyone),
        "listing_sha256": listing_digest(everyone),
    }
    path.write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


#: A shard as read: its folder, SHARD.json, grades.csv header and rows
ReadShard = tuple[Path, dict[str, Any], list[str], list[dict[str, str]]]


def _read_shard(folder: Path) -> tuple[dict[str, Any], list[str], list[dict[str, str]]]:
    """A shard's SHARD.json, grades.csv header and rows, after checking its manifest."""
    try:
        verify_manifest(folder)
    except ValueError as exc:
        why = str(exc).removeprefix("refusing to merge: ")
        raise ValueError(f"refusing to combine: shard {folder}: {why}") from None
    listed = (folder / MANIFEST).read_text(encoding="utf-8")
    if not any(line.endswith(f"  {SHARD_FILE}") for line in listed.splitlines()):
        raise ValueError(
            f"refusing to combine: {folder} is not a shard (no {SHARD_FILE} in its "
            "manifest); grade it with --shard k/N"
        )
    info = json.loads((folder / SHARD_FILE).read_text(encoding="utf-8"))
    with open(folder / "grades.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    return info, header, rows


def _digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def combine(shards: Sequence[str | Path], out: str | Path) -> Path:
    """Combine shard folders into ``out`` (grades.csv, feedback/, executed/, rubric.yml,
    MANIFEST.sha256); return the path of the combined grades.csv.

    Raises:
        ValueError: naming every problem: a shard whose files changed since grading, a
            folder that is not a shard, shards of different listings or rubrics, a shard
            given twice, a missing shard, a submission in no shard or in two. Nothing is
            written then.
    """
    from .rubric import load_rubric

    folders = [Path(s) for s in shards]
    out = Path(out)
    if not folders:
        raise ValueError("--combine needs the shard folders (grades_0 ... grades_N-1)")
    if out.resolve() in [f.resolve() for f in folders]:
        raise ValueError("--out must be a new folder, not one of the shards")
    read: list[ReadShard] = [(f, *_read_shard(f)) for f in folders]
    rubric_bytes = (read[0][0] / "rubric.yml").read_bytes()
    columns = grade_columns(load_rubric(read[0][0] / "rubric.yml"))
    problems = _run_problems(read, rubric_bytes) + _row_problems(read, columns)
    if not problems:  # only then does the count of submissions mean something
        problems = _size_problems(read)
    if problems:
        raise ValueError("refusing to combine (nothing was written):\n  " + "\n  ".join(problems))
    return _write(read, rubric_bytes, columns, out)


def _run_problems(read: list[ReadShard], rubric_bytes: bytes) -> list[str]:
    """Shards of another run or rubric than the first one, given twice, or missing."""
    first_folder, first = read[0][0], read[0][1]
    problems: list[str] = []
    by_index: dict[int, Path] = {}
    for folder, info, _, _ in read:
        if (info["of"], info["listing_sha256"]) != (first["of"], first["listing_sha256"]):
            problems.append(
                f"{folder} is shard {info['shard']}/{info['of']} of another grading run than "
                f"{first_folder} (shard count or submissions folder differ)"
            )
        if (folder / "rubric.yml").read_bytes() != rubric_bytes:
            problems.append(f"{folder} was graded with another rubric than {first_folder}")
        if info["shard"] in by_index:
            problems.append(
                f"shard {info['shard']}/{info['of']} is given twice: "
                f"{by_index[info['shard']]} and {folder}"
            )
        by_index.setdefault(info["shard"], folder)
    missing = sorted(set(range(first["of"])) - set(by_index))
    if missing:
        problems.append(
            f"missing shard(s) {', '.join(map(str, missing))} of {first['of']}: every shard "
            "0..N-1 is needed"
        )
    return problems


def _row_problems(read: list[ReadShard], columns: list[str]) -> list[str]:
    """grades.csv files without the rubric's columns or their SHARD.json's submissions, a
    submission graded in two shards."""
    problems: list[str] = []
    owner: dict[str, Path] = {}
    for folder, info, header, rows in read:
        if header != columns:
            problems.append(f"{folder}/grades.csv does not have the rubric's columns")
        names = [r["submission"] for r in rows]
        if sorted(names) != sorted(info["submissions"]):
            problems.append(
                f"{folder}/grades.csv does not hold the submissions of its {SHARD_FILE}"
            )
        for name in names:
            if name in owner and owner[name] != folder:
                problems.append(f"{name!r} is graded in two shards: {owner[name]} and {folder}")
            owner.setdefault(name, folder)
    return problems


def _size_problems(read: list[ReadShard]) -> list[str]:
    """A submission of the graded folder that is in no shard."""
    held = len({row["submission"] for _, _, _, rows in read for row in rows})
    class_size = read[0][1]["class_size"]
    if held == class_size:
        return []
    return [f"the shards hold {held} submissions, the folder had {class_size}"]


def _write(read: list[ReadShard], rubric_bytes: bytes, columns: list[str], out: Path) -> Path:
    """Write the combined folder (every check has passed)."""
    for sub in ("feedback", "executed"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    (out / MANIFEST).unlink(missing_ok=True)
    taken: set[str] = set()
    files: list[str] = []
    rows: list[dict[str, str]] = []
    for folder, _, _, shard_rows in sorted(read, key=lambda item: item[1]["shard"]):
        for row in shard_rows:
            stem = Path(row["feedback"]).stem
            unique, n = stem, 2
            while unique.lower() in taken:  # two shards gave one file name to two students
                unique, n = f"{stem}_{n}", n + 1
            taken.add(unique.lower())
            for sub, suffix in (("feedback", ".md"), ("executed", ".ipynb")):
                source = folder / sub / f"{stem}{suffix}"
                if source.is_file():
                    shutil.copyfile(source, out / sub / f"{unique}{suffix}")
                    files.append(f"{sub}/{unique}{suffix}")
            rows.append({**row, "feedback": f"feedback/{unique}.md"})
    path = out / "grades.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["submission"].casefold()))
    (out / "rubric.yml").write_bytes(rubric_bytes)
    names = ["grades.csv", *sorted(files), "rubric.yml"]
    lines = [f"{_digest(out / n)}  {n}" for n in names]
    (out / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
