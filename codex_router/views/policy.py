"""Rendering for ``policy show|validate|init``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from codex_router import ui
from codex_router.redact import redact, redact_tree
from codex_router.views import layout


def _fmt(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) if isinstance(v, dict) else str(v) for v in value) + "]"
    if isinstance(value, dict):  # a mapping setting (gateway.allowed_fails_policy), as YAML
        # (a gateway.replicas entry leaves out the fields it does not set)
        shown = {k: v for k, v in value.items() if v is not None}
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in shown.items()) + "}"
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


def _origin(v: Any) -> str:
    if v.source in ("flag", "env"):
        return f"{v.source} {v.origin}"
    return f"{v.source} {Path(v.file).name}:{v.line}" if v.file else str(v.source)


#: the widest key column on a terminal, as a share of its width: longer keys take a line
_KEY_SHARE = 0.4


def render_policy(settings: Any, shown: list[Any], width: int | None) -> str:
    """``key  value  [source]``, one line per value; on a terminal (``width``) wrapped at spaces
    under the value (a key is never cut: a long one takes a line of its own), in a pipe
    (``None``) never wrapped, so ``grep KEY`` finds every value with its source."""
    source = settings.policy_file
    where = source.value or "built-in default only"
    lines = [
        redact(f"policy file: {where} ({source.source}")
        + (f" {source.origin}" if source.origin else "")
        + ")"
    ]
    longest = max((len(v.key) for v in shown), default=0)
    column = longest if width is None else min(longest, max(int(width * _KEY_SHARE), 12))
    indent = column + 2
    for v in shown:
        # the source is one unit: it moves to the next line whole
        source_unit = layout.GAP + f"[{_origin(v)}]".replace(" ", layout.NBSP)
        words = [*redact(_fmt(v.value)).split(), source_unit]
        if len(v.key) > column:
            lines.append(v.key)
            first = " " * indent
        else:
            first = f"{v.key:<{column}}  "
        lines.extend(layout.wrap_words(words, width, first=first, indent=indent))
    return "\n".join(lines) + "\n"


def print_policy(settings: Any, shown: list[Any]) -> None:
    sys.stdout.write(render_policy(settings, shown, layout.width()))
    sys.stdout.flush()


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
