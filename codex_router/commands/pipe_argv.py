"""The command line of the pipe commands, ``compress`` and ``tokens``, read without Typer.

Why this exists: a pipe runs ``codex-route compress`` once per log, so start-up is most of its
cost, and its budget is 1.5 × ``python -c pass`` + 5 ms: ~27 ms, of which the interpreter itself
takes ~15 ms and the prompt package most of the rest. Reading the command line costs, measured in
process on the 2-core development machine (median of 21 fresh interpreters, bytecode compiled,
:mod:`re` already loaded as the prompt package loads it): this module 0.7 ms; argparse 7 ms
(importing it 2.4 ms, building the parser 5 ms: gettext look-ups and pattern compiles); the Typer
app 46 ms (Typer, its Click, typing, inspect, ...). ``benchmarks/bench_cli.py`` times the whole
``codex-route compress`` next to the same command run through the Typer app.

It reads only a well-formed command line: the command's own flags as spelt in :data:`FLAGS`,
at most one FILE (``-`` is stdin) and ``--`` before a FILE that starts with ``-``. Anything
else (``--help``/``-h``, ``--flag=value``, combined short flags, an unknown option, two files,
another command) gives None, and the console script hands the whole command line to the Typer
app, which owns the help texts and the usage errors. ``tests/test_pipe_argv.py`` keeps
:data:`FLAGS` equal to the options of the Typer commands (:mod:`codex_router.commands.compress`).
"""

from __future__ import annotations

#: The flags of each pipe command, mapped to the keyword argument of its function in
#: :mod:`codex_router.commands.pipe`.
FLAGS: dict[str, dict[str, str]] = {
    "compress": {
        "--json": "json_out",
        "--report": "report",
        "--quiet": "quiet",
        "-q": "quiet",
        "--keep-secrets": "keep_secrets",
    },
    "tokens": {"--json": "json_out", "--clean": "clean", "--keep-secrets": "keep_secrets"},
}


def parse_pipe_command(argv: list[str]) -> tuple[str, str, dict[str, bool]] | None:
    """``(command, file, flags)`` for a well-formed ``compress``/``tokens`` command line, else
    None (the Typer app then handles it, including every error)."""
    if not argv or argv[0] not in FLAGS:
        return None
    known = FLAGS[argv[0]]
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
