"""Precedence: CLI flag > environment variable > policy file > built-in default, per setting."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from codex_router.dirs import AppDirs
from codex_router.errors import ExitCode, PolicyError, UsageError
from codex_router.policy.fields import MAX_TIMEOUT_SECONDS, is_env_var_name
from codex_router.policy.settings import (
    DEFAULT_POLICY_FILE,
    SETTING_SPECS,
    Resolved,
    resolve_settings,
)

# setting, flag value, env var, env value (text), policy line, expected (flag, env, file, default)
LAYERS = [
    (
        "provider",
        "qwen",
        "CODEX_ROUTE_PROVIDER",
        "gemini",
        "default_provider: openai",
        ("qwen", "gemini", "openai", "auto"),
    ),
    (
        "codex_provider",
        "litellm",
        "CODEX_ROUTE_CODEX_PROVIDER",
        "huggingface",
        "default_codex_provider: standard",
        ("litellm", "huggingface", "standard", "auto"),
    ),
    (
        "force_model",
        "codex-deep",
        "CODEX_ROUTE_FORCE_MODEL",
        "codex-long",
        "force_model: codex-light",
        ("codex-deep", "codex-long", "codex-light", None),
    ),
    (
        "open_models_only",
        False,
        "CODEX_ROUTE_OPEN_MODELS_ONLY",
        "yes",
        "open_models_only: false",
        (False, True, False, False),
    ),
    (
        "avoid_openai",
        False,
        "CODEX_ROUTE_AVOID_OPENAI",
        "1",
        "avoid_openai: false",
        (False, True, False, False),
    ),
    (
        "disable_litellm",
        False,
        "CODEX_ROUTE_DISABLE_LITELLM",
        "true",
        "disable_litellm: true",
        (False, True, True, False),
    ),
    (
        "max_cost_usd",
        0.1,
        "CODEX_ROUTE_MAX_COST_USD",
        "0.2",
        "max_cost_usd: 0.3",
        (0.1, 0.2, 0.3, 0.0),
    ),
    (
        "max_input_tokens",
        5000,
        "CODEX_ROUTE_MAX_INPUT_TOKENS",
        "6000",
        "max_input_tokens: 7000",
        (5000, 6000, 7000, 120000),
    ),
    (
        "max_output_tokens",
        100,
        "CODEX_ROUTE_MAX_OUTPUT_TOKENS",
        "200",
        "max_output_tokens: 300",
        (100, 200, 300, 0),
    ),
    ("timeout_seconds", 10, "CODEX_ROUTE_TIMEOUT", "20", "timeout_seconds: 30", (10, 20, 30, 1800)),
    (
        "skip_git_repo_check",
        None,
        "CODEX_ROUTE_SKIP_GIT_REPO_CHECK",
        "1",
        "skip_git_repo_check: false",
        (None, True, False, False),
    ),
    (
        "fallback_order",
        None,
        "CODEX_ROUTE_FALLBACK_ORDER",
        "litellm,standard",
        "fallback_order: [huggingface]",
        (None, ("litellm", "standard"), ("huggingface",), ("standard", "litellm", "huggingface")),
    ),
    (
        "never_retry_on",
        None,
        "CODEX_ROUTE_NEVER_RETRY_ON",
        "interrupted,rate_limit",
        "never_retry_on: [auth]",
        (None, ("interrupted", "rate_limit"), ("auth",), ("interrupted", "refused")),
    ),
    (
        "escalate_on",
        None,
        "CODEX_ROUTE_ESCALATE_ON",
        "turn_failed,timeout",
        "escalate_on: [turn_failed]",
        (None, ("turn_failed", "timeout"), ("turn_failed",), ()),
    ),
    (
        "litellm_base_url",
        None,
        "CODEX_ROUTE_LITELLM_BASE_URL",
        "http://127.0.0.1:4100/v1",
        "endpoints:\n  litellm_base_url: http://127.0.0.1:4200/v1",
        (None, "http://127.0.0.1:4100/v1", "http://127.0.0.1:4200/v1", "http://127.0.0.1:4000/v1"),
    ),
    (
        "huggingface_base_url",
        None,
        "CODEX_ROUTE_HF_BASE_URL",
        "https://hf.mirror.example/v1",
        "endpoints:\n  huggingface_base_url: https://hf2.example/v1",
        (
            None,
            "https://hf.mirror.example/v1",
            "https://hf2.example/v1",
            "https://router.huggingface.co/v1",
        ),
    ),
    (
        "ollama_base_url",
        None,
        "CODEX_ROUTE_OLLAMA_BASE_URL",
        "http://127.0.0.1:11500/v1",
        "endpoints:\n  ollama_base_url: http://127.0.0.1:11600/v1",
        (
            None,
            "http://127.0.0.1:11500/v1",
            "http://127.0.0.1:11600/v1",
            "http://127.0.0.1:11434/v1",
        ),
    ),
    (
        "mask_secrets",
        False,
        "CODEX_ROUTE_MASK_SECRETS",
        "yes",
        "compression:\n  mask_secrets: false",
        (False, True, False, True),
    ),
    (
        "history_team_url",
        None,
        "CODEX_ROUTE_HISTORY_URL",
        "postgresql://team@127.0.0.1:5433/history",
        "history:\n  team_url: postgresql://team@db.example/history",
        (
            None,
            "postgresql://team@127.0.0.1:5433/history",
            "postgresql://team@db.example/history",
            None,
        ),
    ),
]


def test_every_overridable_setting_is_covered() -> None:
    assert {row[0] for row in LAYERS} == {spec.name for spec in SETTING_SPECS}


@pytest.fixture
def app_dirs(tmp_path: Path) -> AppDirs:
    return AppDirs(tmp_path / "config", tmp_path / "state", tmp_path / "cache")


@pytest.mark.parametrize(
    ("name", "flag", "env_var", "env_value", "policy_text", "expected"),
    LAYERS,
    ids=[row[0] for row in LAYERS],
)
def test_each_layer_wins_over_the_next(
    tmp_path: Path,
    app_dirs: AppDirs,
    name: str,
    flag: object,
    env_var: str,
    env_value: str,
    policy_text: str,
    expected: tuple,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text + "\n", encoding="utf-8")
    want_flag, want_env, want_file, want_default = expected
    env = {env_var: env_value}
    layers = []
    if flag is not None:
        layers.append(({name: flag}, env, policy, want_flag, "flag"))
    layers += [
        ({}, env, policy, want_env, "env"),
        ({}, {}, policy, want_file, "file"),
        ({}, {}, None, want_default, "default"),
    ]
    for flags, environment, policy_file, want, source in layers:
        settings = resolve_settings(flags, environment, app_dirs, policy_flag=policy_file)
        got = settings.values[name]
        assert (got.value, got.source) == (want, source), source
        if source == "file":
            assert got.file == str(policy) and got.line is not None
        if source == "default":
            assert got.file == str(DEFAULT_POLICY_FILE)
        if source == "env":
            assert got.origin == env_var


@pytest.mark.parametrize(
    ("env", "name", "value", "origin"),
    [
        ({"CODEX_ROUTER_PROVIDER": "qwen"}, "provider", "qwen", "CODEX_ROUTER_PROVIDER"),
        (
            {"CODEX_ROUTER_PROVIDER": "qwen", "CODEX_ROUTE_PROVIDER": "gemini"},
            "provider",
            "gemini",
            "CODEX_ROUTE_PROVIDER",
        ),
        (
            {"CODEX_ROUTER_CODEX_PROVIDER": "litellm"},
            "codex_provider",
            "litellm",
            "CODEX_ROUTER_CODEX_PROVIDER",
        ),
        ({"CODEX_ROUTER_OPENAI_MODE": "avoid"}, "avoid_openai", True, "CODEX_ROUTER_OPENAI_MODE"),
        ({"CODEX_ROUTER_OPENAI_MODE": "AVOID"}, "avoid_openai", True, "CODEX_ROUTER_OPENAI_MODE"),
        ({"CODEX_ROUTER_OPENAI_MODE": "allow"}, "avoid_openai", False, "CODEX_ROUTER_OPENAI_MODE"),
        (
            {"CODEX_ROUTER_DISABLE_LITELLM": "1"},
            "disable_litellm",
            True,
            "CODEX_ROUTER_DISABLE_LITELLM",
        ),
    ],
    ids=[
        "legacy-provider",
        "new-name-wins",
        "legacy-codex-provider",
        "openai-mode-avoid",
        "openai-mode-case",
        "openai-mode-allow",
        "legacy-disable-litellm",
    ],
)
def test_legacy_environment_names(
    app_dirs: AppDirs, env: dict, name: str, value: object, origin: str
) -> None:
    got = resolve_settings({}, env, app_dirs).values[name]
    assert (got.value, got.source, got.origin) == (value, "env", origin)


def test_empty_env_value_counts_as_unset(app_dirs: AppDirs) -> None:
    got = resolve_settings({}, {"CODEX_ROUTE_MAX_COST_USD": ""}, app_dirs).values["max_cost_usd"]
    assert got.source == "default"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"CODEX_ROUTE_MAX_COST_USD": "cheap"}, "CODEX_ROUTE_MAX_COST_USD: expected a number"),
        ({"CODEX_ROUTE_MAX_COST_USD": "-2"}, "at least 0"),
        (
            {"CODEX_ROUTE_PROVIDER": "mistral"},  # claude is a provider since issue 12
            "CODEX_ROUTE_PROVIDER: 'mistral' is not one of: auto, openai",
        ),
        ({"CODEX_ROUTER_OPENAI_MODE": "sometimes"}, "expected 'avoid' or 'allow'"),
        ({"CODEX_ROUTE_AVOID_OPENAI": "perhaps"}, "expected one of 1/0"),
        ({"CODEX_ROUTE_FORCE_MODEL": "gpt-9"}, "unknown alias 'gpt-9' (valid: codex-cheap"),
        ({"CODEX_ROUTE_MAX_INPUT_TOKENS": "1e9"}, "whole number"),
    ],
    ids=[
        "non-numeric",
        "negative",
        "unknown-provider",
        "bad-openai-mode",
        "bad-bool",
        "unknown-alias",
        "float-for-int",
    ],
)
def test_bad_environment_values_name_the_variable(
    app_dirs: AppDirs, env: dict, needle: str
) -> None:
    with pytest.raises(PolicyError) as info:
        resolve_settings({}, env, app_dirs)
    assert info.value.exit_code == ExitCode.POLICY
    assert needle in info.value.message


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        ({"max_cost_usd": -1.0}, "--max-cost-usd: must be at least 0"),
        ({"max_input_tokens": 5}, "--max-input-tokens: must be at least 1000"),
        ({"provider": "mistral"}, "--provider: 'mistral' is not one of"),
        ({"codex_provider": "ollama"}, "--codex-provider: 'ollama' is not one of: auto, standard"),
        ({"force_model": "gpt-9"}, "--force-model: unknown alias 'gpt-9' (valid:"),
    ],
    ids=["negative-cost", "tiny-budget", "provider", "codex-provider", "force-model"],
)
def test_bad_flags_are_usage_errors_naming_the_flag(
    app_dirs: AppDirs, flags: dict, needle: str
) -> None:
    with pytest.raises(UsageError) as info:
        resolve_settings(flags, {}, app_dirs)
    assert info.value.exit_code == ExitCode.USAGE
    assert needle in info.value.message


def test_policy_file_choice(tmp_path: Path, app_dirs: AppDirs) -> None:
    user = app_dirs.user_policy
    user.parent.mkdir(parents=True)
    user.write_text("max_cost_usd: 1\n", encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text("max_cost_usd: 2\n", encoding="utf-8")
    flag_file = tmp_path / "flag.yaml"
    flag_file.write_text("max_cost_usd: 3\n", encoding="utf-8")
    assert resolve_settings({}, {}, app_dirs)["max_cost_usd"] == 1
    env = {"CODEX_ROUTE_POLICY": str(other)}
    settings = resolve_settings({}, env, app_dirs)
    assert settings["max_cost_usd"] == 2
    assert (settings.policy_file.source, settings.policy_file.origin) == (
        "env",
        "CODEX_ROUTE_POLICY",
    )
    settings = resolve_settings({}, env, app_dirs, policy_flag=flag_file)
    assert settings["max_cost_usd"] == 3
    assert settings.policy_file.source == "flag"
    user.unlink()
    assert resolve_settings({}, {}, app_dirs).policy_file.source == "default"


@pytest.mark.parametrize(
    ("layer", "value", "ok"),
    [
        (layer, value, ok)
        for layer in ("flag", "env", "file")
        for value, ok in (
            (MAX_TIMEOUT_SECONDS, True),
            (MAX_TIMEOUT_SECONDS + 1, False),
            (99999999999, False),
            (10**30, False),
        )
    ],
)
def test_timeout_is_capped_at_a_value_timers_accept(
    tmp_path: Path, app_dirs: AppDirs, layer: str, value: int, ok: bool
) -> None:
    """A --timeout above the cap is refused where it enters, naming the flag/variable/file:line."""
    assert MAX_TIMEOUT_SECONDS < threading.TIMEOUT_MAX
    flags: dict[str, object] = {}
    env: dict[str, str] = {}
    policy: Path | None = None
    if layer == "flag":
        flags["timeout_seconds"] = value
    elif layer == "env":
        env["CODEX_ROUTE_TIMEOUT"] = str(value)
    else:
        policy = tmp_path / "policy.yaml"
        policy.write_text(f"version: 1\ntimeout_seconds: {value}\n", encoding="utf-8")
    if ok:
        settings = resolve_settings(flags, env, app_dirs, policy_flag=policy)
        assert settings["timeout_seconds"] == value
        threading.Timer(float(value), lambda: None).cancel()  # a timer takes it
        return
    expected = UsageError if layer == "flag" else PolicyError
    with pytest.raises(expected) as info:
        resolve_settings(flags, env, app_dirs, policy_flag=policy)
    where = {"flag": "--timeout: ", "env": "CODEX_ROUTE_TIMEOUT: ", "file": f"{policy}:2: "}
    assert info.value.message.startswith(where[layer])
    assert f"must be at most {MAX_TIMEOUT_SECONDS}, got {value}" in info.value.message


@pytest.mark.parametrize(
    ("resolved", "where"),
    [
        (Resolved("::1", "flag", origin="--host"), "--host"),
        (Resolved(60, "env", origin="CODEX_ROUTE_GATEWAY_RPM"), "CODEX_ROUTE_GATEWAY_RPM"),
        (Resolved("ca.pem", "file", file="/etc/cr/policy.yaml", line=7), "/etc/cr/policy.yaml:7"),
        (Resolved(None, "default"), None),
    ],
)
def test_where_a_setting_was_set(resolved: Resolved, where: str | None) -> None:
    assert resolved.where() == where


@pytest.mark.parametrize(
    ("resolved", "path"),
    [
        (Resolved(None, "default"), None),
        (Resolved("ca.pem", "file", file="/etc/cr/policy.yaml", line=7), Path("/etc/cr/ca.pem")),
        (Resolved("/srv/ca.pem", "file", file="/etc/cr/policy.yaml", line=7), Path("/srv/ca.pem")),
        (Resolved("ca.pem", "env", origin="CODEX_ROUTE_GATEWAY_REDIS_CA_FILE"), Path("ca.pem")),
        (Resolved("ca.pem", "flag", origin="--members-file"), Path("ca.pem")),
        (Resolved("~/ca.pem", "file", file="/etc/cr/policy.yaml"), Path("~/ca.pem")),  # ~: HOME
    ],
)
def test_a_path_setting_is_relative_to_the_policy_file_that_names_it(
    resolved: Resolved, path: Path | None
) -> None:
    assert resolved.as_path() == (path.expanduser() if path else None)  # the tests' own HOME


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("OPENAI_API_KEY", True),
        ("_x1", True),
        ("HF_TOKEN_2", True),
        ("", False),
        ("2KEY", False),
        ("MY-KEY", False),
        ("KEY\n", False),  # a trailing newline is not part of any exportable name
        ("sk-abc123", False),  # a key pasted where its variable belongs
        (42, False),
    ],
)
def test_environment_variable_names(text: object, ok: bool) -> None:
    assert is_env_var_name(text) is ok
