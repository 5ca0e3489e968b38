"""The ``codex-route`` command line: wiring only.

Each command module parses its options, calls one function of a subsystem and hands the result
to a view. The root group's ``invoke`` runs every command inside the error boundary
(:class:`codex_router.boundary.ErrorBoundary`), so ``main()`` and Typer's test runner report
errors the same way. Typer is imported here and by the command modules only; the console script
(:mod:`codex_router.entry`) loads this module for every command but a well-formed pipe command.

May import: boundary, commands, errors
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
from codex_router.commands import replay as replay_cmd
from codex_router.commands import route as route_cmd
from codex_router.commands import run as run_cmd
from codex_router.commands import stats as stats_cmd
from codex_router.commands import status as status_cmd
from codex_router.errors import UsageError

#: ``ctx.meta`` key: the command path of the subcommand being parsed, for errors without a ctx.
_COMMAND_PATH = "codex_route.command_path"


def _usage_error(exc: typer.TyperException) -> bool:
    """Is this one of Click's usage errors (bad command, option or value; exit 2)?

    Typer's public exception base is all this module names: Click lives inside Typer as a
    private module, so its classes are recognised by what they carry, not imported.
    """
    return getattr(exc, "exit_code", None) == 2 and callable(getattr(exc, "format_message", None))


def _help_instead(exc: typer.TyperException) -> bool:
    """``no_args_is_help``: Click raises a usage error whose message is the command's help."""
    ctx = getattr(exc, "ctx", None)
    return ctx is not None and exc.format_message() == ctx.get_help()


def own_usage_error(exc: Any, fallback: str = "codex-route") -> UsageError:
    """Click's usage error as codex-route's own: one ``error:`` line and a ``hint:``, exit 2.

    Click would print three lines (``Usage:``, ``Try …``, ``Error: …``); its "did you mean"
    (a close command or option name) moves to the hint.
    """
    where = exc.ctx.command_path if exc.ctx is not None else fallback
    see = f"see '{where} -h'"
    if getattr(exc, "possibilities", None) is not None:  # an unknown option
        # Click's close matches come best first
        message, close = exc.message, list(exc.possibilities or ())[:1]
        suggestion = f"did you mean {close[0]}? " if close else ""
    else:
        message, _, rest = exc.format_message().partition(" Did you mean ")
        suggestion = f"did you mean {rest} " if rest else ""
    message = " ".join(message.split()).rstrip(".")
    hint = f"{suggestion}See '{where} -h'" if suggestion else see
    return UsageError(f"{where}: {message}", hint=hint)


class RoutedGroup(TyperGroup):
    """The root group: every command runs inside the error boundary, and Click's usage errors
    (an unknown command or option, a missing or bad argument) are reported as codex-route's
    own :class:`~codex_router.errors.UsageError`."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: Any = None,
        **extra: Any,
    ) -> Any:
        with ErrorBoundary() as boundary:
            try:
                return super().make_context(info_name, args, parent, **extra)
            except typer.TyperException as exc:
                if not _usage_error(exc) or _help_instead(exc):
                    raise
                raise own_usage_error(exc) from None
        raise typer.Exit(boundary.exit_code)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            ctx.meta[_COMMAND_PATH] = f"{ctx.command_path} {command.name}"
        return name, command, rest

    def invoke(self, ctx: Any) -> Any:
        with ErrorBoundary() as boundary:
            try:
                return super().invoke(ctx)
            except typer.TyperException as exc:
                if not _usage_error(exc) or _help_instead(exc):
                    raise
                raise own_usage_error(exc, ctx.meta.get(_COMMAND_PATH, "codex-route")) from None
        raise typer.Exit(boundary.exit_code)


app = typer.Typer(
    cls=RoutedGroup,
    name="codex-route",
    help="Cost-aware routing in front of the OpenAI Codex CLI.\n\n"
    "Cleans and compresses the prompt, counts its tokens, picks a model alias and provider "
    "from your policy, and runs codex with a safe, restored config.",
    no_args_is_help=True,
    # --install-completion / --show-completion (bash, zsh, fish, PowerShell): docs/usage.md
    add_completion=True,
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
replay_cmd.register(app)
doctor_cmd.register(app)
app.add_typer(policy_cmd.app, name="policy")
app.add_typer(proxy_cmd.app, name="proxy")
bench_local_cmd.register(app)
app.add_typer(config_cmd.app, name="config")
app.add_typer(route_cmd.app, name="route")
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
