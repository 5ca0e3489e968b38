"""The plan checks what a run needs instead of assuming it: codex present and running, a
config.toml that parses (its true fault and line), a directory Codex runs in. `run --dry-run`
shows each path's truth; `--check` exits with the code the real run would stop with."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app

runner = CliRunner()


def dry(*args: str):
    return runner.invoke(app, ["run", "--dry-run", "--no-stdin", *args])


def plan_json(*args: str) -> dict:
    result = dry("--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def standard(plan: dict) -> dict:
    return next(p for p in plan["paths"] if p["name"] == "standard")


def test_codex_missing_is_not_ready_and_check_exits_4(monkeypatch: pytest.MonkeyPatch):
    """Before: `standard ready`, exit 0, while the real run exits 4."""
    monkeypatch.setenv("PATH", "/nonexistent")
    plan = plan_json("fix the typo")
    assert standard(plan)["ready"] is False
    assert "codex was not found" in standard(plan)["reason"]
    assert plan["unready"]["exit_code"] == 4
    checked = dry("--check", "fix the typo")
    assert checked.exit_code == 4, checked.output
    assert "no path is ready: a run would fail (exit 4)" in checked.stdout
    assert "error: codex was not found" in checked.stderr


def test_a_codex_that_does_not_run_is_not_ready(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    broken = tmp_path / "codex"
    broken.write_text("#!/bin/sh\necho 'cannot find the native binary' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("CODEX_ROUTE_CODEX_BIN", str(broken))
    checked = dry("--check", "fix the typo")
    assert checked.exit_code == 4, checked.output
    assert "--version exited 1: cannot find the native binary" in checked.stderr


def test_a_working_codex_is_probed_once_then_cached(codex_installed: Path):
    plan = plan_json("fix the typo")
    assert standard(plan)["ready"] is True and plan["unready"] is None
    assert dry("--check", "fix the typo").exit_code == 0
    cache = Path(os.environ["CODEX_ROUTE_HOME"]) / "cache" / "codex-version.json"
    assert json.loads(cache.read_text())["version"] == "codex-cli 0.169.0"
    # the same binary (path, size, mtime) is not started again: a broken one of the same
    # size and mtime still reads as the cached version
    original = codex_installed.read_bytes()
    stat = codex_installed.stat()
    codex_installed.write_bytes(b"#!/bin/sh\nexit 1\n".ljust(len(original), b"#"))
    os.utime(codex_installed, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert dry("--check", "fix the typo").exit_code == 0


def test_a_config_that_does_not_parse_names_the_true_fault(codex_installed: Path):
    """Before: ready, then "Cannot declare ('model_providers', 'x') twice" for an unclosed
    header (tomllib checks the name before the bracket)."""
    config = Path(os.environ["CODEX_HOME"]) / "config.toml"
    config.write_text('[model_providers.x]\nname = "x"\n[model_providers.x\nbase_url = "u"\n')
    plan = plan_json("fix the typo")
    assert standard(plan)["ready"] is False and plan["unready"]["exit_code"] == 5
    checked = dry("--check", "fix the typo")
    assert checked.exit_code == 5, checked.output
    assert "unclosed table header '[model_providers.x', expected ']'" in checked.stderr
    assert "line 3, column 19" in checked.stderr and "twice" not in checked.stderr
    real = runner.invoke(app, ["run", "--no-stdin", "fix the typo"])
    assert real.exit_code == 5 and "attempt 1/" not in real.stderr


def test_outside_git_the_plan_says_so_and_the_setting_passes_the_flag(
    codex_installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    plan = plan_json("fix the typo")
    assert standard(plan)["ready"] is False and plan["unready"]["exit_code"] == 8
    assert "skip_git_repo_check" in plan["unready"]["hint"]
    checked = dry("--check", "fix the typo")
    assert checked.exit_code == 8 and "not inside a git repository" in checked.stderr
    # codex's own flag after -- counts, as Codex accepts it
    assert dry("--check", "fix the typo", "--", "--skip-git-repo-check").exit_code == 0
    monkeypatch.setenv("CODEX_ROUTE_SKIP_GIT_REPO_CHECK", "1")
    plan = plan_json("fix the typo")
    assert standard(plan)["ready"] is True
    assert plan["codex_argv"].count("--skip-git-repo-check") == 1
    assert plan["provenance"]["skip_git_repo_check"]["source"] == "env"
    (tmp_path / "policy.yaml").write_text("version: 1\nskip_git_repo_check: true\n")
    monkeypatch.delenv("CODEX_ROUTE_SKIP_GIT_REPO_CHECK")
    plan = plan_json("--policy", str(tmp_path / "policy.yaml"), "fix the typo")
    assert "--skip-git-repo-check" in plan["codex_argv"]
    assert plan["provenance"]["skip_git_repo_check"]["source"] == "file"


def test_a_git_repository_needs_no_flag(codex_installed: Path, tmp_path: Path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    plan = plan_json("fix the typo")
    assert standard(plan)["ready"] is True and "--skip-git-repo-check" not in plan["codex_argv"]


def test_check_goes_with_dry_run():
    result = runner.invoke(app, ["run", "--check", "fix the typo"])
    assert result.exit_code == 2 and "--check goes with --dry-run" in result.stderr
