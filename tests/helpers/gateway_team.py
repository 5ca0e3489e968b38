"""Team gateways for the tests: REAL LiteLLM instances started by ``codex-route proxy start
--gateway``, each with its own HOME, CODEX_HOME and CODEX_ROUTE_HOME (as separate machines would
have), sharing one policy file in front of the fake upstreams.

Used by tests/test_gateway_team.py, tests/test_gateway_hardening.py and
tests/test_gateway_replicas_team.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from helpers.ci import missing_precondition
from helpers.net import free_port
from helpers.redis_server import redis_server_bin

REPO = Path(__file__).resolve().parents[2]
LITELLM_BIN = os.environ.get("CODEX_ROUTE_TEST_LITELLM_BIN") or str(
    REPO / ".venv-proxy" / "bin" / "litellm"
)
#: The pinned codex that scripts/test.sh installs.
CODEX_BIN = REPO / "tools" / "node_modules" / ".bin" / "codex"
MASTER_KEY = "sk-team-gateway-test-key-0123456789abcdef"


@dataclass
class Gateway:
    env: dict[str, str]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def post(self, model: str) -> httpx.Response:
        body = {"model": model, "messages": [{"role": "user", "content": "say hi"}]}
        headers = {"Authorization": f"Bearer {MASTER_KEY}"}
        with httpx.Client(timeout=60, trust_env=False) as client:
            return client.post(f"{self.base_url}/chat/completions", json=body, headers=headers)


def cli(env: Mapping[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "codex_router", *args],
        env=dict(env),
        cwd=env["HOME"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def run_cli(
    env: Mapping[str, str], *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``codex-route ARGS`` run to its end in ``env``'s HOME (a member's machine), stdin closed."""
    return subprocess.run(
        [sys.executable, "-m", "codex_router", *args],
        env=dict(env),
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def base_env(root: Path, name: str) -> dict[str, str]:
    """A machine of its own under ``root/name``, reading ``root/policy.yaml``; none of the
    caller's codex-route, LiteLLM, Redis or provider variables."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CODEX_ROUTE_", "CODEX_ROUTER_", "LITELLM_", "REDIS_"))
        and k not in ("OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN", "CODEX_API_KEY")
    }
    for sub in ("home", "codex-home", "route-home"):
        (root / name / sub).mkdir(parents=True)
    env.update(
        {
            "HOME": str(root / name / "home"),
            "CODEX_HOME": str(root / name / "codex-home"),
            "CODEX_ROUTE_HOME": str(root / name / "route-home"),
            "CODEX_ROUTE_POLICY": str(root / "policy.yaml"),
            "PYTHONPATH": str(REPO),
            "NO_COLOR": "1",
        }
    )
    return env


def wait_for_a_fresh_minute() -> None:
    """rpm windows are calendar minutes: keep the whole test inside one."""
    if time.gmtime().tm_sec > 40:
        time.sleep(61 - time.gmtime().tm_sec)


def require_litellm_and_redis() -> str:
    """The redis-server binary; fails under CI (skips elsewhere) when a component is missing."""
    if not Path(LITELLM_BIN).exists():
        missing_precondition(
            f"LiteLLM is not installed at {LITELLM_BIN}: run ./scripts/test.sh (it installs the "
            "pinned litellm[proxy] in .venv-proxy) or set CODEX_ROUTE_TEST_LITELLM_BIN"
        )
    binary = redis_server_bin()
    if binary is None:
        missing_precondition(
            "redis-server is not installed: run ./scripts/test.sh (it installs Debian's "
            "redis-server) or apt-get install redis-server"
        )
    return binary


def gateway_env(
    root: Path, name: str, upstream_url: str, extra: Mapping[str, str]
) -> dict[str, str]:
    """A gateway host's environment: the fake upstream for every chat deployment, the operator
    key, a dummy HF token, then ``extra`` (Redis URL, REDIS_PASSWORD…)."""
    env = base_env(root, name)
    env.update(
        {
            "CODEX_ROUTE_LITELLM_BIN": LITELLM_BIN,
            "CODEX_ROUTE_HF_BASE_URL": upstream_url,
            "CODEX_ROUTE_OLLAMA_BASE_URL": upstream_url,
            "CODEX_ROUTE_GATEWAY_MASTER_KEY": MASTER_KEY,
            "HF_TOKEN": "hf-dummy-token-for-the-fake-upstream",
            **extra,
        }
    )
    return env


@contextmanager
def running_gateways(
    envs: list[dict[str, str]], *secrets: str, host: str | None = None
) -> Iterator[list[Gateway]]:
    """Start one gateway per environment (in parallel; ``host``: ``--host``), stop them all on
    exit. Fails when a start fails or prints the master key or any of ``secrets``."""
    gateways = [Gateway(env, free_port()) for env in envs]
    where = ["--host", host] if host is not None else []
    starts = [
        cli(g.env, "proxy", "start", "--gateway", *where, "--port", str(g.port), "--timeout", "240")
        for g in gateways
    ]
    try:
        outputs = [p.communicate(timeout=300) for p in starts]
        for proc, (out, err) in zip(starts, outputs, strict=True):
            assert proc.returncode == 0, out + err
            for secret in (MASTER_KEY, *secrets):
                assert secret not in out + err
        yield gateways
    finally:
        for g in gateways:
            cli(g.env, "proxy", "stop").communicate(timeout=60)
