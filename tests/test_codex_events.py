"""The ``codex exec --json`` reader, on event lines recorded from the real Codex 0.169 against the
fake Responses server (tests/helpers/fake_responses.py modes in the ids)."""

from __future__ import annotations

import json

import pytest

from codex_router.codex.events import EventReader, failure_kind, short_error
from codex_router.history.record import TokenUsage
from codex_router.policy.fields import OUTCOME_KINDS

THREAD = '{"type":"thread.started","thread_id":"01a23242-be00-7f11-ab22-77d152d7e391"}'
WARNING = (
    '{"type":"item.completed","item":{"id":"item_0","type":"error","message":"Model metadata '
    "for `gpt-test` not found. Defaulting to fallback metadata; this can degrade performance "
    'and cause issues."}}'
)
TURN = '{"type":"turn.started"}'
ANSWER = '{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"hi there"}}'
DONE = (
    '{"type":"turn.completed","usage":{"input_tokens":123,"cached_input_tokens":20,'
    '"cache_write_input_tokens":0,"output_tokens":7,"reasoning_output_tokens":2}}'
)


def failed(message: str) -> list[str]:
    """Codex's last two lines of a failed turn: the error, then turn.failed with the same text."""
    return [
        json.dumps({"type": "error", "message": message}),
        json.dumps({"type": "turn.failed", "error": {"message": message}}),
    ]


# (id, lines after turn.started, exit code, kind, words of the kept error)
RECORDED = [
    ("ok", [ANSWER, DONE], 0, "ok", None),
    (
        "failed_turn: response.completed status failed",
        [DONE],
        0,
        "turn_failed",
        "without an answer",
    ),
    (
        "quota: 429 insufficient_quota",
        failed("Quota exceeded. Check your plan and billing details."),
        1,
        "usage_limit",
        "Quota exceeded",
    ),
    (
        "response.failed usage_limit_reached",
        failed("stream disconnected before completion: fake failure usage_limit_reached"),
        1,
        "usage_limit",
        "usage_limit_reached",
    ),
    (
        "429",
        failed("exceeded retry limit, last status: 429 Too Many Requests"),
        1,
        "rate_limit",
        "429",
    ),
    (
        "response.failed rate_limit_exceeded",
        failed("rate limit exceeded: fake failure rate_limit_exceeded"),
        1,
        "rate_limit",
        "rate limit",
    ),
    (
        "401",
        failed(
            "unexpected status 401 Unauthorized: fake 401, url: http://127.0.0.1:22611/v1/responses"
        ),
        1,
        "auth",
        "401 Unauthorized",
    ),
    (
        "403",
        failed("unexpected status 403 Forbidden: fake 403, url: http://127.0.0.1:1/v1/responses"),
        1,
        "auth",
        "403",
    ),
    (
        "missing env key",
        failed("Missing environment variable: `FAKE_KEY`."),
        1,
        "auth",
        "FAKE_KEY",
    ),
    (
        "context_overflow: 400 or response.failed context_length_exceeded",
        failed(
            "Codex ran out of room in the model's context window. Start a new thread or clear "
            "earlier history before retrying."
        ),
        1,
        "context_overflow",
        "context window",
    ),
    (
        "500",
        failed("We’re currently experiencing high demand, which may cause temporary errors."),
        1,
        "upstream_error",
        "high demand",
    ),
    (
        "503",
        failed("unexpected status 503 Service Unavailable: x, url: http://127.0.0.1:1/v1/r"),
        1,
        "upstream_error",
        "503",
    ),
    (
        "response.failed server_error",
        failed("stream disconnected before completion: fake failure server_error"),
        1,
        "upstream_error",
        "server_error",
    ),
    (
        "refused connection",
        failed("Connection failed: error sending request for url (http://127.0.0.1:9/v1/r)"),
        1,
        "upstream_error",
        "Connection failed",
    ),
    (
        "truncated: stream closed before response.completed",
        [
            ANSWER,
            *failed(
                "stream disconnected before completion: stream closed before response.completed"
            ),
        ],
        1,
        "stream_cut",
        "stream closed",
    ),
    (
        "stall: idle timeout",
        failed("stream disconnected before completion: idle timeout waiting for SSE"),
        1,
        "stream_cut",
        "idle timeout",
    ),
]


@pytest.mark.parametrize(
    "lines, code, kind, words", [r[1:] for r in RECORDED], ids=[r[0] for r in RECORDED]
)
def test_recorded_streams_give_their_kind(lines, code, kind, words) -> None:
    reader = EventReader(started=10.0)
    shown: list[str] = []
    for at, line in enumerate([THREAD, WARNING, TURN, *lines]):
        shown += reader.feed(line, 10.0 + at / 10)
    outcome = reader.outcome(code, 11.0)
    assert outcome.kind == kind
    assert outcome.thread_id == "01a23242-be00-7f11-ab22-77d152d7e391"
    assert shown[0].startswith("warning: Model metadata")
    if kind == "ok":
        assert outcome.answer == "hi there" and outcome.error is None
        assert outcome.usage == TokenUsage(123, 20, 7, 2, 130)
    else:
        assert outcome.answer is None
        assert words in (outcome.error or "")
    if code:  # the failure is shown once, not twice as Codex sends it
        assert sum(line.startswith("ERROR:") for line in shown) == 1


def test_every_kind_is_reachable_and_known() -> None:
    reached = {r[3] for r in RECORDED}
    reader = EventReader(started=0.0)
    reached.add(reader.outcome(None, 1.0).kind)
    reached.add(reader.outcome(1, 1.0, timed_out=True).kind)
    reached.add(reader.outcome(1, 1.0, interrupted=True).kind)
    reached.add(reader.outcome(1, 1.0, stderr_error="Error loading config.toml: bad").kind)
    assert reached == set(OUTCOME_KINDS)


def test_ttft_is_launch_to_the_first_item_that_is_not_a_warning() -> None:
    reader = EventReader(started=100.0)
    reader.feed(THREAD, 100.2)
    reader.feed(WARNING, 100.3)  # startup warnings come before any request
    reader.feed(TURN, 100.4)
    reader.feed(ANSWER, 101.25)
    reader.feed(DONE, 101.3)
    assert reader.outcome(0, 101.4).ttft_ms == 1250


def test_no_item_means_no_ttft() -> None:
    reader = EventReader(started=0.0)
    for line in [THREAD, TURN, *failed("exceeded retry limit, last status: 429")]:
        reader.feed(line, 1.0)
    assert reader.outcome(1, 2.0).ttft_ms is None


def test_only_the_last_agent_message_is_the_answer_earlier_ones_go_to_stderr() -> None:
    reader = EventReader(started=0.0)
    first = '{"type":"item.completed","item":{"id":"i1","type":"agent_message","text":"first"}}'
    second = '{"type":"item.completed","item":{"id":"i2","type":"agent_message","text":"second"}}'
    shown = [s for line in (THREAD, TURN, first, second, DONE) for s in reader.feed(line, 1.0)]
    assert shown == ["codex", "first"]
    assert reader.outcome(0, 2.0).answer == "second"


def test_usage_without_total_is_input_plus_output_and_turns_add_up() -> None:
    reader = EventReader(started=0.0)
    for line in (THREAD, TURN, ANSWER, DONE, TURN, ANSWER, DONE):
        reader.feed(line, 1.0)
    assert reader.outcome(0, 2.0).usage == TokenUsage(246, 40, 14, 4, 260)


@pytest.mark.parametrize(
    "line",
    [
        "not json at all",
        "{broken json",
        '{"no_type": 1}',
        '{"type": 42}',
        '{"type":"item.completed","item":"not an object"}',
        '{"type":"item.completed","item":{"type":"agent_message","text":null}}',
        '{"type":"turn.completed","usage":{"input_tokens":"many"}}',
        '{"type":"turn.failed","error":"not an object"}',
        '{"type":"thread.started","thread_id":7}',
        "[1, 2, 3]",
        "\x00\xff garbage",
    ],
)
def test_odd_lines_never_raise(line: str) -> None:
    reader = EventReader(started=0.0)
    reader.feed(THREAD, 0.1)
    reader.feed(line, 0.2)
    reader.feed(TURN, 0.3)
    reader.feed(ANSWER, 0.4)
    reader.feed(DONE, 0.5)
    assert reader.outcome(0, 1.0).kind in ("ok", "turn_failed")


def test_unknown_events_and_stray_lines_are_shown_on_stderr() -> None:
    reader = EventReader(started=0.0)
    reader.feed(THREAD, 0.1)
    assert reader.feed("a stray line", 0.2) == ["a stray line"]
    assert reader.feed('{"type":"thread.renamed","name":"x"}', 0.3) == [
        '{"type": "thread.renamed", "name": "x"}'
    ]


def test_a_codex_that_ignores_json_keeps_its_plain_stdout_and_its_exit_code() -> None:
    """A wrapper script in CODEX_ROUTE_CODEX_BIN that drops --json: its output is passed on."""
    reader = EventReader(started=0.0)
    assert reader.feed("done", 0.1) == []
    assert reader.plain_output() == "done\n"
    assert reader.outcome(0, 1.0).kind == "ok"
    failing = EventReader(started=0.0)
    outcome = failing.outcome(1, 1.0, stderr_error="unexpected status 429 Too Many Requests")
    assert outcome.kind == "rate_limit"


def test_a_plain_line_before_the_first_event_goes_to_stderr() -> None:
    reader = EventReader(started=0.0)
    assert reader.feed("Reading prompt from stdin...", 0.1) == []
    assert reader.feed(THREAD, 0.2) == ["Reading prompt from stdin..."]
    assert reader.plain_output() is None


def test_the_users_own_json_shows_nothing_on_stderr_but_is_still_read() -> None:
    reader = EventReader(started=0.0, raw=True)
    shown = [
        s for line in (THREAD, WARNING, TURN, *failed("boom 503")) for s in reader.feed(line, 1)
    ]
    assert shown == []
    assert reader.outcome(1, 2.0).kind == "upstream_error"


def test_exit_0_after_turn_failed_is_a_failed_turn() -> None:
    reader = EventReader(started=0.0)
    for line in (THREAD, TURN, ANSWER, *failed("rate limit exceeded")):
        reader.feed(line, 1.0)
    outcome = reader.outcome(0, 2.0)
    assert outcome.kind == "turn_failed" and outcome.answer is None


@pytest.mark.parametrize(
    "message, kind",
    [
        ("You've hit your usage limit. Upgrade to Pro", "usage_limit"),
        ('{"error":{"code":"context_length_exceeded"}}', "context_overflow"),
        (
            "Error loading config.toml: model_providers.x: provider name must not be empty",
            "refused",
        ),
        ("Not inside a trusted directory and --skip-git-repo-check was not specified.", "refused"),
        ("Incomplete response returned, reason: max_output_tokens", "upstream_error"),
        ("unexpected status 404 Not Found: x", "upstream_error"),
    ],
)
def test_failure_kind(message: str, kind: str) -> None:
    assert failure_kind(message) == kind


def test_the_kept_error_is_one_short_line_without_secrets() -> None:
    message = (
        "unexpected status 401 Unauthorized: invalid key sk-proj-abcdefghijklmnopqrstuvwxyz123456,"
        "\nurl: http://user:hunter2@127.0.0.1:9/v1/responses?api_key=topsecret " + "x" * 300
    )
    kept = short_error(message)
    assert len(kept) <= 160 and "\n" not in kept
    for secret in ("abcdefghijklmnopqrstuvwxyz123456", "hunter2", "topsecret"):
        assert secret not in kept
    assert kept.startswith("unexpected status 401 Unauthorized")
