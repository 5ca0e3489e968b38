"""``codex-route history``: recorded runs, newest first."""

from __future__ import annotations

import time
from contextlib import closing

import typer

from codex_router.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("history")(history)


def since_from_flag(text: str | None) -> float | None:
    """``--since`` as unix seconds; a malformed value is a usage error naming the flag."""
    if text is None:
        return None
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.history.query import parse_since

    try:
        return parse_since(text, now=time.time())
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None


def history(
    limit: int = typer.Option(20, "--limit", "-n", metavar="N", help="Show at most N runs."),
    alias: str | None = typer.Option(
        None, "--alias", metavar="ALIAS", help="Only runs of this alias."
    ),
    provider: str | None = typer.Option(
        None, "--provider", metavar="NAME", help="Only runs routed to this provider."
    ),
    failed: bool = typer.Option(False, "--failed", help="Only runs that did not succeed."),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="WHEN",
        help="Only runs started since: 7d, 24h, 30m, 2w or an ISO date.",
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines: one recorded run per line."),
) -> None:
    """Recorded runs, newest first (never the prompt: it is not stored)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.history.query import RunFilter, recent_runs
    from codex_router.views import history as view

    if limit < 0:
        raise UsageError(f"--limit: expected a number ≥ 0, got {limit}")
    flt = RunFilter(alias, provider, failed, since_from_flag(since))
    # closing(): a reader that stops early (| head) still closes the database at once.
    with closing(recent_runs(app_dirs(), flt, limit)) as runs:
        if json_out:
            view.print_runs_jsonl(runs)
        else:
            view.print_runs_table(runs)
