"""The ``codex-route`` console script: a lean front door for the pipe commands.

``compress`` and ``tokens`` typically run once per log in a pipeline, so start-up is most of
their cost, and Typer/Click alone take ~35 ms to import. A well-formed ``compress`` or
``tokens`` command line is therefore parsed here, by hand, and run without importing Typer.
Anything else -- another command, ``--help``, an option this parser does not know, a usage
error -- goes to the Typer CLI (:func:`codex_router.cli.main`), which owns help texts and usage
errors. Errors are turned into exit codes exactly as the CLI's error boundary does
(:class:`codex_router.cli.RoutedGroup`): a :class:`~codex_router.errors.CodexRouteError` is one
``error:`` line (plus a hint) and its exit code, Ctrl-C is 130, anything else writes a crash
log and exits 70 (``CODEX_ROUTE_DEBUG=1`` re-raises it). A closed output pipe (``| head``)
ends the command quietly with exit code 1, as Click does.
"""

from __future__ import annotations

import os
import sys

#: Flags each lean command accepts, mapped to its keyword argument.
_FLAGS: dict[str, dict[str, str]] = {
    "compress": {"--json": "json_out", "--report": "report", "--quiet": "quiet", "-q": "quiet"},
    "tokens": {"--json": "json_out", "--clean": "clean"},
}


def parse_lean(argv: list[str]) -> tuple[str, str, dict[str, bool]] | None:
    """``(command, file, flags)`` for a ``compress``/``tokens`` command line this module can run
    without Typer, else None (the Typer CLI then handles it, including every error)."""
    if not argv or argv[0] not in _FLAGS:
        return None
    known = _FLAGS[argv[0]]
    flags: dict[str, bool] = {}
    files: list[str] = []
    only_args = False
    for arg in argv[1:]:
        if only_args or arg == "-" or not arg.startswith("-"):
            files.append(arg)
        elif arg == "--":
            only_args = True
        elif arg in known:
            flags[known[arg]] = True
        else:
            return None  # --help, -h, --flag=value, -qx, unknown options: Typer decides
    if len(files) > 1:
        return None  # Typer reports the extra argument
    return argv[0], files[0] if files else "-", flags


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code.

    Run as the console script (``argv`` None), a lean command ends the process itself once its
    output is flushed and the exit hooks have run: the interpreter's teardown would add 1.5 ms
    or more to a command that takes ~11 ms in all on a small log."""
    args = sys.argv[1:] if argv is None else list(argv)
    lean = parse_lean(args)
    if lean is None:
        from codex_router.cli import main as cli_main

        return cli_main(args)
    command, file, flags = lean
    code = run_guarded(command, file, flags)
    if argv is None:
        _end_process(code)
    return code


def _end_process(code: int) -> None:
    import atexit

    run_exit_hooks = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_hooks is None:  # not CPython: let the interpreter end normally
        return
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return  # a thread still running: the interpreter waits for it
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            return  # a stream that cannot be flushed: the normal exit path reports it
    run_exit_hooks()
    os._exit(code)


def run_guarded(command: str, file: str, flags: dict[str, bool]) -> int:
    """Run a lean command inside the same error boundary as the Typer CLI."""
    try:
        from codex_router.commands import compress as commands

        getattr(commands, command)(file, **flags)
        sys.stdout.flush()
        return 0
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return _report_error("interrupted", None, 130)
    except Exception as exc:
        errors = sys.modules.get("codex_router.errors")
        if errors is not None and isinstance(exc, errors.CodexRouteError):
            return _report_error(exc.message, exc.hint, int(exc.exit_code))
        if os.environ.get("CODEX_ROUTE_DEBUG"):
            raise
        from codex_router import boundary as crash
        from codex_router.errors import ExitCode

        log = crash.write_crash_log(exc)
        where = f"; details in {log}" if log else ""
        return _report_error(
            f"unexpected {type(exc).__name__}: {exc}{where}",
            "this is a bug in codex-route; please report it with the crash log",
            int(ExitCode.UNEXPECTED),
        )


def _report_error(message: str, hint: str | None, code: int) -> int:
    from codex_router import ui

    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _silence_stdout()
    ui.error(message, hint=hint)
    return code


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
