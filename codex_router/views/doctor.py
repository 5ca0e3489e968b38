"""Rendering for ``doctor``: one line per check (and its fix), or one JSON object."""

from __future__ import annotations

import shutil
import sys
import textwrap

from codex_router import ui
from codex_router.doctor import Check
from codex_router.redact import redact, redact_tree

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def overall(results: list[Check]) -> str:
    statuses = {r.status for r in results}
    return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "ok"


def print_doctor_json(results: list[Check]) -> None:
    checks = [redact_tree(r.to_dict()) for r in results]  # URL passwords shown as ***
    ui.print_json({"status": overall(results), "checks": checks})


def render(results: list[Check], width: int = 80) -> str:
    """Plain text: ``ok  id  summary`` with the fix indented under warnings and failures."""
    id_width = max(len(r.id) for r in results) + 2
    indent = " " * (5 + id_width)
    lines = []
    for r in results:
        head = f"{_MARK[r.status]} {r.id:<{id_width}}"
        lines.extend(
            textwrap.wrap(
                redact(r.summary),  # URL passwords shown as ***, before any line break
                width=width,
                initial_indent=head,
                subsequent_indent=indent,
                break_on_hyphens=False,
            )
            or [head.rstrip()]
        )
        if r.fix and r.status != "ok":
            lines.extend(
                textwrap.wrap(
                    redact(f"fix: {r.fix}"),
                    width=width,
                    initial_indent=indent,
                    subsequent_indent=indent + "     ",
                    break_on_hyphens=False,
                )
            )
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "warn", "fail")}
    lines.append("")
    lines.append(f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed")
    return "\n".join(lines) + "\n"


def print_doctor(results: list[Check]) -> None:
    width = min(shutil.get_terminal_size((80, 24)).columns, 120)
    sys.stdout.write(render(results, width))
    sys.stdout.flush()
