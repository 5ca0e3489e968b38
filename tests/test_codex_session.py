"""Reading Codex rollouts: usage and ending only, never message text."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from codex_router.codex.session import (
    SessionReport,
    find_rollout,
    read_session,
    session_report,
)
from codex_router.history.record import TokenUsage

SESSION = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
SECRET_TEXT = "canary prompt text 7f3a"
STARTED = float(int(time.time()) - 30 * 86_400)  # older than the "recent days" written below


def _line(kind: str, payload: dict[str, Any], ordinal: int = 0) -> dict[str, Any]:
    return {
        "timestamp": "2026-03-14T15:09:26.535Z",
        "ordinal": ordinal,
        "type": kind,
        "payload": payload,
    }


def _counts(inp: int, cached: int, out: int, reasoning: int = 0) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "cached_input_tokens": cached,
        "cache_write_input_tokens": 0,
        "output_tokens": out,
        "reasoning_output_tokens": reasoning,
        "total_tokens": inp + out,
    }


def _conversation() -> list[dict[str, Any]]:
    return [
        _line(
            "session_meta",
            {
                "id": SESSION,
                "cwd": "/tmp/w",
                "originator": "codex_exec",
                "cli_version": "0.169.0",
                "source": "exec",
                "model_provider": "openai",
                "base_instructions": "You are Codex. " * 2000,
            },
        ),
        _line("event_msg", {"type": "task_started"}),
        _line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": SECRET_TEXT}],
            },
        ),
        _line("event_msg", {"type": "token_count", "info": None, "rate_limits": None}),
        _line(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": f"about token_count: {SECRET_TEXT}"}],
            },
        ),
    ]


def _usage_lines(inp: int = 123, cached: int = 20, out: int = 7) -> list[dict[str, Any]]:
    return [
        _line(
            "token_usage_record",
            {
                "usage": _counts(inp, cached, out),
                "turn_token_usage": _counts(inp, cached, out),
                "thread_token_usage": _counts(inp, cached, out),
                "response_id": "resp_1",
            },
        ),
        _line(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": _counts(inp, cached, out),
                    "last_token_usage": _counts(inp, cached, out),
                    "model_context_window": 272000,
                },
                "rate_limits": None,
            },
        ),
    ]


def _complete(error: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "task_complete",
        "last_agent_message": SECRET_TEXT,
        "duration_ms": 812,
        "time_to_first_token_ms": 200,
    }
    if error is not None:
        payload["error"] = error
    return _line("event_msg", payload)


def _write_rollout(
    codex_home: Path,
    lines: list[dict[str, Any]],
    *,
    session: str = SESSION,
    started: float = STARTED,
    raw_tail: bytes = b"",
) -> Path:
    t = time.localtime(started)
    day = codex_home / "sessions" / f"{t.tm_year:04d}" / f"{t.tm_mon:02d}" / f"{t.tm_mday:02d}"
    day.mkdir(parents=True, exist_ok=True)
    name = time.strftime("rollout-%Y-%m-%dT%H-%M-%S", t) + f"-{session}.jsonl"
    path = day / name
    body = "".join(json.dumps(line) + "\n" for line in lines).encode() + raw_tail
    path.write_bytes(body)
    return path


@pytest.fixture
def codex_home() -> Path:
    return Path(os.environ["CODEX_HOME"])


def test_completed_session(codex_home: Path) -> None:
    path = _write_rollout(codex_home, [*_conversation(), *_usage_lines(), _complete()])
    report = session_report(codex_home, SESSION, started_at=STARTED)
    assert report == SessionReport(path, TokenUsage(123, 20, 7, 0, 130), "completed", None)


@pytest.mark.parametrize(
    ("info", "kind"),
    [
        (
            {"http_connection_failed": {"http_status_code": 401}},
            "http_connection_failed (http 401)",
        ),
        (
            {"response_too_many_failed_attempts": {"http_status_code": 429}},
            "response_too_many_failed_attempts (http 429)",
        ),
        ("usage_limit_exceeded", "usage_limit_exceeded"),
        ("internal_server_error", "internal_server_error"),
        (None, "error"),
    ],
)
def test_failed_session_gives_the_error_kind_not_its_message(codex_home: Path, info, kind) -> None:
    error = {"message": f"failed: {SECRET_TEXT}"}
    if info is not None:
        error["codex_error_info"] = info
    _write_rollout(codex_home, [*_conversation(), _complete(error)])
    report = session_report(codex_home, SESSION, started_at=STARTED)
    assert report is not None
    assert (report.ended, report.error, report.usage) == ("failed", kind, None)
    assert SECRET_TEXT not in repr(report)


def test_aborted_session(codex_home: Path) -> None:
    _write_rollout(
        codex_home,
        [
            *_conversation(),
            *_usage_lines(),
            _line("event_msg", {"type": "turn_aborted", "reason": "interrupted"}),
        ],
    )
    report = session_report(codex_home, SESSION)
    assert report is not None
    assert (report.ended, report.usage.total_tokens) == ("aborted", 130)


def test_killed_session_with_a_cut_last_line(codex_home: Path) -> None:
    _write_rollout(
        codex_home,
        [*_conversation(), *_usage_lines(500, 0, 9)],
        raw_tail=b'{"timestamp":"2026-03-14T15:09:27Z","type":"event_msg","payload":{"ty',
    )
    report = session_report(codex_home, SESSION)
    assert report is not None
    assert (report.ended, report.usage.input_tokens, report.usage.output_tokens) == (
        "incomplete",
        500,
        9,
    )


def test_usage_from_token_usage_record_alone(codex_home: Path) -> None:
    _write_rollout(codex_home, [*_conversation(), _usage_lines(40, 0, 2)[0], _complete()])
    report = session_report(codex_home, SESSION)
    assert report is not None
    assert report.usage == TokenUsage(40, 0, 2, 0, 42)


def test_the_last_usage_wins_over_earlier_turns(codex_home: Path) -> None:
    lines = [*_conversation(), *_usage_lines(100, 0, 5), *_usage_lines(300, 50, 20), _complete()]
    report = read_session(_write_rollout(codex_home, lines))
    assert report.usage == TokenUsage(300, 50, 20, 0, 320)


def test_a_rollout_larger_than_one_read_block(codex_home: Path) -> None:
    filler = [
        _line(
            "response_item",
            {
                "type": "message",
                "role": "tool",
                "content": [{"type": "output_text", "text": "x" * 10_000}],
            },
        )
        for _ in range(30)
    ]
    lines = [
        *_conversation(),
        *_usage_lines(7, 0, 1),
        *filler[:5],
        *_usage_lines(900, 0, 30),
        *filler,
        _complete(),
    ]
    report = read_session(_write_rollout(codex_home, lines))
    assert (report.usage.input_tokens, report.ended) == (900, "completed")


def test_usage_values_of_the_wrong_type_are_ignored(codex_home: Path) -> None:
    bad = _line(
        "event_msg",
        {"type": "token_count", "info": {"total_token_usage": {"input_tokens": "lots"}}},
    )
    report = read_session(_write_rollout(codex_home, [*_conversation(), bad, _complete()]))
    assert report.usage is None and report.ended == "completed"


def test_no_rollout_for_unknown_or_unsafe_ids(codex_home: Path) -> None:
    _write_rollout(codex_home, [*_conversation(), _complete()])
    assert session_report(codex_home, "0199a1b2-0000-0000-0000-000000000000") is None
    for unsafe in ("*", "../../etc/passwd", "", "a" * 200):
        assert find_rollout(codex_home, unsafe) is None


def test_found_without_a_start_time_among_recent_days(codex_home: Path) -> None:
    path = _write_rollout(codex_home, [*_conversation(), _complete()])
    for days_ago in (1, 2, 3):  # newer day dirs with other sessions
        _write_rollout(
            codex_home,
            [_complete()],
            session=f"other-session-{days_ago:04d}",
            started=time.time() - days_ago * 86_400,
        )
    assert find_rollout(codex_home, SESSION) == path
    assert find_rollout(codex_home, SESSION, recent_days=3) is None  # only the 3 newest days


def test_search_is_bounded_to_recent_days(codex_home: Path) -> None:
    old = STARTED - 40 * 86_400
    path = _write_rollout(codex_home, [_complete()], started=old)
    for days_ago in range(1, 10):
        _write_rollout(
            codex_home,
            [_complete()],
            session=f"other-session-{days_ago:04d}",
            started=time.time() - days_ago * 86_400,
        )
    assert find_rollout(codex_home, SESSION) is None
    assert find_rollout(codex_home, SESSION, started_at=old) == path


def test_missing_sessions_dir(tmp_path: Path) -> None:
    assert session_report(tmp_path / "nowhere", SESSION) is None
