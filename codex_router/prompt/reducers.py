"""Reducers: the rules that remove or fold lines. Each is a named, separately tested function.

* :func:`template_key` / :func:`family_marker` -- families of lines that differ only in
  variable tokens (numbers, ids, hashes, timestamps, IPs, paths) fold into one verbatim
  exemplar plus a marker with the count and the first/last values of the varying fields.
* :func:`fold_frames` -- library/vendor frames of Java, JavaScript, Go and Rust stack traces.
* :func:`fold_python_traceback` -- library frames of a CPython ``Traceback`` block.

Frame folding never drops: a must-keep line (error vocabulary), the first frame of a trace
(scorer rule R3: the location right after the exception line), the first location after any
error line, application frames, the last frame, and the last five lines of a Python traceback
(scorer rule R2). Library frames carry locations too; they are the one kind of location line
that may be folded, and the marker says how many were.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from .sections import frame_kind, has_location, is_error_line

# Each pattern is compiled at its first use: a command pays only for the patterns it needs.

# A variable token: a run of non-delimiter characters that contains a digit or a slash
# (numbers, ids, hashes, timestamps, IPs, versions, paths). "=" and brackets delimit, so in
# "uid=0" only the value varies. The look-behind anchors matching at token starts (linear time).
_D = r"""[^\s=,;()\[\]{}"'<>|]"""


@cache
def _var_re() -> re.Pattern[str]:
    return re.compile(rf"(?<!{_D}){_D}*[\d/]{_D}*")


@cache
def _var_split_re() -> re.Pattern[str]:
    return re.compile(rf"(?<!{_D})({_D}*[\d/]{_D}*)")


# The same substitution in two passes, about twice as fast as _var_re (whose look-behind makes
# the engine try every position): pass 1 replaces each token's tail from its first digit or
# slash on (a pattern that starts with a character class, so the engine skips ahead in C);
# pass 2 runs over the reversed text and swallows what is left of the token before it (the
# reversed head, after the marker). Exact for text without NUL (cleaned lines never hold one).
# ASCII text gets ASCII-only classes (``\s`` and ``\d`` restricted to ASCII: the same sets),
# which the engine tests by bitmap.
_WS_ASCII = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f "  # what str.isspace() and re's \s accept below 128
_DA = rf"""[^{_WS_ASCII}=,;()\[\]{{}}"'<>|]"""


@cache
def _ascii_passes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Tail and head pass for ASCII text."""
    return re.compile(rf"[0-9/]{_DA}*"), re.compile(rf"\x00{_DA}+")


@cache
def _any_passes() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Tail and head pass for any text."""
    return re.compile(rf"[\d/]{_D}*"), re.compile(rf"\x00{_D}+")


MAX_FIELD = 28
MAX_FIELDS = 3


def template_keys(text: str) -> str:
    """:func:`template_key` of every line of ``text`` at once (lines stay lines: a newline is a
    delimiter). ``text`` must not contain NUL."""
    tail, head = _ascii_passes() if text.isascii() else _any_passes()
    return head.sub("\x00", tail.sub("\x00", text)[::-1])[::-1]


def template_key(line: str) -> str:
    """The family key of a line: every variable token replaced by ``\\x00``."""
    if "\x00" in line:
        return _var_re().sub("\x00", line)
    return template_keys(line)


def _short(value: str) -> str:
    if len(value) <= MAX_FIELD:
        return value
    half = (MAX_FIELD - 1) // 2
    return value[:half] + "…" + value[-half:]


def varying_fields(first: str, last: str) -> list[tuple[str, str]]:
    """Pairs ``(first value, last value)`` of the variable tokens that differ between two
    members of one family (same template), in line order."""
    split = _var_split_re().split
    a = split(first)[1::2]
    b = split(last)[1::2]
    return [(x, y) for x, y in zip(a, b, strict=False) if x != y]


def family_marker(folded: int, first: str, last: str, block: int = 1) -> str:
    """The marker written after a family exemplar (or after ``block`` consecutive exemplars
    that fold together): count of folded lines and the first…last value of up to three
    varying fields, e.g. ``  [+311 similar: 203615…214011, 1…2]``."""
    indent = first[: len(first) - len(first.lstrip())]
    fields = varying_fields(first, last)[:MAX_FIELDS]
    vary = ", ".join(f"{_short(a)}…{_short(b)}" for a, b in fields)
    what = "similar" if block == 1 else f"similar ×{block} lines above"
    return f"{indent}[+{folded} {what}{': ' + vary if vary else ''}]"


# ------------------------------------------------------------------ stack frames
def _protect_r3(lines: Sequence[str], protected: list[bool]) -> None:
    """Scorer rule R3: the first location line among the three lines after an error line."""
    n = len(lines)
    for i, ln in enumerate(lines):
        if is_error_line(ln):
            protected[i] = True
            for j in range(i + 1, min(n, i + 4)):
                if has_location(lines[j]):
                    protected[j] = True
                    break


@cache
def _py_name_res() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The library of a Python frame's path, else its module."""
    return (
        re.compile(r'/(?:python[\d.]*|lib)/([\w.-]+?)(?:\.py)?/?"'),
        re.compile(r'([\w-]+)(?:\.py)?"'),
    )


def _lib_name(line: str) -> str:
    """A short name for the library a frame belongs to (for the fold marker)."""
    s = line.strip()
    for sep in (
        "site-packages/",
        "dist-packages/",
        "node_modules/",
        "/pkg/mod/",
        ".cargo/registry/src/",
    ):
        k = s.find(sep)
        if k >= 0:
            rest = s[k + len(sep) :].split("/")
            return rest[1] if sep == ".cargo/registry/src/" and len(rest) > 1 else rest[0]
    if s.startswith("File "):
        library, module = _py_name_res()
        m = library.search(s) or module.search(s)
        return m.group(1) if m else "stdlib"
    if s.startswith("at "):
        name = s[3:].split("(", 1)[0].strip().rsplit("/", 1)[-1]  # drop "java.base/" module
        parts = name.split(".")
        return ".".join(parts[:2]) if len(parts) > 2 else name
    if "::" in s:
        return s.split(": ", 1)[-1].split("::", 1)[0]
    return s.split("(", 1)[0][:24]


def _fold_groups(
    lines: list[str], heads: list[int], keep_frame: list[bool], indent_of: str
) -> tuple[list[str], int]:
    """Emit frames, replacing each run of >= 2 consecutive non-kept frames by one marker."""
    out: list[str] = []
    folded = 0
    i = 0
    nf = len(heads)
    while i < nf:
        if keep_frame[i]:
            end = heads[i + 1] if i + 1 < nf else len(lines)
            out.extend(lines[heads[i] : end])
            i += 1
            continue
        j = i
        while j < nf and not keep_frame[j]:
            j += 1
        end = heads[j] if j < nf else len(lines)
        if j - i < 2:  # a single frame: a marker would save nothing
            out.extend(lines[heads[i] : end])
        else:
            names: list[str] = []
            for k in range(i, j):
                nm = _lib_name(lines[heads[k]])
                if nm not in names:
                    names.append(nm)
            more = f", +{len(names) - 3} more" if len(names) > 3 else ""
            out.append(
                f"{indent_of}[… {j - i} library frames folded: {', '.join(names[:3])}{more}]"
            )
            folded += end - heads[i]
        i = j
    return out, folded


def fold_frames(lines: Sequence[str]) -> tuple[list[str], int]:
    """Fold library frames of a run of consecutive Java/JS/Go/Rust stack-frame lines.

    A frame starts at a line :func:`~.sections.frame_kind` recognises as a head (Rust ``N: fn``
    and Go ``pkg.fn(...)`` lines own the ``at``/path line that follows). Returns the lines to
    write and how many input lines were folded away.
    """
    lines = list(lines)
    if len(lines) < 3:
        return lines, 0
    heads: list[int] = []
    lib: list[bool] = []
    for i, ln in enumerate(lines):
        kind = frame_kind(ln)
        s = ln.lstrip()
        is_body = kind is not None and (
            (kind[0] == "rust" and s.startswith("at "))
            or (kind[0] == "go" and i > 0 and frame_kind(lines[i - 1]) is None)
        )
        if kind is not None and is_body and heads:
            lib[-1] = (lib[-1] or kind[1]) if kind[0] == "rust" else kind[1]
            continue
        heads.append(i)
        lib.append(kind[1] if kind is not None else True)
    protected = [False] * len(lines)
    _protect_r3(lines, protected)
    nf = len(heads)
    keep = [False] * nf
    for k in range(nf):
        end = heads[k + 1] if k + 1 < nf else len(lines)
        keep[k] = k == 0 or k == nf - 1 or not lib[k] or any(protected[heads[k] : end])
    indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())] or "\t"
    return _fold_groups(lines, heads, keep, indent)


def fold_python_traceback(block: Sequence[str]) -> tuple[list[str], int]:
    """Fold library frames inside a CPython traceback block (``Traceback (most recent call
    last):`` up to and including the exception line). Keeps the header, the first frame,
    every application frame, frames holding error words or the first location after one, the
    last five non-blank lines and every line outside the frame list."""
    lines = list(block)
    n = len(lines)
    protected = [False] * n
    _protect_r3(lines, protected)
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    for i in nonblank[-5:]:
        protected[i] = True
    heads = [
        i
        for i, ln in enumerate(lines)
        if ln.lstrip().startswith('File "') and frame_kind(ln) is not None
    ]
    if len(heads) < 3:
        return lines, 0
    first, last_frame_end = heads[0], heads[-1]
    # Frame k spans heads[k] .. next head (the last frame ends before the first unindented
    # line, i.e. the exception line and anything after it stays outside the frame list).
    block_end = next(
        (i for i in range(last_frame_end + 1, n) if lines[i][:1] not in (" ", "\t", "")), n
    )
    ends = [*heads[1:], block_end]
    keep: list[bool] = []
    for k, h in enumerate(heads):
        kind = frame_kind(lines[h])
        is_lib = kind is not None and kind[1]
        keep.append(k == 0 or k == len(heads) - 1 or not is_lib or any(protected[h : ends[k]]))
    frame_lines = lines[first : ends[-1]]
    rel_heads = [h - first for h in heads]
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    folded_out, folded = _fold_groups(frame_lines, rel_heads, keep, indent)
    return lines[:first] + folded_out + lines[ends[-1] :], folded
