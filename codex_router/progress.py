"""A status line on stderr for long work, and only on a terminal: a pipe or a log never gets one.

One line rewritten in place with ``\\r`` and cleared when the work ends, so what a command
prints afterwards starts on a clean line. Three kinds:

* :class:`Status` — a spinner for work of unknown length (the one-time token-index build);
  it appears only after :data:`DELAY_SECONDS`, so quick work shows nothing.
* :class:`Reading` — bytes read so far (and the share of a known size) for inputs of
  :data:`LARGE_BYTES` or more; drawn from the reading loop itself, at most every
  :data:`INTERVAL_SECONDS`.
* :class:`Steps` — items done of a known number (``route eval``'s tasks), after
  :data:`DELAY_SECONDS`.

Standard library only, and ``threading`` only once a spinner starts on a terminal: the pipe
commands (``compress``, ``tokens``) load this module and keep their start-up budget.

May import: nothing
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

#: inputs at least this large show how far reading has got
LARGE_BYTES = 4 * 1024 * 1024
#: a spinner waits this long before it appears
DELAY_SECONDS = 0.3
#: the line is redrawn at most this often
INTERVAL_SECONDS = 0.1
_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed
        return False


class _Line:
    """The one status line: drawn over itself, cleared at the end."""

    def __init__(self) -> None:
        self.width = 0

    def draw(self, text: str) -> None:
        pad = max(self.width - len(text), 0)
        sys.stderr.write("\r" + text + " " * pad)
        sys.stderr.flush()
        self.width = len(text)

    def clear(self) -> None:
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


class Status:
    """``with Status("building the token index"):`` — a spinner on a terminal's stderr while the
    block runs (after :data:`DELAY_SECONDS`), nothing anywhere else."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._line = _Line()
        self._stop: Any = None
        self._thread: Any = None

    def __enter__(self) -> Status:
        if stderr_is_terminal():
            import threading  # lazy: only a spinner on a terminal needs a thread

            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def _spin(self) -> None:
        if self._stop.wait(DELAY_SECONDS):
            return
        frame = 0
        while not self._stop.is_set():
            self._line.draw(f"{_FRAMES[frame % len(_FRAMES)]} {self.label}…")
            frame += 1
            self._stop.wait(INTERVAL_SECONDS)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._line.clear()


def _megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB"


class Reading:
    """Progress of reading a large input: wrap its ``read`` with :meth:`watch`, and call
    :meth:`close` when all is done; ``after`` says what the wait is for once the last byte is
    read (e.g. counting tokens).

    Shown only when stderr is a terminal and the input reaches :data:`LARGE_BYTES` (``total``,
    when known, decides up front and adds a percentage)."""

    def __init__(self, label: str, total: int | None = None, *, after: str = "") -> None:
        self.label = label
        self.after = after
        self.total = total if total and total > 0 else None
        self.count = 0
        self.enabled = stderr_is_terminal() and (self.total is None or self.total >= LARGE_BYTES)
        self._line = _Line()
        self._next = 0.0

    def watch(self, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
        """``read``, counting what it returns (``read`` itself when nothing will be shown)."""
        if not self.enabled:
            return read

        def watched(size: int) -> bytes:
            chunk = read(size)
            self.count += len(chunk)
            if not chunk and self.after:
                self.then(self.after)
                return chunk
            if self.total or self.count >= LARGE_BYTES:
                now = time.monotonic()
                if now >= self._next:
                    self._next = now + INTERVAL_SECONDS
                    self._line.draw(self._text())
            return chunk

        return watched

    def _text(self) -> str:
        done = f"{self.label}: {_megabytes(self.count)}"
        if self.total:
            done += f" of {_megabytes(self.total)} ({min(self.count / self.total, 1):.0%})"
        return done

    def then(self, doing: str) -> None:
        """After the last byte of a large input: say what the wait is for now."""
        if self._line.width:
            self._line.draw(f"{self._text()} read; {doing}…")

    def close(self) -> None:
        self._line.clear()


def size_of(fd: int) -> int | None:
    """The size of the regular file open as ``fd`` (``< file`` or a FILE argument), else None
    (a pipe, a terminal)."""
    import os
    import stat

    try:
        info = os.fstat(fd)
    except OSError:
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


class Steps:
    """Progress through a known number of items (``route eval``'s tasks): call :meth:`advance`
    after each, and :meth:`close` at the end.

    Shown only on a terminal and only once the work has taken :data:`DELAY_SECONDS`, so a
    short file shows nothing; redrawn at most every :data:`INTERVAL_SECONDS`."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.count = 0
        self.enabled = stderr_is_terminal() and total > 0
        self._line = _Line()
        self._next = time.monotonic() + DELAY_SECONDS

    def advance(self) -> None:
        self.count += 1
        if self.enabled:
            now = time.monotonic()
            if now >= self._next:
                self._next = now + INTERVAL_SECONDS
                share = min(self.count / self.total, 1)
                self._line.draw(f"{self.label}: {self.count:,} of {self.total:,} ({share:.0%})")

    def close(self) -> None:
        self._line.clear()
