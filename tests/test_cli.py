"""The CLI end to end in-process (Typer's runner): dry-run plans, compress, tokens, policy,
errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.errors import ExitCode

from helpers.fake_chat_server import FakeChatServer

runner = CliRunner()

REQUIRED_PLAN_KEYS = {
    "alias",
    "provider",
    "paths",
    "tokens",
    "compression",
    "classification",
    "estimated_cost_usd",
    "provenance",
    "codex_argv",
}


def invoke(args: list[str], input: str | bytes | None = None):
    return runner.invoke(app, args, input=input)


def dry_run(*args: str, input: str | bytes | None = None) -> dict:
    result = invoke(["run", "--dry-run", "--json", *args], input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_dry_run_json_has_the_documented_keys() -> None:
    plan = dry_run("fix the typo in README.md")
    assert set(plan) >= REQUIRED_PLAN_KEYS
    assert plan["alias"] == "codex-light"
    assert plan["classification"]["complexity"] == "simple"
    assert plan["tokens"]["raw"] > 0 and plan["tokens"]["clean"] > 0
    for path in plan["paths"]:
        assert {"name", "ready", "reason"} <= set(path)
    for entry in plan["provenance"].values():
        assert entry["source"] in {"flag", "env", "file", "default"}
    assert plan["codex_argv"][-1] == "-"  # the prompt goes on stdin, never in argv
    assert "fix the typo" not in json.dumps(plan)  # no prompt text in the plan


def test_dry_run_writes_nothing(isolated_env: Path) -> None:
    config = isolated_env / ".codex" / "config.toml"
    config.write_bytes(b'model = "o3"\r\n# mine\r\n')
    cache = isolated_env / "codex-route" / "cache"

    def files() -> list[Path]:
        # The token index is a cache (built once, rebuilt at will); nothing else may appear.
        return sorted(
            p for p in isolated_env.rglob("*") if p != cache.parent and cache not in (p, *p.parents)
        )

    before = files()
    dry_run("refactor the parser and add tests")
    assert files() == before
    assert config.read_bytes() == b'model = "o3"\r\n# mine\r\n'


def test_piped_stdin_is_an_attachment() -> None:
    log = "".join(
        f"2026-01-01 12:00:{i % 60:02d} INFO worker {i} heartbeat ok\n" for i in range(400)
    )
    log += "ERROR worker 7 crashed: disk full\n"
    plan = dry_run("fix it", input=log)
    assert plan["tokens"]["attachment"] > 0
    assert plan["tokens"]["raw"] > plan["tokens"]["clean"]
    assert sum(plan["compression"].values()) > 0


def test_prompt_dash_reads_stdin() -> None:
    plan = dry_run("-", input="audit the auth module for security vulnerabilities\n")
    assert plan["classification"]["complexity"] == "complex"
    assert plan["alias"] == "codex-deep"
    assert plan["tokens"]["attachment"] == 0


@pytest.mark.parametrize(
    ("args", "env", "alias", "provider"),
    [
        (["--provider", "no-openai"], {}, "codex-no-openai", "no-openai"),
        ([], {"CODEX_ROUTER_OPENAI_MODE": "avoid"}, "codex-no-openai", "no-openai"),
        (["--force-model", "codex-long"], {}, "codex-long", "auto"),
        (["--provider", "qwen"], {}, "codex-qwen-local", "qwen"),
        # Ollama down: the old script's default tier (issue 12)
        (
            ["--provider", "qwen"],
            {"CODEX_ROUTE_OLLAMA_BASE_URL": "http://127.0.0.1:9/v1"},
            "codex-default",
            "qwen",
        ),
    ],
    ids=["flag-no-openai", "legacy-env-avoid", "force-model", "qwen", "qwen-ollama-down"],
)
def test_routing_flags(monkeypatch: pytest.MonkeyPatch, args, env, alias, provider) -> None:
    with FakeChatServer(models={"qwen2.5-coder:3b"}) as ollama:
        monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", ollama.base_url)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        plan = dry_run(*args, "rename the helper")
    assert (plan["alias"], plan["provider"]) == (alias, provider)


def test_no_openai_plan_never_reaches_openai() -> None:
    plan = dry_run("--provider", "no-openai", "rename the helper")
    assert all(p["name"] != "standard" for p in plan["paths"])


def test_policy_file_provenance_names_file_and_line(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("# comment\nmax_cost_usd: 5\n", encoding="utf-8")
    plan = dry_run("--policy", str(policy), "rename the helper")
    entry = plan["provenance"]["max_cost_usd"]
    assert entry == {
        "value": 5.0,
        "source": "file",
        "origin": "max_cost_usd",
        "file": str(policy),
        "line": 2,
    }
    assert plan["provenance"]["policy"]["source"] == "flag"


def test_cost_limit_blocks_with_exit_7() -> None:
    result = invoke(["run", "--dry-run", "--json", "--max-cost-usd", "0.000001", "fix the typo"])
    assert result.exit_code == ExitCode.BUDGET
    assert json.loads(result.stdout)["blocked"].startswith("estimated cost")
    assert "above max_cost_usd" in result.stderr


def test_human_plan_mentions_the_decision() -> None:
    result = invoke(["run", "--dry-run", "fix the typo in README.md"])
    assert result.exit_code == 0, result.stderr
    for needle in ("codex-light", "standard", "tokens", "where they came from"):
        assert needle in result.stdout


BAD_RUNS = [
    ("empty-prompt", ["run", "--dry-run", "  "], None, ExitCode.USAGE, "PROMPT is empty"),
    ("empty-stdin-prompt", ["run", "--dry-run", "-"], "", ExitCode.USAGE, "empty"),
    (
        "binary-stdin",
        ["run", "--dry-run", "fix"],
        b"abc\x00\x01\x02",
        ExitCode.USAGE,
        "looks binary",
    ),
    (
        "latin1-stdin",
        ["run", "--dry-run", "fix"],
        b"caf\xe9\n",
        ExitCode.USAGE,
        "not valid UTF-8 (byte offset 3)",
    ),
    (
        "unknown-provider",
        ["run", "--dry-run", "--provider", "mistral", "x"],  # claude is one since issue 12
        None,
        ExitCode.USAGE,
        "'mistral' is not one of: auto, openai, gemini",
    ),
    (
        "unknown-alias",
        ["run", "--dry-run", "--force-model", "gpt-9", "x"],
        None,
        ExitCode.USAGE,
        "unknown alias 'gpt-9' (valid: codex-cheap",
    ),
    (
        "negative-budget",
        ["run", "--dry-run", "--max-cost-usd", "-1", "x"],
        None,
        ExitCode.USAGE,
        "--max-cost-usd: must be at least 0",
    ),
    (
        "non-numeric-budget",
        ["run", "--dry-run", "--max-input-tokens", "lots", "x"],
        None,
        ExitCode.USAGE,
        "lots",
    ),
    (
        "json-without-dry-run",
        ["run", "--json", "x"],
        None,
        ExitCode.USAGE,
        "--json goes with --dry-run",
    ),
    (
        "missing-policy",
        ["run", "--dry-run", "--policy", "/nonexistent/p.yaml", "x"],
        None,
        ExitCode.POLICY,
        "/nonexistent/p.yaml: policy file not found",
    ),
]


@pytest.mark.parametrize(
    ("args", "input", "code", "needle"), [b[1:] for b in BAD_RUNS], ids=[b[0] for b in BAD_RUNS]
)
def test_bad_input_is_a_clear_error(args, input, code, needle) -> None:
    result = invoke(args, input=input)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert needle in result.stderr
    assert result.stdout == ""


def test_malformed_policy_is_exit_3_naming_the_line(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("avoid_openai: true\nmax_cost_usd: [\n", encoding="utf-8")
    result = invoke(["run", "--dry-run", "--policy", str(policy), "x"])
    assert result.exit_code == ExitCode.POLICY
    assert f"{policy}:3" in result.stderr


def test_bad_env_value_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_MAX_COST_USD", "a lot")
    result = invoke(["run", "--dry-run", "x"])
    assert result.exit_code == ExitCode.POLICY
    assert "CODEX_ROUTE_MAX_COST_USD: expected a number" in result.stderr


def test_compress_streams_and_reports_json() -> None:
    text = (
        "".join(f"step {i}/500 done\n" for i in range(500))
        + "FAILED test_x.py::test_y - assert 1 == 2\n"
    )
    result = invoke(["compress", "--json", "-"], input=text)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert "FAILED test_x.py::test_y - assert 1 == 2" in data["text"]
    assert data["tokens_before"] > data["tokens_after"]
    assert any(rule["tokens_removed"] for rule in data["rules"])


def test_compress_plain_keeps_error_lines(tmp_path: Path) -> None:
    src = tmp_path / "build.log"
    src.write_text(
        "\x1b[32mok\x1b[0m\n" * 50 + "src/main.c:12:5: error: expected ';'\n", encoding="utf-8"
    )
    result = invoke(["compress", str(src)])
    assert result.exit_code == 0
    assert "src/main.c:12:5: error: expected ';'" in result.stdout.splitlines()
    assert "\x1b" not in result.stdout


def test_compress_missing_file() -> None:
    result = invoke(["compress", "/nonexistent/file.log"])
    assert result.exit_code == ExitCode.USAGE
    assert "/nonexistent/file.log: no such file" in result.stderr


@pytest.mark.parametrize(("text", "expected"), [("hello world", 2), ("", 0)])
def test_tokens_counts_exactly(text: str, expected: int) -> None:
    result = invoke(["tokens", "--json"], input=text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["tokens"] == expected


def test_policy_show_json_lists_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ROUTER_PROVIDER", "gemini")
    result = invoke(["policy", "show", "--json"])
    assert result.exit_code == 0, result.stderr
    values = {v["key"]: v for v in json.loads(result.stdout)["values"]}
    assert values["default_provider"]["value"] == "gemini"
    assert values["default_provider"]["source"] == "env"
    assert values["aliases.codex-deep.openai_model"]["source"] == "default"
    assert values["aliases.codex-deep.openai_model"]["line"] > 0


def test_policy_validate_ok_and_bad(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("max_cost_usd: 1\n", encoding="utf-8")
    assert invoke(["policy", "validate", str(good)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_cost_usd: 1\nfallback_order: [ollama]\n", encoding="utf-8")
    result = invoke(["policy", "validate", str(bad)])
    assert result.exit_code == ExitCode.POLICY
    assert f"{bad}:2: fallback_order" in result.stderr


def test_policy_init_never_overwrites_without_force(isolated_env: Path) -> None:
    target = isolated_env / "codex-route" / "config" / "policy.yaml"
    assert invoke(["policy", "init"]).exit_code == 0
    assert target.is_file()
    target.write_text("max_cost_usd: 9\n", encoding="utf-8")
    result = invoke(["policy", "init", "--template", "quota-saver"])
    assert result.exit_code == ExitCode.USAGE and "already exists" in result.stderr
    assert target.read_text("utf-8") == "max_cost_usd: 9\n"
    assert invoke(["policy", "init", "--template", "quota-saver", "--force"]).exit_code == 0
    assert "Quota saver" in target.read_text("utf-8")
    assert invoke(["policy", "show"]).exit_code == 0


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("codex-route ")


def test_python_dash_m_runs_the_same_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "codex_router", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("codex-route ")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codex_router",
            "run",
            "--dry-run",
            "--json",
            "--no-stdin",
            "--provider",
            "nope",
            "x",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == ExitCode.USAGE
    assert done.stderr.startswith("error: --provider: 'nope' is not one of")


def test_a_closed_pipe_is_not_a_crash(isolated_env, monkeypatch):
    """`codex-route history | head`: the reader went away; exit 1 quietly, no crash log."""
    import os
    from pathlib import Path

    import typer
    from typer.testing import CliRunner

    from codex_router import boundary
    from codex_router.cli import RoutedGroup

    demo = typer.Typer(cls=RoutedGroup)

    @demo.command()
    def write() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    @demo.command()
    def other() -> None:
        pass

    monkeypatch.setattr(boundary, "_silence_stdout", lambda: None)  # CliRunner's stdout is not fd 1
    result = CliRunner().invoke(demo, ["write"])
    assert result.exit_code == 1
    assert "unexpected" not in result.output
    state = Path(os.environ["CODEX_ROUTE_HOME"]) / "state"
    assert not list(state.glob("crash-*.log"))


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--dry-run", "--no-stdin", "fix it"],
        ["config", "status"],
        ["config", "restore"],
        ["config", "enable"],
    ],
    ids=["dry-run", "config-status", "config-restore", "config-enable"],
)
def test_a_codex_home_starting_with_a_tilde_is_refused(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """Codex takes CODEX_HOME literally; codex-route must not expand "~" to another file."""
    (isolated_env / ".cw").mkdir()
    monkeypatch.setenv("CODEX_HOME", "~/.cw")
    result = invoke(args)
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "CODEX_HOME='~/.cw' starts with '~'" in result.stderr
    assert 'CODEX_HOME="$HOME/.cw"' in result.stderr
    assert list((isolated_env / ".cw").iterdir()) == []
