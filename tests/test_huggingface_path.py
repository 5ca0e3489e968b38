"""The Hugging Face path: the cost-routing-hf profile, HF_TOKEN gating, and what the plan says."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.policy.settings import resolve_settings

TOKEN = "hf_test-token-value-never-printed-0123456789"


def _plan(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["run", "--dry-run", "--json", "--no-stdin", *args])
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and TOKEN[:8] not in result.output
    return json.loads(result.stdout)


def _path(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in plan["paths"] if p["name"] == name)


def test_the_hf_profile_targets_the_router_with_gpt_oss_120b_fastest() -> None:
    from codex_router.codex.profiles import render

    settings = resolve_settings({}, os.environ, app_dirs())
    data = tomllib.loads(render("huggingface", settings).decode())
    assert data["model_provider"] == "cost-routing-hf"
    assert data["model"] == "openai/gpt-oss-120b:fastest"
    table = data["model_providers"]["cost-routing-hf"]
    assert table["base_url"] == "https://router.huggingface.co/v1"
    assert table["env_key"] == "HF_TOKEN" and table["wire_api"] == "responses"


def test_without_hf_token_the_hf_aliases_are_not_offered_and_the_plan_says_why() -> None:
    # open_models_only: no degrading to the default tier (issue 12), so the path says what to set
    plan = _plan("--provider", "huggingface", "--open-models-only", "fix the typo")
    assert plan["alias"] == "codex-hf-cheap"
    hf = _path(plan, "huggingface")
    assert hf["ready"] is False and hf["reason"] == "HF_TOKEN not set" and hf["codex_argv"] is None
    assert plan["codex_argv"] is None


def test_without_hf_token_huggingface_degrades_to_the_default_tier() -> None:
    plan = _plan("--provider", "huggingface", "fix the typo")
    assert plan["alias"] == "codex-default" and plan["degraded"] == "HF_TOKEN not set"
    assert plan["codex_argv"] is not None


def test_with_hf_token_the_hf_path_is_ready(
    monkeypatch: pytest.MonkeyPatch, codex_installed: Path
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    simple = _plan("--provider", "huggingface", "fix the typo")
    hf = _path(simple, "huggingface")
    assert hf["ready"] is True and hf["model"] == "openai/gpt-oss-20b:fastest"
    assert hf["codex_argv"][hf["codex_argv"].index("-m") + 1] == "openai/gpt-oss-20b:fastest"
    change = hf["config_change"]["set"]
    assert change["model_provider"] == "cost-routing-hf"
    assert change["model_providers.cost-routing-hf"]["env_key"] == "HF_TOKEN"
    assert (
        change["model_providers.cost-routing-hf"]["base_url"] == "https://router.huggingface.co/v1"
    )
    hard = _plan(
        "--provider",
        "huggingface",
        "audit the authentication flow for security vulnerabilities "
        "and redesign the session architecture",
    )
    assert hard["alias"] == "codex-hf-fast"
    assert _path(hard, "huggingface")["model"] == "openai/gpt-oss-120b:fastest"


def test_forcing_an_hf_alias_without_the_token_leaves_no_ready_path() -> None:
    plan = _plan("--force-model", "codex-hf-fast", "x")
    reasons = {p["name"]: p["reason"] for p in plan["paths"]}
    assert not any(p["ready"] for p in plan["paths"])
    assert reasons["huggingface"] == "HF_TOKEN not set"
    assert reasons["litellm"] == "HF_TOKEN not set (needed by codex-hf-fast)"
    assert reasons["standard"] == "codex-hf-fast does not use OpenAI models"


def test_open_models_only_picks_hf_only_with_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    without = _plan("--open-models-only", "x")
    assert without["provider"] == "qwen" and without["alias"] == "codex-qwen-local"
    assert any("HF_TOKEN not set, so local Qwen" in r for r in without["decision_reasons"])
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with_token = _plan("--open-models-only", "x")
    assert with_token["provider"] == "huggingface" and with_token["alias"].startswith("codex-hf-")


def test_hf_base_url_override_reaches_the_config_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("CODEX_ROUTE_HF_BASE_URL", "http://127.0.0.1:9999/v1")
    plan = _plan("--provider", "huggingface", "x")
    table = _path(plan, "huggingface")["config_change"]["set"]["model_providers.cost-routing-hf"]
    assert table["base_url"] == "http://127.0.0.1:9999/v1"
    assert plan["provenance"]["huggingface_base_url"]["origin"] == "CODEX_ROUTE_HF_BASE_URL"
