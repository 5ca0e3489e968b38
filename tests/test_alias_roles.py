"""Alias roles: a renamed alias works end to end, and no module but the roles module names one.

Each case renames the alias of one role to a new name (a copy of the built-in alias, with other
prices and models so the tests can tell them apart) and checks every part that plays that role:
the route decision, the proxy config's model groups and fallbacks, the managed profiles, the
local fast path and the stats baseline ("saved vs deep").
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_router.codex.profiles import render
from codex_router.dirs import AppDirs
from codex_router.errors import ExitCode, PolicyError
from codex_router.local.fast_path import describe, wants_local_fast_path
from codex_router.local.ollama import local_model_name
from codex_router.policy import fields as policy_fields
from codex_router.policy.describe import describe_policy
from codex_router.policy.model import AliasSpec, Policy
from codex_router.policy.roles import DEFAULT_ALIASES, TASK_ROLES, Role
from codex_router.policy.settings import Resolved, Settings, load_policy, resolve_settings
from codex_router.proxy.config import ProxyConfig, ProxyEndpoints, ProxyOptions, build_proxy_config
from codex_router.routing.classify import Classification
from codex_router.routing.route import ReadinessFacts, decide_route
from codex_router.run.execute import dry_run_record
from codex_router.run.plan import Plan, RunRequest, build_plan

PACKAGE = Path(__file__).resolve().parents[1] / "codex_router"
ROLES_MODULE = PACKAGE / "policy" / "roles.py"
ALL_KEYS = frozenset(
    {"OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN", "LITELLM_API_KEY", "ANTHROPIC_API_KEY"}
)
UP = ReadinessFacts(ALL_KEYS, True, "")
DEFAULT_POLICY = load_policy(Resolved(None, "default"))

#: A built-in alias name written in code: ``codex-`` and a role-like word (or a legacy name).
ALIAS_LITERAL = re.compile(
    r"(?<![\w-])codex-(?:light|default|long|deep|no-openai|cheap|strong|local"
    r"|hf-[a-z0-9-]+|qwen-[a-z0-9-]+|small-[a-z0-9-]+|phi-[a-z0-9-]+|claude-[a-z0-9-]+)(?![\w-])"
)


def task(complexity: str, *, long: bool = False) -> Classification:
    return Classification(complexity, long, frozenset(), ())


# role, new name, task, flags: the task and flags that make the route pick the role's alias.
RENAMES = [
    (Role.LIGHT, "cheap", task("simple"), {}),
    (Role.DEFAULT, "everyday", task("medium"), {}),
    (Role.LONG, "wide", task("simple", long=True), {}),
    (Role.DEEP, "big", task("complex"), {}),
    (Role.NO_OPENAI, "elsewhere", task("simple"), {"provider": "no-openai"}),
    (Role.HF_CHEAP, "hf-small", task("simple"), {"provider": "huggingface"}),
    (Role.HF_FAST, "hf-large", task("complex"), {"provider": "huggingface"}),
    (Role.LOCAL, "ollama", task("simple"), {"provider": "qwen"}),
    (Role.SMALL_LOCAL, "tiny", task("simple"), {"provider": "phi"}),
    (Role.CLAUDE, "sonnet", task("complex"), {"provider": "claude"}),
]
IDS = [str(role) for role, *_ in RENAMES]


def _renamed_spec(role: Role) -> dict[str, Any]:
    """The built-in alias of ``role`` as policy YAML, with its own prices and models."""
    spec = DEFAULT_POLICY.aliases[DEFAULT_ALIASES[role]]
    body: dict[str, Any] = {}
    for name in AliasSpec._fields:
        value = getattr(spec, name)
        if name in ("name", "description") or value in (None, ()):
            continue
        body[name] = list(value) if isinstance(value, tuple) else value
    body["input_usd_per_mtok"] = spec.input_usd_per_mtok * 3 + 1
    body["output_usd_per_mtok"] = spec.output_usd_per_mtok * 3 + 1
    for model in ("huggingface_model", "local_model"):
        if model in body:
            body[model] = f"renamed/{body[model]}"
    return body


def _dirs(tmp_path: Path) -> AppDirs:
    return AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")


def _write_policy(tmp_path: Path, role: Role, new: str, **aliases: dict[str, Any]) -> Path:
    """A user policy that renames the alias of ``role`` to ``new`` (``aliases`` adds to it)."""
    tree = {"roles": {str(role): new}, "aliases": {new: _renamed_spec(role), **aliases}}
    policy_file = tmp_path / "renamed.yaml"
    policy_file.write_text(yaml.safe_dump(tree), encoding="utf-8")
    return policy_file


def _settings(
    tmp_path: Path, role: Role, new: str, flags: dict[str, Any] | None = None
) -> Settings:
    policy_file = _write_policy(tmp_path, role, new)
    return resolve_settings(flags or {}, {}, _dirs(tmp_path), policy_flag=policy_file)


def _plan(tmp_path: Path, role: Role, new: str, prompt: str, flags: dict[str, Any]) -> Plan:
    request = RunRequest(prompt, flags=flags, policy_file=_write_policy(tmp_path, role, new))
    return build_plan(request, env={}, dirs=_dirs(tmp_path), count=len, gather=lambda *a, **k: UP)


def _config(policy: Policy) -> ProxyConfig:
    endpoints = ProxyEndpoints("https://router.huggingface.co/v1", "http://127.0.0.1:11434/v1")
    return build_proxy_config(policy, endpoints, ProxyOptions(), ALL_KEYS)


@pytest.mark.parametrize(("role", "new", "t", "flags"), RENAMES, ids=IDS)
def test_the_route_follows_a_renamed_alias(
    tmp_path: Path, role: Role, new: str, t: Classification, flags: dict[str, Any]
) -> None:
    decision = decide_route(_settings(tmp_path, role, new, flags), t, UP)
    assert decision.alias == new
    assert decision.ready_paths, decision.paths


@pytest.mark.parametrize(("role", "new"), [(role, new) for role, new, *_ in RENAMES], ids=IDS)
def test_the_proxy_serves_a_renamed_alias_like_the_original(
    tmp_path: Path, role: Role, new: str
) -> None:
    policy = _settings(tmp_path, role, new).policy
    config, original = _config(policy), _config(DEFAULT_POLICY)
    old = DEFAULT_ALIASES[role]
    assert [d.upstream for d in config.groups[new]] == [d.upstream for d in original.groups[old]]
    assert config.reaches_openai(new) == original.reaches_openai(old)
    local = new if role is Role.LOCAL else DEFAULT_ALIASES[Role.LOCAL]
    assert config.fallbacks[local] == ()
    assert all(chain[-1] == local for group, chain in config.fallbacks.items() if group != local)


def test_the_renamed_no_openai_alias_never_reaches_openai(tmp_path: Path) -> None:
    spec = {**_renamed_spec(Role.NO_OPENAI), "openai_model": "gpt-x"}
    spec["upstreams"] = ["openai", *spec["upstreams"]]
    policy_file = _write_policy(tmp_path, Role.NO_OPENAI, "elsewhere", elsewhere=spec)
    config = _config(resolve_settings({}, {}, _dirs(tmp_path), policy_flag=policy_file).policy)
    assert not config.reaches_openai("elsewhere")
    reasons = [s.reason for s in config.skipped if s.group == "elsewhere"]
    assert reasons == ["elsewhere never reaches OpenAI"]


def test_the_stats_baseline_is_the_renamed_deep_alias(tmp_path: Path) -> None:
    plan = _plan(tmp_path, Role.DEEP, "big", "explain this function", {})
    assert plan.decision.alias != "big"  # the baseline holds whatever the run was routed to
    record = dry_run_record(plan)
    assert record.deep_cost_usd == round(plan.costs["big"].usd, 6)
    assert plan.costs["big"].usd != plan.costs[DEFAULT_ALIASES[Role.DEEP]].usd


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        (Role.DEFAULT, "litellm", "everyday"),
        (Role.HF_FAST, "huggingface", "renamed/openai/gpt-oss-120b:fastest"),
    ],
)
def test_the_managed_profiles_follow_the_renamed_alias(
    tmp_path: Path, role: Role, path: str, expected: str
) -> None:
    settings = _settings(tmp_path, role, "everyday" if role is Role.DEFAULT else "hf-large")
    body = render(path, settings).decode()
    assert tomllib.loads(body.split("\n", 2)[2])["model"] == expected


def test_the_local_fast_path_follows_the_renamed_alias(tmp_path: Path) -> None:
    plan = _plan(tmp_path, Role.LOCAL, "ollama", "what does ls print", {"provider": "qwen"})
    assert local_model_name(plan.settings.policy) == "renamed/qwen2.5-coder:3b"
    assert plan.decision.alias == "ollama"
    assert wants_local_fast_path(plan)
    assert describe(plan).startswith("ollama answers this simple task directly")


def test_policy_show_lists_each_role_with_where_it_was_set(tmp_path: Path) -> None:
    shown = {v.key: v for v in describe_policy(_settings(tmp_path, Role.LIGHT, "cheap"))}
    assert shown["roles.light"].value == "cheap"
    assert shown["roles.light"].source == "file"
    assert shown["roles.light"].file == str(tmp_path / "renamed.yaml")
    assert shown["roles.light"].line > 0
    assert shown["roles.deep"].value == DEFAULT_ALIASES[Role.DEEP]
    assert shown["roles.deep"].source == "default" and shown["roles.deep"].line > 0


def test_the_default_policy_gives_each_role_its_built_in_alias() -> None:
    assert DEFAULT_POLICY.roles == DEFAULT_ALIASES
    assert set(DEFAULT_ALIASES) == set(Role)
    assert tuple(TASK_ROLES) == policy_fields.TASK_KINDS


BAD_ROLES = [
    ("unknown-role", "roles:\n  lite: codex-light\n", 2, "roles.lite", "did you mean 'light'?"),
    ("unknown-alias", "roles:\n  light: cheap\n", 2, "roles.light", "unknown alias 'cheap'"),
    ("legacy-name", "roles:\n  deep: codex-strong\n", 2, "roles.deep", "legacy name"),
    ("empty", "roles:\n  local: ''\n", 2, "roles.local", "non-empty string"),
    ("not-a-mapping", "roles: [light]\n", 1, "roles", "expected a mapping"),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "needle"), [b[1:] for b in BAD_ROLES], ids=[b[0] for b in BAD_ROLES]
)
def test_bad_roles_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, needle: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(Resolved(str(path), "flag", "--policy"))
    err = info.value
    assert err.exit_code == ExitCode.POLICY
    assert (err.file, err.line, err.key) == (str(path), line, key)
    assert needle in err.message + (err.hint or "")


def test_the_scan_covers_every_built_in_alias_name() -> None:
    assert all(ALIAS_LITERAL.fullmatch(name) for name in DEFAULT_POLICY.aliases)


def test_no_module_but_the_roles_module_names_an_alias() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{n}: {match.group()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != ROLES_MODULE
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in ALIAS_LITERAL.finditer(line)
    ]
    assert not found, "alias names belong in policy/roles.py (ask Policy.alias_for):\n" + "\n".join(
        found
    )
