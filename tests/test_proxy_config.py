"""The LiteLLM config generated from the policy, and the OpenAI quota saver end to end (pure)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_router.dirs import app_dirs
from codex_router.errors import PolicyError
from codex_router.policy.roles import DEFAULT_ALIASES, Role
from codex_router.policy.settings import Settings, resolve_settings
from codex_router.proxy.config import (
    CODEX_ONLY_PARAMS,
    ProxyConfig,
    ProxyEndpoints,
    ProxyOptions,
    build_proxy_config,
    required_keys,
)
from codex_router.routing.classify import Classification
from codex_router.routing.route import ReadinessFacts, decide_route

ALL_KEYS = frozenset({"OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN", "ANTHROPIC_API_KEY"})
LOCAL_ALIAS = DEFAULT_ALIASES[Role.LOCAL]
SPEC_ALIASES = (
    "codex-light",
    "codex-default",
    "codex-long",
    "codex-deep",
    "codex-no-openai",
    "codex-cheap",
    "codex-strong",
    "codex-hf-cheap",
    "codex-hf-fast",
    "codex-qwen-local",
)
MAIN_ALIASES = ("codex-light", "codex-default", "codex-long", "codex-deep", "codex-no-openai")
ENDPOINTS = ProxyEndpoints("https://router.huggingface.co/v1", "http://127.0.0.1:11434/v1")


def _settings(
    flags: dict[str, Any] | None = None,
    policy_text: str | None = None,
    tmp_path: Path | None = None,
) -> Settings:
    policy = None
    if policy_text is not None:
        assert tmp_path is not None
        policy = tmp_path / "policy.yaml"
        policy.write_text(policy_text)
    return resolve_settings(flags or {}, os.environ, app_dirs(), policy_flag=policy)


def _config(settings: Settings, keys: frozenset[str] = ALL_KEYS) -> ProxyConfig:
    options = ProxyOptions(settings["avoid_openai"], settings["open_models_only"])
    endpoints = ProxyEndpoints(settings["huggingface_base_url"], settings["ollama_base_url"])
    return build_proxy_config(settings.policy, endpoints, options, keys)


def _params(config: ProxyConfig) -> list[dict[str, Any]]:
    return [entry["litellm_params"] for entry in config.to_data()["model_list"]]


def test_every_alias_of_the_spec_is_a_model_group() -> None:
    config = _config(_settings())
    assert set(SPEC_ALIASES) <= set(config.aliases)
    assert config.unavailable == {} and config.skipped == ()


def test_yaml_round_trips_with_unique_deployment_ids_and_the_master_key_from_env() -> None:
    text = _config(_settings()).to_yaml()
    data = yaml.safe_load(text)
    ids = [e["model_info"]["id"] for e in data["model_list"]]
    assert len(ids) == len(set(ids))
    assert data["general_settings"] == {"master_key": "os.environ/LITELLM_MASTER_KEY"}
    assert data["router_settings"]["num_retries"] == 0
    assert data["litellm_settings"] == {"drop_params": True}


def test_deployments_follow_upstreams_in_order() -> None:
    config = _config(_settings())
    default = config.groups["codex-default"]
    assert [(d.upstream, d.order) for d in default] == [("openai", 1), ("gemini", 2)]
    assert default[0].params["model"] == "openai/gpt-5.1-codex"
    assert default[1].params["model"] == "gemini/gemini-2.5-flash"
    entries = [e for e in config.to_data()["model_list"] if e["model_name"] == "codex-default"]
    assert [e["litellm_params"]["order"] for e in entries] == [1, 2]


def test_codex_no_openai_is_gemini_first_local_qwen_second_never_openai(tmp_path: Path) -> None:
    config = _config(_settings())
    group = config.groups["codex-no-openai"]
    assert [d.upstream for d in group] == ["gemini"]
    assert config.fallbacks["codex-no-openai"] == (LOCAL_ALIAS,)
    # Even a policy that lists OpenAI for it gets no OpenAI deployment and no OpenAI fallback.
    bad = (
        "aliases:\n  codex-no-openai:\n    openai_model: gpt-5.1-codex\n"
        "    upstreams: [openai, gemini, qwen]\n    fallbacks: [codex-default, codex-hf-fast]\n"
    )
    config = _config(_settings(policy_text=bad, tmp_path=tmp_path))
    assert [d.upstream for d in config.groups["codex-no-openai"]] == ["gemini"]
    assert config.fallbacks["codex-no-openai"] == ("codex-hf-fast", LOCAL_ALIAS)
    assert any(
        s.group == "codex-no-openai" and "never reaches OpenAI" in s.reason for s in config.skipped
    )


@pytest.mark.parametrize("alias", [a for a in SPEC_ALIASES if a != LOCAL_ALIAS])
def test_every_alias_finally_falls_back_to_local_qwen(alias: str) -> None:
    config = _config(_settings())
    assert config.fallbacks[alias][-1] == LOCAL_ALIAS
    assert config.fallbacks[LOCAL_ALIAS] == ()


def test_policy_fallbacks_come_before_the_local_one() -> None:
    config = _config(_settings())
    assert config.fallbacks["codex-light"] == ("codex-hf-cheap", LOCAL_ALIAS)
    assert config.fallbacks["codex-hf-fast"] == ("codex-hf-cheap", LOCAL_ALIAS)
    data = config.to_data()["router_settings"]["fallbacks"]
    assert {"codex-deep": ["codex-hf-fast", LOCAL_ALIAS]} in data


def test_chat_upstreams_use_the_bridge_and_drop_codex_only_params() -> None:
    config = _config(_settings())
    for group in config.groups.values():
        for d in group:
            if d.upstream == "openai":
                assert "use_chat_completions_api" not in d.params  # native Responses passthrough
                continue
            assert set(CODEX_ONLY_PARAMS) <= set(d.params["additional_drop_params"])
            if d.upstream in ("huggingface", "qwen"):
                assert d.params["use_chat_completions_api"] is True
    hf = config.groups["codex-hf-fast"][0].params
    assert hf == {
        "model": "openai/openai/gpt-oss-120b:fastest",
        "api_base": "https://router.huggingface.co/v1",
        "api_key": "os.environ/HF_TOKEN",
        "use_chat_completions_api": True,
        "additional_drop_params": list(CODEX_ONLY_PARAMS),
    }
    qwen = config.groups[LOCAL_ALIAS][0].params
    assert (
        qwen["model"] == "openai/qwen2.5-coder:3b"
        and qwen["api_base"] == "http://127.0.0.1:11434/v1"
    )


def test_endpoints_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_HF_BASE_URL", "http://127.0.0.1:5555/v1")
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", "http://127.0.0.1:6666/v1")
    config = _config(_settings())
    assert config.groups["codex-hf-cheap"][0].params["api_base"] == "http://127.0.0.1:5555/v1"
    assert config.groups[LOCAL_ALIAS][0].params["api_base"] == "http://127.0.0.1:6666/v1"


def test_keys_are_named_never_inlined() -> None:
    config = _config(_settings())
    for params in _params(config):
        key = params.get("api_key")
        assert key == "ollama" or str(key).startswith("os.environ/")
    assert config.key_vars == ALL_KEYS


def test_missing_keys_leave_out_deployments_and_say_why() -> None:
    config = _config(_settings(), keys=frozenset({"GEMINI_API_KEY"}))
    assert [d.upstream for d in config.groups["codex-default"]] == ["gemini"]
    assert config.groups["codex-default"][0].order == 1
    # a group with no deployment of its own is served by its first fallback (the local Qwen)
    assert config.served_by["codex-hf-cheap"] == LOCAL_ALIAS and not config.unavailable
    assert [d.upstream for d in config.groups["codex-hf-cheap"]] == ["qwen"]
    assert config.fallbacks["codex-hf-cheap"] == ()
    # fallbacks only name groups with deployments of their own
    assert config.fallbacks["codex-light"] == (LOCAL_ALIAS,)
    reasons = {(s.group, s.upstream): s.reason for s in config.skipped}
    assert reasons[("codex-default", "openai")] == "OPENAI_API_KEY not set"
    assert config.key_vars == {"GEMINI_API_KEY"}


def test_no_key_at_all_serves_every_group_with_the_local_model() -> None:
    settings = _settings()
    config = _config(settings, keys=frozenset())
    assert set(config.aliases) == set(settings.policy.aliases) and not config.unavailable
    assert {d.upstream for ds in config.groups.values() for d in ds} == {"qwen"}
    assert config.served_by["codex-cheap"] == LOCAL_ALIAS
    assert config.key_vars == frozenset()


L = LOCAL_ALIAS
# keys the proxy has → per group: its own upstreams (or "→ <group>" when a fallback serves it),
# then its fallbacks. A group is left out only when neither it nor its fallbacks can run.
Expected = dict[str, tuple[Any, tuple[str, ...]]]
KEYS_TABLE: dict[str, tuple[frozenset[str], dict[str, Any], Expected]] = {
    "every key": (
        ALL_KEYS,
        {},
        {
            "codex-light": (["openai", "gemini"], ("codex-hf-cheap", L)),
            "codex-no-openai": (["gemini"], (L,)),
            "codex-hf-cheap": (["huggingface"], ("codex-hf-fast", L)),
            "codex-claude-complex": (["anthropic"], ("codex-no-openai", L)),
            "codex-small-local": (["qwen"], (L,)),
            L: (["qwen"], ()),
        },
    ),
    "only GEMINI_API_KEY": (
        frozenset({"GEMINI_API_KEY"}),
        {},
        {
            "codex-light": (["gemini"], (L,)),
            "codex-no-openai": (["gemini"], (L,)),
            "codex-claude-complex": ("→ codex-no-openai", (L,)),
            "codex-hf-cheap": (f"→ {L}", ()),
        },
    ),
    "only OPENAI_API_KEY: the quota saver is the local Qwen": (
        frozenset({"OPENAI_API_KEY"}),
        {},
        {
            "codex-deep": (["openai"], (L,)),
            "codex-no-openai": (f"→ {L}", ()),
            "codex-hf-fast": (f"→ {L}", ()),
        },
    ),
    "only HF_TOKEN": (
        frozenset({"HF_TOKEN"}),
        {},
        {
            "codex-light": ("→ codex-hf-cheap", (L,)),
            "codex-default": ("→ codex-hf-fast", (L,)),
            "codex-no-openai": (f"→ {L}", ()),
            "codex-hf-cheap": (["huggingface"], ("codex-hf-fast", L)),
        },
    ),
    "no key at all": (
        frozenset(),
        {},
        {
            "codex-light": (f"→ {L}", ()),
            "codex-no-openai": (f"→ {L}", ()),
            "codex-strong": (f"→ {L}", ()),
            "codex-claude-complex": (f"→ {L}", ()),
            "codex-phi-local": (["qwen"], (L,)),
            L: (["qwen"], ()),
        },
    ),
    "avoid_openai with only OPENAI_API_KEY": (
        frozenset({"OPENAI_API_KEY"}),
        {"avoid_openai": True},
        {
            "codex-deep": (f"→ {L}", ()),
            "codex-no-openai": (f"→ {L}", ()),
        },
    ),
}


@pytest.mark.parametrize("case", list(KEYS_TABLE))
def test_groups_and_fallbacks_follow_the_keys_present(case: str) -> None:
    keys, flags, expected = KEYS_TABLE[case]
    config = _config(_settings(flags), keys=keys)
    assert not config.unavailable  # the local Qwen needs no key: every group is served
    for group, (serves, chain) in expected.items():
        if isinstance(serves, str):
            assert f"→ {config.served_by.get(group)}" == serves, group
            source = config.served_by[group]
            assert [d.model for d in config.groups[group]] == [
                d.model for d in config.groups[source]
            ]
        else:
            assert group not in config.served_by, group
            assert [d.upstream for d in config.groups[group]] == serves, group
        assert config.fallbacks[group] == chain, group
        assert not config.reaches_openai(group) or not flags.get("avoid_openai")
    # what is left out, and why, is still reported
    assert {s.key_var for s in config.skipped if s.key_var} == (
        required_keys(_settings(flags).policy, ProxyOptions(**flags)).keys() - keys
    )


def test_a_group_is_left_out_only_when_its_fallbacks_cannot_run_either(tmp_path: Path) -> None:
    text = "aliases:\n  codex-qwen-local:\n    local_model: null\n"
    config = _config(_settings(policy_text=text, tmp_path=tmp_path), keys=frozenset({"HF_TOKEN"}))
    assert config.served_by["codex-light"] == "codex-hf-cheap"
    assert config.unavailable["codex-no-openai"] == "GEMINI_API_KEY not set"
    assert "codex-no-openai" not in config.groups and "codex-no-openai" not in config.fallbacks


def test_required_keys_name_the_aliases_that_need_them() -> None:
    settings = _settings()
    needed = required_keys(settings.policy, ProxyOptions())
    assert set(needed) == ALL_KEYS
    assert needed["HF_TOKEN"] == ("codex-hf-cheap", "codex-hf-fast")
    assert "codex-no-openai" not in needed["OPENAI_API_KEY"]
    assert "OPENAI_API_KEY" not in required_keys(settings.policy, ProxyOptions(avoid_openai=True))


def test_legacy_names_serve_their_target() -> None:
    config = _config(_settings())
    assert [d.model for d in config.groups["codex-cheap"]] == [
        d.model for d in config.groups["codex-light"]
    ]
    assert config.fallbacks["codex-strong"] == config.fallbacks["codex-deep"]


def test_a_group_without_openai_never_falls_back_to_one_with_it(tmp_path: Path) -> None:
    text = "aliases:\n  codex-hf-fast:\n    fallbacks: [codex-default, codex-hf-cheap]\n"
    config = _config(_settings(policy_text=text, tmp_path=tmp_path))
    assert config.reaches_openai("codex-default")
    assert config.fallbacks["codex-hf-fast"] == ("codex-hf-cheap", LOCAL_ALIAS)
    # but an OpenAI group may fall back to anything
    text = "aliases:\n  codex-deep:\n    fallbacks: [codex-default, codex-no-openai]\n"
    config = _config(_settings(policy_text=text, tmp_path=tmp_path))
    assert config.fallbacks["codex-deep"] == ("codex-default", "codex-no-openai", LOCAL_ALIAS)


def test_open_models_only_keeps_huggingface_and_local() -> None:
    config = _config(_settings({"open_models_only": True}))
    upstreams = {d.upstream for ds in config.groups.values() for d in ds}
    assert upstreams == {"huggingface", "qwen"}
    # its OpenAI and Gemini deployments are left out: its fallback serves it
    assert config.served_by["codex-default"] == "codex-hf-fast"
    assert config.fallbacks["codex-default"] == (LOCAL_ALIAS,)


# --- the OpenAI quota saver: three ways in, no way to OpenAI ----------------------------------

QUOTA_SAVER_INPUTS = {
    "flag --provider no-openai": ({"provider": "no-openai"}, {}, None),
    "env CODEX_ROUTER_OPENAI_MODE=avoid": ({}, {"CODEX_ROUTER_OPENAI_MODE": "avoid"}, None),
    "policy avoid_openai: true": ({}, {}, "avoid_openai: true\n"),
}


@pytest.mark.parametrize("name", list(QUOTA_SAVER_INPUTS))
@pytest.mark.parametrize("complexity", ["simple", "medium", "complex"])
def test_quota_saver_routes_to_codex_no_openai_and_nothing_reaches_openai(
    name: str, complexity: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags, env, policy_text = QUOTA_SAVER_INPUTS[name]
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    settings = _settings(flags, policy_text, tmp_path)
    task = Classification(
        complexity=complexity, long_context=False, intents=frozenset(), reasons=()
    )
    facts = ReadinessFacts(frozenset({"LITELLM_API_KEY", "HF_TOKEN", "OPENAI_API_KEY"}), True)
    decision = decide_route(settings, task, facts)
    assert decision.alias == "codex-no-openai"
    # the standard path is Codex's own OpenAI provider: absent or refused, never ready
    assert all(p.name != "standard" for p in decision.ready_paths)
    assert decision.ready_paths, "a no-OpenAI path stays usable"
    # and the proxy Codex would reach through the litellm path cannot reach OpenAI either
    options_config = _config(settings)
    alias_groups = {"codex-no-openai", *options_config.fallbacks["codex-no-openai"]}
    assert not any(options_config.reaches_openai(g) for g in alias_groups)
    if settings["avoid_openai"]:
        assert "OPENAI_API_KEY" not in options_config.to_yaml()
        for params in _params(options_config):
            # "openai/" without an api_base is LiteLLM's OpenAI provider; with one (the HF
            # router, Ollama) it is only the OpenAI-compatible wire format.
            assert params.get("api_base") or not params["model"].startswith("openai/"), params
        assert all(d.upstream != "openai" for ds in options_config.groups.values() for d in ds)


def test_quota_saver_refuses_a_forced_openai_alias() -> None:
    from codex_router.errors import UsageError

    settings = _settings({"avoid_openai": True, "force_model": "codex-deep"})
    task = Classification(complexity="complex", long_context=False, intents=frozenset(), reasons=())
    with pytest.raises(UsageError, match="reaches OpenAI"):
        decide_route(settings, task, ReadinessFacts(frozenset({"LITELLM_API_KEY"}), True))


# --- policy validation of the new keys ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("aliases:\n  codex-light:\n    fallbacks: [codex-nope]\n", "unknown alias 'codex-nope'"),
        ("aliases:\n  codex-light:\n    fallbacks: [codex-light]\n", "cannot fall back to itself"),
        ("aliases:\n  codex-light:\n    fallbacks: codex-default\n", "expected a list of strings"),
        ("aliases:\n  codex-light:\n    gemini_model: 3\n", "expected a non-empty string"),
    ],
)
def test_bad_fallbacks_or_gemini_model_name_file_line_and_key(
    text: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(PolicyError) as info:
        _settings(policy_text=text, tmp_path=tmp_path)
    assert message in info.value.message
    assert f"{tmp_path / 'policy.yaml'}:" in info.value.message
    assert "aliases.codex-light." in info.value.message
