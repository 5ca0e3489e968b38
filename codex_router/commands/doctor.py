"""``codex-route doctor``: is everything codex-route relies on in place?"""

from __future__ import annotations

import os

import typer

from codex_router.errors import ExitCode


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


def doctor(
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object: every check and the overall status."
    ),
    codex_bin: str | None = typer.Option(
        None, "--codex-bin", metavar="PATH", help="The codex binary to check."
    ),
) -> None:
    """Check codex, its config, the policy, tokens, LiteLLM, Ollama, keys and state dirs.

    Exit 0 when no check fails (warnings included), 1 when any does.
    """
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.doctor import DoctorContext, failed, run_checks
    from codex_router.views import doctor as view

    results = run_checks(DoctorContext.build(os.environ, app_dirs(), codex_bin_flag=codex_bin))
    if json_out:
        view.print_doctor_json(results)
    else:
        view.print_doctor(results)
    if failed(results):
        raise typer.Exit(int(ExitCode.FAILURE))
