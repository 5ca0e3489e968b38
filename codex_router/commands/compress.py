"""``codex-route compress [FILE|-]`` and ``codex-route tokens [FILE|-]``: pipe-friendly tools."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO, Optional

import typer

from codex_router.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("compress")(compress)
    app.command("tokens")(tokens)


def _open(file: str) -> tuple[BinaryIO, str]:
    if file == "-":
        return sys.stdin.buffer, "stdin"
    path = Path(file)
    try:
        return path.open("rb"), str(path)
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{file}: {exc.strerror}") from None


def compress(
    file: str = typer.Argument("-", metavar="[FILE|-]", help="Text to compress (default: stdin)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object: the text and the per-rule report."),
    report: bool = typer.Option(False, "--report", help="Print the per-rule report on stderr "
                                "(the default when stderr is a terminal)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No report on stderr."),
) -> None:
    """Clean and compress noisy text (logs, test and build output); the result goes to stdout."""
    from codex_router.prompt.compress import compress_stream
    from codex_router.prompt_input import iter_lines
    from codex_router.views import compress as view

    stream, name = _open(file)
    want_report = json_out or report or (not quiet and sys.stderr.isatty())
    count = None
    if want_report:
        from codex_router.tokens import count_tokens as count
    try:
        if json_out:
            parts: list[str] = []
            result = compress_stream(iter_lines(stream, name=name), parts.append, count=count)
            view.print_compress_json("".join(parts), result)
            return
        write = sys.stdout.write
        result = compress_stream(iter_lines(stream, name=name), write, count=count)
        sys.stdout.flush()
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if want_report:
        view.print_report(result)


def tokens(
    file: str = typer.Argument("-", metavar="[FILE|-]", help="Text to count (default: stdin)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object with the count."),
    clean: bool = typer.Option(False, "--clean", help="Also count the text after cleaning and compression."),
) -> None:
    """Count o200k_base tokens exactly (the encoding of current Codex models), offline."""
    from codex_router.prompt_input import iter_lines
    from codex_router.tokens import count_tokens, count_tokens_chunks
    from codex_router.views import compress as view

    stream, name = _open(file)
    try:
        raw_chars = 0
        raw_lines: list[str] = [] if clean else None  # type: ignore[assignment]

        def watched():
            nonlocal raw_chars
            for line in iter_lines(stream, name=name):
                raw_chars += len(line)
                if raw_lines is not None:
                    raw_lines.append(line)
                yield line

        raw = count_tokens_chunks(watched())
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    clean_count = None
    if clean:
        from codex_router.prompt.compress import compress_stream

        parts: list[str] = []
        compress_stream(iter(raw_lines), parts.append, count=None)
        clean_count = count_tokens("".join(parts))
    view.print_tokens(raw, raw_chars, clean_count, json_out=json_out)
