"""``codex-route stats``: aggregates over the recorded runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from codex_router.commands.history import since_from_flag
from codex_router.errors import UsageError

if TYPE_CHECKING:  # annotations only: the command loads it lazily
    from codex_router.dirs import AppDirs

BY_CHOICES = ("alias", "provider", "day", "alias-class")
#: Only the team history (PostgreSQL) knows whose runs they were; these imply ``--team``.
TEAM_ONLY_BY = ("user", "host")


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)


def stats(
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="WHEN",
        help="Only runs started since: 7d, 24h, 30m, 2w or an ISO date.",
    ),
    by: str | None = typer.Option(
        None,
        "--by",
        metavar="alias|provider|day|alias-class|user|host",
        help="Also break the numbers down per alias, provider or day; alias-class: success "
        "per alias and task class, your `history mark` counted before the run's own outcome; "
        "user or host: per team member (implies --team). Each works with --team.",
    ),
    team: bool = typer.Option(
        False,
        "--team",
        help="Every member's runs, from the team history (history.team_url; docs/team.md).",
    ),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object (docs/reference/history-json.md)."
    ),
    html: Path | None = typer.Option(
        None,
        "--html",
        metavar="FILE",
        help="Write the Spend & savings charts as one self-contained HTML file (opens offline; "
        "needs the ui extra); with --team, the team's runs and a table per member.",
    ),
) -> None:
    """Runs, success and fallback rates, durations, tokens and money saved."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.history.stats import compute_stats
    from codex_router.views import stats as view

    if by is not None and by not in BY_CHOICES + TEAM_ONLY_BY:
        choices = ", ".join(BY_CHOICES + TEAM_ONLY_BY)
        raise UsageError(f"--by: expected one of {choices}, got {by!r}")
    dirs = app_dirs()
    cut = since_from_flag(since)
    if team or by in TEAM_ONLY_BY:
        _team_stats(dirs, cut, by, json_out=json_out, html=html, since_text=since)
        return
    if html is not None:
        if json_out or by is not None:
            raise UsageError(
                "--html writes the charts to a file: give it without --json and --by",
                hint="codex-route stats --html report.html [--since 30d]",
            )
        # lazy: the dashboard package needs the ui extra; only --html loads it
        from codex_router.dashboard.report import write_report

        view.print_report_written(write_report(dirs, html, since))
        return
    # The daily chart under the summary is for people: only on a terminal, never in --json.
    report = compute_stats(dirs, since=cut, by=by, daily=not json_out and sys.stdout.isatty())
    if json_out:
        view.print_stats_json(report)
        return
    view.print_stats(report, **_policy_facts(dirs))


def _team_stats(
    dirs: AppDirs,
    cut: float | None,
    by: str | None,
    *,
    json_out: bool,
    html: Path | None,
    since_text: str | None,
) -> None:
    """``stats --team``: the same numbers over every member's runs in PostgreSQL."""
    from codex_router.commands.history import require_team_url
    from codex_router.history.team import TEAM_ALIAS_CLASS, TEAM_GROUPINGS, compute_team_stats
    from codex_router.views import stats as view

    if html is not None and (json_out or by is not None):
        raise UsageError(
            "--html writes the charts to a file: give it without --json and --by",
            hint="codex-route stats --team --html report.html [--since 30d]",
        )
    if by is not None and by not in TEAM_GROUPINGS and by != TEAM_ALIAS_CLASS:
        choices = ", ".join((*TEAM_GROUPINGS, TEAM_ALIAS_CLASS))
        raise UsageError(f"--by {by}: not available with --team (expected one of {choices})")
    url = require_team_url(dirs, "--team")
    if html is not None:
        # lazy: the dashboard package needs the ui extra; only --html loads it
        from codex_router.dashboard.report import write_team_report

        view.print_report_written(write_team_report(url, html, since_text))
        return
    report = compute_team_stats(url, since=cut, by=by)
    if json_out:
        view.print_stats_json(report)
        return
    view.print_stats(report, **_policy_facts(dirs))


def _policy_facts(dirs: AppDirs) -> dict[str, Any]:
    """The deep role's alias, ``cost_model.codex_overhead_input_tokens`` and the user's policy
    file, for the summary's wording and the overhead suggestion; none when the policy does not
    load (``stats`` still reports what was recorded)."""
    import os

    from codex_router.errors import CodexRouteError
    from codex_router.policy.roles import Role
    from codex_router.policy.settings import resolve_settings

    try:
        settings = resolve_settings({}, os.environ, dirs)
    except CodexRouteError:
        return {}
    policy = settings.policy
    return {
        "deep_alias": policy.alias_for(Role.DEEP),
        "overhead_setting": int(policy.get("cost_model.codex_overhead_input_tokens")),
        "policy_file": settings.policy_file.value
        or f"{dirs.user_policy} (`codex-route policy init` creates it)",
    }
