"""``codex-route config enable|disable|status|restore``: the managed profiles and the guard."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from codex_router.dirs import AppDirs
    from codex_router.policy.settings import Settings

app = typer.Typer(
    help="Manage codex-route's Codex profiles; restore config.toml after a crash.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _context(policy: Path | None) -> tuple[AppDirs, Settings, Path]:
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs, codex_home
    from codex_router.policy.settings import resolve_settings

    dirs = app_dirs()
    settings = resolve_settings({}, os.environ, dirs, policy_flag=policy)
    return dirs, settings, codex_home(os.environ)


_POLICY = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file (endpoints).")


@app.command("enable")
def enable(
    policy: Path | None = _POLICY,
    force: bool = typer.Option(
        False, "--force", help="Replace profile files codex-route did not write."
    ),
) -> None:
    """Write the cost-routing and cost-routing-hf profiles into $CODEX_HOME
    (codex -p cost-routing)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.codex import profiles
    from codex_router.views import config as view

    _, settings, home = _context(policy)
    view.print_profiles(profiles.enable(home, settings, force=force))


@app.command("disable")
def disable(policy: Path | None = _POLICY) -> None:
    """Remove the managed profile files (files codex-route did not write are left alone)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.codex import profiles
    from codex_router.views import config as view

    _, settings, home = _context(policy)
    view.print_profiles(profiles.disable(home, settings))


@app.command("status")
def status(
    policy: Path | None = _POLICY,
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
) -> None:
    """Show the managed profiles and whether config.toml is edited by a run or needs a restore."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.codex import profiles
    from codex_router.codex.config_guard import ConfigGuard
    from codex_router.views import config as view

    dirs, settings, home = _context(policy)
    guard = ConfigGuard(home / "config.toml", dirs.state_dir).status()
    states = profiles.states(home, settings)
    if json_out:
        view.print_status_json(home, guard, states)
    else:
        view.print_status(home, guard, states)


@app.command("restore")
def restore(
    force: bool = typer.Option(False, "--force", help="Restore even while a run is in progress."),
) -> None:
    """Give config.toml back after an interrupted run (original bytes, or minus
    codex-route's keys)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router import ui
    from codex_router.codex.config_guard import ConfigGuard
    from codex_router.dirs import app_dirs, codex_home

    guard = ConfigGuard(
        codex_home(os.environ) / "config.toml", app_dirs().state_dir, on_wait=ui.warn
    )
    outcome = guard.recover(force=force)
    typer.echo(outcome.message)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config")
