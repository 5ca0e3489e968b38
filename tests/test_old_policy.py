"""The earlier cost-routing script's policy file loads: its ``adaptive_router`` block is validated
and kept, its providers are accepted, and ``task_provider_rules`` means the same in both forms.

The fixture ``tests/data/old-policy/codex-routing-policy.yaml`` is written from that script's
documented format (every key it read, with its defaults and the old default task rules).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import PolicyError
from codex_router.policy import fields as f
from codex_router.policy.model import AdaptiveRouter
from codex_router.policy.settings import Resolved, load_policy, resolve_settings
from codex_router.routing.classify import Classification
from codex_router.routing.route import ReadinessFacts, decide_route

OLD_POLICY = Path(__file__).parent / "data" / "old-policy" / "codex-routing-policy.yaml"
OLD_DEFAULTS = AdaptiveRouter(
    enabled=False,
    shadow_mode=True,
    min_confidence_delta=0.15,
    overload_penalty=0.35,
    cold_start_penalty=0.5,
    performance_weight=0.35,
    min_performance_observations=2,
    cost_guard_enabled=True,
    max_cost_multiplier=2.0,
    critical_risk_threshold=0.65,
    decay=0.65,
    max_history=200,
)


def _load(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(Resolved(str(path), "flag", "--policy"))


def _line_of(key: str) -> int:
    lines = OLD_POLICY.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith(f"{key}:"))


def test_the_old_policy_file_loads_with_its_adaptive_router_kept() -> None:
    policy = load_policy(Resolved(str(OLD_POLICY), "flag", "--policy"))
    assert policy.adaptive_router == OLD_DEFAULTS
    assert policy.get("max_cost_usd") == 0.25
    rules = {kind: (r.alias, r.provider) for kind, r in policy.task_rules.items()}
    assert rules == {
        "simple": (None, "local-small"),
        "medium": (None, "auto"),
        "complex": (None, "claude"),
    }
    origin = policy.origins["adaptive_router.decay"]
    assert (origin.layer, origin.line) == ("file", _line_of("decay"))


@pytest.mark.parametrize(
    "args",
    [
        ["policy", "validate", str(OLD_POLICY)],
        ["policy", "show", "--policy", str(OLD_POLICY)],
        ["run", "--dry-run", "--no-stdin", "--policy", str(OLD_POLICY), "fix the typo in README"],
        ["run", "--dry-run", "--no-stdin", "--policy", str(OLD_POLICY), "add a python test"],
        ["run", "--dry-run", "--no-stdin", "--policy", str(OLD_POLICY), "security architecture"],
    ],
    ids=["validate", "show", "run simple", "run medium", "run complex"],
)
def test_the_old_policy_file_is_accepted_by_every_command(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


def test_policy_show_lists_the_adaptive_router_with_file_and_line() -> None:
    result = CliRunner().invoke(app, ["policy", "show", "--json", "--policy", str(OLD_POLICY)])
    assert result.exit_code == 0, result.output
    shown = {v["key"]: v for v in json.loads(result.stdout)["values"]}
    for key in (
        "enabled",
        "shadow_mode",
        "min_confidence_delta",
        "overload_penalty",
        "cold_start_penalty",
        "performance_weight",
        "min_performance_observations",
        "cost_guard_enabled",
        "max_cost_multiplier",
        "critical_risk_threshold",
        "decay",
        "max_history",
    ):
        row = shown[f"adaptive_router.{key}"]
        assert row["value"] == getattr(OLD_DEFAULTS, key)
        assert (row["source"], row["file"], row["line"]) == ("file", str(OLD_POLICY), _line_of(key))


def test_without_the_block_the_old_defaults_apply() -> None:
    policy = load_policy(Resolved(None, "default"))
    assert policy.adaptive_router == OLD_DEFAULTS
    assert policy.origins["adaptive_router.enabled"].layer == "default"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("enabled: yes", {"enabled": True}),
        ("enabled: 1", {"enabled": True}),
        ("enabled: 'on'", {"enabled": True}),
        ("shadow_mode: 'False'", {"shadow_mode": False}),
        ("shadow_mode: 0", {"shadow_mode": False}),
        ("performance_weight: 1", {"performance_weight": 1.0}),
        ("decay: 0.05", {"decay": 0.05}),
        ("max_cost_multiplier: 1", {"max_cost_multiplier": 1.0}),
        ("critical_risk_threshold: 0", {"critical_risk_threshold": 0.0}),
        ("min_performance_observations: 1", {"min_performance_observations": 1}),
        ("min_confidence_delta: 0", {"min_confidence_delta": 0.0}),
    ],
)
def test_adaptive_router_values_the_old_script_accepted(
    line: str, expected: dict[str, Any], tmp_path: Path
) -> None:
    policy = _load(tmp_path, f"adaptive_router:\n  {line}\n")
    for key, value in expected.items():
        got = getattr(policy.adaptive_router, key)
        assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("enabled: maybe", "expected one of 1/0, true/false"),
        ("enabled: 2", "expected true or false"),
        ("performance_weight: 1.5", "must be at most 1"),
        ("performance_weight: -0.1", "must be at least 0"),
        ("min_performance_observations: 0", "must be at least 1"),
        ("min_performance_observations: 1.5", "expected a whole number"),
        ("max_cost_multiplier: 0.5", "must be at least 1"),
        ("critical_risk_threshold: 1.2", "must be at most 1"),
        ("decay: 0.99", "must be at most 0.95"),
        ("decay: 0.01", "must be at least 0.05"),
        ("max_history: 0", "must be at least 1"),
        ("overload_penalty: fast", "expected a number"),
        ("shadow: true", "unknown key"),
    ],
)
def test_bad_adaptive_router_values_name_file_line_and_key(
    line: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(PolicyError) as info:
        _load(tmp_path, f"max_cost_usd: 1\nadaptive_router:\n  {line}\n")
    text = info.value.message
    assert message in text
    assert f"{tmp_path / 'policy.yaml'}:3" in text
    assert f"adaptive_router.{line.split(':')[0]}" in text


def test_adaptive_router_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="expected a mapping"):
        _load(tmp_path, "adaptive_router: true\n")


# --- task_provider_rules: `complex: claude` and `complex: {provider: claude}` are one rule ----

RULE_PROVIDERS = [*f.PROVIDERS, "OpenAI", "Local-Small", "CLAUDE"]


@pytest.mark.parametrize("provider", RULE_PROVIDERS)
@pytest.mark.parametrize("kind", ["simple", "medium", "complex"])
def test_both_forms_of_a_task_rule_mean_the_same(
    provider: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(f"task_provider_rules:\n  {kind}: {provider}\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(f"task_provider_rules:\n  {kind}: {{provider: {provider}}}\n")
    task = Classification(complexity=kind, long_context=False, intents=frozenset(), reasons=())
    facts = ReadinessFacts(frozenset({"HF_TOKEN", "ANTHROPIC_API_KEY"}), False)
    decisions = []
    for path in (plain, mapping):
        settings = resolve_settings({}, os.environ, app_dirs(), policy_flag=path)
        rule = settings.policy.task_rules[kind]
        assert (rule.alias, rule.provider) == (None, provider.casefold())
        decision = decide_route(settings, task, facts)
        decisions.append((decision.alias, decision.provider, [p.name for p in decision.paths]))
    assert decisions[0] == decisions[1]


def test_a_plain_rule_and_an_alias_rule_mix(tmp_path: Path) -> None:
    policy = _load(
        tmp_path,
        "task_provider_rules:\n  simple: local-small\n"
        "  complex: {alias: codex-deep, provider: openai}\n",
    )
    assert policy.task_rules["simple"].provider == "local-small"
    assert (policy.task_rules["complex"].alias, policy.task_rules["complex"].provider) == (
        "codex-deep",
        "openai",
    )
