"""Inputs of the earlier cost-routing script: its ``CODEX_ROUTER_*`` values, in any case and with
surrounding spaces, and ``CODEX_CLI_PATH`` / ``LITELLM_CLI_PATH`` below codex-route's own
settings for the codex and litellm binaries."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.codex.binary import locate_codex
from codex_router.dirs import AppDirs
from codex_router.doctor import DoctorContext, check_codex, check_litellm_installed
from codex_router.errors import ExitCode, PolicyError, UsageError
from codex_router.policy.settings import resolve_settings
from codex_router.proxy.install import locate_litellm

from helpers.fake_litellm import make_fake_litellm

runner = CliRunner()


@pytest.fixture
def app_dirs(tmp_path: Path) -> AppDirs:
    return AppDirs(tmp_path / "config", tmp_path / "state", tmp_path / "cache")


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- CODEX_ROUTER_OPENAI_MODE

#: value → True (avoid OpenAI), False (allow it), None (follow the policy)
OPENAI_MODES = [
    ("avoid", True),
    ("off", True),
    ("depleted", True),
    ("quota", True),
    ("no-openai", True),
    ("no_openai", True),
    ("AVOID", True),
    ("  Depleted ", True),
    ("No-OpenAI", True),
    ("allow", False),
    ("Allow ", False),
    ("auto", None),
    ("normal", None),
    ("on", None),
    ("ON", None),
    (" Normal\t", None),
    ("", None),
    ("   ", None),
]


@pytest.mark.parametrize("policy_avoids", [True, False], ids=["policy-avoids", "policy-allows"])
@pytest.mark.parametrize(("value", "avoid"), OPENAI_MODES, ids=[repr(v) for v, _ in OPENAI_MODES])
def test_openai_mode_values_of_the_earlier_script(
    tmp_path: Path, app_dirs: AppDirs, value: str, avoid: bool | None, policy_avoids: bool
) -> None:
    policy = policy_file(tmp_path, f"avoid_openai: {str(policy_avoids).lower()}")
    got = resolve_settings(
        {}, {"CODEX_ROUTER_OPENAI_MODE": value}, app_dirs, policy_flag=policy
    ).values["avoid_openai"]
    if avoid is None:
        assert (got.value, got.source) == (policy_avoids, "file")
    else:
        assert (got.value, got.source, got.origin) == (avoid, "env", "CODEX_ROUTER_OPENAI_MODE")


@pytest.mark.parametrize("value", ["true", "1", "sometimes", "avoid-openai", "no openai"])
def test_an_unknown_openai_mode_is_an_error_naming_the_variable(
    tmp_path: Path, app_dirs: AppDirs, value: str
) -> None:
    """Never the earlier script's quirk of silently turning a policy's avoidance off."""
    policy = policy_file(tmp_path, "avoid_openai: true")
    with pytest.raises(PolicyError) as caught:
        resolve_settings({}, {"CODEX_ROUTER_OPENAI_MODE": value}, app_dirs, policy_flag=policy)
    assert "CODEX_ROUTER_OPENAI_MODE" in caught.value.message
    assert repr(value) in caught.value.message
    assert caught.value.hint is not None and "depleted" in caught.value.hint


def test_an_unknown_openai_mode_stops_the_run_with_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ROUTER_OPENAI_MODE", "true")
    result = runner.invoke(app, ["run", "--dry-run", "fix", "it"])
    assert result.exit_code == ExitCode.POLICY
    assert "CODEX_ROUTER_OPENAI_MODE" in result.stderr and "no-openai" in result.stderr


@pytest.mark.parametrize(
    ("value", "provider"), [("avoid", "no-openai"), ("quota", "no-openai"), ("normal", "auto")]
)
def test_openai_mode_reaches_the_plan(
    monkeypatch: pytest.MonkeyPatch, value: str, provider: str
) -> None:
    monkeypatch.setenv("CODEX_ROUTER_OPENAI_MODE", value)
    result = runner.invoke(app, ["run", "--dry-run", "--json", "fix", "the", "typo"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["provider"] == provider


# ---------------------------------------------------------------- case-insensitive choices

CHOICES = [
    ("CODEX_ROUTER_PROVIDER", "OpenAI", "provider", "openai"),
    ("CODEX_ROUTER_PROVIDER", " GEMINI ", "provider", "gemini"),
    ("CODEX_ROUTER_PROVIDER", "No-OpenAI", "provider", "no-openai"),
    ("CODEX_ROUTE_PROVIDER", "Qwen", "provider", "qwen"),
    ("CODEX_ROUTER_CODEX_PROVIDER", "LiteLLM", "codex_provider", "litellm"),
    ("CODEX_ROUTER_CODEX_PROVIDER", " Standard", "codex_provider", "standard"),
    ("CODEX_ROUTE_CODEX_PROVIDER", "HuggingFace", "codex_provider", "huggingface"),
    ("CODEX_ROUTER_DISABLE_LITELLM", "1", "disable_litellm", True),
    ("CODEX_ROUTER_DISABLE_LITELLM", "true", "disable_litellm", True),
    ("CODEX_ROUTER_DISABLE_LITELLM", "yes", "disable_litellm", True),
    ("CODEX_ROUTER_DISABLE_LITELLM", "on", "disable_litellm", True),
    ("CODEX_ROUTER_DISABLE_LITELLM", " TRUE ", "disable_litellm", True),
    ("CODEX_ROUTER_DISABLE_LITELLM", "Yes", "disable_litellm", True),
    ("CODEX_ROUTER_DISABLE_LITELLM", "0", "disable_litellm", False),
    ("CODEX_ROUTER_DISABLE_LITELLM", "Off", "disable_litellm", False),
]


@pytest.mark.parametrize(
    ("var", "value", "name", "want"), CHOICES, ids=[f"{v}={x!r}" for v, x, _, _ in CHOICES]
)
def test_environment_values_in_any_case(
    app_dirs: AppDirs, var: str, value: str, name: str, want: object
) -> None:
    got = resolve_settings({}, {var: value}, app_dirs).values[name]
    assert (got.value, got.source, got.origin) == (want, "env", var)


@pytest.mark.parametrize(
    ("flag", "value", "name", "want"),
    [
        ("provider", "OpenAI", "provider", "openai"),
        ("provider", "NO-OPENAI", "provider", "no-openai"),
        ("codex_provider", "LiteLLM", "codex_provider", "litellm"),
    ],
)
def test_flags_in_any_case(app_dirs: AppDirs, flag: str, value: str, name: str, want: str) -> None:
    got = resolve_settings({flag: value}, {}, app_dirs).values[name]
    assert (got.value, got.source) == (want, "flag")


@pytest.mark.parametrize(
    ("line", "name", "want"),
    [
        ("default_provider: OpenAI", "provider", "openai"),
        ("default_provider: Gemini", "provider", "gemini"),
        ("default_codex_provider: Standard", "codex_provider", "standard"),
    ],
)
def test_policy_values_in_any_case(
    tmp_path: Path, app_dirs: AppDirs, line: str, name: str, want: str
) -> None:
    policy = policy_file(tmp_path, line)
    got = resolve_settings({}, {}, app_dirs, policy_flag=policy).values[name]
    assert (got.value, got.source) == (want, "file")


def test_cli_provider_flag_in_any_case() -> None:
    result = runner.invoke(app, ["run", "--dry-run", "--json", "--provider", "No-OpenAI", "hi"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["provider"] == "no-openai"


def test_an_unknown_provider_flag_is_still_refused(app_dirs: AppDirs) -> None:
    with pytest.raises(UsageError, match="--provider"):
        resolve_settings({"provider": "OpenAI-ish"}, {}, app_dirs)


# ---------------------------------------------------------------- CODEX_CLI_PATH


def executable(path: Path, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\necho codex-cli 0.169.0\n")
    path.chmod(mode)
    return path


@pytest.fixture
def codex_home() -> Path:
    return Path(os.environ["CODEX_HOME"])


def config_line(codex_home: Path, target: Path | str, quote: str = '"', before: str = "") -> None:
    (codex_home / "config.toml").write_text(
        'model = "o3"\n'
        + before
        + "[mcp_servers.node_repl.env]\n"
        + f"  CODEX_CLI_PATH = {quote}{target}{quote}\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("layers", "want_source", "want_origin", "want"),
    [
        (("flag", "own_env", "legacy_env", "config", "path"), "flag", "--codex-bin", "flag"),
        (("own_env", "legacy_env", "config", "path"), "env", "CODEX_ROUTE_CODEX_BIN", "own_env"),
        (("legacy_env", "config", "path"), "env", "CODEX_CLI_PATH", "legacy_env"),
        (("config", "path"), "file", "CODEX_CLI_PATH in {config}:3", "config"),
        (("path",), "path", "PATH", "path"),
        (
            ("missing_legacy_env", "config", "path"),
            "file",
            "CODEX_CLI_PATH in {config}:3",
            "config",
        ),
        (("missing_legacy_env", "missing_config", "path"), "path", "PATH", "path"),
        (("dir_legacy_env", "path"), "path", "PATH", "path"),
        (("plain_legacy_env", "path"), "path", "PATH", "path"),
        (("missing_legacy_env",), "missing", None, None),
    ],
    ids=[
        "flag-wins",
        "own-env-wins",
        "legacy-env-over-config-and-path",
        "config-line-over-path",
        "path-last",
        "legacy-env-not-a-file",
        "neither-is-a-file",
        "legacy-env-a-directory",
        "legacy-env-not-executable",
        "nothing",
    ],
)
def test_codex_cli_path_is_a_lower_priority_alias(
    tmp_path: Path,
    codex_home: Path,
    layers: tuple[str, ...],
    want_source: str,
    want_origin: str | None,
    want: str | None,
) -> None:
    bins = {name: executable(tmp_path / name / "codex") for name in layers}
    env: dict[str, str] = {"CODEX_HOME": str(codex_home), "PATH": str(tmp_path / "empty")}
    flag = str(bins["flag"]) if "flag" in layers else None
    if "own_env" in layers:
        env["CODEX_ROUTE_CODEX_BIN"] = str(bins["own_env"])
    if "legacy_env" in layers:
        env["CODEX_CLI_PATH"] = f"  {bins['legacy_env']} "
    if "missing_legacy_env" in layers:
        env["CODEX_CLI_PATH"] = str(tmp_path / "nope" / "codex")
    if "dir_legacy_env" in layers:
        env["CODEX_CLI_PATH"] = str(tmp_path)
    if "plain_legacy_env" in layers:
        env["CODEX_CLI_PATH"] = str(executable(tmp_path / "plain" / "codex", 0o644))
    if "config" in layers:
        config_line(codex_home, bins["config"])
    if "missing_config" in layers:
        config_line(codex_home, tmp_path / "gone" / "codex")
    if "path" in layers:
        env["PATH"] = str(bins["path"].parent)
    got = locate_codex(flag, env)
    config = codex_home / "config.toml"
    assert got.source == want_source
    assert got.origin == (want_origin.format(config=config) if want_origin else None)
    assert got.path == (str(bins[want]) if want else None)


@pytest.mark.parametrize("quote", ['"', "'"], ids=["double", "single"])
def test_codex_cli_path_line_in_either_quote(tmp_path: Path, codex_home: Path, quote: str) -> None:
    target = executable(tmp_path / "bin" / "codex")
    config_line(codex_home, target, quote, before="# notes\n")
    got = locate_codex(None, {"CODEX_HOME": str(codex_home), "PATH": ""})
    assert (got.path, got.source) == (str(target), "file")
    assert got.origin == f"CODEX_CLI_PATH in {codex_home / 'config.toml'}:4"


def test_codex_cli_path_is_shown_in_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = executable(tmp_path / "bin" / "codex")
    monkeypatch.setenv("CODEX_CLI_PATH", str(target))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = runner.invoke(app, ["run", "--dry-run", "--json", "hi"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["codex"] == {
        "path": str(target),
        "source": "env",
        "origin": "CODEX_CLI_PATH",
    }
    text = runner.invoke(app, ["run", "--dry-run", "hi"])
    assert f"codex bin  {target}  [env CODEX_CLI_PATH]" in text.stdout


def test_codex_cli_path_is_shown_by_doctor(tmp_path: Path, codex_home: Path) -> None:
    target = executable(tmp_path / "bin" / "codex")
    config_line(codex_home, target)
    env = {"CODEX_HOME": str(codex_home), "PATH": str(tmp_path / "empty")}
    check = check_codex(DoctorContext.build(env, AppDirs(*(tmp_path / d for d in "csx"))))
    assert check.status == "ok", check
    assert f"{target} (CODEX_CLI_PATH in {codex_home / 'config.toml'}:3)" in check.summary


# ---------------------------------------------------------------- LITELLM_CLI_PATH


def test_litellm_cli_path_is_below_codex_routes_own_variable(tmp_path: Path) -> None:
    own = executable(tmp_path / "own" / "litellm")
    legacy = executable(tmp_path / "legacy" / "litellm")
    on_path = executable(tmp_path / "path" / "litellm")
    base = {"PATH": str(on_path.parent)}
    assert locate_litellm(None, {**base, "LITELLM_CLI_PATH": str(legacy)}) == (
        legacy,
        "LITELLM_CLI_PATH",
    )
    assert locate_litellm(
        None, {**base, "LITELLM_CLI_PATH": str(legacy), "CODEX_ROUTE_LITELLM_BIN": str(own)}
    ) == (own, "env")
    assert locate_litellm(str(own), {**base, "LITELLM_CLI_PATH": str(legacy)}) == (own, "flag")


@pytest.mark.parametrize(
    "value", ["/nonexistent/litellm", "", "   "], ids=["missing", "empty", "blank"]
)
def test_an_unusable_litellm_cli_path_is_passed_over(tmp_path: Path, value: str) -> None:
    on_path = executable(tmp_path / "path" / "litellm")
    found, source = locate_litellm(None, {"PATH": str(on_path.parent), "LITELLM_CLI_PATH": value})
    assert source in ("python", "path") and found != Path(value)


@pytest.mark.parametrize(
    ("var", "shown"),
    [
        ("LITELLM_CLI_PATH", "LITELLM_CLI_PATH"),
        ("CODEX_ROUTE_LITELLM_BIN", "CODEX_ROUTE_LITELLM_BIN"),
    ],
)
def test_doctor_shows_where_litellm_was_found(tmp_path: Path, var: str, shown: str) -> None:
    exe = make_fake_litellm(tmp_path / "venv")
    env = {var: str(exe), "PATH": str(tmp_path / "empty")}
    check = check_litellm_installed(
        DoctorContext.build(env, AppDirs(*(tmp_path / d for d in "csx")))
    )
    assert check.status == "ok", check
    assert f"at {exe} ({shown})" in check.summary
