"""Reading the prompt and a piped attachment: strict UTF-8, no binary, streamed in chunks.

A piped log can be hundreds of MB, so the attachment is yielded line by line from 1 MiB reads
and never held whole here. Bad input (NUL bytes, invalid UTF-8, an empty prompt) is an
:class:`InputError` naming the byte offset; it is raised before anything is launched or written.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator

#: What the readers take: a binary stream's ``read`` (``sys.stdin.buffer.read``, an open file's).
#: A function rather than a stream type keeps :mod:`typing` off the ``compress`` start-up path.
Read = Callable[[int], bytes]

CHUNK_BYTES = 1 << 20


def iter_lines(read: Read, *, name: str = "stdin") -> Iterator[str]:
    """Yield the text lines ``read`` gives (line ends kept), checking UTF-8 and NUL bytes."""
    pending = ""
    for text in iter_text(read, name=name):
        # Split on "\n" only: a lone "\r" is a progress-bar redraw the cleaner resolves,
        # and str.splitlines would also split on form feeds and Unicode separators.
        parts = (pending + text).split("\n")
        pending = parts.pop()  # an unfinished line waits for the next chunk
        for part in parts:
            yield part + "\n"
    if pending:
        yield pending


def iter_text(read: Read, *, name: str = "stdin") -> Iterator[str]:
    """Yield the text ``read`` gives in pieces of about :data:`CHUNK_BYTES` (cut anywhere, not
    at line ends), checking UTF-8 and NUL bytes as :func:`iter_lines` does."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset = 0
    first = True
    while True:
        chunk = read(CHUNK_BYTES)
        final = not chunk
        if chunk:
            nul = chunk.find(b"\x00")
            if nul >= 0:
                from codex_router.errors import InputError  # lazy: only bad input pays for it

                raise InputError(
                    f"{name} looks binary (NUL byte at offset {offset + nul})",
                    hint="pipe text: a log, a diff, test output",
                )
            if first and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
                offset += len(codecs.BOM_UTF8)
            first = False
        try:
            text = decoder.decode(chunk, final=final)
        except UnicodeDecodeError as exc:
            from codex_router.errors import InputError  # lazy: only bad input pays for it

            raise InputError(
                f"{name} is not valid UTF-8 (byte offset {offset + exc.start})",
                hint="convert it first, e.g. `iconv -f latin1 -t utf-8`",
            ) from None
        offset += len(chunk)
        if text:
            yield text
        if final:
            return


def read_text(read: Read, *, name: str = "stdin") -> str:
    """All the text ``read`` gives, checked (for ``PROMPT -`` and small files)."""
    return "".join(iter_lines(read, name=name))


def require_prompt(text: str, *, name: str = "PROMPT") -> str:
    from codex_router.errors import InputError  # lazy: keeps errors off the compress path

    if not text.strip():
        raise InputError(
            f"{name} is empty", hint='give the task, e.g. codex-route run "fix the failing test"'
        )
    if "\x00" in text:
        raise InputError(f"{name} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Argument bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape);
        # they cannot be written to codex's stdin, so refuse them before anything is launched.
        offset = len(text[: exc.start].encode("utf-8"))
        raise InputError(
            f"{name} is not valid UTF-8 (byte offset {offset})",
            hint="give the prompt as UTF-8 text, or convert it, e.g. `iconv -f latin1 -t utf-8`",
        ) from None
    return text
