"""The automatic criteria: sections, figures, errors, and the points they award.

Each function takes plain nbformat notebooks (``NotebookNode``) and returns facts; the
scoring in :func:`score_automatic` turns those facts into points with a reason each, so
the feedback can say what passed, what failed and why.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nnscratch.plotting import stored_alt

from .rubric import Criterion, Rubric, Section

__all__ = [
    "CriterionScore",
    "Heading",
    "SectionReport",
    "cell_errors",
    "figure_cells",
    "find_headings",
    "kernel_access",
    "find_sections",
    "ran",
    "score_automatic",
]

# CommonMark: up to three spaces of indent; ATX (``## Title``) or setext (a line of text
# underlined by ``===`` for level 1 or ``---`` for level 2).
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_WORD = re.compile(r"[^\W\d_]{2,}")
#: Lines holding this word are template instructions, not the student's text.
PLACEHOLDER = "TODO"
_FIGURE_MIMES = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")


@dataclass(frozen=True)
class Heading:
    """A markdown heading: ``cell`` (0-based), ``line`` in the cell, ``level`` (1-6), ``text``."""

    cell: int
    line: int
    level: int
    text: str


@dataclass(frozen=True)
class SectionReport:
    """Whether one required section is there and has content.

    Attributes:
        section: the rubric's section.
        heading: the heading found (None when missing).
        words: words of prose in the section (placeholders excluded).
        code_cells: code cells with real code (not only comments) in the section.
        ok: present and non-empty by the section's ``needs``.
        why: one sentence for the feedback.
    """

    section: Section
    heading: Heading | None
    words: int
    code_cells: int
    ok: bool
    why: str


@dataclass(frozen=True)
class CriterionScore:
    """Points awarded for one automatic criterion, and why."""

    criterion: Criterion
    points: float
    passed: bool
    why: str


def find_headings(nb: Any) -> list[Heading]:
    """Every markdown heading (``# ...`` to ``###### ...``) outside code fences, in order."""
    found: list[Heading] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        lines = cell.source.split("\n")
        for i, line in enumerate(lines):
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
                continue
            if fenced:
                continue
            match = _HEADING.match(line)
            if match and (match.group(2) or "").strip():
                found.append(Heading(index, i, len(match.group(1)), match.group(2).strip()))
                continue
            underline = _SETEXT.match(lines[i + 1]) if i + 1 < len(lines) else None
            previous = lines[i - 1].strip() if i else ""
            if underline and line.strip() and not previous and not line.startswith("    "):
                level = 1 if underline.group(1).startswith("=") else 2
                found.append(Heading(index, i, level, line.strip()))
    return found


def _is_code(source: str) -> bool:
    """True when ``source`` has a line that is neither blank nor a comment."""
    return any(line.strip() and not line.strip().startswith("#") for line in source.split("\n"))


def _words(text: str) -> int:
    lines = [line for line in text.split("\n") if PLACEHOLDER not in line]
    return len(_WORD.findall("\n".join(lines)))


def _section_content(nb: Any, start: Heading, stop: Heading | None) -> tuple[int, int]:
    """``(words, code_cells)`` between heading ``start`` and heading ``stop`` (exclusive)."""
    words = code_cells = 0
    end_cell = stop.cell if stop is not None else len(nb.cells) - 1
    for index in range(start.cell, end_cell + 1):
        cell = nb.cells[index]
        lines = cell.source.split("\n")
        first = start.line + 1 if index == start.cell else 0
        last = stop.line if stop is not None and index == stop.cell else len(lines)
        text = "\n".join(lines[first:last])
        if cell.cell_type == "markdown":
            words += _words(text)
        elif cell.cell_type == "code" and _is_code(text):
            code_cells += 1
    return words, code_cells


def find_sections(nb: Any, sections: Sequence[Section]) -> list[SectionReport]:
    """Check that each required section has a heading and content.

    A section runs from its heading to the next heading of the same or a higher level
    (or the next required section's heading, whichever comes first).
    """
    headings = find_headings(nb)
    reports: list[SectionReport] = []
    names = [sum(s.matches(h.text) for s in sections) for h in headings]
    used: set[int] = set()
    for section in sections:
        # One heading serves one section: a heading naming only this section first, then
        # one naming several ("Math, code, results and takeaways" counts once, not four
        # times; a title "Optimiser code and results" does not stand in for "## 2. Code").
        candidates = [
            i for i, h in enumerate(headings) if i not in used and section.matches(h.text)
        ]
        candidates.sort(key=lambda i: (names[i] > 1, i))
        position = candidates[0] if candidates else None
        if position is not None:
            used.add(position)
        if position is None:
            reports.append(
                SectionReport(
                    section, None, 0, 0, False, f"no heading naming '{section.title}' was found"
                )
            )
            continue
        heading = headings[position]
        stop = next(
            (
                h
                for h in headings[position + 1 :]
                if h.level <= heading.level or any(s.matches(h.text) for s in sections)
            ),
            None,
        )
        words, code = _section_content(nb, heading, stop)
        if section.needs == "code":
            ok = code > 0
            why = (
                f"{code} code cell(s) with code"
                if ok
                else "the section has no code cell with code in it (only comments or nothing)"
            )
        else:
            ok = words >= section.min_words
            why = f"{words} words of explanation" + (
                "" if ok else f", fewer than the {section.min_words} needed"
            )
        reports.append(SectionReport(section, heading, words, code, ok, why))
    return reports


#: Names through which a cell can reach the kernel or the interpreter's machinery and
#: change what the kernel reports (hooks, input transformers, the traceback display, the
#: message session and its key) or reach them indirectly (dynamic code, the module table).
KERNEL_NAMES = frozenset({
    "get_ipython", "ipykernel", "jupyter_client", "zmq", "hmac", "InteractiveShell",
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager",
    "ast_transformers", "showtraceback", "_showtraceback", "set_custom_exc", "CustomTB",
    "post_run_cell", "pre_run_cell", "post_execute", "pre_execute", "excepthook",
    "exec", "eval", "compile", "__import__", "importlib", "builtins", "__builtins__",
    "globals", "vars", "__globals__", "__subclasses__", "__code__", "__dict__",
    "get_objects", "get_referrers", "get_referents", "ctypes", "settrace",
    "setprofile", "_getframe", "f_globals", "f_locals",
    "inspect", "run_cell", "user_ns", "session", "iopub_socket", "send_response",
    "tb_frame", "f_back", "f_builtins", "gi_frame", "cr_frame",
})  # fmt: skip


def kernel_access(nb: Any) -> list[tuple[int, str]]:
    """``(cell index, name)`` for each code cell that names the kernel's machinery
    (:data:`KERNEL_NAMES`) outside comments: as a name, an attribute or inside a string.

    Such a cell can make the kernel report what did not happen, so the grader does not
    trust the kernel's word on running without errors for that notebook. ``model.eval()``
    (an attribute call) does not count; ``eval(...)`` does. Magics (``%``, ``!`` lines)
    are skipped. Obfuscation that avoids every listed name is not caught (see the trust
    model in projects/README.md).
    """
    found: list[tuple[int, str]] = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        hit = _kernel_name_in(cell.source)
        if hit:
            found.append((index, hit))
    return found


_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_SKIPPED = (tokenize.ENDMARKER, tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT,
            tokenize.INDENT, tokenize.DEDENT)  # fmt: skip


def _kernel_name_in(source: str) -> str | None:
    """The first name of :data:`KERNEL_NAMES` in one code cell's ``source`` (magic lines
    skipped), or None. Source that does not tokenize is searched word by word."""
    text = "\n".join(ln for ln in source.split("\n") if not ln.lstrip().startswith(("%", "!")))
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text + "\n").readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        words = set(re.findall(_IDENTIFIER, text))
        return next((w for w in sorted(words) if w in KERNEL_NAMES), None)
    significant = [t.string for t in tokens if t.type not in _SKIPPED]
    previous = ""
    position = -1
    for token in tokens:
        if token.type not in _SKIPPED:
            position += 1
        hit = _token_names_kernel(token, previous, significant[position + 1 : position + 3])
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            if previous == "sys" and token.string == ".":
                previous = "sys."
                continue
            if previous == "sys." and token.string == "modules":
                hit = "sys.modules"
            previous = token.string
        if hit:
            return hit
    return None


def _token_names_kernel(token: tokenize.TokenInfo, previous: str, after: list[str]) -> str | None:
    """The kernel name ``token`` stands for, or None; ``previous`` is the token before it,
    ``after`` the two significant tokens after it."""
    if token.string == "IPython" and after != [".", "display"]:
        return "IPython"  # IPython.display is for showing things; the rest of IPython is the kernel
    if token.type == tokenize.NAME and token.string in KERNEL_NAMES:
        # model.eval(), torch.compile(...), model.modules() are not the builtins
        attribute = previous == "." and token.string in _ATTRIBUTE_OK
        return None if attribute else token.string
    if token.type == tokenize.STRING:
        words = set(re.findall(_IDENTIFIER, token.string))
        return next((w for w in sorted(words) if w in KERNEL_NAMES - _COMMON_WORDS), None)
    return None


# Names that are harmless as an attribute of something else (torch.compile, re.compile,
# model.eval()); ``sys.modules`` is caught by ``sys`` then ``modules`` below (a variable
# called ``modules`` or ``model.modules()`` is not).
_ATTRIBUTE_OK = frozenset({"eval", "compile", "exec", "session", "vars", "inspect"})
# Words also common in prose inside strings (a title "Session 3", "compile the results").
_COMMON_WORDS = frozenset({"session", "compile", "globals", "vars", "inspect", "exec", "eval",
                           "builtins"})  # fmt: skip


def ran(cell: Any) -> bool:
    """True when the grader's runner got an execute reply for ``cell`` in this run.

    The runner marks such cells in ``metadata.grader`` (the submitted notebook's metadata
    is cleared before the run, so a submission cannot set it).
    """
    return cell.get("cell_type") == "code" and isinstance(
        cell.get("metadata", {}).get("grader"), dict
    )


def figure_cells(nb: Any) -> list[int]:
    """0-based indices of the cells that ran and showed a figure (one entry per figure).

    Outputs of cells without an execute reply (blank cells, the cell that was running when
    the kernel died or the time ran out, anything after it) do not count.
    """
    found: list[int] = []
    for index, cell in enumerate(nb.cells):
        if not ran(cell):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {}) if out.get("output_type") != "stream" else {}
            # nnscratch.plotting.show stores a figure as an <img> in text/html (with its alt)
            if any(mime in data for mime in _FIGURE_MIMES) or stored_alt(out) is not None:
                found.append(index)
    return found


def cell_errors(nb: Any) -> list[tuple[int, str, str]]:
    """``(cell index, exception name, message)`` for every cell whose execute reply said
    ``error`` (or ``aborted``), in order: counted from the replies, not from the outputs,
    so hiding the traceback does not hide the error."""
    found: list[tuple[int, str, str]] = []
    for index, cell in enumerate(nb.cells):
        if not ran(cell):
            continue
        reply = cell.metadata["grader"]
        if reply.get("status") != "ok":
            name = str(reply.get("ename") or reply.get("status") or "Error")[:100]
            found.append((index, name, str(reply.get("evalue", ""))[:300]))
    return found


def score_automatic(
    rubric: Rubric,
    nb: Any | None,
    executed: Any | None,
    run_status: str | None,
    run_detail: str = "",
) -> list[CriterionScore]:
    """Points for every automatic criterion of ``rubric``.

    Args:
        rubric: the rubric.
        nb: the submitted notebook (None when it could not be read).
        executed: the executed copy (None when it did not run).
        run_status: ``completed``, ``timeout``, ``kernel_died``, ``error`` or None (not run).
        run_detail: why the run stopped, for the feedback.
    """
    completed = run_status == "completed"
    scores: list[CriterionScore] = []
    reaches = kernel_access(nb) if nb is not None and run_status is not None else []
    distrust = ""
    if reaches:
        cell, name = reaches[0]
        distrust = (
            f"not scored automatically: cell {cell + 1} reaches into the kernel ({name}), "
            "so the kernel's report of this run cannot be trusted; the instructor checks it"
        )
    for criterion in rubric.automatic:
        if criterion.check == "sections":
            scores.append(_score_sections(criterion, nb, rubric.sections))
        elif criterion.check == "runs":
            scores.append(_score_runs(criterion, completed, run_detail, distrust))
        elif criterion.check == "figures":
            scores.append(_score_figures(criterion, executed))
        elif criterion.check == "no_errors":
            scores.append(_score_no_errors(criterion, executed, completed, distrust))
        else:  # pragma: no cover - parse_rubric rejects unknown checks
            raise ValueError(f"unknown check {criterion.check!r}")
    return scores


def _score_sections(
    criterion: Criterion, nb: Any | None, sections: Sequence[Section]
) -> CriterionScore:
    """Points in proportion to the required sections present and non-empty."""
    pts = criterion.points
    if nb is None:
        return CriterionScore(criterion, 0.0, False, "the notebook is unreadable")
    reports = find_sections(nb, sections)
    good = sum(r.ok for r in reports)
    missing = [r.section.title for r in reports if not r.ok]
    why = f"{good} of {len(reports)} required sections present and non-empty" + (
        f"; missing or empty: {', '.join(missing)}" if missing else ""
    )
    score = round(pts * good / len(reports), 2) if reports else pts
    return CriterionScore(criterion, score, good == len(reports), why)


def _score_runs(
    criterion: Criterion, completed: bool, run_detail: str, distrust: str
) -> CriterionScore:
    """All points when the notebook ran to the end (none when the run is not trusted)."""
    pts = criterion.points
    why = (
        "runs top to bottom in a fresh kernel within the limits"
        if completed
        else f"did not run to the end: {run_detail or 'not run'}"
    )
    if distrust:
        return CriterionScore(criterion, 0.0, False, distrust)
    return CriterionScore(criterion, pts if completed else 0.0, completed, why)


def _score_figures(criterion: Criterion, executed: Any | None) -> CriterionScore:
    """All points when the run showed at least ``min_figures`` figures."""
    pts = criterion.points
    need = int(criterion.options.get("min_figures", 1))
    cells = figure_cells(executed) if executed is not None else []
    ok = len(cells) >= need
    where = ", ".join(f"cell {i + 1}" for i in sorted(set(cells)))
    why = f"{len(cells)} figure(s) shown" + (f" ({where})" if where else "")
    if not ok:
        why += (
            f"; at least {need} needed (end plotting cells with "
            "nnscratch.plotting.show(alt) or plt.show())"
        )
    return CriterionScore(criterion, pts if ok else 0.0, ok, why)


def _score_no_errors(
    criterion: Criterion, executed: Any | None, completed: bool, distrust: str
) -> CriterionScore:
    """All points when the run completed and no cell's reply said error (none when the
    run is not trusted)."""
    pts = criterion.points
    errors = cell_errors(executed) if executed is not None else []
    if distrust:
        return CriterionScore(criterion, 0.0, False, distrust)
    ok = completed and not errors
    if errors:
        first = errors[0]
        why = (
            f"{len(errors)} cell(s) raised an error; first in cell {first[0] + 1}: "
            f"{first[1]}: {first[2]}"
        )
    elif not completed:
        why = "the run did not finish, so not every cell could be checked"
    else:
        why = "no cell raised an error"
    return CriterionScore(criterion, pts if ok else 0.0, ok, why)
