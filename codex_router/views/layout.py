"""Plain-text layout shared by the hand-laid views: the output width, and wrapping at spaces.

On a terminal, lines are wrapped at spaces to its width and no word is ever split (a word that
fits nowhere else goes on a line of its own); in a pipe nothing is wrapped, so every entry stays
on one line for ``grep``. Pure apart from :func:`width`, which asks whether stdout is a terminal.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

#: in a word given to :func:`wrap_words`: a space at which the word is not broken
NBSP = "\x00"
#: at the start of such a word: two spaces before it rather than one (a column gap)
GAP = "\x01"

#: where a word too long for the hanging indent starts instead
FALLBACK_INDENT = 4


def width() -> int | None:
    """The terminal's width when stdout is a terminal (``COLUMNS`` first), else ``None``: no
    wrapping in a pipe."""
    if not sys.stdout.isatty():
        return None
    return max(shutil.get_terminal_size((80, 24)).columns, 20)


def visible(text: str) -> int:
    """The width of ``text`` on screen (colour codes take none)."""
    return len(_ANSI.sub("", text))


def shorten_home(text: str) -> str:
    """``text`` with the home directory written ``~`` (for people; a pipe keeps full paths)."""
    home = os.path.expanduser("~").rstrip("/")
    if len(home) < 2:
        return text
    return re.sub(re.escape(home) + r"(?=/|\b|$)", "~", text)


def wrap_words(
    words: Sequence[str], limit: int | None, *, first: str = "", indent: int = 0
) -> list[str]:
    """``words`` joined by single spaces (two before a :data:`GAP` word) after ``first``,
    wrapped at ``limit`` columns with later lines indented by ``indent``. A word is never split:
    one that does not fit after the indent goes on its own line at :data:`FALLBACK_INDENT` (or
    at column 0, or, longer than the line, as it is). ``limit`` ``None``: one line."""
    words = [w for w in words if w.lstrip(GAP)]
    if limit is None:
        joined = "".join(("  " if w.startswith(GAP) else " ") + w.lstrip(GAP) for w in words)
        return [(first + joined[1:].lstrip(" ")).replace(NBSP, " ").rstrip()]
    pad = " " * indent
    lines: list[str] = []
    line, empty = first, True
    for word in words:
        sep = "  " if word.startswith(GAP) else " "
        word = word.lstrip(GAP).replace(NBSP, " ")
        candidate = line + ("" if empty else sep) + word
        if visible(candidate) <= limit:
            line, empty = candidate, False
            continue
        if not empty or line.strip():
            lines.append(line.rstrip())
        if indent + visible(word) <= limit:
            line, empty = pad + word, False
            continue
        fallback = FALLBACK_INDENT if FALLBACK_INDENT + visible(word) <= limit else 0
        lines.append(" " * fallback + word)
        line, empty = pad, True
    if not empty or (line.strip() and not lines):
        lines.append(line.rstrip())
    elif not lines:
        lines.append(first.rstrip())
    return lines


def wrap(text: str, limit: int | None, *, first: str = "", indent: int = 0) -> list[str]:
    """:func:`wrap_words` of ``text``'s words (split at spaces)."""
    return wrap_words(text.split(), limit, first=first, indent=indent)
