"""Test isolation, and no skip in CI.

Every test gets its own HOME, CODEX_HOME and CODEX_ROUTE_HOME: no test may read or write the
real ~/.codex or the user's codex-route directories, and no setting may leak in from the
developer's environment. Under CI (``CI`` set) a skipped test fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.ci import in_ci

ROUTING_VARS_PREFIXES = ("CODEX_ROUTE_", "CODEX_ROUTER_")
KEY_VARS = (
    "HF_TOKEN",
    "LITELLM_API_KEY",
    "GEMINI_API_KEY",
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "ANTHROPIC_API_KEY",
)
#: the earlier cost-routing script's binary variables, read below codex-route's own
LEGACY_BIN_VARS = ("CODEX_CLI_PATH", "LITELLM_CLI_PATH")


# ---------------------------------------------------------------- no skip in CI
# CI installs everything the suite needs, so a skip there can only hide a broken step: under CI
# a skipped test (or module) is reported as failed. An xfail stays an xfail, and tests left out
# by -m or -k are deselected, not skipped.


def _fail_if_skipped_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where no test may skip: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    _fail_if_skipped_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> pytest.CollectReport:
    report: pytest.CollectReport = yield
    _fail_if_skipped_in_ci(report)
    return report


# ---------------------------------------------------------------- isolation


@pytest.fixture(scope="session")
def shared_token_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One token index for the session: building it takes ~1 s, and it is a pure cache."""
    return tmp_path_factory.mktemp("token-index")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    shared_token_index: Path,
) -> Path:
    root = tmp_path_factory.mktemp("home")
    cache = root / "codex-route" / "cache"
    cache.mkdir(parents=True)
    (cache / "tokens").symlink_to(shared_token_index, target_is_directory=True)
    for name in list(os.environ):
        if name.startswith(ROUTING_VARS_PREFIXES) or name in KEY_VARS or name in LEGACY_BIN_VARS:
            monkeypatch.delenv(name, raising=False)
    (root / ".codex").mkdir()
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("CODEX_HOME", str(root / ".codex"))
    monkeypatch.setenv("CODEX_ROUTE_HOME", str(root / "codex-route"))
    # Keep the LiteLLM probe off any real proxy a developer may be running on :4000.
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", "http://127.0.0.1:9/v1")
    return root


@pytest.fixture
def codex_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A codex that answers ``--version`` (all a plan probes), named by CODEX_ROUTE_CODEX_BIN:
    for plans whose paths must be ready, as they are only with a codex that runs."""
    script = tmp_path / "installed-codex"
    script.write_text('#!/bin/sh\necho "codex-cli 0.169.0"\n')
    script.chmod(0o755)
    monkeypatch.setenv("CODEX_ROUTE_CODEX_BIN", str(script))
    return script
