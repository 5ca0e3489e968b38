"""The ``codex-route`` command line: wiring only.

Each command module parses its options, calls one function of a pure module and hands the
result to :mod:`codex_router.ui`. The single error boundary is :class:`RoutedGroup.invoke`, so
``main()`` and Typer's test runner behave the same: a :class:`CodexRouteError` becomes one
``error: …`` line (plus a hint) on stderr and its documented exit code; Ctrl-C exits 130; any
other exception writes a crash log to the state dir and exits 70 (``CODEX_ROUTE_DEBUG=1``
re-raises it instead). Nothing heavy is imported here: ``--help`` must stay fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from codex_router import __version__
from codex_router.errors import CodexRouteError, ExitCode


class RoutedGroup(TyperGroup):
    """The root group; its ``invoke`` is the one place errors become exit codes."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CodexRouteError as exc:
            from codex_router import ui

            ui.error(exc.message, hint=exc.hint)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            from codex_router import ui

            ui.error("interrupted")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except BrokenPipeError:
            # The reader went away (`codex-route history | head`): not a bug, nothing to report.
            from codex_router.entry import _silence_stdout

            _silence_stdout()
            raise typer.Exit(int(ExitCode.FAILURE)) from None
        except (typer.Exit, typer.Abort):
            raise
        except Exception as exc:  # the boundary for bugs: report, log, exit 70
            if os.environ.get("CODEX_ROUTE_DEBUG"):
                raise
            if type(exc).__module__.startswith(("click", "typer")):
                raise
            from codex_router import boundary as crash
            from codex_router import ui

            log = crash.write_crash_log(exc)
            where = f"; details in {log}" if log else ""
            ui.error(
                f"unexpected {type(exc).__name__}: {exc}{where}",
                hint="this is a bug in codex-route; please report it with the crash log",
            )
            raise typer.Exit(int(ExitCode.UNEXPECTED)) from None


app = typer.Typer(
    cls=RoutedGroup,
    name="codex-route",
    help="Cost-aware routing in front of the OpenAI Codex CLI.\n\n"
    "Cleans and compresses the prompt, counts its tokens, picks a model alias and provider "
    "from your policy, and runs codex with a safe, restored config.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help: rendering it with Rich would cost ~30 ms on every --help (SPEC §10).
    rich_markup_mode=None,
    pretty_exceptions_enable=False,  # locals could hold prompts or keys
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"codex-route {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Cost-aware routing in front of the OpenAI Codex CLI."""


def _mount() -> None:
    from codex_router.commands import bench_local as bench_local_cmd
    from codex_router.commands import compress as compress_cmd
    from codex_router.commands import config as config_cmd
    from codex_router.commands import doctor as doctor_cmd
    from codex_router.commands import history as history_cmd
    from codex_router.commands import policy as policy_cmd
    from codex_router.commands import proxy as proxy_cmd
    from codex_router.commands import run as run_cmd
    from codex_router.commands import stats as stats_cmd

    run_cmd.register(app)
    compress_cmd.register(app)
    history_cmd.register(app)
    stats_cmd.register(app)
    doctor_cmd.register(app)
    app.add_typer(policy_cmd.app, name="policy")
    app.add_typer(proxy_cmd.app, name="proxy")
    bench_local_cmd.register(app)
    app.add_typer(config_cmd.app, name="config")


_mount()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    try:
        app(args=argv, prog_name="codex-route", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
