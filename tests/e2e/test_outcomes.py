"""Every outcome class of an attempt, read from the real Codex 0.169's ``exec --json`` events
against the fake Responses server; the next step each one leads to; stdout carrying only the
answer. The user's provider table asks for no retries (request/stream_max_retries = 0), as the
managed paths' fail-fast settings do, so each failing attempt takes about a second."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from helpers.e2e import Route, user_config
from helpers.fake_responses import REPLY_TEXT, FakeResponses

pytestmark = pytest.mark.e2e

CODEX_ARGS = ["--", "--skip-git-repo-check"]
ONE_PATH = {"CODEX_ROUTE_FALLBACK_ORDER": "standard", "CODEX_ROUTE_CODEX_PROVIDER": "standard"}


def last_run(route: Route) -> dict:
    done = route.run("history", "--json", "--limit", "1")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[0])


def run_on(route: Route, upstream: FakeResponses, *args: str, **extra: str):
    config = user_config(upstream.base_url) + b"stream_idle_timeout_ms = 1000\n"
    route.config.write_bytes(config)
    return route.run("run", *args, "say hi", *CODEX_ARGS, extra_env={**ONE_PATH, **extra})


@pytest.mark.parametrize(
    "mode, kind, words",
    [
        ("failed_turn", "turn_failed", "without an answer"),
        ("quota", "usage_limit", "Quota exceeded"),
        ("failed:insufficient_quota", "usage_limit", "Quota exceeded"),
        ("429", "rate_limit", "429"),
        ("failed:rate_limit_exceeded", "rate_limit", "rate limit"),
        ("401", "auth", "401 Unauthorized"),
        ("403", "auth", "403 Forbidden"),
        ("context_overflow", "context_overflow", "context window"),
        ("failed:context_length_exceeded", "context_overflow", "context window"),
        ("500", "upstream_error", "high demand"),
        ("failed:server_error", "upstream_error", "fake failed response"),
        ("truncated", "stream_cut", "stream closed before response.completed"),
        ("stall", "stream_cut", "idle timeout"),
    ],
)
def test_each_failure_is_classified_and_recorded(route: Route, mode: str, kind: str, words: str):
    with FakeResponses(mode) as upstream:
        done = run_on(route, upstream)
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""  # a failed turn prints no answer, as plain codex exec
    assert f": {kind}, exit " in done.stderr  # the attempt line names the kind
    [attempt] = last_run(route)["attempts"]
    assert attempt["outcome"] == "failed"
    assert attempt["outcome_kind"] == kind
    assert words in attempt["error_message"]
    assert attempt["next_step"] == "last"
    assert len(upstream.requests) == 1  # no retries: request/stream_max_retries = 0


def test_a_missing_key_is_auth(route: Route):
    with FakeResponses("ok") as upstream:
        done = run_on(route, upstream, FAKE_KEY="")
    assert done.returncode == 1, done.stderr
    [attempt] = last_run(route)["attempts"]
    assert attempt["outcome_kind"] == "auth" and "FAKE_KEY" in attempt["error_message"]
    assert upstream.requests == []


def test_our_timeout(route: Route):
    with FakeResponses("hang") as upstream:
        done = run_on(route, upstream, "--timeout", "2")
    assert done.returncode == 124, done.stderr
    [attempt] = last_run(route)["attempts"]
    assert attempt["outcome_kind"] == "timeout" and attempt["ttft_ms"] is None


def test_ctrl_c_is_interrupted(route: Route):
    with FakeResponses("hang") as upstream:
        route.config.write_bytes(user_config(upstream.base_url))
        proc = route.popen("run", "say hi", *CODEX_ARGS, extra_env=ONE_PATH)
        end = time.monotonic() + 30
        while not upstream.requests and time.monotonic() < end:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 130
    [attempt] = last_run(route)["attempts"]
    assert attempt["outcome_kind"] == "interrupted" and attempt["next_step"] == "stop"


def test_stdout_carries_only_the_answer(route: Route):
    """As plain ``codex exec``: the last agent message and a newline; the events, warnings and
    progress stay off stdout, so `codex-route run ... | script` reads the answer alone."""
    with FakeResponses("ok") as upstream:
        done = run_on(route, upstream)
    assert done.returncode == 0, done.stderr
    assert done.stdout == REPLY_TEXT + "\n"
    assert '"type"' not in done.stderr  # the events were read, not dumped
    [attempt] = last_run(route)["attempts"]
    assert attempt["outcome_kind"] == "ok" and attempt["next_step"] == "done"
    assert attempt["ttft_ms"] is not None and 0 < attempt["ttft_ms"] <= attempt["duration_ms"]
    assert attempt["usage"]["input_tokens"] == 123 and attempt["usage"]["output_tokens"] == 7


def test_the_users_own_json_gets_the_events_on_stdout(route: Route):
    with FakeResponses("ok") as upstream:
        route.config.write_bytes(user_config(upstream.base_url))
        done = route.run("run", "say hi", *CODEX_ARGS, "--json", extra_env=ONE_PATH)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert {"turn.completed", "thread.started"} <= {e["type"] for e in events}
    assert last_run(route)["attempts"][0]["outcome_kind"] == "ok"


@pytest.mark.parametrize(
    "mode, kind", [("failed_turn", "turn_failed"), ("quota", "usage_limit"), ("401", "auth")]
)
def test_a_failed_path_walks_on_and_the_answer_is_printed_once(route: Route, mode: str, kind: str):
    with FakeResponses(mode) as broken, FakeResponses("ok") as proxy:
        route.config.write_bytes(user_config(broken.base_url))
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "standard",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == REPLY_TEXT + "\n"
    assert "falling back to litellm" in done.stderr
    first, second = last_run(route)["attempts"]
    assert (first["outcome_kind"], first["next_step"]) == (kind, "next_path")
    assert "litellm next" in first["next_reason"]
    assert second["outcome_kind"] == "ok"


def test_never_retry_on_stops_the_walk(route: Route):
    with FakeResponses("429") as broken, FakeResponses("ok") as proxy:
        route.config.write_bytes(user_config(broken.base_url))
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "standard",
            *CODEX_ARGS,
            extra_env={
                "CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url,
                "CODEX_ROUTE_NEVER_RETRY_ON": "interrupted,refused,rate_limit",
            },
        )
    assert done.returncode == 1, done.stderr
    assert "not falling back" in done.stderr and "rate_limit is in never_retry_on" in done.stderr
    assert proxy.requests == []
    [attempt] = last_run(route)["attempts"]
    assert attempt["next_step"] == "stop"


LONG_POLICY = """\
aliases:
  codex-default:
    openai_model: gpt-small-window
  codex-light:
    openai_model: gpt-small-window
  codex-long:
    openai_model: gpt-wide-window
    context_window: 1000000
"""


def test_a_context_overflow_retries_the_same_path_with_the_long_alias(route: Route, tmp_path: Path):
    policy = tmp_path / "policy.yaml"
    policy.write_text(LONG_POLICY)
    modes = {"gpt-small-window": "context_overflow", "gpt-wide-window": "ok"}
    with FakeResponses("500", by_model=modes) as upstream:
        route.config.write_bytes(user_config(upstream.base_url))
        done = route.run("run", "--policy", str(policy), "say hi", *CODEX_ARGS, extra_env=ONE_PATH)
    assert done.returncode == 0, done.stderr
    assert done.stdout == REPLY_TEXT + "\n"
    assert "retrying on standard with codex-long" in done.stderr
    assert [r["model"] for r in upstream.requests] == ["gpt-small-window", "gpt-wide-window"]
    first, second = last_run(route)["attempts"]
    assert (first["outcome_kind"], first["next_step"]) == ("context_overflow", "long_alias")
    assert (second["path"], second["alias"], second["outcome_kind"]) == (
        "standard",
        "codex-long",
        "ok",
    )


def test_a_context_overflow_without_a_wider_alias_walks_on(route: Route):
    """The packaged policy's long alias has the same window as the others: the next path."""
    with FakeResponses("context_overflow") as broken, FakeResponses("ok") as proxy:
        route.config.write_bytes(user_config(broken.base_url))
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "standard",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
    assert done.returncode == 0, done.stderr
    first, second = last_run(route)["attempts"]
    assert (first["outcome_kind"], first["next_step"]) == ("context_overflow", "next_path")
    assert second["path"] == "litellm" and len(broken.requests) == 1


def test_a_failed_light_turn_escalates_to_the_default_role(route: Route, tmp_path: Path):
    """Opt-in escalation: codex-light's turn fails (exit 0, no answer), codex-default answers on
    the same path; both attempts are recorded with their alias, the usage priced on each."""
    from codex_router.dirs import AppDirs
    from codex_router.policy.settings import resolve_settings
    from codex_router.routing.cost import usage_cost_usd

    modes = {"gpt-5.1-codex-mini": "failed_turn", "gpt-5.1-codex": "ok"}
    with FakeResponses("500", by_model=modes) as upstream:
        route.config.write_bytes(user_config(upstream.base_url))
        done = route.run(
            "run",
            "say hi",
            *CODEX_ARGS,
            extra_env={**ONE_PATH, "CODEX_ROUTE_ESCALATE_ON": "turn_failed"},
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == REPLY_TEXT + "\n"
    assert "escalating to codex-default on standard" in done.stderr
    assert [r["model"] for r in upstream.requests] == ["gpt-5.1-codex-mini", "gpt-5.1-codex"]
    record = last_run(route)
    first, second = record["attempts"]
    assert (first["alias"], first["outcome_kind"], first["next_step"]) == (
        "codex-light",
        "turn_failed",
        "escalate",
    )
    assert (second["alias"], second["outcome_kind"]) == ("codex-default", "ok")
    policy = resolve_settings({}, {}, AppDirs(tmp_path, tmp_path, tmp_path)).policy
    priced = sum(
        usage_cost_usd(
            policy,
            a["alias"],
            a["usage"]["input_tokens"],
            a["usage"]["cached_input_tokens"],
            a["usage"]["output_tokens"],
        )
        for a in (first, second)
        if a["usage"]
    )
    assert second["usage"] and record["usage_cost_usd"] == pytest.approx(priced, abs=1e-6)
    stats = json.loads(route.run("stats", "--json").stdout)
    assert stats["total"]["spend_usd"] == pytest.approx(record["usage_cost_usd"], abs=1e-6)
