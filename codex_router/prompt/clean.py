"""Line-level cleaning: escape sequences, control characters, carriage-return redraws, whitespace.

Every function here works on one line *without* its line terminator. The stream layer
(:mod:`codex_router.prompt.compress`) splits input into lines, normalises ``\\r\\n`` to ``\\n``
and decides which lines may be cleaned at all (fenced code is never cleaned, see there).

Removed text is reported through an optional ``sink(rule, removed_text)`` callback so the
caller can attribute lines and tokens to the rule that removed them without this module
knowing how tokens are counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

Sink = Callable[[str, str], None]

RULE_ANSI = "ansi_escapes"
RULE_CONTROL = "control_chars"
RULE_CR = "carriage_return_redraws"
RULE_TRAILING = "trailing_whitespace"

# Each pattern is compiled at its first use: a command pays only for the patterns it needs.


@cache
def ansi_re() -> re.Pattern[str]:
    """CSI (colours, cursor moves; also the 8-bit C1 form), OSC (titles, OSC 8 hyperlinks)
    terminated by BEL or ST -- or unterminated, as a terminal swallows it too -- and other
    2-byte escapes."""
    return re.compile(
        r"\x1b\[[0-?]*[ -/]*[@-~]"
        r"|\x9b[0-?]*[ -/]*[@-~]"
        r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
        r"|\x1b[@-Z\\-_]"
    )


# C0 controls except \t (and \n, never present inside a line), DEL and C1 controls. One search
# decides whether a line needs the slow path at all: ESC, \r, \b and the other controls are all
# in this class.
@cache
def control_re() -> re.Pattern[str]:
    return re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@cache
def _term_re() -> re.Pattern[str]:
    """Tokens a terminal interprets when it redraws a line: CR, backspace, erase-in-line, and
    any other escape sequence (ignored for positioning)."""
    return re.compile(
        r"\r|\x08|\x1b\[([0-2]?)K|\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]"
        r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]"
    )


def strip_ansi(line: str) -> str:
    """Remove CSI/OSC/other escape sequences (colours, hyperlinks, titles)."""
    return ansi_re().sub("", line) if "\x1b" in line or "\x9b" in line else line


def render_terminal(line: str) -> str:
    """Return what a terminal shows after drawing ``line``: text after ``\\r`` overwrites from
    column 0 (a shorter redraw leaves the tail of the longer one visible, as on a real
    terminal), ``\\b`` moves back one column, ``ESC[K``/``ESC[1K``/``ESC[2K`` erase, other escape
    sequences are ignored. Cursor-up sequences (multi-line redraws) cannot be honoured line by
    line and are simply dropped."""
    buf = ""
    col = 0
    pos = 0
    for m in _term_re().finditer(line):
        text = line[pos : m.start()]
        if text:
            if col > len(buf):
                buf = buf.ljust(col)
            buf = buf[:col] + text + buf[col + len(text) :]
            col += len(text)
        tok = m.group(0)
        if tok == "\r":
            col = 0
        elif tok == "\x08":
            col = max(0, col - 1)
        elif m.group(1) is not None:
            mode = m.group(1) or "0"
            if mode == "0":
                buf = buf[:col]
            elif mode == "1":
                buf = " " * min(col + 1, len(buf)) + buf[col + 1 :]
            else:
                buf = ""
        pos = m.end()
    text = line[pos:]
    if text:
        if col > len(buf):
            buf = buf.ljust(col)
        buf = buf[:col] + text + buf[col + len(text) :]
    return buf


def clean_line(line: str, sink: Sink | None = None) -> str:
    """Clean one line: resolve ``\\r``/backspace redraws, strip escapes and control characters
    (``\\t`` survives), drop trailing whitespace. ``sink`` receives ``(rule, removed_text)``."""
    # Printable ASCII (most lines of a log) holds no control character: no search needed.
    if (line.isascii() and line.isprintable()) or control_re().search(line) is None:
        out = line.rstrip()
        if sink is not None and len(out) != len(line):
            sink(RULE_TRAILING, line[len(out) :])
        return out
    control = control_re()
    if "\r" in line or "\x08" in line:
        shown = render_terminal(line)
        if sink is not None:
            # What was overwritten: every redraw but the last, escapes included.
            hidden = line.rsplit("\r", 1)[0] if "\r" in line else ""
            if hidden:
                sink(RULE_CR, ansi_re().sub("", hidden))
        out = shown
    elif "\x1b" in line or "\x9b" in line:
        ansi = ansi_re()
        out = ansi.sub("", line)
        if sink is not None and len(out) != len(line):
            sink(RULE_ANSI, "".join(ansi.findall(line)))
    else:
        out = line
    if control.search(out) is not None:
        cleaned = control.sub("", out)
        if sink is not None:
            sink(RULE_CONTROL, "".join(control.findall(out)))
        out = cleaned
    stripped = out.rstrip()
    if sink is not None and len(stripped) != len(out):
        sink(RULE_TRAILING, out[len(stripped) :])
    return stripped


def split_lines(text: str) -> list[str]:
    """Split ``text`` into lines without terminators; ``\\r\\n`` and ``\\n`` end a line, a lone
    ``\\r`` does not (it is a redraw, resolved by :func:`clean_line`). A final terminator does
    not produce an extra empty line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
