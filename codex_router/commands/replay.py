"""``codex-route replay``: re-decide the recorded runs under another policy."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from codex_router.commands.history import since_from_flag


def register(app: typer.Typer) -> None:
    app.command("replay", no_args_is_help=True)(replay)


def replay(
    policy: Path = typer.Option(
        ...,
        "--policy",
        metavar="NEW.yaml",
        help="The policy to replay the history under.",
        show_default=False,
    ),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="WHEN",
        help="Only runs started since: 7d, 24h, 30m, 2w or an ISO date.",
    ),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object (docs/reference/replay-json.md)."
    ),
) -> None:
    """What another policy would have done with the recorded runs.

    Re-decides every recorded run (not dry runs) under NEW.yaml, side by side with what
    happened: alias mix, cost at NEW.yaml's prices, runs moving to aliases that failed before.
    Complexity and intents are as recorded (the prompt is never stored)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.errors import CodexRouteError
    from codex_router.history.decisions import count_decisions
    from codex_router.policy.settings import resolve_settings
    from codex_router.progress import Steps
    from codex_router.run.replay import replay_history
    from codex_router.views import replay as view

    cut = since_from_flag(since)
    dirs = app_dirs()
    settings = resolve_settings({}, os.environ, dirs, policy_flag=policy)
    try:
        current = resolve_settings({}, os.environ, dirs).policy
    except CodexRouteError:
        current = None  # the user's own policy does not load: nothing to compare with
    steps = Steps("replaying runs", count_decisions(dirs, cut))
    try:
        report = replay_history(dirs, settings, since=cut, current=current, advance=steps.advance)
    finally:
        steps.close()
    if json_out:
        view.print_replay_json(report)
    else:
        view.print_replay(report)
