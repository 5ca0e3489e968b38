"""``codex-route compress [FILE|-]`` and ``codex-route tokens [FILE|-]``: pipe-friendly tools.

Options only: the work is in :mod:`codex_router.commands.pipe`, which the console script also
runs without Typer when the command line is well formed (:mod:`codex_router.commands.pipe_argv`
reads it; a test keeps its flags equal to the options below).
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("compress")(compress)
    app.command("tokens")(tokens)


def compress(
    file: str = typer.Argument("-", metavar="[FILE|-]", help="Text to compress (default: stdin)."),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object: the text and the per-rule report."
    ),
    report: bool = typer.Option(
        False,
        "--report",
        help="Print the per-rule report on stderr (the default when stderr is a terminal).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No report on stderr."),
    keep_secrets: bool = typer.Option(
        False,
        "--keep-secrets",
        help="Do not mask secrets (KEY=value, URL passwords, private keys, API keys).",
    ),
) -> None:
    """Clean and compress noisy text (logs, test and build output); the result goes to stdout."""
    # lazy: the prompt package (~10 ms, with re); --help imports this module
    from codex_router.commands import pipe

    pipe.compress(file, json_out=json_out, report=report, quiet=quiet, keep_secrets=keep_secrets)


def tokens(
    file: str = typer.Argument("-", metavar="[FILE|-]", help="Text to count (default: stdin)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object with the count."),
    clean: bool = typer.Option(
        False, "--clean", help="Also count the text after cleaning and compression."
    ),
    keep_secrets: bool = typer.Option(
        False, "--keep-secrets", help="With --clean: do not mask secrets before counting."
    ),
) -> None:
    """Count o200k_base tokens exactly (the encoding of current Codex models), offline."""
    # lazy: the prompt package (~10 ms, with re); --help imports this module
    from codex_router.commands import pipe

    pipe.tokens(file, json_out=json_out, clean=clean, keep_secrets=keep_secrets)
