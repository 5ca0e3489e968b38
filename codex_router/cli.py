"""The ``codex-route`` command line: wiring only.

Each command module parses its options, calls one function of a subsystem and hands the result
to a view. The root group's ``invoke`` runs every command inside the error boundary
(:class:`codex_router.boundary.ErrorBoundary`), so ``main()`` and Typer's test runner report
errors the same way. Typer is imported here and by the command modules only; the console script
(:mod:`codex_router.entry`) loads this module for every command but a well-formed pipe command.

May import: boundary, commands, errors, startup
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import DefaultPlaceholder

from codex_router import __version__
from codex_router.boundary import ErrorBoundary
from codex_router.errors import UsageError
from codex_router.startup import resume_collection

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


#: Every command, in ``--help`` order, and its module under ``codex_router.commands``, whose
#: ``register(app)`` adds it. Only the command that runs is loaded and built: Typer builds a
#: command by reading its function's signature and type hints, ~30 ms for all of them that one
#: command never needs (``benchmarks/bench_cli.py``).
COMMAND_MODULES: dict[str, str] = {
    "run": "run",
    "compress": "compress",
    "tokens": "compress",
    "stats": "stats",
    "replay": "replay",
    "doctor": "doctor",
    "bench-local": "bench_local",
    "status": "status",
    "history": "history",
    "policy": "policy",
    "proxy": "proxy",
    "config": "config",
    "route": "route",
    "ui": "ui",
}


def _no_subcommand() -> None:
    """The callback that makes a module's app a group, whatever the module registers."""


def _registered(module: str) -> typer.Typer:
    """An app holding just what ``codex_router.commands.<module>`` registers."""
    app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)
    app.callback()(_no_subcommand)
    importlib.import_module(f"codex_router.commands.{module}").register(app)
    return app


def _solved(value: Any) -> Any:
    return value.value if isinstance(value, DefaultPlaceholder) else value


class LazyCommands(MutableMapping[str, Any]):
    """The root group's commands by name, each module loaded and built on first use.

    Iterating gives the names without loading anything; :meth:`listed` gives a command's help
    texts (what ``--help`` lists) without building it.
    """

    def __init__(self, modules: dict[str, str]) -> None:
        self._modules = dict(modules)
        self._apps: dict[str, typer.Typer] = {}
        self._built: dict[str, Any] = {}

    def _app(self, name: str) -> typer.Typer:
        module = self._modules[name]
        if module not in self._apps:
            self._apps[module] = _registered(module)
        return self._apps[module]

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in self._modules:
                raise KeyError(name)
            # a module's commands are built together (compress and tokens share one)
            self._built.update(typer.main.get_command(self._app(name)).commands)  # type: ignore[attr-defined]
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        found = self._modules.pop(name, None) is not None
        if self._built.pop(name, None) is None and not found:
            raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (name for name in self._built if name not in self._modules)

    def __len__(self) -> int:
        return len(self._modules.keys() | self._built.keys())

    def listed(self, name: str) -> Any:
        """``name`` as ``--help`` lists it: a command with its help texts and nothing else,
        solved as Typer solves them (the built command when there is one)."""
        if name in self._built or name not in self._modules:
            return self[name]
        app = self._app(name)
        for info in app.registered_commands:
            if info.name == name:
                help_text = info.help
                return TyperCommand(
                    name=name,
                    help=inspect.getdoc(info.callback) if help_text is None else help_text,
                    short_help=info.short_help,
                    hidden=info.hidden,
                    deprecated=info.deprecated,
                )
        for group in app.registered_groups:
            if _solved(group.name) == name:
                solved = typer.main.solve_typer_info_defaults(group)
                return TyperCommand(
                    name=name,
                    help=solved.help,
                    short_help=solved.short_help,
                    hidden=solved.hidden,
                    deprecated=solved.deprecated,
                )
        raise KeyError(name)


class RoutedGroup(TyperGroup):
    """The root group: every command runs inside the error boundary, and Click's usage errors
    (an unknown command or option, a missing or bad argument) are reported as codex-route's
    own :class:`~codex_router.errors.UsageError`. Its commands are :data:`COMMAND_MODULES`,
    each loaded and built when it runs (:class:`LazyCommands`)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.lazy_commands = LazyCommands(COMMAND_MODULES)
        self.lazy_commands.update(self.commands)
        self.commands = self.lazy_commands

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list of ``--help``, as Typer writes it, without building the commands."""
        shown = [(name, self.lazy_commands.listed(name)) for name in self.list_commands(ctx)]
        shown = [(name, command) for name, command in shown if not command.hidden]
        if shown:
            # Typer's layout: three times the default spacing beside the longest name
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])

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
        resume_collection()  # the command starts: the collector runs again (codex_router.startup)
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
