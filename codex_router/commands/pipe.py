"""The pipe commands' work: ``compress`` and ``tokens`` read FILE (or stdin) and write stdout.

Both front doors call these functions: the Typer commands (:mod:`codex_router.commands.compress`)
and the console script, which runs a well-formed pipe command line without Typer
(:mod:`codex_router.commands.pipe_argv`). A pipe runs them once per log, so this module loads
only what a plain ``compress`` needs; the token counter and the views come in when asked for.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator

from codex_router.prompt.compress import compress_chunks
from codex_router.prompt.source import Read, iter_text


def _open(file: str) -> io.BufferedReader:
    try:
        return open(file, "rb")
    except OSError as exc:
        # lazy: errors builds an IntEnum (~0.6 ms); a pipe that reads its file never needs it
        from codex_router.errors import InputError

        if isinstance(exc, FileNotFoundError):
            raise InputError(f"{file}: no such file") from None
        if isinstance(exc, IsADirectoryError):
            raise InputError(f"{file}: is a directory") from None
        raise InputError(f"{file}: {exc.strerror}") from None


#: said on stderr when stdin is a terminal: otherwise the command seems to hang
TERMINAL_HINT = (
    "reading the log from the terminal; end it with Ctrl-D, or pass a FILE or pipe one in\n"
)


def _unbuffered(fd: int) -> Read:
    """Reads of ``fd`` as they come: on a terminal one Ctrl-D ends the input (a buffered read
    would wait for a second one)."""

    def read(size: int) -> bytes:
        return os.read(fd, size)

    return read


def _text_of(file: str) -> Iterator[str]:
    """The text of ``file`` (``-``: stdin) in chunks, checked by :func:`iter_text`."""
    if file == "-":
        try:
            fd = sys.stdin.fileno()
        except (OSError, ValueError):  # replaced by one without a descriptor (a test runner)
            fd = -1
        read: Read = sys.stdin.buffer.read
        if sys.stdin.isatty():
            sys.stderr.write(TERMINAL_HINT)
            sys.stderr.flush()
            read = _unbuffered(fd)
        yield from _read(read, fd, "stdin")
        return
    with _open(file) as stream:
        yield from _read(stream.read, stream.fileno(), file)


def _read(read: Read, fd: int, name: str) -> Iterator[str]:
    """:func:`iter_text` of ``read`` (file descriptor ``fd``), with a progress line for a large
    input when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield from iter_text(read, name=name)
        return
    # lazy: only a terminal shows progress; a pipe's start-up budget does not pay for it
    from codex_router import progress

    reading = progress.Reading(f"reading {name}", progress.size_of(fd))
    try:
        yield from iter_text(reading.watch(read), name=name)
    finally:
        reading.close()


# The words of a boolean setting's variable (as codex_router.policy.fields reads them; that
# module is not loaded here: it costs a pipe a few milliseconds).
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_MASK_ENV = "CODEX_ROUTE_MASK_SECRETS"  # = codex_router.policy.settings.MASK_SECRETS_ENV


def mask_secrets(keep_secrets: bool) -> bool:
    """Whether to mask secrets: ``--keep-secrets`` > ``CODEX_ROUTE_MASK_SECRETS`` > on. The
    pipe commands read no policy file (``compression.mask_secrets`` is for ``run``)."""
    if keep_secrets:
        return False
    raw = os.environ.get(_MASK_ENV, "").strip().lower()
    if not raw or raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    # lazy: errors builds an IntEnum (~0.6 ms); only a bad variable needs it
    from codex_router.errors import PolicyError

    raise PolicyError(
        f"expected one of 1/0, true/false, yes/no, on/off, got {os.environ[_MASK_ENV]!r}",
        key=_MASK_ENV,
        hint=f"fix or unset {_MASK_ENV}",
    )


def compress(
    file: str = "-",
    *,
    json_out: bool = False,
    report: bool = False,
    quiet: bool = False,
    keep_secrets: bool = False,
) -> None:
    """Stream ``file`` through the compressor to stdout (with ``json_out``: one JSON object).

    Tokens are counted (which loads the token counter) only when the per-rule report is shown:
    with ``--json``, ``--report``, or by default when stderr is a terminal. Secrets are masked
    unless ``keep_secrets`` (see :func:`mask_secrets`).
    """
    mask = mask_secrets(keep_secrets)
    want_report = json_out or report or (not quiet and sys.stderr.isatty())
    if not want_report:
        compress_chunks(_text_of(file), sys.stdout.write, count=None, mask_secrets=mask)
        sys.stdout.flush()
        return
    # lazy: the token counter (~25 ms) and the views (~7 ms) only for the report
    from codex_router.tokens.counter import count_tokens
    from codex_router.views import compress as view

    if json_out:
        parts: list[str] = []
        result = compress_chunks(
            _text_of(file), parts.append, count=count_tokens, mask_secrets=mask
        )
        view.print_compress_json("".join(parts), result)
        return
    result = compress_chunks(
        _text_of(file), sys.stdout.write, count=count_tokens, mask_secrets=mask
    )
    sys.stdout.flush()
    view.print_report(result)


def tokens(
    file: str = "-", *, json_out: bool = False, clean: bool = False, keep_secrets: bool = False
) -> None:
    """The exact o200k_base count of ``file`` (and of its compressed text with ``clean``,
    secrets masked unless ``keep_secrets``)."""
    # lazy: the token counter (~25 ms) and the views (~7 ms); a plain compress needs neither
    from codex_router.tokens.counter import count_tokens, count_tokens_chunks
    from codex_router.views import compress as view

    mask = mask_secrets(keep_secrets)
    raw_chars = 0
    kept: list[str] | None = [] if clean else None

    def watched() -> Iterator[str]:
        nonlocal raw_chars
        for text in _text_of(file):
            raw_chars += len(text)
            if kept is not None:
                kept.append(text)
            yield text

    raw = count_tokens_chunks(watched())
    clean_count = None
    if kept is not None:
        parts: list[str] = []
        compress_chunks(kept, parts.append, count=None, mask_secrets=mask)
        clean_count = count_tokens("".join(parts))
    view.print_tokens(raw, raw_chars, clean_count, json_out=json_out)
