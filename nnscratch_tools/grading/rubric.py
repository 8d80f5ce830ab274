"""The project rubric: ``projects/rubric.yml`` read into checked Python objects.

The file has three keys::

    limits:    {timeout_s: 120, memory_mb: 4096}      # optional defaults for the grader
    sections:                                        # the headings every submission needs
      - {id: math, title: "...", match: [math], needs: prose, min_words: 40}
    criteria:                                        # what earns points
      - {id: runs_top_to_bottom, description: "...", points: 3, kind: automatic, check: runs}
      - {id: presentation, description: "...", points: 25, kind: manual}

``kind`` is ``automatic`` (the grader scores it, with ``check`` one of :data:`CHECKS`) or
``manual`` (the instructor fills it in). Read with ``yaml.safe_load`` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CHECKS", "Criterion", "Rubric", "Section", "load_rubric", "parse_rubric"]

#: Automatic checks the grader knows, with what each one awards.
CHECKS: dict[str, str] = {
    "sections": "points in proportion to the required sections present and non-empty",
    "runs": "all points when the notebook runs top to bottom in a fresh kernel within limits",
    "figures": "all points when running it shows at least `min_figures` figures (default 1)",
    "no_errors": "all points when it ran to the end and no cell raised an error",
}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_NEEDS = ("prose", "code")


@dataclass(frozen=True)
class Section:
    """A required section of a submission.

    Attributes:
        id: short name, e.g. ``"math"``.
        title: the heading in the template, e.g. ``"Math: one component explained"``.
        match: words that identify the heading (case-insensitive, matched at a word start).
        needs: ``"prose"`` (markdown text) or ``"code"`` (a code cell with real code).
        min_words: words of prose needed when ``needs == "prose"``.
    """

    id: str
    title: str
    match: tuple[str, ...]
    needs: str = "prose"
    min_words: int = 30

    def matches(self, heading: str) -> bool:
        """True when heading text ``heading`` names this section."""
        return any(
            re.search(r"\b" + re.escape(word), heading, flags=re.IGNORECASE) for word in self.match
        )


@dataclass(frozen=True)
class Criterion:
    """One line of the rubric.

    Attributes:
        id: column name in ``grades.csv``.
        description: what earns the points, shown in the feedback.
        points: the most this criterion can award (> 0).
        kind: ``"automatic"`` or ``"manual"``.
        check: for automatic criteria, one of :data:`CHECKS`.
        options: extra settings of the check (e.g. ``min_figures``).
    """

    id: str
    description: str
    points: float
    kind: str
    check: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def automatic(self) -> bool:
        """True for criteria the grader scores."""
        return self.kind == "automatic"


@dataclass(frozen=True)
class Rubric:
    """The whole rubric: required sections, criteria and default limits."""

    sections: tuple[Section, ...]
    criteria: tuple[Criterion, ...]
    limits: dict[str, float] = field(default_factory=dict)
    title: str = "Final project"

    @property
    def max_points(self) -> float:
        """Sum of the points of every criterion."""
        return float(sum(c.points for c in self.criteria))

    @property
    def automatic(self) -> tuple[Criterion, ...]:
        """The criteria the grader scores."""
        return tuple(c for c in self.criteria if c.automatic)

    @property
    def manual(self) -> tuple[Criterion, ...]:
        """The criteria the instructor scores."""
        return tuple(c for c in self.criteria if not c.automatic)

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion called ``criterion_id`` (KeyError naming the known ones)."""
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(f"no criterion {criterion_id!r}; known: {[c.id for c in self.criteria]}")


def _require(mapping: Any, key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise ValueError(f"rubric: {where} needs a '{key}' entry")
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(
            f"rubric: {where}.{key} should be {getattr(kind, '__name__', kind)}, "
            f"got {type(value).__name__} {value!r}"
        )
    return value


def _parse_section(raw: Any, i: int) -> Section:
    where = f"sections[{i}]"
    sid = _require(raw, "id", where, str)
    if not _ID.match(sid):
        raise ValueError(f"rubric: {where}.id {sid!r} should be lower_snake_case")
    match = raw.get("match", [sid])
    if isinstance(match, str):
        match = [match]
    if not isinstance(match, list) or not match or not all(isinstance(m, str) for m in match):
        raise ValueError(f"rubric: {where}.match should be a non-empty list of words")
    needs = raw.get("needs", "prose")
    if needs not in _NEEDS:
        raise ValueError(f"rubric: {where}.needs should be one of {_NEEDS}, got {needs!r}")
    min_words = raw.get("min_words", 30)
    if isinstance(min_words, bool) or not isinstance(min_words, int) or min_words < 0:
        raise ValueError(f"rubric: {where}.min_words should be a non-negative int")
    return Section(sid, str(raw.get("title", sid)), tuple(match), needs, min_words)


def _parse_criterion(raw: Any, i: int) -> Criterion:
    where = f"criteria[{i}]"
    cid = _require(raw, "id", where, str)
    if not _ID.match(cid):
        raise ValueError(f"rubric: {where}.id {cid!r} should be lower_snake_case")
    description = _require(raw, "description", where, str)
    points = _require(raw, "points", where, (int, float))
    if points <= 0:
        raise ValueError(f"rubric: {where}.points should be > 0, got {points}")
    kind = _require(raw, "kind", where, str)
    if kind not in ("automatic", "manual"):
        raise ValueError(f"rubric: {where}.kind should be 'automatic' or 'manual', got {kind!r}")
    check = raw.get("check")
    if kind == "automatic" and check not in CHECKS:
        raise ValueError(
            f"rubric: {where} ({cid}) is automatic, so 'check' should be one of "
            f"{sorted(CHECKS)}, got {check!r}"
        )
    if kind == "manual" and check is not None:
        raise ValueError(f"rubric: {where} ({cid}) is manual and cannot have a 'check'")
    known = {"id", "description", "points", "kind", "check"}
    options = {k: v for k, v in raw.items() if k not in known}
    return Criterion(cid, description, float(points), kind, check, options)


def parse_rubric(data: Any) -> Rubric:
    """Build a :class:`Rubric` from the parsed YAML ``data``; ValueError names any problem."""
    if not isinstance(data, dict):
        raise ValueError(f"rubric: expected a mapping at the top, got {type(data).__name__}")
    sections = data.get("sections", [])
    criteria = data.get("criteria")
    if not isinstance(sections, list):
        raise ValueError("rubric: 'sections' should be a list")
    if not isinstance(criteria, list) or not criteria:
        raise ValueError("rubric: 'criteria' should be a non-empty list")
    parsed_sections = tuple(_parse_section(s, i) for i, s in enumerate(sections))
    parsed = tuple(_parse_criterion(c, i) for i, c in enumerate(criteria))
    for name, items in (("section", parsed_sections), ("criterion", parsed)):
        ids = [x.id for x in items]
        dupes = sorted({x for x in ids if ids.count(x) > 1})
        if dupes:
            raise ValueError(f"rubric: {name} ids must be unique, repeated: {dupes}")
    if any(c.check == "sections" for c in parsed) and not parsed_sections:
        raise ValueError("rubric: a 'sections' check needs a 'sections' list")
    limits = data.get("limits", {}) or {}
    if not isinstance(limits, dict) or not all(
        k in ("timeout_s", "memory_mb", "file_size_mb", "max_output_chars", "disk_mb", "processes")
        for k in limits
    ):
        raise ValueError(
            "rubric: 'limits' may hold timeout_s, memory_mb, file_size_mb, max_output_chars, "
            "disk_mb, processes"
        )
    return Rubric(parsed_sections, parsed, dict(limits), str(data.get("title", "Final project")))


def load_rubric(path: str | Path) -> Rubric:
    """Read and check the rubric file at ``path`` (YAML, read with ``yaml.safe_load``)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the rubric {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"rubric {path} is not valid YAML: {exc}") from exc
    try:
        return parse_rubric(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
