"""The context-window guard (issue 14 item 3): input + Codex's overhead + output must fit the
alias's ``context_window``; else the long-context alias (or the provider's own larger one), else
a refusal with the numbers (exit 7).

Pure tables on :func:`check_window` and :func:`decide_route`, then ``run --dry-run`` through the
CLI with a test policy whose task aliases have a small window (so the inputs stay small).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import AppDirs
from codex_router.errors import ContextWindowError, ExitCode
from codex_router.policy.settings import Settings, resolve_settings
from codex_router.routing.classify import Classification
from codex_router.routing.route import (
    ReadinessFacts,
    RouteDecision,
    check_window,
    decide_route,
    window_need,
)

OVERHEAD, OUTPUT = 9000, 2000  # the built-in cost_model
QWEN_WINDOW = 32768  # codex-qwen-local in the built-in policy
#: the most input codex-qwen-local takes through Codex
QWEN_ROOM = QWEN_WINDOW - OVERHEAD - OUTPUT
KEYS = frozenset({"LITELLM_API_KEY", "HF_TOKEN", "ANTHROPIC_API_KEY"})
OLLAMA_UP = ReadinessFacts(
    KEYS, True, "", None, True, "", frozenset({"qwen2.5-coder:3b", "phi4-mini:latest"})
)


def settings_for(
    tmp_path: Path, *, flags: dict[str, Any] | None = None, policy: str | None = None
) -> Settings:
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    policy_file = None
    if policy is not None:
        policy_file = tmp_path / "p.yaml"
        policy_file.write_text(policy, encoding="utf-8")
    return resolve_settings(flags or {}, {}, dirs, policy_flag=policy_file)


def task(complexity: str = "medium", *intents: str) -> Classification:
    return Classification(complexity, False, frozenset(intents), ())


def decide(
    tmp_path: Path,
    tokens: int | None,
    *,
    t: Classification | None = None,
    flags: dict[str, Any] | None = None,
    policy: str | None = None,
    local_answer: bool = False,
) -> RouteDecision:
    settings = settings_for(tmp_path, flags=flags, policy=policy)
    return decide_route(
        settings, t or task(), OLLAMA_UP, local_answer=local_answer, input_tokens=tokens
    )


# ------------------------------------------------------------------ the rule, on one alias


@pytest.mark.parametrize(
    ("tokens", "candidates", "status", "alias"),
    [
        (QWEN_ROOM, (), "fits", "codex-qwen-local"),  # exactly the window
        (QWEN_ROOM + 1, (), "refused", "codex-qwen-local"),  # one token over
        (QWEN_ROOM + 1, ("codex-long",), "switched", "codex-long"),
        (QWEN_ROOM + 1, ("codex-qwen-local", "codex-long"), "switched", "codex-long"),
        (272000 - OVERHEAD - OUTPUT + 1, ("codex-long",), "refused", "codex-qwen-local"),
    ],
    ids=["exactly-the-window", "one-over", "switch-to-long", "skips-itself", "none-fits"],
)
def test_check_window(
    tmp_path: Path, tokens: int, candidates: tuple[str, ...], status: str, alias: str
) -> None:
    settings = settings_for(tmp_path)
    check = check_window(settings, "codex-qwen-local", tokens, candidates=candidates)
    assert (check.status, check.alias) == (status, alias)
    assert (check.error() is None) == (status != "refused")


def test_switch_says_why_with_the_numbers(tmp_path: Path) -> None:
    check = check_window(
        settings_for(tmp_path), "codex-qwen-local", 42000, candidates=("codex-long",)
    )
    assert check.detail == (
        "42,000 + 9,000 overhead + 2,000 output > 32,768 context_window of codex-qwen-local "
        "→ codex-long"
    )
    assert (check.switched_from, check.switched_from_window, check.window) == (
        "codex-qwen-local",
        QWEN_WINDOW,
        272000,
    )
    assert check.need.total == 53000


def test_refusal_gives_the_numbers_and_a_hint(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    check = check_window(settings, "codex-long", 300000, candidates=("codex-long",))
    error = check.error()
    assert isinstance(error, ContextWindowError)
    assert error.exit_code == ExitCode.BUDGET
    assert "300,000 + 9,000 overhead + 2,000 output > 272,000 context_window of codex-long" in (
        error.message
    )
    assert error.hint is not None and "pipe less" in error.hint
    # the trimming that would make it fit, and an alias that would take it
    assert "lower max_input_tokens (now 120,000) to 260,984" not in error.hint  # above budget
    assert "--force-model codex-no-openai: 1,048,576" in error.hint


def test_hint_trimming_figure_fits_the_window(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    check = check_window(settings, "codex-qwen-local", 50000)
    assert check.hint is not None
    assert "lower max_input_tokens (now 120,000) to 21,752" in check.hint
    # 21,752 + the <stdin> framing still fits
    assert check_window(settings, "codex-qwen-local", 21752 + 16).status == "fits"


def test_alias_without_context_window_is_not_checked(tmp_path: Path) -> None:
    mine = "aliases:\n  mine:\n    openai_model: gpt-5.1-codex\n    upstreams: [openai]\n"
    settings = settings_for(tmp_path, policy=mine)
    check = check_window(settings, "mine", 10_000_000)
    assert (check.status, check.window, check.error()) == ("unchecked", None, None)
    decision = decide(tmp_path, 10_000_000, flags={"force_model": "mine"}, policy=mine)
    assert decision.window is not None and decision.window.status == "unchecked"


@pytest.mark.parametrize(
    ("flags", "local_answer", "expected"),
    [
        ({}, False, (42000, OVERHEAD, OUTPUT)),
        ({"max_output_tokens": 500}, False, (42000, OVERHEAD, 500)),
        # Ollama answering directly: no Codex overhead, the alias's own cap (Phi: 64) applies
        ({}, True, (42000, 0, 64)),
        ({"max_output_tokens": 32}, True, (42000, 0, 32)),
    ],
)
def test_what_a_turn_needs(
    tmp_path: Path, flags: dict[str, Any], local_answer: bool, expected: tuple[int, int, int]
) -> None:
    settings = settings_for(tmp_path, flags=flags)
    spec = settings.policy.resolve_alias("codex-small-local")
    need = window_need(settings, spec, 42000, local_answer=local_answer)
    assert (need.input_tokens, need.overhead_tokens, need.output_tokens) == expected


# ------------------------------------------------------------------ in the routing decision

SMALL_TIERS = """\
aliases:
  codex-light: {context_window: 14000}
  codex-default: {context_window: 14000}
  codex-deep: {context_window: 14000}
  codex-no-openai: {context_window: 14000}
"""
#: fits the tiers above with Codex's overhead and output: 14,000 - 9,000 - 2,000
TIER_ROOM = 3000


@pytest.mark.parametrize(
    ("tokens", "t", "flags", "policy", "status", "alias"),
    [
        (TIER_ROOM, task(), {}, SMALL_TIERS, "fits", "codex-default"),
        (TIER_ROOM + 1, task(), {}, SMALL_TIERS, "switched", "codex-long"),
        (TIER_ROOM + 1, task("simple"), {}, SMALL_TIERS, "switched", "codex-long"),
        (TIER_ROOM + 1, task(), {"provider": "openai"}, SMALL_TIERS, "switched", "codex-long"),
        # the long alias reaches OpenAI: not for a run that must avoid it
        (TIER_ROOM + 1, task(), {"avoid_openai": True}, SMALL_TIERS, "refused", "codex-no-openai"),
        (TIER_ROOM + 1, task(), {"provider": "gemini"}, SMALL_TIERS, "refused", "codex-no-openai"),
        # a forced alias is never replaced
        (
            TIER_ROOM + 1,
            task(),
            {"force_model": "codex-light"},
            SMALL_TIERS,
            "refused",
            "codex-light",
        ),
        # a provider's own alias gives way only to the provider's own larger one
        (QWEN_ROOM + 1, task(), {"provider": "qwen"}, None, "refused", "codex-qwen-local"),
        (QWEN_ROOM, task(), {"provider": "local-small"}, None, "switched", "codex-qwen-local"),
        (QWEN_ROOM + 1, task(), {"provider": "local-small"}, None, "refused", "codex-small-local"),
        (150000, task(), {"provider": "claude"}, None, "fits", "codex-claude-complex"),
        (200000, task(), {"provider": "claude"}, None, "refused", "codex-claude-complex"),
        # the prompt's wish for a local model is soft: the long alias may take the input
        (QWEN_ROOM + 1, task("simple", "local"), {}, None, "switched", "codex-long"),
    ],
    ids=[
        "fits",
        "medium-to-long",
        "simple-to-long",
        "openai-to-long",
        "avoid-openai-refused",
        "gemini-refused",
        "forced-refused",
        "qwen-refused",
        "phi-to-qwen",
        "phi-and-qwen-too-small",
        "claude-fits",
        "claude-refused",
        "local-wish-to-long",
    ],
)
def test_decision(
    tmp_path: Path,
    tokens: int,
    t: Classification,
    flags: dict[str, Any],
    policy: str | None,
    status: str,
    alias: str,
) -> None:
    decision = decide(tmp_path, tokens, t=t, flags=flags, policy=policy)
    assert decision.window is not None
    assert (decision.window.status, decision.alias) == (status, alias)
    if status == "switched":
        assert decision.window.detail in decision.reasons[1]  # the alias reason says why


def test_refusal_names_what_was_not_allowed(tmp_path: Path) -> None:
    decision = decide(tmp_path, TIER_ROOM + 1, flags={"avoid_openai": True}, policy=SMALL_TIERS)
    assert decision.window is not None
    assert "codex-long reaches OpenAI (avoid_openai set by" in decision.window.detail
    forced = decide(
        tmp_path, TIER_ROOM + 1, flags={"force_model": "codex-light"}, policy=SMALL_TIERS
    )
    assert forced.window is not None
    assert forced.window.detail.endswith("context_window of codex-light, forced by --force-model")


def test_local_wish_switch_walks_fallback_order(tmp_path: Path) -> None:
    decision = decide(tmp_path, QWEN_ROOM + 1, t=task("simple", "local"))
    assert [p.name for p in decision.paths] == ["standard", "litellm", "huggingface"]


def test_local_answer_has_no_codex_overhead(tmp_path: Path) -> None:
    # too big through Codex, not when Ollama answers by itself (no overhead, own output)
    flags = {"provider": "qwen"}
    through_codex = decide(tmp_path, QWEN_ROOM + 1, flags=flags).window
    assert through_codex is not None and through_codex.status == "refused"
    direct = decide(tmp_path, QWEN_ROOM + 1, flags=flags, local_answer=True)
    assert direct.window is not None and direct.window.status == "fits"
    over = decide(tmp_path, QWEN_WINDOW - OUTPUT + 1, flags=flags, local_answer=True)
    assert over.window is not None and over.window.status == "refused"
    # never to an alias Ollama does not serve
    assert "codex-long" not in over.window.detail


def test_without_a_count_there_is_no_check(tmp_path: Path) -> None:
    assert decide(tmp_path, None).window is None


# ------------------------------------------------------------------ run --dry-run

runner = CliRunner()
#: the attachment: ~4,300 tokens of made-up words that no compression rule folds, over
#: TIER_ROOM and far under long_context_tokens
SYLLABLES = ["ka", "lo", "mi", "ren", "tus", "va", "ber", "do", "fin", "gal", "hum", "pre"]
WORDS = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]
LOG = "".join(
    " ".join(WORDS[(i * 37 + j * 101) % len(WORDS)] for j in range(10)) + "\n" for i in range(150)
)


def dry_run(tmp_path: Path, *args: str) -> Any:
    policy = tmp_path / "small.yaml"
    policy.write_text(SMALL_TIERS, encoding="utf-8")
    return runner.invoke(
        app,
        ["run", "--dry-run", "--policy", str(policy), *args, "explain these failures"],
        input=LOG,
    )


def test_dry_run_switches_to_the_long_alias(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "--json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    window = plan["context_window"]
    assert plan["alias"] == "codex-long"
    assert window["status"] == "switched"
    assert window["context_window"] == 272000
    assert window["switched_from_context_window"] == 14000
    assert window["input_tokens"] == plan["tokens"]["clean"] > TIER_ROOM
    assert window["needed"] == window["input_tokens"] + OVERHEAD + OUTPUT
    assert any("context_window of" in r and "→ codex-long" in r for r in plan["decision_reasons"])
    human = dry_run(tmp_path)
    assert human.exit_code == 0, human.stderr
    assert "so codex-long" in human.stdout


def test_dry_run_refuses_a_forced_alias_that_does_not_fit(tmp_path: Path) -> None:
    result = dry_run(tmp_path, "--json", "--force-model", "codex-light")
    assert result.exit_code == ExitCode.BUDGET
    plan = json.loads(result.stdout)  # the plan is printed first, as with max_cost_usd
    assert plan["context_window"]["status"] == "refused"
    assert "> 14,000 context_window of codex-light" in result.stderr
    assert "hint: pipe less" in result.stderr


def test_dry_run_trimmed_as_the_hint_says_fits(tmp_path: Path) -> None:
    refused = dry_run(tmp_path, "--force-model", "codex-light")
    assert "lower max_input_tokens (now 120,000) to 2,984 " in refused.stderr
    result = dry_run(
        tmp_path, "--json", "--force-model", "codex-light", "--max-input-tokens", "2984"
    )
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["tokens"]["truncated"] and plan["context_window"]["status"] == "fits"
