"""``codex-route history``: recorded runs, newest first; ``history import`` reads the earlier
cost router's log into it."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from codex_router.errors import UsageError

if TYPE_CHECKING:  # annotations only: the command loads these lazily
    from codex_router.dirs import AppDirs
    from codex_router.history.query import RunFilter

#: The largest old log ``history import`` reads (the old script never rotated it).
MAX_IMPORT_BYTES = 512 * 1024 * 1024


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Recorded runs, newest first (never the prompt: it is not stored).",
        add_completion=False,
        rich_markup_mode=None,
    )
    group.callback(invoke_without_command=True)(history)
    group.command("import")(import_history)
    group.command("mark")(mark_run)
    group.command("sync")(sync_history)
    app.add_typer(group, name="history")


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
    ctx: typer.Context,
    limit: int = typer.Option(20, "--limit", "-n", metavar="N", help="Show at most N runs."),
    alias: str | None = typer.Option(
        None,
        "--alias",
        metavar="ALIAS",
        help="Only runs of this alias, as the table shows it (without codex-) or in full.",
    ),
    provider: str | None = typer.Option(
        None, "--provider", metavar="NAME", help="Only runs that reached this provider family."
    ),
    path: str | None = typer.Option(
        None,
        "--path",
        metavar="PATH",
        help="Only runs whose last attempt took this path: standard (std), litellm (lite), "
        "huggingface (hf).",
    ),
    outcome: str | None = typer.Option(
        None,
        "--outcome",
        metavar="RESULT",
        help="Only runs with this result, as the table shows it (ok, failed, dry-run, …).",
    ),
    failed: bool = typer.Option(False, "--failed", help="Only runs that did not succeed."),
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="WHEN",
        help="Only runs started since: 7d, 24h, 30m, 2w or an ISO date.",
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines: one recorded run per line."),
    team: bool = typer.Option(
        False,
        "--team",
        help="Every member's runs, from the team history (history.team_url; docs/team.md), "
        "with whose they were.",
    ),
) -> None:
    """Recorded runs, newest first (never the prompt: it is not stored).

    `history import FILE` adds the runs of the earlier cost router's cost_router.jsonl.
    """
    if ctx.invoked_subcommand is not None:
        return
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.history.query import RunFilter, recent_runs
    from codex_router.views import history as view

    if limit < 0:
        raise UsageError(f"--limit: expected a number ≥ 0, got {limit}")
    from codex_router.history.query import outcome_name, path_name

    for flag, value, check in (("--path", path, path_name), ("--outcome", outcome, outcome_name)):
        if value is not None:
            try:
                check(value)
            except ValueError as exc:
                raise UsageError(f"{flag}: {exc}") from None
    flt = RunFilter(
        alias,
        provider.strip().lower() if provider else None,
        failed,
        since_from_flag(since),
        path,
        outcome,
    )
    if team:
        _team_history(flt, limit, json_out=json_out)
        return
    # closing(): a reader that stops early (| head) still closes the database at once.
    with closing(recent_runs(app_dirs(), flt, limit)) as runs:
        if json_out:
            view.print_runs_jsonl(runs)
        else:
            view.print_runs_table(runs)


def _team_history(flt: RunFilter, limit: int, *, json_out: bool) -> None:
    """``history --team``: the team database's runs, as the local view shows them."""
    # lazy: the driver and the record's dataclasses load only when the team history is read
    from codex_router.dirs import app_dirs
    from codex_router.history.team import team_runs
    from codex_router.views import history as view

    url = require_team_url(app_dirs(), "--team")
    with closing(team_runs(url, flt, limit)) as runs:
        if json_out:
            view.print_runs_jsonl(runs)
        else:
            view.print_team_runs_table(runs)


def require_team_url(dirs: AppDirs, what: str) -> str:
    """The team history's URL; a usage error naming ``what`` and the setting when none is set."""
    from codex_router.history.team import TEAM_URL_ENV

    url = team_url_setting(dirs)
    if url is None:
        raise UsageError(
            f"{what}: no team history is set",
            hint=f"set history.team_url in your policy or {TEAM_URL_ENV} to a postgresql:// URL",
        )
    return url


def mark_run(
    run_id: str = typer.Argument(
        ...,
        metavar="RUN_ID",
        help="The run's id, or its first characters (at least 4) when they are unique.",
    ),
    verdict: str = typer.Argument(..., metavar="good|bad", help="Your verdict on its answer."),
    note: str | None = typer.Option(
        None, "--note", metavar="TEXT", help="A short note kept with the mark (500 characters)."
    ),
) -> None:
    """Mark a recorded run good or bad; marking it again replaces the mark.

    The mark is kept apart from what the run recorded (its exit and outcome stay as they
    were); `stats --by alias-class` counts it instead of the automatic outcome, and the
    adaptive router reads it as the answer's quality.
    """
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.history.record import MARKS
    from codex_router.history.store import mark_run as store_mark
    from codex_router.views import history as view

    mark = verdict.strip().lower()
    if mark not in MARKS:
        raise UsageError(f"good|bad: expected good or bad, got {verdict!r}")
    dirs = app_dirs()
    full_id, stored_note = store_mark(dirs, run_id, mark, note, now=time.time())
    view.print_marked(full_id, mark, stored_note)
    _push_mark(dirs)


def _push_mark(dirs: AppDirs) -> None:
    """With a team history, start the background sync that carries the mark there (as a run
    does after its record): the mark is stored locally already, so a failure here only
    delays it to the next sync."""
    # lazy: settings and the sync's modules load only after a mark was stored
    import os

    from codex_router import ui
    from codex_router.errors import CodexRouteError

    try:
        url = team_url_setting(dirs)
    except CodexRouteError as exc:
        ui.warn(f"the mark is kept here; the team history sync did not start: {exc.message}")
        return
    if url is None:
        return
    from codex_router.history.team import start_background_sync

    try:
        start_background_sync(url, os.environ)
    except OSError as exc:
        ui.warn(f"the team history sync did not start ({exc.strerror or exc})")


def import_history(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="The earlier cost router's log, e.g. ~/.codex/logs/cost_router.jsonl.",
    ),
    policy: Path | None = typer.Option(
        None, "--policy", metavar="FILE", help="Policy whose deep alias prices deep_cost_usd."
    ),
    json_out: bool = typer.Option(False, "--json", help="The summary as one JSON object."),
) -> None:
    """Import the earlier cost router's cost_router.jsonl into the history.

    Importing the same file again adds nothing (each record's id comes from its content).
    Prompt text is never imported: the old log holds none, and a field named like one
    (prompt, optimized_prompt, input, …) is dropped and reported.
    """
    # lazy: --help imports every command module; the work loads when the command runs
    import os

    from codex_router import __version__
    from codex_router.dirs import app_dirs
    from codex_router.errors import StateError
    from codex_router.history.legacy import ID_PREFIX, read_legacy_lines
    from codex_router.history.store import import_runs
    from codex_router.policy.roles import Role
    from codex_router.policy.settings import resolve_settings
    from codex_router.views import history as view

    dirs = app_dirs()
    settings = resolve_settings({}, os.environ, dirs, policy_flag=policy)
    deep = settings.policy.resolve_alias(settings.policy.alias_for(Role.DEEP))

    def deep_cost(input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * deep.input_usd_per_mtok + output_tokens * deep.output_usd_per_mtok
        ) / 1e6

    try:
        size = file.stat().st_size
        if not file.is_file():
            raise UsageError(f"{file}: not a regular file", hint="name the cost_router.jsonl file")
        if size > MAX_IMPORT_BYTES:
            raise UsageError(
                f"{file}: {size} bytes, more than the {MAX_IMPORT_BYTES} this import reads",
                hint="split it (e.g. split -l 100000) and import each part",
            )
        with file.open(encoding="utf-8", errors="replace") as handle:
            report = read_legacy_lines(handle, deep_cost=deep_cost, version=__version__)
    except FileNotFoundError:
        raise UsageError(
            f"{file}: no such file", hint="the old log is $CODEX_HOME/logs/cost_router.jsonl"
        ) from None
    except OSError as exc:
        raise StateError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    added, present = import_runs(dirs, report.records, ID_PREFIX) if report.records else (0, 0)
    view.print_import_summary(file, report, added, present, json_out=json_out)


def team_url_setting(dirs: AppDirs) -> str | None:
    """The team history's URL (``history.team_url`` / ``CODEX_ROUTE_HISTORY_URL``), or None."""
    import os

    from codex_router.policy.settings import resolve_settings

    settings = resolve_settings({}, os.environ, dirs)
    url = settings["history_team_url"]
    return str(url) if url else None


def sync_history(
    json_out: bool = typer.Option(False, "--json", help="The result as one JSON object."),
    quiet: bool = typer.Option(
        False, "--quiet", help="Print nothing (the sync started after each recorded run)."
    ),
) -> None:
    """Push the runs recorded here to the team history (PostgreSQL; docs/team.md).

    Only runs not pushed before are sent; a database that is down loses nothing: they are
    pushed by the next sync.
    """
    # lazy: --help imports every command module; the work loads when the command runs
    import os

    from codex_router.dirs import app_dirs
    from codex_router.history.team import sync_team_history
    from codex_router.views import history as view

    dirs = app_dirs()
    url = require_team_url(dirs, "history sync")
    result = sync_team_history(dirs, url, os.environ)
    if not quiet:
        view.print_sync_result(result, json_out=json_out)
