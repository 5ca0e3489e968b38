"""End-to-end fixtures: the real codex (pinned in tools/package.json) and codex-route as a
process (:class:`helpers.e2e.Route`)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers.ci import missing_precondition
from helpers.e2e import Route

REPO = Path(__file__).resolve().parents[2]


def _find_codex() -> str | None:
    pinned = REPO / "tools" / "node_modules" / ".bin" / "codex"
    if pinned.exists():
        return str(pinned)
    return shutil.which("codex")


@pytest.fixture(scope="session")
def codex_bin() -> str:
    found = _find_codex()
    if found is None:
        missing_precondition(
            "the real codex is not installed: run ./scripts/test.sh (npm ci --prefix tools)"
        )
    return found


@pytest.fixture
def route(isolated_env: Path, codex_bin: str, tmp_path: Path) -> Route:
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ)
    env.update(
        {
            "CODEX_ROUTE_CODEX_BIN": codex_bin,
            "FAKE_KEY": "fake-user-key",
            "LITELLM_API_KEY": "sk-litellm-test",
            "PYTHONPATH": str(REPO),
        }
    )
    env.pop("HF_TOKEN", None)
    return Route(env, work, Path(env["CODEX_HOME"]))
