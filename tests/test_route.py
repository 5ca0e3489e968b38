"""The routing decision: alias, provider and Codex-facing paths, each with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_router.dirs import AppDirs
from codex_router.errors import UsageError
from codex_router.policy.settings import resolve_settings
from codex_router.routing.classify import Classification
from codex_router.routing.route import ReadinessFacts, decide_route


def task(
    complexity: str = "medium", *, long: bool = False, intents: tuple[str, ...] = ()
) -> Classification:
    return Classification(complexity, long, frozenset(intents), ())


ALL_KEYS = frozenset({"HF_TOKEN", "LITELLM_API_KEY"})
UP = ReadinessFacts(ALL_KEYS, True, "")


def decide(
    tmp_path: Path, t: Classification, *, flags=None, env=None, facts=UP, policy: str | None = None
):
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    policy_file = None
    if policy is not None:
        policy_file = tmp_path / "p.yaml"
        policy_file.write_text(policy, encoding="utf-8")
    settings = resolve_settings(flags or {}, env or {}, dirs, policy_flag=policy_file)
    return decide_route(settings, t, facts)


# id, task, flags, env, policy, expected alias, provider, [(path, ready)]
CASES = [
    (
        "simple-auto",
        task("simple"),
        {},
        {},
        None,
        "codex-light",
        "auto",
        [("standard", True), ("litellm", True), ("huggingface", True)],
    ),
    ("medium-auto", task("medium"), {}, {}, None, "codex-default", "auto", None),
    ("complex-auto", task("complex"), {}, {}, None, "codex-deep", "auto", None),
    ("long-context", task("simple", long=True), {}, {}, None, "codex-long", "auto", None),
    ("forced", task("simple"), {"force_model": "codex-deep"}, {}, None, "codex-deep", "auto", None),
    (
        "legacy-alias",
        task("simple"),
        {"force_model": "codex-strong"},
        {},
        None,
        "codex-strong",
        "auto",
        None,
    ),
    (
        "provider-gemini",
        task("complex"),
        {"provider": "gemini"},
        {},
        None,
        "codex-no-openai",
        "gemini",
        [("litellm", True)],
    ),
    (
        "provider-no-openai",
        task("simple"),
        {"provider": "no-openai"},
        {},
        None,
        "codex-no-openai",
        "no-openai",
        [("litellm", True), ("huggingface", True)],
    ),
    (
        "avoid-openai-env",
        task("simple"),
        {},
        {"CODEX_ROUTER_OPENAI_MODE": "avoid"},
        None,
        "codex-no-openai",
        "no-openai",
        [("litellm", True), ("huggingface", True)],
    ),
    (
        "avoid-openai-policy",
        task("complex"),
        {},
        {},
        "avoid_openai: true\n",
        "codex-no-openai",
        "no-openai",
        None,
    ),
    (
        "avoid-openai-intent",
        task("simple", intents=("avoid_openai",)),
        {},
        {},
        None,
        "codex-no-openai",
        "no-openai",
        None,
    ),
    (
        "provider-qwen",
        task("simple"),
        {"provider": "qwen"},
        {},
        None,
        "codex-qwen-local",
        "qwen",
        [("litellm", True)],
    ),
    (
        "local-intent",
        task("medium", intents=("local",)),
        {},
        {},
        None,
        "codex-qwen-local",
        "qwen",
        None,
    ),
    (
        "hf-simple",
        task("simple"),
        {"provider": "huggingface"},
        {},
        None,
        "codex-hf-cheap",
        "huggingface",
        [("huggingface", True)],
    ),
    (
        "hf-complex",
        task("complex"),
        {"provider": "huggingface"},
        {},
        None,
        "codex-hf-fast",
        "huggingface",
        None,
    ),
    (
        "open-models-with-token",
        task("medium"),
        {"open_models_only": True},
        {},
        None,
        "codex-hf-fast",
        "huggingface",
        None,
    ),
    (
        "task-rule-provider",
        task("simple"),
        {},
        {},
        "task_provider_rules:\n  simple: qwen\n",
        "codex-qwen-local",
        "qwen",
        None,
    ),
    (
        "pinned-path",
        task("medium"),
        {"codex_provider": "litellm"},
        {},
        None,
        "codex-default",
        "auto",
        # the chosen path first, then the rest of fallback_order (issue 12 item 3)
        [("litellm", True), ("standard", True), ("huggingface", True)],
    ),
    (
        "fallback-order-env",
        task("medium"),
        {},
        {"CODEX_ROUTE_FALLBACK_ORDER": "huggingface,standard"},
        None,
        "codex-default",
        "auto",
        [("huggingface", True), ("standard", True)],
    ),
]


@pytest.mark.parametrize(
    ("t", "flags", "env", "policy", "alias", "provider", "paths"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_decisions(tmp_path: Path, t, flags, env, policy, alias, provider, paths) -> None:
    decision = decide(tmp_path, t, flags=flags, env=env, policy=policy)
    assert (decision.alias, decision.provider) == (alias, provider)
    if paths is not None:
        assert [(p.name, p.ready) for p in decision.paths] == paths
    assert len(decision.reasons) == 3 and all(decision.reasons)


@pytest.mark.parametrize(
    ("facts", "flags", "path", "needle"),
    [
        (
            ReadinessFacts(frozenset({"LITELLM_API_KEY"}), True),
            {},
            "huggingface",
            "HF_TOKEN not set",
        ),
        (ReadinessFacts(frozenset({"HF_TOKEN"}), True), {}, "litellm", "LITELLM_API_KEY not set"),
        (
            ReadinessFacts(ALL_KEYS, False, "127.0.0.1:4000 connection refused"),
            {},
            "litellm",
            "LiteLLM proxy down: 127.0.0.1:4000 connection refused",
        ),
        (UP, {"disable_litellm": True}, "litellm", "LiteLLM disabled by --no-litellm"),
        (UP, {"avoid_openai": True}, "litellm", None),
    ],
    ids=[
        "hf-token-missing",
        "litellm-key-missing",
        "proxy-down",
        "litellm-disabled",
        "avoid-keeps-litellm",
    ],
)
def test_unready_paths_stay_with_their_reason(tmp_path: Path, facts, flags, path, needle) -> None:
    decision = decide(tmp_path, task("medium"), flags=flags, facts=facts)
    choice = next(p for p in decision.paths if p.name == path)
    if needle is None:
        assert choice.ready
    else:
        assert not choice.ready and needle in choice.reason


def test_models_per_path(tmp_path: Path) -> None:
    decision = decide(tmp_path, task("complex"))
    models = {p.name: (p.model, p.reasoning_effort) for p in decision.paths}
    assert models == {
        "standard": ("gpt-5.1-codex-max", "high"),
        "litellm": ("codex-deep", None),
        "huggingface": ("openai/gpt-oss-120b:fastest", None),
    }


def test_standard_path_without_openai_model_uses_codex_default(tmp_path: Path) -> None:
    policy = "aliases:\n  codex-x:\n    upstreams: [openai]\n"
    decision = decide(tmp_path, task("simple"), flags={"force_model": "codex-x"}, policy=policy)
    standard = decision.paths[0]
    assert standard.ready and standard.model is None and "Codex's own default" in standard.reason


def test_open_models_without_token_goes_local(tmp_path: Path) -> None:
    facts = ReadinessFacts(frozenset({"LITELLM_API_KEY"}), True)
    decision = decide(tmp_path, task("medium"), flags={"open_models_only": True}, facts=facts)
    assert decision.alias == "codex-qwen-local"
    assert "HF_TOKEN not set" in decision.reasons[0]


@pytest.mark.parametrize(
    ("flags", "env", "needle"),
    [
        ({"force_model": "codex-deep", "avoid_openai": True}, {}, "codex-deep reaches OpenAI"),
        ({"force_model": "codex-light", "open_models_only": True}, {}, "reaches closed models"),
        ({"provider": "gemini", "codex_provider": "standard"}, {}, "cannot serve provider gemini"),
        (
            {"provider": "qwen"},
            {"CODEX_ROUTE_FALLBACK_ORDER": "standard"},
            "has no path provider qwen can use",
        ),
    ],
    ids=[
        "forced-openai-alias-vs-avoid",
        "forced-closed-alias-vs-open-only",
        "pinned-path-conflict",
        "empty-order",
    ],
)
def test_contradictions_are_reported(tmp_path: Path, flags, env, needle) -> None:
    with pytest.raises(UsageError, match=needle):
        decide(tmp_path, task("medium"), flags=flags, env=env)
