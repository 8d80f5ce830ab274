"""Text a submission controls, made safe where the grader shows it.

Exception names and messages, file names and anything else a student's code or file
system chose can hold terminal escapes (ANSI colours, OSC titles, cursor moves), line
breaks, Markdown or HTML. :func:`terminal` makes such text one inert line for the
instructor's progress output; :func:`markdown` makes it literal text inside a Markdown
line of the feedback (no code span, link, image, raw HTML or table cell can start).
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["markdown", "terminal"]

# Line breaks are spelt out, so nothing a submission writes starts a line: only inline
# Markdown needs escaping (code spans, emphasis, links and images, table cells, strike).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()|~])")


def _spell_controls(text: str) -> str:
    """Every control, format or separator character but the plain space spelt out."""
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch != " " and (category[0] in "CZ"):
            out.append(ascii(ch)[1:-1])
        else:
            out.append(ch)
    return "".join(out)


def terminal(text: str, limit: int = 300) -> str:
    """``text`` as one line with no escape sequence: ``\\x1b[2K`` stays visible text."""
    text = str(text).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    shown = _spell_controls(text)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def markdown(text: str, limit: int = 2000) -> str:
    """``text`` as literal Markdown inline text: HTML escaped, Markdown punctuation
    backslash-escaped, controls and line breaks spelt out."""
    shown = terminal(text, limit)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(shown, quote=False))
