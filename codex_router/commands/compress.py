"""``codex-route compress [FILE|-]`` and ``codex-route tokens [FILE|-]``: pipe-friendly tools.

A pipe runs these once per log, so their start-up is most of their cost. The module level
imports nothing but the standard library basics: the console script (:mod:`codex_router.entry`)
calls :func:`compress` and :func:`tokens` directly without loading Typer, and
:func:`register` adds the same two commands (with their ``--help``) to the Typer app.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

    import typer

COMPRESS_HELP = (
    "Clean and compress noisy text (logs, test and build output); the result goes to stdout."
)
TOKENS_HELP = "Count o200k_base tokens exactly (the encoding of current Codex models), offline."


def register(app: typer.Typer) -> None:
    import typer

    @app.command("compress", help=COMPRESS_HELP)
    def compress_command(
        file: str = typer.Argument(
            "-", metavar="[FILE|-]", help="Text to compress (default: stdin)."
        ),
        json_out: bool = typer.Option(
            False, "--json", help="One JSON object: the text and the per-rule report."
        ),
        report: bool = typer.Option(
            False,
            "--report",
            help="Print the per-rule report on stderr (the default when stderr is a terminal).",
        ),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No report on stderr."),
    ) -> None:
        compress(file, json_out=json_out, report=report, quiet=quiet)

    @app.command("tokens", help=TOKENS_HELP)
    def tokens_command(
        file: str = typer.Argument("-", metavar="[FILE|-]", help="Text to count (default: stdin)."),
        json_out: bool = typer.Option(False, "--json", help="One JSON object with the count."),
        clean: bool = typer.Option(
            False, "--clean", help="Also count the text after cleaning and compression."
        ),
    ) -> None:
        tokens(file, json_out=json_out, clean=clean)


def _open(file: str) -> tuple[BinaryIO, str]:
    if file == "-":
        return sys.stdin.buffer, "stdin"
    from codex_router.errors import InputError  # enum: not on the hot path of a pipe

    try:
        return open(file, "rb"), file
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{file}: {exc.strerror}") from None


def compress(
    file: str = "-", *, json_out: bool = False, report: bool = False, quiet: bool = False
) -> None:
    """The ``compress`` command: stream ``file`` through the compressor to stdout.

    Tokens are counted (which loads the token counter) only when the per-rule report is shown:
    with ``--json``, ``--report``, or by default when stderr is a terminal.
    """
    from codex_router.prompt.compress import compress_chunks
    from codex_router.prompt.source import iter_text

    stream, name = _open(file)
    want_report = json_out or report or (not quiet and sys.stderr.isatty())
    count = None
    if want_report:
        from codex_router.tokens.counter import count_tokens as count
    try:
        if json_out:
            parts: list[str] = []
            result = compress_chunks(iter_text(stream, name=name), parts.append, count=count)
            from codex_router.views import compress as view

            view.print_compress_json("".join(parts), result)
            return
        out = sys.stdout
        result = compress_chunks(iter_text(stream, name=name), out.write, count=count)
        out.flush()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if want_report:
        from codex_router.views import compress as view

        view.print_report(result)


def tokens(file: str = "-", *, json_out: bool = False, clean: bool = False) -> None:
    """The ``tokens`` command: the exact o200k_base count of ``file`` (and of its compressed
    text with ``clean``)."""
    from codex_router.prompt.source import iter_text
    from codex_router.tokens.counter import count_tokens, count_tokens_chunks
    from codex_router.views import compress as view

    stream, name = _open(file)
    try:
        raw_chars = 0
        kept: list[str] | None = [] if clean else None

        def watched():
            nonlocal raw_chars
            for text in iter_text(stream, name=name):
                raw_chars += len(text)
                if kept is not None:
                    kept.append(text)
                yield text

        raw = count_tokens_chunks(watched())
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    clean_count = None
    if kept is not None:
        from codex_router.prompt.compress import compress_chunks

        parts: list[str] = []
        compress_chunks(kept, parts.append, count=None)
        clean_count = count_tokens("".join(parts))
    view.print_tokens(raw, raw_chars, clean_count, json_out=json_out)
