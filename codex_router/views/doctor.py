"""Rendering for ``doctor``: one line per check (and its fix), or one JSON object."""

from __future__ import annotations

import sys

from codex_router import ui
from codex_router.doctor import Check
from codex_router.redact import redact, redact_tree
from codex_router.views import layout

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def overall(results: list[Check]) -> str:
    statuses = {r.status for r in results}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"


def print_doctor_json(results: list[Check]) -> None:
    checks = [redact_tree(r.to_dict()) for r in results]  # URL passwords shown as ***
    ui.print_json({"status": overall(results), "checks": checks})


def render(results: list[Check], width: int | None = 80, *, tilde: bool = False) -> str:
    """Plain text: ``ok  id  summary`` with the fix indented under warnings and failures.

    Wrapped at spaces to ``width`` (never inside a word or path); ``width`` ``None`` (a pipe):
    one line per summary and per fix. ``tilde``: paths under the home directory as ``~/…``.
    """
    short = layout.shorten_home if tilde else str
    id_width = max(len(r.id) for r in results) + 2
    indent = 5 + id_width
    lines = []
    for r in results:
        head = f"{_MARK[r.status]} {r.id:<{id_width}}"
        # URL passwords shown as ***, before any line break
        lines.extend(layout.wrap(short(redact(r.summary)), width, first=head, indent=indent))
        if r.fix and r.status != "ok":
            lines.extend(
                layout.wrap(
                    short(redact(f"fix: {r.fix}")), width, first=" " * indent, indent=indent + 5
                )
            )
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "warn", "fail")}
    lines.append("")
    lines.append(f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed")
    return "\n".join(lines) + "\n"


def print_doctor(results: list[Check]) -> None:
    width = layout.width()
    # for people on a terminal: wrapped, and paths under the home directory as ~/…
    text = render(results, None if width is None else min(width, 120), tilde=width is not None)
    sys.stdout.write(text)
    sys.stdout.flush()
