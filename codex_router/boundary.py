"""The error boundary: the one place an exception becomes an exit code, and the crash log.

Every command runs inside :class:`ErrorBoundary`: the Typer app's root group
(:class:`codex_router.cli.RoutedGroup`, so Typer's test runner goes through it too) and the
console script's pipe path for ``compress``/``tokens`` (:mod:`codex_router.entry`).

- a :class:`~codex_router.errors.CodexRouteError`: one ``error: …`` line (plus ``hint: …``) on
  stderr, and its exit code;
- Ctrl-C (:class:`KeyboardInterrupt`): ``error: interrupted``, exit 130;
- a closed output pipe (``codex-route history | head``): the reader went away, which is not a
  bug: nothing is printed and the exit code is 1, as Click does; stdout is pointed at /dev/null
  so the interpreter's final flush stays quiet;
- Click's and Typer's own exceptions (``typer.Exit``) and :class:`SystemExit` pass through:
  they carry their own exit code; Click's usage errors never get here as such: the root group
  (:mod:`codex_router.cli`) turns them into codex-route's own ``UsageError`` first;
- anything else is a bug: a crash log in the state dir, ``error: unexpected …`` and exit 70;
  ``CODEX_ROUTE_DEBUG=1`` lets the exception through (with its traceback) instead.

The crash log holds versions and the traceback, never argv or the environment: argv can hold
the prompt and the environment can hold keys.

May import: errors, dirs, ui
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType

from codex_router import __version__


class ErrorBoundary:
    """``with ErrorBoundary() as boundary:`` runs a command; an exception the boundary handles
    is reported and swallowed, and ``boundary.exit_code`` says how the process must end."""

    def __init__(self) -> None:
        self.exit_code = 0

    def __enter__(self) -> ErrorBoundary:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if exc is None:
            return False
        # lazy: errors builds an IntEnum (~0.6 ms); a pipe that succeeds never needs it
        from codex_router.errors import CodexRouteError, ExitCode

        if isinstance(exc, CodexRouteError):
            self.exit_code = _report(exc.message, exc.hint, int(exc.exit_code))
        elif isinstance(exc, KeyboardInterrupt):
            self.exit_code = _report("interrupted", None, int(ExitCode.INTERRUPTED))
        elif isinstance(exc, BrokenPipeError):
            _silence_stdout()
            self.exit_code = int(ExitCode.FAILURE)
        elif not isinstance(exc, Exception):
            return False  # SystemExit, GeneratorExit: not errors
        elif type(exc).__module__.startswith(("click", "typer")):
            return False  # usage errors, typer.Exit, typer.Abort: Click reports them
        elif os.environ.get("CODEX_ROUTE_DEBUG"):
            return False
        else:
            log = write_crash_log(exc)
            where = f"; details in {log}" if log else ""
            self.exit_code = _report(
                f"unexpected {type(exc).__name__}: {exc}{where}",
                "this is a bug in codex-route; please report it with the crash log",
                int(ExitCode.UNEXPECTED),
            )
        return True


def _report(message: str, hint: str | None, code: int) -> int:
    # lazy: ui loads json and typing (~6 ms); a pipe that succeeds never prints an error
    from codex_router import ui

    try:
        sys.stdout.flush()  # what the command printed comes before the error
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


def write_crash_log(exc: BaseException) -> str | None:
    """Write ``crash-<time>.log`` in the state dir and return its path; None when impossible."""
    # lazy: dirs (pathlib, dataclasses), platform and traceback cost ~20 ms; only a crash needs them
    import platform
    import traceback

    from codex_router.dirs import app_dirs

    try:
        state = app_dirs().state_dir
        state.mkdir(parents=True, exist_ok=True)
        path = state / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
        python = f"python {sys.version.split()[0]} on {platform.platform()}"
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        path.write_text(f"codex-route {__version__}\n{python}\n\n{trace}", encoding="utf-8")
        return str(path)
    except OSError:
        return None
