"""End-to-end fixtures: the real codex (pinned in tools/package.json) and codex-route as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))


def _find_codex() -> str | None:
    pinned = REPO / "tools" / "node_modules" / ".bin" / "codex"
    if pinned.exists():
        return str(pinned)
    return shutil.which("codex")


@pytest.fixture(scope="session")
def codex_bin() -> str:
    found = _find_codex()
    if found is None:
        message = "the real codex is not installed: run ./scripts/test.sh (npm ci --prefix tools)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a skip would hide a missing install step
        pytest.skip(message)
    return found


@dataclass
class Route:
    """Runs codex-route in a child process with the test's isolated environment."""

    env: dict[str, str]
    cwd: Path
    home: Path  # CODEX_HOME

    @property
    def config(self) -> Path:
        return self.home / "config.toml"

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "codex_router", *args]

    def run(
        self,
        *args: str,
        timeout: float = 120,
        input: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args),
            env={**self.env, **(extra_env or {})},
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )

    def popen(self, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            env={**self.env, **(extra_env or {})},
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


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


def user_config(base_url: str, *, newline: str = "\n", extra: str = "") -> bytes:
    """A user's own config: a custom provider (fail fast, no retries) as the standard path."""
    lines = [
        "# my codex config — don't lose me",
        'model = "gpt-test"',
        'model_provider = "fake"',
        extra,
        "[model_providers.fake]",
        'name = "Fake upstream"',
        f'base_url = "{base_url}"',
        'env_key = "FAKE_KEY"',
        "request_max_retries = 0",
        "stream_max_retries = 0",
        "",
    ]
    return newline.join(line for line in lines if line is not None).encode()
