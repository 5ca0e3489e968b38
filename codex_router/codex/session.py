"""What a Codex session reported about itself: token usage and how it ended.

``codex exec`` writes one rollout per session at
``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<session id>.jsonl``
(Codex 0.169's rollout format, checked against the real binary). Each line is
``{"timestamp", "ordinal", "type", "payload"}``. The lines read here are the usage ones
(``event_msg``/``token_count`` with ``info.total_token_usage``, or ``token_usage_record`` with
``thread_token_usage``) and the terminal one (``event_msg``/``task_complete``, whose
``error.codex_error_info`` says what kind of failure it was, or ``turn_aborted`` after Ctrl-C).

The rollout also holds the whole conversation. Nothing here returns message text: only counts,
the error *kind* (a Codex enum name and an HTTP status) and the file's path. The file is read
from its end, because the lines wanted are the last ones and a session can be megabytes long.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_router.history.record import TokenUsage

#: Day directories looked at when the session's start time gives no hit (newest first).
RECENT_DAY_DIRS = 7

_SESSION_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{7,63}$")
_USAGE_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "total_tokens",
)
_TAIL_BLOCK = 64 * 1024
_ENDING_LOOKBACK = 8


@dataclass(frozen=True)
class SessionReport:
    """What one rollout says: usage (None if Codex reported none) and how the turn ended."""

    rollout: Path
    usage: TokenUsage | None
    ended: str  # "completed" | "failed" | "aborted" | "incomplete" (killed: no final line)
    error: str | None  # e.g. "usage_limit_exceeded", "http_connection_failed (http 401)"


# ---------------------------------------------------------------- finding the rollout


def _day_dirs_for(sessions: Path, started_at: float) -> list[Path]:
    """Directories a session started at ``started_at`` may be filed under (local or UTC day,
    and the day after, for a run that crossed midnight before Codex opened its file)."""
    seen: list[Path] = []
    for stamp in (started_at, started_at + 86_400, started_at - 86_400):
        for parts in (time.localtime(stamp), time.gmtime(stamp)):
            path = (
                sessions / f"{parts.tm_year:04d}" / f"{parts.tm_mon:02d}" / f"{parts.tm_mday:02d}"
            )
            if path not in seen:
                seen.append(path)
    return seen


def _numbered_children(directory: Path) -> list[Path]:
    try:
        names = [n for n in os.listdir(directory) if n.isdigit()]
    except OSError:
        return []
    return [directory / n for n in sorted(names, reverse=True)]


def _recent_day_dirs(sessions: Path, limit: int) -> Iterator[Path]:
    """The newest ``limit`` existing day directories, listing only what leads to them."""
    count = 0
    for year in _numbered_children(sessions):
        for month in _numbered_children(year):
            for day in _numbered_children(month):
                yield day
                count += 1
                if count >= limit:
                    return


def _match_in(directory: Path, suffix: str) -> Path | None:
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    hits = sorted(n for n in names if n.startswith("rollout-") and n.endswith(suffix))
    return directory / hits[-1] if hits else None


def find_rollout(
    codex_home: Path,
    session_id: str,
    *,
    started_at: float | None = None,
    recent_days: int = RECENT_DAY_DIRS,
) -> Path | None:
    """The rollout file of ``session_id``, or None.

    Looks in the day directories ``started_at`` points to first, then in the newest
    ``recent_days`` day directories; never walks the whole ``sessions`` tree.
    """
    if not _SESSION_ID.match(session_id):
        return None  # not an id Codex writes; never let it become a path or a pattern
    sessions = Path(codex_home) / "sessions"
    suffix = f"-{session_id}.jsonl"
    tried: set[Path] = set()
    candidates: list[Path] = _day_dirs_for(sessions, started_at) if started_at is not None else []
    for directory in [*candidates, *_recent_day_dirs(sessions, recent_days)]:
        if directory in tried:
            continue
        tried.add(directory)
        found = _match_in(directory, suffix)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- reading it


def _lines_from_end(path: Path) -> Iterator[bytes]:
    """The file's lines, last first, reading 64 KiB blocks backwards."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        position = handle.tell()
        rest = b""
        while position > 0:
            step = min(_TAIL_BLOCK, position)
            position -= step
            handle.seek(position)
            block = handle.read(step) + rest
            lines = block.split(b"\n")
            rest = lines[0]
            for line in reversed(lines[1:]):
                if line.strip():
                    yield line
        if rest.strip():
            yield rest


def _usage_from(counts: Any) -> TokenUsage | None:
    if not isinstance(counts, dict):
        return None
    values = {}
    for name in _USAGE_FIELDS:
        value = counts.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None
        values[name] = value
    return TokenUsage(**values)


def _error_kind(error: Any) -> str:
    """A short kind from ``task_complete.error.codex_error_info``; the message is not read."""
    info = error.get("codex_error_info") if isinstance(error, dict) else None
    if isinstance(info, str) and info:
        return info[:80]
    if isinstance(info, dict) and info:
        kind = str(next(iter(info)))[:80]
        detail = info[kind]
        status = detail.get("http_status_code") if isinstance(detail, dict) else None
        return f"{kind} (http {status})" if isinstance(status, int) else kind
    return "error"


# Cheap byte tests before parsing: most lines (messages, tool output) are skipped unparsed.
_WANTED = (b'"token_count"', b'"token_usage_record"', b'"task_complete"', b'"turn_aborted"')


def _event(line: bytes) -> tuple[str, dict[str, Any]] | None:
    if not any(marker in line for marker in _WANTED):
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None  # a line cut short by a killed process
    if not isinstance(entry, dict) or not isinstance(entry.get("payload"), dict):
        return None
    payload = entry["payload"]
    kind = entry.get("type")
    if kind == "event_msg":
        kind = payload.get("type")
    return (kind, payload) if isinstance(kind, str) else None


def read_session(rollout: Path) -> SessionReport:
    """Usage and ending of one rollout file (``OSError`` if it cannot be read)."""
    ended: str | None = None
    error: str | None = None
    usage: TokenUsage | None = None
    lines_after_usage = 0
    for line in _lines_from_end(rollout):
        if usage is not None:
            # The ending is the last line; allow a few stray lines after the usage, no more,
            # so an earlier turn's ending is never taken for this one's.
            lines_after_usage += 1
            if ended is not None or lines_after_usage > _ENDING_LOOKBACK:
                break
        event = _event(line)
        if event is None:
            continue
        kind, payload = event
        if ended is None and kind == "task_complete":
            failure = payload.get("error")
            ended, error = ("failed", _error_kind(failure)) if failure else ("completed", None)
        elif ended is None and kind == "turn_aborted":
            ended = "aborted"
        elif usage is None and kind == "token_count":
            info = payload.get("info")
            usage = _usage_from(info.get("total_token_usage")) if isinstance(info, dict) else None
        elif usage is None and kind == "token_usage_record":
            usage = _usage_from(payload.get("thread_token_usage")) or _usage_from(
                payload.get("usage")
            )
    return SessionReport(rollout, usage, ended or "incomplete", error)


def session_report(
    codex_home: Path, session_id: str, *, started_at: float | None = None
) -> SessionReport | None:
    """Find and read the rollout of ``session_id``; None when there is none or it is unreadable."""
    rollout = find_rollout(codex_home, session_id, started_at=started_at)
    if rollout is None:
        return None
    try:
        return read_session(rollout)
    except OSError:
        return None
