"""The ``codex-route`` command line: wiring only.

Each command module parses its options, calls one function of a subsystem and hands the result
to a view. The root group's ``invoke`` runs every command inside the error boundary
(:class:`codex_router.boundary.ErrorBoundary`), so ``main()`` and Typer's test runner report
errors the same way. Typer is imported here and by the command modules only; the console script
(:mod:`codex_router.entry`) loads this module for every command but a well-formed pipe command.

May import: boundary, commands
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer.core import TyperGroup

from codex_router import __version__
from codex_router.boundary import ErrorBoundary
from codex_router.commands import bench_local as bench_local_cmd
from codex_router.commands import compress as compress_cmd
from codex_router.commands import config as config_cmd
from codex_router.commands import doctor as doctor_cmd
from codex_router.commands import history as history_cmd
from codex_router.commands import policy as policy_cmd
from codex_router.commands import proxy as proxy_cmd
from codex_router.commands import run as run_cmd
from codex_router.commands import stats as stats_cmd
from codex_router.commands import status as status_cmd


class RoutedGroup(TyperGroup):
    """The root group: every command runs inside the error boundary."""

    def invoke(self, ctx: Any) -> Any:
        with ErrorBoundary() as boundary:
            return super().invoke(ctx)
        raise typer.Exit(boundary.exit_code)


app = typer.Typer(
    cls=RoutedGroup,
    name="codex-route",
    help="Cost-aware routing in front of the OpenAI Codex CLI.\n\n"
    "Cleans and compresses the prompt, counts its tokens, picks a model alias and provider "
    "from your policy, and runs codex with a safe, restored config.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help: rendering it with Rich would cost ~30 ms on every --help.
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


run_cmd.register(app)
compress_cmd.register(app)
history_cmd.register(app)
stats_cmd.register(app)
doctor_cmd.register(app)
app.add_typer(policy_cmd.app, name="policy")
app.add_typer(proxy_cmd.app, name="proxy")
bench_local_cmd.register(app)
app.add_typer(config_cmd.app, name="config")
status_cmd.register(app)

#: The earlier cost-routing script's flags, accepted (as there) as the first argument only.
LEGACY_FLAGS = {
    "--enable": ("config", "enable"),
    "--disable": ("config", "disable"),
    "--status": ("status",),
}


def legacy_argv(args: list[str]) -> list[str]:
    """``--enable``/``--disable``/``--status`` first: the command they stand for, rest kept."""
    if args and args[0] in LEGACY_FLAGS:
        return [*LEGACY_FLAGS[args[0]], *args[1:]]
    return args


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    args = legacy_argv(sys.argv[1:] if argv is None else list(argv))
    try:
        app(args=args, prog_name="codex-route", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
