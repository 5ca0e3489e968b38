"""The next step after an attempt (run/steps.py), the long-context alias a context overflow may
go to (routing/route.py overflow_route), ``never_retry_on``, and codex's ``--json`` stream read by
the launch: a scripted codex that speaks it, for what does not depend on Codex itself."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_router.codex.argv import build_argv
from codex_router.codex.launch import LaunchSpec, run_attempt
from codex_router.dirs import AppDirs
from codex_router.errors import CodexRouteError
from codex_router.policy.settings import Settings, resolve_settings
from codex_router.routing.classify import Classification
from codex_router.routing.route import PathChoice, ReadinessFacts, decide_route, overflow_route
from codex_router.run.steps import next_step

DEFAULT = ("interrupted", "refused")


@pytest.mark.parametrize(
    ("kind", "next_path", "long_alias", "never", "action", "words"),
    [
        ("ok", "litellm", None, DEFAULT, "done", "ok"),
        ("interrupted", "litellm", None, (), "stop", "never falls back"),
        ("refused", "litellm", None, DEFAULT, "stop", "refused is in never_retry_on"),
        ("refused", None, None, DEFAULT, "last", "no path left"),
        ("rate_limit", "litellm", None, DEFAULT, "next_path", "rate limit (429) on standard"),
        ("usage_limit", "litellm", None, DEFAULT, "next_path", "usage limit on standard"),
        ("rate_limit", "litellm", None, ("rate_limit",), "stop", "in never_retry_on"),
        ("auth", "litellm", None, DEFAULT, "next_path", "not retried there"),
        ("auth", "litellm", "codex-long", DEFAULT, "next_path", "not retried there"),
        ("turn_failed", "litellm", None, DEFAULT, "next_path", "no answer (exit 0)"),
        ("turn_failed", None, None, DEFAULT, "last", "no path left"),
        ("context_overflow", "litellm", "codex-long", DEFAULT, "long_alias", "with codex-long"),
        ("context_overflow", None, "codex-long", DEFAULT, "long_alias", "with codex-long"),
        ("context_overflow", "litellm", None, DEFAULT, "next_path", "litellm next"),
        ("context_overflow", "litellm", "codex-long", ("context_overflow",), "stop", "never"),
        ("stream_cut", "litellm", None, DEFAULT, "next_path", "stream was cut"),
        ("timeout", "litellm", None, DEFAULT, "next_path", "timeout on standard"),
        (None, "litellm", None, DEFAULT, "next_path", "failed on standard"),
    ],
)
def test_next_step(kind, next_path, long_alias, never, action, words) -> None:
    step = next_step(
        kind, "standard", never_retry_on=never, next_path=next_path, long_alias=long_alias
    )
    assert step.action == action
    assert words in step.reason


def settings_for(tmp_path: Path, policy: str | None = None, **flags: Any) -> Settings:
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    policy_file = None
    if policy is not None:
        policy_file = tmp_path / "p.yaml"
        policy_file.write_text(policy, encoding="utf-8")
    return resolve_settings(flags, {}, dirs, policy_flag=policy_file)


KEYS = frozenset({"LITELLM_API_KEY", "HF_TOKEN"})
FACTS = ReadinessFacts(KEYS, True, "", None, True, "", frozenset())
MEDIUM = Classification("medium", False, frozenset(), ())
WIDE = """\
aliases:
  codex-long:
    openai_model: gpt-wide
    context_window: 1000000
"""


def test_overflow_goes_to_a_wider_long_alias_on_every_path(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, WIDE)
    decision = decide_route(settings, MEDIUM, FACTS)
    route = overflow_route(settings, decision, MEDIUM, FACTS)
    assert route.alias == "codex-long"
    assert "1,000,000 > " in route.reason
    models = {p.name: p.model for p in route.paths if p.ready}
    assert models["standard"] == "gpt-wide" and models["litellm"] == "codex-long"


def test_overflow_with_the_packaged_policy_has_no_wider_alias(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    decision = decide_route(settings, MEDIUM, FACTS)
    route = overflow_route(settings, decision, MEDIUM, FACTS)
    assert route.alias is None and "is not larger than" in route.reason
    assert route.paths == ()


def test_overflow_never_replaces_a_forced_alias(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, WIDE, force_model="codex-default")
    decision = decide_route(settings, MEDIUM, FACTS)
    route = overflow_route(settings, decision, MEDIUM, FACTS)
    assert route.alias is None and "forced" in route.reason


def test_overflow_respects_avoid_openai(tmp_path: Path) -> None:
    """A no-OpenAI run never reaches OpenAI through the long alias either."""
    policy = WIDE.replace("1000000", "2000000") + "    upstreams: [openai]\n"
    settings = settings_for(tmp_path, policy, provider="no-openai")
    decision = decide_route(settings, MEDIUM, FACTS)
    route = overflow_route(settings, decision, MEDIUM, FACTS)
    assert route.alias is None and "reaches OpenAI" in route.reason


def test_never_retry_on_is_a_setting_with_provenance(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    assert settings["never_retry_on"] == ("interrupted", "refused")
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    env = {"CODEX_ROUTE_NEVER_RETRY_ON": "interrupted, rate_limit"}
    from_env = resolve_settings({}, env, dirs)
    assert from_env["never_retry_on"] == ("interrupted", "rate_limit")
    assert from_env.values["never_retry_on"].source == "env"
    with pytest.raises(CodexRouteError, match="rate_limt"):
        resolve_settings({}, {"CODEX_ROUTE_NEVER_RETRY_ON": "rate_limt"}, dirs)


def test_exec_argv_asks_for_events_once() -> None:
    choice = PathChoice("standard", True, "", "gpt-x")
    assert build_argv("codex", choice)[:3] == ["codex", "exec", "--json"]
    theirs = build_argv("codex", choice, extra_args=("--json",))
    assert theirs.count("--json") == 1
    assert "--json" not in build_argv("codex", choice, interactive=True)


# ---------------------------------------------------------------- the launch, on a scripted codex

SCRIPTED_CODEX = """#!{python}
import json, sys
sys.stdin.read()
lines = json.loads({lines!r})
for line in lines:
    print(line, flush=True)
print("a codex warning on stderr", file=sys.stderr)
sys.exit({code})
"""

THREAD = '{"type":"thread.started","thread_id":"01a23242-be00-7f11-ab22-77d152d7e391"}'
TURN = '{"type":"turn.started"}'


def message(text: str) -> str:
    return json.dumps(
        {"type": "item.completed", "item": {"id": "i", "type": "agent_message", "text": text}}
    )


DONE = '{"type":"turn.completed","usage":{"input_tokens":10,"output_tokens":2}}'


def launch(tmp_path: Path, lines: list[str], code: int = 0, *, raw: bool = False):
    script = tmp_path / "codex"
    script.write_text(
        SCRIPTED_CODEX.format(python=sys.executable, lines=json.dumps(lines), code=code)
    )
    script.chmod(0o755)
    out, err = io.BytesIO(), io.BytesIO()
    spec = LaunchSpec([str(script)], {}, "prompt", 30, events=True, raw_events=raw)
    result = run_attempt(spec, stdout_sink=out, stderr_sink=err)
    return result, out.getvalue().decode(), err.getvalue().decode()


def test_stdout_gets_only_the_last_answer(tmp_path: Path) -> None:
    lines = [THREAD, "not json", TURN, message("thinking aloud"), message("the answer"), DONE]
    result, out, err = launch(tmp_path, lines)
    assert out == "the answer\n"
    assert "thinking aloud" in err and "not json" in err and "a codex warning" in err
    assert (result.outcome, result.outcome_kind) == ("ok", "ok")
    assert result.session_id == "01a23242-be00-7f11-ab22-77d152d7e391"
    assert result.usage is not None and result.usage.total_tokens == 12
    assert result.ttft_ms is not None


def test_exit_0_without_an_answer_is_a_failed_attempt(tmp_path: Path) -> None:
    result, out, _ = launch(tmp_path, [THREAD, TURN, DONE])
    assert out == ""
    assert (result.exit_code, result.outcome, result.outcome_kind) == (0, "failed", "turn_failed")


def test_a_failed_turns_partial_answer_goes_to_stderr(tmp_path: Path) -> None:
    failure = "stream disconnected before completion: stream closed before response.completed"
    lines = [
        THREAD,
        TURN,
        message("half an answer"),
        json.dumps({"type": "error", "message": failure}),
        json.dumps({"type": "turn.failed", "error": {"message": failure}}),
    ]
    result, out, err = launch(tmp_path, lines, code=1)
    assert out == ""
    assert "half an answer" in err and err.count(failure) == 1
    assert (result.outcome, result.outcome_kind) == ("failed", "stream_cut")
    assert result.error_message == failure


def test_the_users_own_json_passes_through(tmp_path: Path) -> None:
    lines = [THREAD, TURN, message("the answer"), DONE]
    result, out, err = launch(tmp_path, lines, raw=True)
    assert out.splitlines() == lines
    assert "the answer" not in err
    assert result.outcome_kind == "ok"
