"""Fit a (cleaned, compressed) prompt into a token budget: head + tail + every must-keep line.

:func:`fit_to_budget` is pure: it takes the text, the budget and a token counter and returns a
:class:`BudgetResult`. When the text fits it is returned unchanged. Otherwise the result is:

    <head lines>
    [… N lines (about T tokens) cut to fit max_input_tokens=B; M must-keep lines kept below …]
    <must-keep lines from the cut region, in order>
    <tail lines>

Must-keep lines are those of :func:`~.sections.is_must_keep` (error vocabulary, ``file:line``
locations) plus the last non-blank line. If the must-keep lines alone do not fit, as many as fit
are kept -- the latest ones first (the end of a log is where a failure is reported) -- and the
marker says how many were dropped. If not even the marker fits, the result is empty and
``fits`` is False. Token costs are computed per line (``count(line + "\\n")``), so the total
is an estimate of ``count(result)`` that may differ by a few tokens at line joins; the function
re-checks the final text with ``count`` and trims the head/tail further if needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .sections import is_must_keep

Count = Callable[[str], int]
HEAD_SHARE = 0.4  # of the room left after must-keep lines; the tail gets the rest


class BudgetResult(NamedTuple):
    """Outcome of :func:`fit_to_budget`."""

    text: str
    truncated: bool
    fits: bool
    tokens_before: int
    tokens_after: int
    tokens_removed: int
    lines_removed: int
    must_keep_dropped: int
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            k: getattr(self, k)
            for k in (
                "truncated",
                "fits",
                "tokens_before",
                "tokens_after",
                "tokens_removed",
                "lines_removed",
                "must_keep_dropped",
                "note",
            )
        }


def _marker(n_lines: int, tokens: int, budget: int, kept_must: int, dropped_must: int) -> str:
    extra = (
        f"; {dropped_must} must-keep lines also dropped (they alone exceed the budget)"
        if dropped_must
        else ""
    )
    return (
        f"[… {n_lines} lines (about {tokens} tokens) cut to fit max_input_tokens={budget}; "
        f"{kept_must} must-keep lines from the cut part kept below{extra} …]"
    )


def _assemble(lines: list[str], keep: list[bool], marker_at: int, marker: str) -> str:
    out: list[str] = []
    placed = False
    for i, ln in enumerate(lines):
        if i >= marker_at and not placed:
            out.append(marker)
            placed = True
        if keep[i]:
            out.append(ln)
    if not placed:
        out.append(marker)
    return "\n".join(out) + "\n"


def fit_to_budget(text: str, max_tokens: int, count: Count) -> BudgetResult:
    """Return ``text`` unchanged if ``count(text) <= max_tokens``; else keep a head, a tail and
    every must-keep line (as many as fit) with a marker line saying what was cut."""
    total = count(text)
    if total <= max_tokens:
        return BudgetResult(text, False, True, total, total, 0, 0, 0, "fits")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    n = len(lines)
    cost = [count(ln + "\n") for ln in lines]
    last_nb = max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)
    must = [i for i, ln in enumerate(lines) if i == last_nb or (ln.strip() and is_must_keep(ln))]
    marker_room = count(_marker(n, total, max_tokens, n, n)) + 1
    room = max_tokens - marker_room
    keep = [False] * n
    # Must-keep lines, latest first, while they fit.
    kept_must: list[int] = []
    used = 0
    for i in reversed(must):
        if used + cost[i] <= room:
            keep[i] = True
            used += cost[i]
            kept_must.append(i)
    dropped_must = len(must) - len(kept_must)
    # Head then tail with what is left.
    left = room - used
    head_room = int(left * HEAD_SHARE)
    h = 0
    while h < n and (keep[h] or cost[h] <= head_room):
        if not keep[h]:
            head_room -= cost[h]
            keep[h] = True
        h += 1
    tail_room = left - (int(left * HEAD_SHARE) - head_room)
    t = n - 1
    while t >= h and (keep[t] or cost[t] <= tail_room):
        if not keep[t]:
            tail_room -= cost[t]
            keep[t] = True
        t -= 1
    while True:
        cut = [i for i in range(n) if not keep[i]]
        cut_tokens = sum(cost[i] for i in cut)
        kept_in_cut = sum(1 for i in kept_must if h <= i <= t)
        marker = _marker(len(cut), cut_tokens, max_tokens, kept_in_cut, dropped_must)
        if room < 0:
            out = ""
            break
        out = _assemble(lines, keep, h, marker)
        if count(out) <= max_tokens:
            break
        # Line-join effects made the estimate short: drop one more head/tail line.
        protected = set(kept_must)
        victim = next((i for i in range(n - 1, h - 1, -1) if keep[i] and i not in protected), None)
        if victim is None:
            victim = next((i for i in range(n) if keep[i] and i not in protected), None)
        if victim is None:
            victim = kept_must.pop(0) if kept_must else None
            dropped_must += victim is not None
        if victim is None:
            out = ""
            break
        keep[victim] = False
    after = count(out) if out else 0
    fits = bool(out) and after <= max_tokens
    removed_lines = sum(1 for k in keep if not k)
    if not out:
        note = f"even the cut marker does not fit in {max_tokens} tokens"
        removed_lines = n
    elif dropped_must:
        note = f"must-keep lines alone exceed the budget: {dropped_must} of {len(must)} dropped"
    else:
        note = f"cut {removed_lines} lines; all {len(must)} must-keep lines kept"
    return BudgetResult(
        out,
        True,
        fits,
        total,
        after,
        total - after,
        removed_lines,
        dropped_must if out else len(must),
        note,
    )
