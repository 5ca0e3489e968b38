"""Escalation on failure (``escalate_on``, opt-in): the next step (run/steps.py) and where a run
may go up a tier (routing/route.py ``escalation_route``). The walk itself, on a scripted codex:
tests/test_run_live.py; on the real codex: tests/e2e/test_outcomes.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from codex_router.dirs import AppDirs
from codex_router.errors import CodexRouteError
from codex_router.policy.settings import Settings, resolve_settings
from codex_router.routing.classify import Classification
from codex_router.routing.route import ReadinessFacts, decide_route, escalation_route
from codex_router.run.steps import next_step

NEVER = ("interrupted", "refused")


@pytest.mark.parametrize(
    ("kind", "next_path", "on", "higher", "never", "action", "words"),
    [
        ("turn_failed", "litellm", ("turn_failed",), "codex-default", NEVER, "escalate", "to co"),
        ("turn_failed", None, ("turn_failed",), "codex-default", NEVER, "escalate", "same path"),
        ("turn_failed", "litellm", ("timeout",), "codex-default", NEVER, "next_path", "litellm"),
        ("turn_failed", None, ("timeout",), "codex-default", NEVER, "last", "no path left"),
        ("turn_failed", "litellm", ("turn_failed",), None, NEVER, "next_path", "litellm next"),
        ("turn_failed", "litellm", (), "codex-default", NEVER, "next_path", "litellm next"),
        # never_retry_on wins over escalate_on
        ("timeout", "litellm", ("timeout",), "codex-default", ("timeout",), "stop", "never"),
        # a stop signal and codex refusing the run itself never escalate, even when listed
        ("interrupted", "litellm", ("interrupted",), "codex-default", (), "stop", "stop signal"),
        ("refused", None, ("refused",), "codex-default", (), "last", "no path left"),
        ("refused", "litellm", ("refused",), "codex-default", (), "next_path", "litellm"),
        ("ok", "litellm", ("turn_failed",), "codex-default", NEVER, "done", "ok"),
    ],
)
def test_next_step_with_escalation(kind, next_path, on, higher, never, action, words) -> None:
    step = next_step(
        kind,
        "standard",
        never_retry_on=never,
        next_path=next_path,
        escalate_on=on,
        escalate_alias=higher,
    )
    assert step.action == action
    assert words in step.reason


def test_a_context_overflow_goes_long_before_it_escalates() -> None:
    step = next_step(
        "context_overflow",
        "standard",
        never_retry_on=NEVER,
        next_path=None,
        long_alias="codex-long",
        escalate_on=("context_overflow",),
        escalate_alias="codex-default",
    )
    assert step.action == "long_alias"


def settings_for(tmp_path: Path, policy: str = "", **flags: Any) -> Settings:
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(policy or "version: 1\n", encoding="utf-8")
    return resolve_settings(flags, {}, dirs, policy_flag=policy_file)


FACTS = ReadinessFacts(frozenset({"LITELLM_API_KEY"}), True, "", None, True, "", frozenset())
SIMPLE = Classification("simple", False, frozenset(), ())
MEDIUM = Classification("medium", False, frozenset(), ())
COMPLEX = Classification("complex", False, frozenset(), ())
ON = "escalate_on: [turn_failed]\n"


@pytest.mark.parametrize(
    ("task", "policy", "flags", "alias", "words"),
    [
        (SIMPLE, ON, {}, "codex-default", "codex-light (light role) → codex-default"),
        (MEDIUM, ON, {}, "codex-deep", "codex-default (default role) → codex-deep"),
        (COMPLEX, ON, {}, None, "codex-deep plays neither the light nor default role"),
        (SIMPLE, "", {}, None, "escalate_on is empty"),
        (SIMPLE, ON, {"force_model": "codex-light"}, None, "forced by --force-model"),
        (SIMPLE, ON, {"provider": "no-openai"}, None, "neither the light nor default"),
    ],
)
def test_escalation_route(tmp_path: Path, task, policy, flags, alias, words) -> None:
    settings = settings_for(tmp_path, policy, **flags)
    decision = decide_route(settings, task, FACTS)
    route = escalation_route(settings, decision, task, FACTS, input_tokens=100)
    assert route.alias == alias
    assert words in route.reason
    assert bool(route.paths) == (alias is not None)


RENAMED = (
    ON
    + """\
aliases:
  my-middle:
    openai_model: gpt-middle
    upstreams: [openai]
roles:
  default: my-middle
"""
)


def test_escalation_follows_the_roles_not_the_names(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, RENAMED)
    decision = decide_route(settings, SIMPLE, FACTS)
    route = escalation_route(settings, decision, SIMPLE, FACTS)
    assert route.alias == "my-middle"
    assert {p.name: p.model for p in route.paths}["standard"] == "gpt-middle"


def test_no_escalation_to_an_alias_the_input_does_not_fit(tmp_path: Path) -> None:
    policy = ON + "aliases:\n  codex-default:\n    context_window: 20000\n"
    settings = settings_for(tmp_path, policy)
    decision = decide_route(settings, SIMPLE, FACTS)
    route = escalation_route(settings, decision, SIMPLE, FACTS, input_tokens=15_000)
    assert route.alias is None and "does not fit codex-default" in route.reason


def test_escalate_on_is_a_setting_with_provenance(tmp_path: Path) -> None:
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    assert resolve_settings({}, {}, dirs)["escalate_on"] == ()
    from_env = resolve_settings({}, {"CODEX_ROUTE_ESCALATE_ON": "turn_failed, timeout"}, dirs)
    assert from_env["escalate_on"] == ("turn_failed", "timeout")
    assert from_env.values["escalate_on"].source == "env"
    with pytest.raises(CodexRouteError, match="turn_faild"):
        resolve_settings({}, {"CODEX_ROUTE_ESCALATE_ON": "turn_faild"}, dirs)


def test_the_plan_shows_the_escalation_only_when_opted_in() -> None:
    from typer.testing import CliRunner

    from codex_router.cli import app

    runner = CliRunner()
    argv = ["run", "--dry-run", "--no-stdin", "say hi"]
    on = {"CODEX_ROUTE_ESCALATE_ON": "turn_failed,timeout"}
    human = runner.invoke(app, argv, env=on).stdout
    assert (
        "escalate   on turn_failed, timeout: codex-light (light role) → codex-default "
        "(default role), once"
    ) in human.replace("\n               ", " ")
    data = json.loads(runner.invoke(app, [*argv, "--json"], env=on).stdout)
    assert data["escalation"]["alias"] == "codex-default"
    assert data["escalation"]["on"] == ["turn_failed", "timeout"]
    assert "escalate  " not in runner.invoke(app, argv).stdout
    off = json.loads(runner.invoke(app, [*argv, "--json"]).stdout)["escalation"]
    assert off == {"alias": None, "reason": "escalate_on is empty", "on": [], "paths": []}
