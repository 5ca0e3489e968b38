"""All terminal output: data to stdout, diagnostics to stderr, JSON that is stable.

Rich is imported only when something is rendered, and consoles are created on first use, so
commands that print JSON or nothing never pay for it.

May import: nothing
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


@cache
def out() -> Console:
    from rich.console import Console  # lazy: ~30 ms; JSON output and the dry run never render

    return Console(highlight=False, soft_wrap=False)


@cache
def err() -> Console:
    from rich.console import Console  # lazy: ~30 ms; JSON output and the dry run never render

    return Console(stderr=True, highlight=False)


def table(**options: Any) -> Table:
    """A Rich table for a view to fill and print with :func:`out`."""
    from rich.table import Table  # lazy: ~25 ms; JSON output never renders

    return Table(**options)


def error(message: str, *, hint: str | None = None) -> None:
    """One ``error:`` line on stderr (plain text: safe in logs and pipes), plus a hint."""
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


def print_json(data: Any) -> None:
    """Exactly one JSON document on stdout, keys in a stable order, newline-terminated."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape  # lazy: ~20 ms; JSON output never renders

    return rich_escape(text)
