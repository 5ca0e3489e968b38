"""One codex attempt as a subprocess: stdin given explicitly, output live, own timeout, signals.

Facts about Codex 0.169 this is built on, checked against the real binary: ``codex exec`` reads
a non-TTY stdin until EOF, so the prompt is written to its stdin and the pipe closed; it can hang
forever on a server that never answers, so the wall-clock limit is ours; it exits 1 on Ctrl-C, so
a SIGINT is noticed here and reported as such, never mistaken for a failure to fall back from.

In ``exec`` mode codex runs with ``--json``: its stdout is an event stream, read line by line
(:mod:`codex_router.codex.events`) into the attempt's outcome, while the user sees what plain
``codex exec`` shows: the last agent message on stdout once the turn succeeded, progress and
errors on stderr.

In ``exec`` mode codex runs in its own process group: a terminal Ctrl-C reaches codex-route only,
which forwards it once (no double delivery). The TUI (``--interactive``) stays in the terminal's
foreground group, where it must be to read keys. On Linux the child gets SIGTERM if codex-route
dies (even by SIGKILL), so no codex outlives the run it belongs to.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import FrameType
from typing import Any

from codex_router.codex.events import EventReader
from codex_router.history.record import TokenUsage

#: Signals codex-route stops for; the run ends with 128 + signal number and never falls back.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: After a forwarded Ctrl-C, codex gets this long to end its turn before it is killed.
INTERRUPT_GRACE_SECONDS = 10.0
#: After the timeout's SIGTERM, this long before SIGKILL.
TERMINATE_GRACE_SECONDS = 5.0

_SESSION_RE = re.compile(rb"^session id:\s*([0-9a-fA-F-]{16,})\s*$")
#: Codex's final ERROR lines, mapped to a short kind that holds no request or prompt text.
_ERROR_KINDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in (
        (r"Missing environment variable: `?([A-Z0-9_]+)`?", r"missing env var \1"),
        (r"last status: (\d{3})", r"http \1"),
        (r"unexpected status (\d{3})", r"http \1"),
        (r"experiencing high demand", "http 5xx"),
        (r"Quota exceeded|insufficient_quota|usage limit", "quota exceeded"),
        (r"Connection failed|error sending request|waiting for network", "connection failed"),
        (r"idle timeout", "stream idle timeout"),
        (r"stream (?:closed|disconnected) before", "stream closed early"),
        (r"context.length|context window", "context length exceeded"),
        (r"Model provider `[^`]*` not found", "provider not found"),
        (r"Error loading config", "config rejected by codex"),
        (r"Not inside a trusted directory", "untrusted directory"),
    )
)


#: Codex's refusals before any request, printed without an ERROR prefix (Codex 0.169).
_REFUSAL_LINES = (b"Not inside a trusted directory", b"Error loading config")


def error_kind(line: str) -> str | None:
    for pattern, kind in _ERROR_KINDS:
        found = pattern.search(line)
        if found:
            return found.expand(kind)
    return None


@dataclass(frozen=True)
class LaunchSpec:
    """Everything needed to start one codex attempt: argv, environment, stdin, limits."""

    argv: Sequence[str]
    env: Mapping[str, str]
    stdin_text: (
        str | None
    )  # exec: the prompt for `codex exec -`; None: inherit (the TUI's terminal)
    timeout: float | None
    interactive: bool = False
    cwd: str | None = None
    events: bool = False  # argv has --json: stdout is Codex's event stream, read here
    raw_events: bool = False  # the user asked for --json: the events go to stdout as they came


@dataclass(frozen=True)
class AttemptResult:
    """How one codex attempt ended."""

    exit_code: int | None  # None: codex could not be started
    duration_ms: int
    outcome: str  # ok | failed | timeout | interrupted | launch_error
    stop_signal: int | None  # the signal codex-route received, if any
    session_id: str | None
    error: str | None  # short failure kind, never codex's raw text
    # The finer outcome read from the event stream (codex/events.py: OUTCOME_KINDS); None for
    # a failed interactive attempt, whose reason codex-route cannot see.
    outcome_kind: str | None = None
    ttft_ms: int | None = None
    usage: TokenUsage | None = None  # from turn.completed
    error_message: str | None = None  # short, masked failure text


class StopSignals:
    """Notes stop signals and forwards them to the running child (its group in exec mode).

    Held for a whole attempt, from the config edit to its give-back: a signal that comes before
    codex exists (while the config is written, while codex is spawned) is noted, never lost, and
    handed to codex the moment it exists (or codex is not started at all), so the attempt still
    ends, the config is still given back, and ``--timeout`` still holds.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.count = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.own_group = False
        self._previous: dict[int, Any] = {}
        self.grace_kill: Callable[[], None] | None = None
        self._grace_timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self.cancel_grace()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = self.received or signum
        self.count += 1
        self._forward(signal.SIGKILL if self.count > 1 else signum)

    def attach(
        self, proc: subprocess.Popen[bytes], own_group: bool, grace_kill: Callable[[], None]
    ) -> None:
        """codex now exists: a signal noted while it was being spawned is forwarded at once."""
        self.proc, self.own_group, self.grace_kill = proc, own_group, grace_kill
        if self.received is not None:
            self._forward(signal.SIGKILL if self.count > 1 else self.received)

    def _forward(self, sig: int) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return  # not started yet: attach() forwards it
        _stop(proc, self.own_group, sig)
        with self._lock:
            if self._grace_timer is None and self.grace_kill is not None:
                # codex gets a moment to end its turn cleanly, then it is killed.
                self._grace_timer = threading.Timer(INTERRUPT_GRACE_SECONDS, self.grace_kill)
                self._grace_timer.daemon = True
                self._grace_timer.start()

    def stopped_by(self) -> int | None:
        """The first stop signal received so far (a method: it changes under the caller)."""
        return self.received

    def cancel_grace(self) -> None:
        if self._grace_timer is not None:
            self._grace_timer.cancel()


def _death_signal_setter() -> Callable[[], None] | None:
    """A preexec function asking Linux to SIGTERM the child when codex-route dies.

    ``prctl`` is looked up here, in the parent: nothing is imported or resolved in the forked
    child, between fork and exec.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def set_death_signal() -> None:  # runs in the child between fork and exec
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG

    return set_death_signal


def _write(sink: Any, data: bytes, lock: threading.Lock) -> None:
    """One whole write to a stream both pumps share (lines never interleave mid-line)."""
    with lock:
        try:
            sink.write(data)
            sink.flush()
        except (OSError, ValueError):
            pass  # the reader of our output went away: codex's run goes on


def _pump_stderr(stream: Any, sink: Any, found: dict[str, str], lock: threading.Lock) -> None:
    """Copy codex's stderr through as it comes, noting the session id and the last ERROR line."""
    for line in iter(stream.readline, b""):
        _write(sink, line, lock)
        if "session" not in found:
            match = _SESSION_RE.match(line.strip())
            if match:
                found["session"] = match.group(1).decode()
        if line.startswith(_REFUSAL_LINES) or line.startswith(b"ERROR:") or b" ERROR " in line[:60]:
            text = line.decode("utf-8", "replace").strip()
            kind = error_kind(text)
            if kind:
                found["error"] = kind
                found["error_text"] = text.removeprefix("ERROR:").strip()
    stream.close()


def _pump_events(
    stream: Any,
    reader: EventReader,
    sinks: tuple[Any, Any],
    lock: threading.Lock,
    clock: Callable[[], float],
) -> None:
    """Read codex's ``--json`` stdout as it comes: each line to the reader, what it says to
    show to stderr (or, with the user's own ``--json``, the line itself to stdout)."""
    stdout_sink, stderr_sink = sinks
    for line in iter(stream.readline, b""):
        if reader.raw:
            _write(stdout_sink, line, lock)
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        shown = reader.feed(text, clock())
        if shown:
            _write(stderr_sink, "".join(f"{s}\n" for s in shown).encode("utf-8"), lock)
    stream.close()


def _feed_stdin(stream: Any, data: bytes) -> None:
    try:
        stream.write(data)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            stream.close()
        except (BrokenPipeError, OSError):
            pass


def _stop(proc: subprocess.Popen[bytes], own_group: bool, sig: int) -> None:
    try:
        if own_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_attempt(
    attempt: LaunchSpec,
    *,
    stderr_sink: Any = None,
    stdout_sink: Any = None,
    clock: Callable[[], float] = time.monotonic,
    stop_signals: StopSignals | None = None,
) -> AttemptResult:
    """Run codex once and wait for it; never raises for codex's own failures.

    ``stop_signals``: the caller's watch, held since before the config was edited; without one,
    the attempt holds its own. ``stdout_sink`` / ``stderr_sink``: binary streams for the answer
    and for progress (default: ours).
    """
    sinks = (stdout_sink, stderr_sink)
    if stop_signals is None:
        with StopSignals() as own:
            return _run(attempt, own, sinks, clock)
    return _run(attempt, stop_signals, sinks, clock)


def _interrupted(
    watch: StopSignals, duration_ms: int, code: int | None, session: str | None
) -> AttemptResult:
    assert watch.received is not None
    return AttemptResult(
        code,
        duration_ms,
        "interrupted",
        watch.received,
        session,
        f"stopped by {signal.Signals(watch.received).name}",
        outcome_kind="interrupted",
    )


def _run(
    attempt: LaunchSpec,
    watch: StopSignals,
    sinks: tuple[Any, Any],
    clock: Callable[[], float],
) -> AttemptResult:
    stdout_sink = sinks[0] if sinks[0] is not None else sys.stdout.buffer
    sink = sinks[1] if sinks[1] is not None else sys.stderr.buffer
    started = clock()
    own_group = not attempt.interactive
    found: dict[str, str] = {}
    if watch.stopped_by() is not None:  # stopped before codex was started: it never is
        return _interrupted(watch, 0, None, None)
    try:
        proc = subprocess.Popen(
            list(attempt.argv),
            env=dict(attempt.env),
            cwd=attempt.cwd,
            stdin=None if attempt.stdin_text is None else subprocess.PIPE,
            stdout=subprocess.PIPE if attempt.events else None,
            stderr=None if attempt.interactive else subprocess.PIPE,
            process_group=0 if own_group else None,
            preexec_fn=_death_signal_setter(),
        )
    except OSError as exc:
        return AttemptResult(
            None,
            int((clock() - started) * 1000),
            "launch_error",
            None,
            None,
            f"cannot start codex: {exc.strerror}",
            outcome_kind="launch_error",
        )
    watch.attach(proc, own_group, lambda: _stop(proc, own_group, signal.SIGKILL))
    reader = EventReader(started, raw=attempt.raw_events)
    lock = threading.Lock()
    threads = []
    if proc.stdin is not None:
        data = (attempt.stdin_text or "").encode("utf-8")
        threads.append(threading.Thread(target=_feed_stdin, args=(proc.stdin, data), daemon=True))
    if proc.stderr is not None:
        threads.append(
            threading.Thread(
                target=_pump_stderr, args=(proc.stderr, sink, found, lock), daemon=True
            )
        )
    if proc.stdout is not None:
        threads.append(
            threading.Thread(
                target=_pump_events,
                args=(proc.stdout, reader, (stdout_sink, sink), lock, clock),
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    timed_out = _wait(proc, attempt.timeout, watch, own_group, started, clock)
    for thread in threads:
        thread.join(timeout=5)
    ended = clock()
    duration_ms = int((ended - started) * 1000)
    code = proc.returncode
    session = found.get("session") or reader.thread_id
    stopped = watch.stopped_by() is not None
    outcome = reader.outcome(
        code,
        ended,
        timed_out=timed_out,
        interrupted=stopped,
        stderr_error=found.get("error_text"),
    )
    if attempt.events:
        _show_answer(reader, outcome.answer, stdout_sink, sink, lock)
    facts: dict[str, Any] = {
        "outcome_kind": outcome.kind if attempt.events or code == 0 else None,
        "ttft_ms": outcome.ttft_ms,
        "usage": outcome.usage,
        "error_message": outcome.error,
    }
    if stopped:
        return replace(_interrupted(watch, duration_ms, code, session), **facts)
    if timed_out:
        timeout = f"timeout after {attempt.timeout:g} s"
        facts["outcome_kind"], facts["error_message"] = "timeout", timeout
        return AttemptResult(code, duration_ms, "timeout", None, session, timeout, **facts)
    if code == 0 and outcome.kind == "ok":
        return AttemptResult(0, duration_ms, "ok", None, session, None, **facts)
    if code == 0:  # exit 0, but the turn gave no answer: a failure to walk on from
        return AttemptResult(0, duration_ms, "failed", None, session, outcome.kind, **facts)
    error = (
        found.get("error")
        or (error_kind(outcome.error) if outcome.error else None)
        or (f"killed by signal {-code}" if code < 0 else f"exit {code}")
    )
    return AttemptResult(code, duration_ms, "failed", None, session, error, **facts)


def _show_answer(
    reader: EventReader, answer: str | None, stdout_sink: Any, sink: Any, lock: threading.Lock
) -> None:
    """As plain ``codex exec``: the last agent message and a newline on stdout, only when the
    turn succeeded; a message of a failed turn goes to stderr (a fallback's answer may follow)."""
    if reader.raw:
        return  # the user's own --json: the events went to stdout as they came
    plain = reader.plain_output()
    if plain is not None:  # a codex that did not speak --json: its stdout as it was
        if plain:
            _write(stdout_sink, plain.encode("utf-8"), lock)
        return
    if answer is not None:
        _write(stdout_sink, f"{answer}\n".encode(), lock)
    elif reader.answer is not None:
        _write(sink, f"codex\n{reader.answer}\n".encode(), lock)


def _wait(
    proc: subprocess.Popen[bytes],
    timeout: float | None,
    watch: StopSignals,
    own_group: bool,
    started: float,
    clock: Callable[[], float],
) -> bool:
    """Wait for codex; on timeout or a stop signal, end it (TERM, then KILL). True if timed out.

    The main thread blocks in waitpid (woken at once when codex exits; signal handlers still run,
    PEP 475); timers do the killing, so no polling delay is added to every run. The deadline holds
    whatever happened before: a codex still running at the deadline is ended.
    """
    timed_out = threading.Event()

    def on_deadline() -> None:
        if proc.poll() is None:
            timed_out.set()
            _stop(proc, own_group, signal.SIGTERM)
            kill_later = threading.Timer(
                TERMINATE_GRACE_SECONDS, _stop, (proc, own_group, signal.SIGKILL)
            )
            kill_later.daemon = True
            kill_later.start()

    timers = []
    if timeout:
        remaining = max(0.0, started + timeout - clock())
        timers.append(threading.Timer(remaining, on_deadline))
    for timer in timers:
        timer.daemon = True
        timer.start()
    try:
        proc.wait()
    finally:
        for timer in timers:
            timer.cancel()
        watch.cancel_grace()
    return timed_out.is_set()
