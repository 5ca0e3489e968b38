"""Team gateway mode with real components: one throwaway Redis, two REAL LiteLLM instances
started by ``codex-route proxy start --gateway`` (each with its own CODEX_ROUTE_HOME, as two
machines would be) sharing that Redis, in front of one fake chat upstream on 127.0.0.1.

==========  ===================================================  ==============================
alias       deployments (order)                                  used by
==========  ===================================================  ==============================
t-pair      1: huggingface fake-429, 2: qwen fake-ok             shared cooldown
t-limited   1: huggingface fake-limited (rpm 3 per deployment)   shared rpm limit
t-member    1: huggingface fake-member                           a member's codex-route run
==========  ===================================================  ==============================

The "Ollama" base URL is the fake upstream too, so the qwen deployment answers; the response
header ``x-litellm-model-id`` names the deployment that served (``<alias>/<order>/<upstream>``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from helpers.ci import missing_precondition
from helpers.fake_chat_server import DEFAULT_REPLY, FakeChatServer
from helpers.net import free_port
from helpers.redis_server import RedisServer, redis_server_bin

pytestmark = [pytest.mark.team, pytest.mark.proxy]

REPO = Path(__file__).resolve().parents[1]
LITELLM_BIN = os.environ.get("CODEX_ROUTE_TEST_LITELLM_BIN") or str(
    REPO / ".venv-proxy" / "bin" / "litellm"
)
CODEX_BIN = REPO / "tools" / "node_modules" / ".bin" / "codex"
MASTER_KEY = "sk-team-gateway-test-key-0123456789abcdef"
RPM = 3
CLI = [sys.executable, "-m", "codex_router"]
MEMBER_ARGS = ["--codex-provider", "litellm", "--force-model", "t-member", "say hi"]

POLICY = f"""\
aliases:
  t-pair:
    huggingface_model: fake-429
    local_model: fake-ok
    upstreams: [huggingface, qwen]
    fallbacks: []
  t-limited:
    huggingface_model: fake-limited
    upstreams: [huggingface]
    fallbacks: []
  t-member:
    huggingface_model: fake-member
    upstreams: [huggingface]
    fallbacks: []
gateway:
  routing_strategy: usage-based-routing-v2
  allowed_fails: 0
  cooldown_seconds: 120
  rpm: {RPM}
"""


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


@dataclass
class Team:
    redis: RedisServer
    upstream: FakeChatServer
    a: Gateway
    b: Gateway
    root: Path


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "codex_router", *args],
        env=env,
        cwd=env["HOME"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def _base_env(root: Path, name: str) -> dict[str, str]:
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


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
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
    root = tmp_path_factory.mktemp("gateway-team")
    (root / "policy.yaml").write_text(POLICY)
    redis = RedisServer(binary, root / "redis").start()
    upstream = FakeChatServer().start()
    gateways = []
    for name in ("a", "b"):
        env = _base_env(root, name)
        env.update(
            {
                "CODEX_ROUTE_LITELLM_BIN": LITELLM_BIN,
                "CODEX_ROUTE_HF_BASE_URL": upstream.base_url,
                "CODEX_ROUTE_OLLAMA_BASE_URL": upstream.base_url,
                "CODEX_ROUTE_GATEWAY_REDIS_URL": redis.url,
                "CODEX_ROUTE_GATEWAY_MASTER_KEY": MASTER_KEY,
                "HF_TOKEN": "hf-dummy-token-for-the-fake-upstream",
            }
        )
        gateways.append(Gateway(env, free_port()))
    starts = [
        _cli(g.env, "proxy", "start", "--gateway", "--port", str(g.port), "--timeout", "240")
        for g in gateways
    ]
    try:
        outputs = [p.communicate(timeout=300) for p in starts]
        for proc, (out, err) in zip(starts, outputs, strict=True):
            assert proc.returncode == 0, out + err
            assert MASTER_KEY not in out + err
        yield Team(redis, upstream, gateways[0], gateways[1], root)
    finally:
        for g in gateways:
            _cli(g.env, "proxy", "stop").communicate(timeout=60)
        upstream.stop()
        redis.stop()


def test_the_generated_config_shares_router_state_through_redis(team: Team) -> None:
    config = Path(team.a.env["CODEX_ROUTE_HOME"]).rglob("litellm.yaml")
    text = next(iter(config)).read_text()
    assert f"redis_port: {team.redis.port}" in text
    assert "routing_strategy: usage-based-routing-v2" in text
    assert MASTER_KEY not in text


def test_a_deployment_cooled_down_on_one_instance_is_skipped_by_the_other(team: Team) -> None:
    mark = len(team.upstream.requests)
    first = team.a.post("t-pair")
    # instance A: the 429 deployment (order 1) fails and, with allowed_fails 0, cools down
    assert "fake-429" in team.upstream.models_requested()[mark:]
    assert first.status_code in (200, 429), first.text
    seen = len(team.upstream.requests)
    second = team.b.post("t-pair")
    assert second.status_code == 200, second.text
    # instance B never tried the cooled deployment: it went straight to order 2
    assert team.upstream.models_requested()[seen:] == ["fake-ok"]
    assert second.headers.get("x-litellm-model-id") == "t-pair/2/qwen"


def _wait_for_a_fresh_minute() -> None:
    """rpm windows are calendar minutes: keep the whole test inside one."""
    if time.gmtime().tm_sec > 40:
        time.sleep(61 - time.gmtime().tm_sec)


def test_the_rpm_limit_is_shared_by_the_instances(team: Team) -> None:
    _wait_for_a_fresh_minute()
    served = []
    for gateway in (team.a, team.b, team.a, team.b, team.a):
        resp = gateway.post("t-limited")
        served.append(resp.headers.get("x-litellm-model-id"))
    # RPM requests in all reach the limited deployment, whichever instance took them; after
    # that both instances route around it (to the local role's fallback group)
    limited = "t-limited/1/huggingface"
    assert served[:RPM] == [limited] * RPM, served
    assert limited not in served[RPM:] and None not in served, served


def _member_env(team: Team) -> dict[str, str]:
    """A member's machine: the gateway's URL and a key, no provider key, no local proxy."""
    env = _base_env(team.root, f"member-{free_port()}")
    env.update(
        {
            "CODEX_ROUTE_LITELLM_BASE_URL": team.b.base_url,
            "LITELLM_API_KEY": MASTER_KEY,
            "CODEX_ROUTE_CODEX_BIN": str(CODEX_BIN),
            "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",
        }
    )
    return env


def test_a_members_dry_run_plans_through_the_gateway(team: Team) -> None:
    env = _member_env(team)
    done = subprocess.run(
        [*CLI, "run", "--dry-run", "--json", *MEMBER_ARGS],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    first = plan["paths"][0]
    assert first["name"] == "litellm" and first["ready"], first
    assert MASTER_KEY not in done.stdout + done.stderr


def test_a_members_run_goes_through_the_gateway(team: Team) -> None:
    if not CODEX_BIN.exists():
        missing_precondition(
            "the real codex is not installed: run ./scripts/test.sh (npm ci --prefix tools)"
        )
    env = _member_env(team)
    mark = len(team.upstream.requests)
    done = subprocess.run(
        [*CLI, "run", *MEMBER_ARGS],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert DEFAULT_REPLY in done.stdout
    assert team.upstream.models_requested()[mark:][-1] == "fake-member"
    assert MASTER_KEY not in done.stdout + done.stderr


def test_instances_keep_serving_while_redis_is_down(team: Team) -> None:
    team.redis.stop()
    try:
        mark = len(team.upstream.requests)
        for gateway in (team.a, team.b):
            resp = gateway.post("t-member")
            assert resp.status_code == 200, resp.text
        assert team.upstream.models_requested()[mark:] == ["fake-member"] * 2
    finally:
        team.redis.start()  # same port: the instances reconnect
