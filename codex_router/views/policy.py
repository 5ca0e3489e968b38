"""Rendering for ``policy show|validate|init``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from codex_router import ui
from codex_router.redact import redact, redact_tree


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def print_policy_json(settings: Any, shown: list[Any]) -> None:
    ui.print_json(
        redact_tree(  # URL passwords shown as ***
            {"policy_file": settings.policy_file.to_dict(), "values": [v.to_dict() for v in shown]}
        )
    )


def print_policy(settings: Any, shown: list[Any]) -> None:
    source = settings.policy_file
    where = source.value or "built-in default only"
    ui.out().print(
        f"policy file: {ui.escape(where)} ({source.source}"
        + (f" {source.origin}" if source.origin else "")
        + ")"
    )
    table = ui.table(show_edge=False, expand=False)
    table.add_column("key")
    table.add_column("value", overflow="fold")
    table.add_column("source", overflow="fold")
    for v in shown:
        if v.source in ("flag", "env"):
            origin = f"{v.source} {v.origin}"
        else:
            origin = f"{v.source} {Path(v.file).name}:{v.line}" if v.file else v.source
        table.add_row(v.key, ui.escape(redact(_fmt(v.value))), ui.escape(origin))
    ui.out().print(table)


def print_valid(file: Path, policy: Any) -> None:
    own = sum(1 for o in policy.origins.values() if o.layer == "file")
    sys.stdout.write(
        f"ok: {file} is a valid policy ({own} values set, {len(policy.aliases)} aliases)\n"
    )


def print_written(path: Path, template: str) -> None:
    sys.stdout.write(
        f"wrote the {template} policy to {path}\n"
        f"check it with: codex-route policy validate {path}\n"
    )
