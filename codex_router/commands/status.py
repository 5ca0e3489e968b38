"""``codex-route status`` (also ``codex-route --status``): the managed profiles on or off, and
the last recorded run — the earlier cost-routing script's ``status``, from codex-route's state."""

from __future__ import annotations

import os
from contextlib import closing
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command("status")(status)


def status(
    policy: Path | None = typer.Option(
        None, "--policy", metavar="FILE", help="Policy YAML file (endpoints)."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
) -> None:
    """Managed profiles on/off, config.toml's state, and the last run's alias, path,
    estimated cost and reason."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.codex import profiles
    from codex_router.codex.config_guard import ConfigGuard
    from codex_router.dirs import app_dirs, codex_home
    from codex_router.history.query import RunFilter, recent_runs
    from codex_router.policy.settings import resolve_settings
    from codex_router.views import status as view

    dirs = app_dirs()
    settings = resolve_settings({}, os.environ, dirs, policy_flag=policy)
    home = codex_home(os.environ)
    states = profiles.states(home, settings)
    guard = ConfigGuard(home / "config.toml", dirs.state_dir).status()
    with closing(recent_runs(dirs, RunFilter(), 1)) as runs:
        last = next(runs, None)
    data = view.status_dict(home, states, guard, last)
    if json_out:
        view.print_status_json(data)
    else:
        view.print_status(data)
