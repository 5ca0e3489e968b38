"""End-to-end helpers: codex-route as a child process, and a user's own Codex config."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


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
