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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers.ci import missing_precondition
from helpers.fake_chat_server import DEFAULT_REPLY, FakeChatServer
from helpers.gateway_team import (
    CODEX_BIN,
    MASTER_KEY,
    Gateway,
    base_env,
    gateway_env,
    require_litellm_and_redis,
    run_cli,
    running_gateways,
    wait_for_a_fresh_minute,
)
from helpers.net import free_port
from helpers.redis_server import RedisServer

pytestmark = [pytest.mark.team, pytest.mark.proxy]

RPM = 3
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
class Team:
    redis: RedisServer
    upstream: FakeChatServer
    a: Gateway
    b: Gateway
    root: Path


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    binary = require_litellm_and_redis()
    root = tmp_path_factory.mktemp("gateway-team")
    (root / "policy.yaml").write_text(POLICY)
    redis = RedisServer(binary, root / "redis").start()
    upstream = FakeChatServer().start()
    extra = {"CODEX_ROUTE_GATEWAY_REDIS_URL": redis.url}
    envs = [gateway_env(root, name, upstream.base_url, extra) for name in ("a", "b")]
    try:
        with running_gateways(envs) as (a, b):
            yield Team(redis, upstream, a, b, root)
    finally:
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


def test_the_rpm_limit_is_shared_by_the_instances(team: Team) -> None:
    wait_for_a_fresh_minute()
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
    env = base_env(team.root, f"member-{free_port()}")
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
    done = run_cli(env, "run", "--dry-run", "--json", *MEMBER_ARGS, timeout=120)
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
    done = run_cli(env, "run", *MEMBER_ARGS)
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
