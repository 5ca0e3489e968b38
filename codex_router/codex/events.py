"""Reading ``codex exec --json``: the event stream, line by line, into what the user sees and how
the attempt ended.

Pure: :class:`EventReader` is fed stdout lines with the time they arrived and answers what to
show on stderr; :meth:`EventReader.outcome` then says how the attempt ended (an
:class:`AttemptOutcome`). The process itself is :mod:`codex_router.codex.launch`'s.

Facts of Codex 0.169 this rests on, checked against the real binary and a fake Responses server
(docs/reference/attempt-outcomes.md has the table):

- each stdout line is one JSON event: ``thread.started`` (the session id), ``turn.started``,
  ``item.started`` / ``item.updated`` / ``item.completed`` (``agent_message``, ``reasoning``,
  ``command_execution``, ``file_change``, ``mcp_tool_call``, ``web_search``, ``todo_list``, and
  ``error`` items, which are warnings), ``error`` (a retry notice, or the failure before
  ``turn.failed``), ``turn.completed`` (with ``usage``) and ``turn.failed`` (``error.message``);
- the failure's kind is only in the message text (exit code is 1 for every failure);
- plain ``codex exec`` prints the *last* agent message on stdout, followed by a newline, and only
  when the turn succeeded; earlier messages go to stderr;
- ``codex exec`` exits 0 after a turn that produced no answer: a ``response.completed`` whose
  status is ``failed``, an SSE ``error`` event, a refusal: ``turn.completed`` without any agent
  message. That is the ``turn_failed`` kind.

The kinds are :data:`OUTCOME_KINDS` (``policy/fields.py``: ``never_retry_on`` names them).
Nothing here stores message text: the answer goes to stdout and nowhere else; a failure's text is
kept short and masked (:func:`short_error`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from codex_router.history.record import TokenUsage
from codex_router.prompt.secrets import mask_text
from codex_router.redact import redact

#: The longest failure text kept (stored in the history, shown in the attempt line).
ERROR_TEXT_MAX = 160

#: Codex's failure messages → kind, first match wins (Codex 0.169's own words, and the
#: upstream's error codes it quotes: docs/reference/attempt-outcomes.md); anything else is an
#: ``upstream_error``.
_KIND_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"^Quota exceeded|insufficient_quota|usage.limit", "usage_limit"),
        (
            r"ran out of room in the model's context window|context.length|context.window",
            "context_overflow",
        ),
        (r"last status: 429|status 429|rate.limit", "rate_limit"),
        (r"status (?:401|403)\b|Missing environment variable|Unauthorized|Forbidden", "auth"),
        (r"stream closed before response\.completed|idle timeout waiting for SSE", "stream_cut"),
        (r"Error loading config|Not inside a trusted directory", "refused"),
    )
)


def failure_kind(message: str) -> str:
    """The kind of one of Codex's failure messages (``upstream_error`` when none matches)."""
    for pattern, kind in _KIND_PATTERNS:
        if pattern.search(message):
            return kind
    return "upstream_error"


def short_error(message: str) -> str:
    """A failure text fit to store and show: one line, secrets masked, at most
    :data:`ERROR_TEXT_MAX` characters."""
    line = " ".join(message.split())
    line = redact(mask_text(line)[0])
    if len(line) > ERROR_TEXT_MAX:
        line = line[: ERROR_TEXT_MAX - 1].rstrip() + "…"
    return line


@dataclass(frozen=True)
class AttemptOutcome:
    """How one ``codex exec --json`` attempt ended, read from its events and exit."""

    kind: str  # one of OUTCOME_KINDS (policy/fields.py)
    answer: str | None  # the last agent message (for stdout only; never stored)
    ttft_ms: int | None  # launch → first item event that is not a warning
    usage: TokenUsage | None  # summed over the attempt's turn.completed events
    error: str | None  # short, masked failure text (None when ok)
    thread_id: str | None  # Codex's session id (thread.started)
    events: int  # JSON events read (0: codex did not speak --json)


def _usage(data: Any) -> TokenUsage | None:
    if not isinstance(data, dict):
        return None
    names = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
    values: dict[str, int] = {}
    for name in names:
        value = data.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None
        values[name] = value
    total = data.get("total_tokens")
    # Codex's --json usage has no total; the Responses API's total is input + output.
    values["total_tokens"] = (
        total
        if isinstance(total, int) and not isinstance(total, bool) and total >= 0
        else values["input_tokens"] + values["output_tokens"]
    )
    return TokenUsage(**values)


def _add(a: TokenUsage | None, b: TokenUsage) -> TokenUsage:
    if a is None:
        return b
    return TokenUsage(
        a.input_tokens + b.input_tokens,
        a.cached_input_tokens + b.cached_input_tokens,
        a.output_tokens + b.output_tokens,
        a.reasoning_output_tokens + b.reasoning_output_tokens,
        a.total_tokens + b.total_tokens,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class EventReader:
    """Fed ``codex exec --json`` stdout lines; keeps what the outcome needs.

    ``started``: when codex was launched, on the clock the caller passes to :meth:`feed`.
    ``raw``: the user asked for ``--json`` themselves; the events are theirs (stdout), so the
    reader shows nothing.
    """

    started: float
    raw: bool = False
    events: int = 0
    thread_id: str | None = None
    first_item_at: float | None = None
    answer: str | None = None
    answers: int = 0
    completed_turns: int = 0
    failure: str | None = None  # turn.failed's message (or the last error event's)
    last_error: str | None = None
    usage: TokenUsage | None = None
    plain_lines: list[str] = field(default_factory=list)  # non-JSON lines before any event

    def feed(self, line: str, now: float) -> list[str]:
        """Read one stdout line (without its newline); return the lines to show on stderr."""
        stripped = line.strip()
        if not stripped:
            return []
        event: Any = None
        if stripped.startswith("{"):
            try:
                event = json.loads(stripped)
            except ValueError:
                event = None
        kind = event.get("type") if isinstance(event, dict) else None
        if not isinstance(kind, str):
            if self.events == 0:
                # Not (yet) an event stream: a codex that ignored --json prints its answer
                # here. Kept until the stream shows what it is (see plain_output).
                self.plain_lines.append(line)
                return []
            return [line]
        shown = [*self.plain_lines] if self.events == 0 else []
        self.plain_lines.clear()
        self.events += 1
        assert isinstance(event, dict)
        shown += self._read(kind, event, now)
        return [] if self.raw else shown

    def _read(self, kind: str, event: dict[str, Any], now: float) -> list[str]:
        if kind == "thread.started":
            self.thread_id = _text(event.get("thread_id")) or self.thread_id
            return []
        if kind in ("turn.started",):
            return []
        if kind == "turn.completed":
            self.completed_turns += 1
            usage = _usage(event.get("usage"))
            if usage is not None:
                self.usage = _add(self.usage, usage)
            return []
        if kind == "turn.failed":
            error = event.get("error")
            message = _text(error.get("message")) if isinstance(error, dict) else None
            self.failure = message or self.last_error or "turn failed"
            # Codex printed the same text as an ``error`` event just before.
            return [] if message == self.last_error else [f"ERROR: {message or 'turn failed'}"]
        if kind == "error":
            message = _text(event.get("message")) or "error"
            self.last_error = message
            return [f"ERROR: {message}"]
        if kind.startswith("item."):
            return self._item(kind, event.get("item"), now)
        return [json.dumps(event)]  # an event this reader does not know: shown as it came

    def _item(self, kind: str, item: Any, now: float) -> list[str]:
        if not isinstance(item, dict):
            return []
        item_type = item.get("type")
        if item_type == "error":  # warnings (model metadata, deprecated settings)
            message = _text(item.get("message"))
            return [f"warning: {message}"] if message and kind == "item.completed" else []
        if self.first_item_at is None:
            self.first_item_at = now
        if kind != "item.completed" and item_type != "command_execution":
            return []
        if item_type == "agent_message":
            text = _text(item.get("text"))
            if text is None:
                return []
            # The previous message was not the last one: as plain codex, it goes to stderr.
            earlier = self.answer
            self.answer, self.answers = text, self.answers + 1
            return ["codex", earlier] if earlier is not None else []
        if item_type == "command_execution":
            command = _text(item.get("command")) or "?"
            if kind == "item.started":
                return [f"exec: {command}"]
            code = item.get("exit_code")
            if kind == "item.completed" and isinstance(code, int) and code != 0:
                return [f"exec: exit {code}: {command}"]
            return []
        if item_type == "file_change":
            changes = item.get("changes")
            return [
                f"file: {c.get('kind', 'change')} {c.get('path')}"
                for c in (changes if isinstance(changes, list) else [])
                if isinstance(c, dict) and isinstance(c.get("path"), str)
            ]
        if item_type == "mcp_tool_call":
            return [f"tool: {item.get('server')}.{item.get('tool')}"]
        if item_type == "web_search":
            return [f"web search: {item.get('query')}"]
        return []  # reasoning, todo lists: not shown, as plain codex's stdout

    def plain_output(self) -> str | None:
        """What a codex that never spoke --json printed on stdout (None when it did speak it)."""
        if self.events:
            return None
        return "".join(f"{line}\n" for line in self.plain_lines)

    def outcome(
        self,
        exit_code: int | None,
        now: float,
        *,
        timed_out: bool = False,
        interrupted: bool = False,
        stderr_error: str | None = None,
    ) -> AttemptOutcome:
        """How the attempt ended, once codex has exited.

        ``stderr_error``: the failure text codex printed on stderr (refusals before the event
        loop, or a codex that did not speak --json).
        """
        ttft = (
            int(max(0.0, self.first_item_at - self.started) * 1000)
            if self.first_item_at is not None
            else None
        )
        failure = (self.failure or self.last_error) if exit_code != 0 else self.failure
        if interrupted:
            kind = "interrupted"
        elif timed_out:
            kind = "timeout"
        elif exit_code is None:
            kind = "launch_error"
        elif exit_code == 0:
            answered = self.answer is not None and self.completed_turns > 0
            if self.events == 0:
                kind = "ok"  # no event stream: the exit code is all there is
            elif self.failure is not None or not answered:
                kind = "turn_failed"
                failure = failure or "the turn ended without an answer (no agent message)"
            else:
                kind = "ok"
        elif failure is not None:
            kind = failure_kind(failure)
        elif stderr_error is not None:
            kind = failure_kind(stderr_error)
            failure = stderr_error
        elif exit_code == 2:  # clap's usage error: codex refused the arguments
            kind, failure = "refused", "codex refused its arguments (exit 2)"
        else:
            kind = "upstream_error"
            failure = f"killed by signal {-exit_code}" if exit_code < 0 else f"exit {exit_code}"
        return AttemptOutcome(
            kind=kind,
            answer=self.answer if kind == "ok" else None,
            ttft_ms=ttft,
            usage=self.usage,
            error=short_error(failure) if failure is not None and kind != "ok" else None,
            thread_id=self.thread_id,
            events=self.events,
        )
