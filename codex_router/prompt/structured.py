"""Structured line formats with their own folding: JSON-lines logs and directory listings.

* :func:`json_key` -- a line holding one JSON object (a JSON-lines log record) gets a family key
  made of its keys (in order) and the values of its message-like fields (``level``, ``msg``,
  ``message``, ``event``, ``logger``, ``status``...); the other values (timestamps, ids, numbers,
  paths) vary freely. Records with the same key fold in the family window like log templates
  (rule ``json_lines``). A pretty-printed multi-line document never matches: each of its lines
  alone is no JSON object.
* :func:`listing_entry` -- ``ls -l`` rows (and ``total N``), ``tree`` rows (``├── ``, ``└── ``,
  ``│   ``) and ``find``-style path lines. A run of them keeps its first :data:`LISTING_KEEP`
  entries, then one marker line summarises the rest by extension (rule ``listing``).
"""

from __future__ import annotations

import re
from functools import cache

from .reducers import template_key

RULE_JSON = "json_lines"
RULE_LISTING = "listing"
JSON_KEY_PREFIX = "\x01json\x01"

# Fields whose value names what happened: equal values are required to fold together.
MESSAGE_FIELDS = frozenset(
    {
        "level",
        "lvl",
        "severity",
        "loglevel",
        "log.level",
        "levelname",
        "event",
        "logger",
        "name",
        "status",
        "status_code",
        "statuscode",
        "code",
        "method",
        "component",
        "service",
        "module",
        "type",
        "kind",
        "action",
        "op",
    }
)
# Free-text message fields: values must be equal but for their variable tokens (numbers, ids,
# paths: :func:`~.reducers.template_key`), as two plain log lines must to fold together.
TEXT_FIELDS = frozenset({"msg", "message", "text", "log", "error", "err"})

_json_decode = None


def json_key(line: str) -> str | None:
    """Family key of a one-line JSON object, or None when ``line`` is no JSON object."""
    s = line.strip()
    if len(s) < 7 or s[0] != "{" or s[-1] != "}" or ('":' not in s and '" :' not in s):
        return None
    global _json_decode
    if _json_decode is None:
        import json  # lazy: ~1.5 ms; only a log with a JSON-object line needs it

        _json_decode = json.JSONDecoder().decode
    try:
        obj = _json_decode(s)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not obj:
        return None
    parts = [JSON_KEY_PREFIX, line[: len(line) - len(line.lstrip())]]
    for k, v in obj.items():
        parts.append(k)
        low = k.lower()
        if low in TEXT_FIELDS and isinstance(v, str):
            parts.append("~" + template_key(v.replace("\x00", "")))
        elif low in MESSAGE_FIELDS and not isinstance(v, (dict, list)):
            parts.append("=" + repr(v))
        else:
            parts.append(":" + type(v).__name__)
        parts.append("\x02")
    return "".join(parts)


# ------------------------------------------------------------------ listings
LISTING_KEEP = 5  # entries of a run written before the rest is counted


# Each pattern is compiled at its first use: a command pays only for the patterns it needs.
@cache
def _ls_re() -> re.Pattern[str]:
    return re.compile(
        r"^[-dlcbpsD][-rwxsStTlL]{9}[.@+]?\s+\d+\s+\S.*?\s"
        r"(?:(?:\w{3}\s+\d{1,2}|\d{1,2}\s+\w{3})\s+(?:\d{1,2}:\d\d|\d{4})"  # Nov 21 10:00
        r"|\d{4}-\d\d-\d\d\s+\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:\s+[+-]\d{4})?)"  # --time-style
        r"\s(.+)$"
    )


@cache
def _total_re() -> re.Pattern[str]:
    return re.compile(r"^total \d+(?:\.\d+)?[KMGk]?$")


@cache
def _tree_re() -> re.Pattern[str]:
    return re.compile(r"^(?:(?:│|\|)\s{1,3}|\s{4})*(?:[├└]──|[|`]--)\s(.+)$")


@cache
def _find_re() -> re.Pattern[str]:
    return re.compile(r"^(?:\.{1,2}|~)?/[^\s:]+$")


def listing_entry(line: str) -> tuple[str, str | int] | None:
    """``(entry name, directory)`` of a listing line (``ls -l`` row, ``tree`` row, ``find``
    path), None for any other line. The name is ``""`` for an ``ls`` ``total`` line; the
    directory is what tells entries of different directories apart (the depth of a ``tree``
    row as an int, see :meth:`ListingRun.parent`; the parent of a ``find`` path; ``""`` for
    ``ls`` rows)."""
    # Each pattern is tried only on lines holding what it needs (mode letters, "total ", a
    # tree branch): most lines of a log start with one of these characters.
    c0 = line[:1]
    if c0 in "-dlcbpsD" and len(line) > 20 and not line[1:10].strip("-rwxsStTlL"):
        m = _ls_re().match(line)
        if m is not None:
            name = m.group(1)
            return name.strip().split(" -> ", 1)[0] + ("/" if c0 == "d" else ""), ""
    if c0 == "t":
        if line.startswith("total ") and _total_re().match(line) is not None:
            return "", ""
        return None
    if c0 in "├└│|` ":
        m = _tree_re().match(line) if "──" in line or "--" in line else None
        return (m.group(1), m.start(1)) if m is not None else None
    if c0 in "./~" and _find_re().match(line) is not None:
        return line, line.rsplit("/", 1)[0]
    return None


def entry_kind(name: str) -> str:
    """``*.py`` for a file name with an extension, ``dirs`` for ``name/``, else ``other``."""
    if name.endswith("/"):
        return "dirs"
    base = name.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    if 0 < dot < len(base) - 1 and len(base) - dot <= 9:
        return "*" + base[dot:]
    return "other"


def listing_marker(indent: str, folded: int, kinds: dict[str, int]) -> str:
    """``[… 212 more entries (*.py 140, *.json 60, other 12)]``."""
    ranked = sorted(
        ((k, n) for k, n in kinds.items() if k != "other"), key=lambda kv: (-kv[1], kv[0])
    )
    rest = kinds.get("other", 0) + sum(n for _, n in ranked[3:])
    parts = [f"{k} {n}" for k, n in ranked[:3]]
    if rest:
        parts.append(f"other {rest}")
    return f"{indent}[… {folded} more entries ({', '.join(parts)})]"


_MAX_DIRS = 256  # directories whose first entries a run keeps (the later ones fold at once)
_MAX_KINDS = 64  # distinct extensions counted per marker (the rest count as "other")


class ListingRun:
    """State of one run of listing lines: entries written per directory (bounded), the folded
    entries not yet summarised (count, the first one, counts per kind) and, for ``tree``
    output, the names of the enclosing directories."""

    __slots__ = ("folded", "held", "kept", "kinds", "stack")

    def __init__(self) -> None:
        self.kept: dict[str, int] = {}
        self.folded = 0
        self.held: str | None = None
        self.kinds: dict[str, int] = {}
        self.stack: list[tuple[int, str]] = []

    def parent(self, name: str, where: str | int) -> str:
        """The directory key of an entry; a ``tree`` depth becomes the path of the enclosing
        entries (the last entry seen at each smaller depth)."""
        if isinstance(where, str):
            return where
        stack = self.stack
        while stack and stack[-1][0] >= where:
            stack.pop()
        key = "\x00" + "/".join(n for _, n in stack)
        if len(stack) < 64:
            stack.append((where, name))
        return key

    def admit(self, where: str) -> bool:
        """True (and counted) while ``where`` has had fewer than :data:`LISTING_KEEP` entries
        written."""
        kept = self.kept
        n = kept.get(where)
        if n is None:
            if len(kept) >= _MAX_DIRS:
                return False
            kept[where] = 1
            return True
        if n < LISTING_KEEP:
            kept[where] = n + 1
            return True
        return False

    def fold(self, name: str, line: str) -> bool:
        """Count a folded entry; False for the first one of a stretch (held back: a marker for
        one line would save nothing), True when the caller reports ``line`` removed."""
        self.folded += 1
        kinds = self.kinds
        kind = entry_kind(name) if name else "other"
        if kind in kinds:
            kinds[kind] += 1
        elif len(kinds) < _MAX_KINDS:
            kinds[kind] = 1
        else:
            kinds["other"] = kinds.get("other", 0) + 1
        if self.held is None:
            self.held = line
            return False
        return True

    def take(self) -> tuple[int, str | None, dict[str, int]]:
        """The folded stretch so far (count, first line, kinds), forgotten here."""
        out = self.folded, self.held, self.kinds
        self.folded, self.held, self.kinds = 0, None, {}
        return out
