"""The walk stops on a failure every path would repeat and walks on past a transient one; the
plan checks readiness instead of assuming it. Real Codex 0.169, fake upstreams on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from helpers.e2e import Route, user_config
from helpers.fake_responses import REPLY_TEXT, FakeResponses

pytestmark = pytest.mark.e2e

CODEX_ARGS = ["--", "--skip-git-repo-check"]


def attempts(route: Route) -> list[dict]:
    done = route.run("history", "--json", "--limit", "5")
    assert done.returncode == 0, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return list(record["attempts"])


def test_a_dead_standard_upstream_costs_seconds_before_the_fallback(route: Route):
    """Before: Codex's default five retries on the user's own provider, ~25 s per run."""
    with FakeResponses("500") as broken, FakeResponses("ok") as proxy:
        config = user_config(broken.base_url).decode()
        config = config.replace("request_max_retries = 0\n", "").replace(
            "stream_max_retries = 0\n", ""
        )
        route.config.write_text(config)
        started = time.monotonic()
        done = route.run(
            "run", "say hi", *CODEX_ARGS, extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url}
        )
        took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert REPLY_TEXT in done.stdout and "falling back to litellm" in done.stderr
    assert took < 12, f"{took:.1f} s"
    assert len(broken.requests) <= 4  # one retry of the request and of the stream, not five
    assert route.config.read_text() == config


def test_codex_rejecting_the_config_stops_the_walk(route: Route):
    with FakeResponses("ok") as upstream, FakeResponses("ok") as proxy:
        route.config.write_bytes(user_config(upstream.base_url, extra='sandbox_mode = "bogus"'))
        done = route.run(
            "run", "say hi", *CODEX_ARGS, extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url}
        )
    assert done.returncode == 5, done.stderr
    assert "not falling back" in done.stderr and "config rejected by codex" in done.stderr
    assert "falling back to litellm" not in done.stderr
    assert proxy.requests == [] and upstream.requests == []
    assert [a["path"] for a in attempts(route)] == ["standard"]


def test_a_codex_usage_error_stops_the_walk_with_codex_exit_code(route: Route):
    with FakeResponses("ok") as upstream, FakeResponses("ok") as proxy:
        route.config.write_bytes(user_config(upstream.base_url))
        done = route.run(
            "run",
            "say hi",
            *CODEX_ARGS,
            "--no-such-codex-flag",
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
    assert done.returncode == 2, done.stderr
    assert "not falling back" in done.stderr
    assert proxy.requests == []
    assert [a["path"] for a in attempts(route)] == ["standard"]


def test_interactive_is_one_attempt_only(route: Route):
    """The TUI cannot start without a terminal; before, the walk re-ran it on every path."""
    with FakeResponses("ok") as upstream, FakeResponses("ok") as proxy:
        route.config.write_bytes(user_config(upstream.base_url))
        done = route.run(
            "run",
            "--interactive",
            "say hi",
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
    assert done.returncode != 0
    assert "attempt 1/1" in done.stderr and "falling back" not in done.stderr
    assert [a["path"] for a in attempts(route)] == ["standard"]


def test_outside_git_the_run_stops_before_codex_and_the_dry_run_check_says_so(route: Route):
    """Before: every path failed with Codex's "Not inside a trusted directory", exit 6."""
    with FakeResponses("ok") as upstream, FakeResponses("ok") as proxy:
        route.config.write_bytes(user_config(upstream.base_url))
        extra = {"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url}
        done = route.run("run", "say hi", extra_env=extra)
        assert upstream.requests == [] == proxy.requests  # codex was never started
        check = route.run("run", "--dry-run", "--check", "say hi", extra_env=extra)
        skipped = route.run(
            "run", "say hi", extra_env={**extra, "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1"}
        )
    assert done.returncode == 8, done.stderr
    assert "not inside a git repository" in done.stderr and "skip_git_repo_check" in done.stderr
    assert "attempt 1/" not in done.stderr
    assert check.returncode == 8, check.stdout + check.stderr
    assert "a run would fail (exit 8)" in check.stdout
    assert skipped.returncode == 0, skipped.stderr
    assert REPLY_TEXT in skipped.stdout
    subprocess.run(["git", "init", "-q"], cwd=route.cwd, check=True)
    in_git = route.run("run", "--dry-run", "--check", "say hi", extra_env=extra)
    assert in_git.returncode == 0, in_git.stderr
