"""The ``codex-route`` console script, also run by ``python -m codex_router``.

A well-formed ``compress`` or ``tokens`` command line (read by
:mod:`codex_router.commands.pipe_argv`) runs without loading the Typer app: a pipe runs these
once per log, so start-up is most of their cost. Every other command line goes to the Typer app
(:func:`codex_router.cli.main`), which owns the help texts and the usage errors. Both paths run
the command inside the one error boundary, :class:`codex_router.boundary.ErrorBoundary`. The
garbage collector waits until the command starts (:mod:`codex_router.startup`).

May import: boundary, cli, commands, startup
"""

from __future__ import annotations

import sys

from codex_router.boundary import ErrorBoundary
from codex_router.commands.pipe_argv import parse_pipe_command
from codex_router.startup import pause_collection, resume_collection


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit code."""
    pause_collection()
    try:
        return _dispatch(sys.argv[1:] if argv is None else list(argv))
    finally:
        resume_collection()  # a command that never started (--help, a usage error) ends here


def _dispatch(args: list[str]) -> int:
    pipe_command = parse_pipe_command(args)
    if pipe_command is None:
        # lazy: the Typer app costs ~45 ms to load, and a pipe command never needs it
        from codex_router.cli import main as cli_main

        return cli_main(args)
    command, file, flags = pipe_command
    with ErrorBoundary() as boundary:
        # lazy: the prompt package (~10 ms, with re); --help and most commands never need it
        from codex_router.commands import pipe

        resume_collection()  # the pipe's work starts: a large log must be collected as usual
        if command == "compress":
            pipe.compress(file, **flags)
        else:
            pipe.tokens(file, **flags)
        sys.stdout.flush()  # inside the boundary: a closed pipe shows here
    return boundary.exit_code
