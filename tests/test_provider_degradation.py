"""Every provider of the earlier cost-routing script, with its degradation (issue 12 items 2, 3).

Pure tables on :func:`decide_route` with :class:`ReadinessFacts` (provider × prerequisite
present/missing × simple/complex task), the path-order table, and a few ``run --dry-run --json``
checks through the CLI against a fake Ollama.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import AppDirs
from codex_router.errors import UsageError
from codex_router.policy.settings import resolve_settings
from codex_router.routing.classify import Classification
from codex_router.routing.readiness import probe_ollama
from codex_router.routing.route import ReadinessFacts, RouteDecision, decide_route

from helpers.fake_chat_server import FakeChatServer

QWEN, PHI = "qwen2.5-coder:3b", "phi4-mini"
KEYS = frozenset({"LITELLM_API_KEY"})
BOTH = frozenset({QWEN, f"{PHI}:latest"})


def facts(
    keys: frozenset[str] = KEYS,
    *,
    proxy: bool = True,
    ollama: bool | None = True,
    models: frozenset[str] | None = BOTH,
) -> ReadinessFacts:
    return ReadinessFacts(
        keys,
        proxy,
        "" if proxy else "127.0.0.1:4000 connection refused",
        None,
        ollama,
        "" if ollama is not False else "127.0.0.1:11434 connection refused",
        models if ollama else None,
    )


def task(complexity: str, *intents: str) -> Classification:
    return Classification(complexity, False, frozenset(intents), ())


def decide(
    tmp_path: Path,
    t: Classification,
    f: ReadinessFacts,
    *,
    flags: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    policy: str | None = None,
    local_answer: bool = False,
) -> RouteDecision:
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    policy_file = None
    if policy is not None:
        policy_file = tmp_path / "p.yaml"
        policy_file.write_text(policy, encoding="utf-8")
    settings = resolve_settings(flags or {}, env or {}, dirs, policy_flag=policy_file)
    return decide_route(settings, t, f, local_answer=local_answer)


UP = facts()
HF = facts(KEYS | {"HF_TOKEN"})
CLAUDE = facts(KEYS | {"ANTHROPIC_API_KEY"})
DOWN = facts(ollama=False)
NO_PHI = facts(models=frozenset({QWEN}))
NOTHING_PULLED = facts(models=frozenset())
PROXY_DOWN = facts(KEYS | {"ANTHROPIC_API_KEY"}, proxy=False)

# id, provider, facts, complexity, alias, needle of what is missing (None: not degraded)
PROVIDERS = [
    ("auto-simple", "auto", UP, "simple", "codex-light", None),
    ("auto-complex", "auto", UP, "complex", "codex-deep", None),
    ("openai-simple", "openai", UP, "simple", "codex-light", None),
    ("openai-complex", "openai", UP, "complex", "codex-deep", None),
    ("openai-medium", "openai", UP, "medium", "codex-deep", None),
    ("gemini-simple", "gemini", UP, "simple", "codex-no-openai", None),
    ("gemini-complex", "gemini", UP, "complex", "codex-no-openai", None),
    ("hf-simple", "huggingface", HF, "simple", "codex-hf-cheap", None),
    ("hf-complex", "huggingface", HF, "complex", "codex-hf-fast", None),
    ("hf-no-token-simple", "huggingface", UP, "simple", "codex-default", "HF_TOKEN not set"),
    ("hf-no-token-complex", "huggingface", UP, "complex", "codex-default", "HF_TOKEN not set"),
    ("qwen-simple", "qwen", UP, "simple", "codex-qwen-local", None),
    ("qwen-complex", "qwen", UP, "complex", "codex-qwen-local", None),
    ("qwen-down-simple", "qwen", DOWN, "simple", "codex-default", "ollama serve"),
    ("qwen-down-complex", "qwen", DOWN, "complex", "codex-default", "ollama serve"),
    ("qwen-not-pulled", "qwen", NOTHING_PULLED, "simple", "codex-default", f"ollama pull {QWEN}"),
    ("small-simple", "local-small", UP, "simple", "codex-small-local", None),
    ("small-complex", "local-small", UP, "complex", "codex-small-local", None),
    ("phi-simple", "phi", UP, "simple", "codex-small-local", None),
    ("phi-complex", "phi", UP, "complex", "codex-small-local", None),
    ("phi-missing", "phi", NO_PHI, "simple", "codex-qwen-local", f"ollama pull {PHI}"),
    ("small-missing", "local-small", NO_PHI, "complex", "codex-qwen-local", f"ollama pull {PHI}"),
    ("phi-down-simple", "phi", DOWN, "simple", "codex-light", "ollama serve"),
    ("phi-down-complex", "local-small", DOWN, "complex", "codex-light", "ollama serve"),
    ("phi-none-pulled", "phi", NOTHING_PULLED, "simple", "codex-light", f"ollama pull {QWEN}"),
    ("claude-simple", "claude", CLAUDE, "simple", "codex-claude-complex", None),
    ("claude-complex", "claude", CLAUDE, "complex", "codex-claude-complex", None),
    ("claude-no-key", "claude", UP, "complex", "codex-deep", "ANTHROPIC_API_KEY not set"),
    ("claude-no-key-simple", "claude", UP, "simple", "codex-deep", "ANTHROPIC_API_KEY not set"),
    ("claude-proxy-down", "claude", PROXY_DOWN, "complex", "codex-deep", "codex-route proxy start"),
    ("no-openai-simple", "no-openai", UP, "simple", "codex-no-openai", None),
    ("no-openai-complex", "no-openai", UP, "complex", "codex-no-openai", None),
]


@pytest.mark.parametrize(
    ("provider", "f", "complexity", "alias", "missing"),
    [c[1:] for c in PROVIDERS],
    ids=[c[0] for c in PROVIDERS],
)
def test_every_provider_with_its_prerequisite_present_or_missing(
    tmp_path: Path,
    provider: str,
    f: ReadinessFacts,
    complexity: str,
    alias: str,
    missing: str | None,
) -> None:
    decision = decide(tmp_path, task(complexity), f, flags={"provider": provider})
    assert (decision.alias, decision.provider) == (alias, provider)
    assert decision.ready_paths, decision.paths  # never a dead end when it may degrade
    if missing is None:
        assert decision.degraded is None
    else:
        assert decision.degraded is not None and missing in decision.degraded
        assert missing in decision.reasons[1] and alias in decision.reasons[1]


def test_the_phi_tier_says_its_cap_and_target(tmp_path: Path) -> None:
    decision = decide(tmp_path, task("simple"), UP, flags={"provider": "phi"})
    assert "capped at 64 output tokens, target ≥ 5 tok/s" in decision.reasons[1]


# id, flags, env, task, facts, alias, (path, ready, needle in its reason)
STRICT = [
    (
        "avoid-openai-qwen-down",
        {"provider": "qwen", "avoid_openai": True},
        {},
        task("complex"),
        DOWN,
        "codex-qwen-local",
        ("litellm", False, "ollama serve"),
    ),
    (
        "open-models-only-hf-no-token",
        {"provider": "huggingface", "open_models_only": True},
        {},
        task("simple"),
        UP,
        "codex-hf-cheap",
        ("huggingface", False, "HF_TOKEN not set"),
    ),
    (
        "avoid-env-phi-down",
        {"provider": "phi"},
        {"CODEX_ROUTER_OPENAI_MODE": "avoid"},
        task("simple"),
        DOWN,
        "codex-small-local",
        ("litellm", False, "ollama serve"),
    ),
    (
        "no-openai-proxy-down",
        {"provider": "no-openai"},
        {},
        task("complex"),
        facts(proxy=False),
        "codex-no-openai",
        ("litellm", False, "codex-route proxy start"),
    ),
    (
        "gemini-proxy-down",
        {"provider": "gemini"},
        {},
        task("simple"),
        facts(proxy=False),
        "codex-no-openai",
        ("litellm", False, "codex-route proxy start"),
    ),
    (
        "prompt-avoids-openai",
        {},
        {},
        task("simple", "avoid_openai"),
        facts(proxy=False),
        "codex-no-openai",
        ("litellm", False, "codex-route proxy start"),
    ),
]


@pytest.mark.parametrize(
    ("flags", "env", "t", "f", "alias", "path"),
    [c[1:] for c in STRICT],
    ids=[c[0] for c in STRICT],
)
def test_a_request_that_must_not_reach_openai_stays_strict(
    tmp_path: Path,
    flags: dict[str, Any],
    env: dict[str, str],
    t: Classification,
    f: ReadinessFacts,
    alias: str,
    path: tuple[str, bool, str],
) -> None:
    decision = decide(tmp_path, t, f, flags=flags, env=env)
    assert decision.alias == alias and decision.degraded is None
    assert "standard" not in [p.name for p in decision.ready_paths]
    name, ready, needle = path
    choice = next(p for p in decision.paths if p.name == name)
    assert choice.ready is ready and needle in choice.reason


def test_strict_claude_without_key_says_what_to_set(tmp_path: Path) -> None:
    decision = decide(
        tmp_path, task("complex"), UP, flags={"provider": "claude"}, policy="avoid_openai: true\n"
    )
    assert decision.alias == "codex-claude-complex" and decision.degraded is None
    assert "ANTHROPIC_API_KEY not set" in decision.reasons[1]
    assert "avoid_openai" in decision.reasons[1]


# prompt words are a wish: they degrade to the task's own tier
PROMPT_WORDS = [
    ("open-model-words-medium", task("medium", "open_models"), DOWN, "codex-default"),
    ("open-model-words-simple", task("simple", "open_models"), DOWN, "codex-light"),
    ("qwen-words-complex", task("complex", "local"), DOWN, "codex-deep"),
    ("qwen-words-not-pulled", task("simple", "local"), NOTHING_PULLED, "codex-light"),
    ("qwen-words-up", task("complex", "local"), UP, "codex-qwen-local"),
]


@pytest.mark.parametrize(
    ("t", "f", "alias"), [c[1:] for c in PROMPT_WORDS], ids=[c[0] for c in PROMPT_WORDS]
)
def test_prompt_words_degrade_to_the_tasks_own_tier(
    tmp_path: Path, t: Classification, f: ReadinessFacts, alias: str
) -> None:
    decision = decide(tmp_path, t, f)
    assert decision.alias == alias and decision.ready_paths


@pytest.mark.parametrize(
    ("flags", "env", "policy", "provider"),
    [
        ({"provider": "Claude"}, {}, None, "claude"),
        ({}, {"CODEX_ROUTER_PROVIDER": "OpenAI"}, None, "openai"),
        ({}, {"CODEX_ROUTE_PROVIDER": "Local-Small"}, None, "local-small"),
        ({}, {}, "default_provider: PHI\n", "phi"),
        ({}, {}, "task_provider_rules:\n  simple: No-OpenAI\n", "no-openai"),
    ],
    ids=["flag", "old-env", "env", "policy", "task-rule"],
)
def test_provider_names_are_case_insensitive(
    tmp_path: Path, flags: dict[str, Any], env: dict[str, str], policy: str | None, provider: str
) -> None:
    assert decide(tmp_path, task("simple"), UP, flags=flags, env=env, policy=policy).provider == (
        provider
    )


def test_local_answer_needs_a_local_provider(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--local-answer: provider auto"):
        decide(tmp_path, task("complex"), UP, local_answer=True)


def test_qwen_complex_says_how_to_get_the_other_way(tmp_path: Path) -> None:
    codex = decide(tmp_path, task("complex"), facts(proxy=False), flags={"provider": "qwen"})
    assert "--local-answer: Ollama answers directly" in codex.reasons[1]
    litellm = next(p for p in codex.paths if p.name == "litellm")
    assert not litellm.ready and "codex-route proxy start" in litellm.reason
    direct = decide(tmp_path, task("complex"), DOWN, flags={"provider": "qwen"}, local_answer=True)
    assert direct.alias == "codex-qwen-local" and direct.local_answer  # asked: no degrading
    assert "without --local-answer, Codex runs it" in direct.reasons[1]


# --- path order (item 3) ------------------------------------------------------------------

# id, flags, env, policy, facts, [(path, ready)]
ORDERS = [
    (
        "flag-litellm",
        {"codex_provider": "litellm"},
        {},
        None,
        HF,
        [("litellm", True), ("standard", True), ("huggingface", True)],
    ),
    (
        "flag-huggingface",
        {"codex_provider": "huggingface"},
        {},
        None,
        HF,
        [("huggingface", True), ("standard", True), ("litellm", True)],
    ),
    (
        "env-old-name",
        {},
        {"CODEX_ROUTER_CODEX_PROVIDER": "litellm"},
        None,
        HF,
        [("litellm", True), ("standard", True), ("huggingface", True)],
    ),
    (
        "policy-default",
        {},
        {},
        "default_codex_provider: litellm\n",
        HF,
        [("litellm", True), ("standard", True), ("huggingface", True)],
    ),
    (
        "standard-appended",
        {"codex_provider": "litellm"},
        {"CODEX_ROUTE_FALLBACK_ORDER": "huggingface"},
        None,
        HF,
        [("litellm", True), ("huggingface", True), ("standard", True)],
    ),
    (
        "chosen-standard",
        {"codex_provider": "standard"},
        {"CODEX_ROUTE_FALLBACK_ORDER": "huggingface,litellm"},
        None,
        HF,
        [("standard", True), ("huggingface", True), ("litellm", True)],
    ),
    (
        "explicit-order-kept",
        {},
        {"CODEX_ROUTE_FALLBACK_ORDER": "huggingface,litellm"},
        None,
        HF,
        [("huggingface", True), ("litellm", True)],
    ),
    (
        "disabled-chosen-skipped",
        {"codex_provider": "litellm"},
        {"CODEX_ROUTER_DISABLE_LITELLM": "1"},
        None,
        HF,
        [("litellm", False), ("standard", True), ("huggingface", True)],
    ),
    (
        "proxy-down-chosen-skipped",
        {"codex_provider": "litellm"},
        {},
        None,
        facts(KEYS | {"HF_TOKEN"}, proxy=False),
        [("litellm", False), ("standard", True), ("huggingface", True)],
    ),
    (
        "no-standard-when-avoiding-openai",
        {"codex_provider": "litellm", "avoid_openai": True},
        {},
        None,
        HF,
        [("litellm", True), ("huggingface", True)],
    ),
    (
        "gemini-litellm-only",
        {"codex_provider": "litellm", "provider": "gemini"},
        {},
        None,
        HF,
        [("litellm", True)],
    ),
]


@pytest.mark.parametrize(
    ("flags", "env", "policy", "f", "paths"),
    [c[1:] for c in ORDERS],
    ids=[c[0] for c in ORDERS],
)
def test_path_order(
    tmp_path: Path,
    flags: dict[str, Any],
    env: dict[str, str],
    policy: str | None,
    f: ReadinessFacts,
    paths: list[tuple[str, bool]],
) -> None:
    decision = decide(tmp_path, task("medium"), f, flags=flags, env=env, policy=policy)
    assert [(p.name, p.ready) for p in decision.paths] == paths
    skipped = [p for p in decision.paths if not p.ready]
    assert all(p.reason for p in skipped)


# --- the Ollama probe and the CLI -----------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_ollama_probe_reads_the_model_list() -> None:
    with FakeChatServer(models={QWEN, "phi4-mini:latest"}) as server:
        up, _detail, models = probe_ollama(server.base_url)
        assert server.requests == []
    assert up and models == frozenset({QWEN, "phi4-mini:latest"})


def test_the_ollama_probe_says_when_it_is_down(closed_port: int) -> None:
    up, detail, models = probe_ollama(f"http://127.0.0.1:{closed_port}/v1")
    assert not up and models is None and "refused" in detail


def _dry(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["run", "--no-stdin", "--dry-run", "--json", *args])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatServer]:
    with FakeChatServer(models={QWEN, PHI}, reply="one two three") as server:
        monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", server.base_url)
        yield server


def test_cli_huggingface_without_token_degrades() -> None:
    plan = _dry("--provider", "HuggingFace", "fix the typo in README.md")
    assert plan["alias"] == "codex-default" and "HF_TOKEN not set" in plan["degraded"]


def test_cli_qwen_with_ollama_down_degrades(
    monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", f"http://127.0.0.1:{closed_port}/v1")
    plan = _dry("--provider", "qwen", "what does ls print")
    assert plan["alias"] == "codex-default" and "ollama serve" in plan["degraded"]
    plan = _dry("use an open model to explain this function")
    assert plan["alias"] != "codex-qwen-local" and "ollama serve" in plan["degraded"]


def test_cli_phi_missing_falls_to_qwen(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeChatServer(models={QWEN}) as server:
        monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", server.base_url)
        plan = _dry("--provider", "phi", "what does ls print")
    assert plan["alias"] == "codex-qwen-local" and "ollama pull phi4-mini" in plan["degraded"]


def test_cli_pinned_disabled_path_is_skipped_not_fatal(
    monkeypatch: pytest.MonkeyPatch, codex_installed: Path
) -> None:
    monkeypatch.setenv("CODEX_ROUTER_CODEX_PROVIDER", "litellm")
    monkeypatch.setenv("CODEX_ROUTER_DISABLE_LITELLM", "1")
    plan = _dry("explain this function")
    paths = [(p["name"], p["ready"]) for p in plan["paths"]]
    assert paths == [("litellm", False), ("standard", True), ("huggingface", False)]
    assert "LiteLLM disabled by $CODEX_ROUTER_DISABLE_LITELLM" in plan["paths"][0]["reason"]


def test_cli_phi_answers_with_its_cap_and_reports_tokens_per_second(
    ollama: FakeChatServer,
) -> None:
    result = CliRunner().invoke(app, ["run", "--no-stdin", "--provider", "phi", "what is ls"])
    assert result.exit_code == 0, result.output
    sent = ollama.requests[-1]["body"]
    assert sent["model"] == PHI and sent["max_tokens"] == 64
    assert "target ≥ 5 tok/s" in result.stderr and "of at most 64 tokens" in result.stderr
    history = CliRunner().invoke(app, ["history", "--json", "--limit", "1"])
    text = history.stdout.strip()
    run = json.loads(text)[0] if text.startswith("[") else json.loads(text.splitlines()[0])
    local = run["extra"]["local"] if "extra" in run else run["local"]
    assert local["max_output_tokens"] == 64 and local["target_tokens_per_second"] == 5.0
    assert isinstance(local["meets_target"], bool)


def test_cli_qwen_complex_with_proxy_down_answers_on_request(ollama: FakeChatServer) -> None:
    prompt = "refactor the authentication module and redesign its session architecture"
    plan = _dry("--provider", "qwen", prompt)
    assert plan["alias"] == "codex-qwen-local" and plan["local_answer"] is False
    assert "--local-answer" in plan["paths"][0]["reason"] + plan["decision_reasons"][1]
    result = CliRunner().invoke(
        app, ["run", "--no-stdin", "--provider", "qwen", "--local-answer", prompt]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "one two three\n"
    assert "answers this task directly" in result.stderr
    assert ollama.requests[-1]["body"]["model"] == QWEN
