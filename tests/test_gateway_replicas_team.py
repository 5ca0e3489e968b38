"""``gateway.replicas`` with real components: two REAL LiteLLM gateways (``proxy start
--gateway``) sharing a REAL ``redis-server``, each upstream with a replica at its own order, so
LiteLLM's routing strategy balances between the two; fake upstreams on 127.0.0.1, one server
per deployment so each request's destination is known.

========  ==========================================  =========================================
team      deployments of the alias (all at order 1)   proves
========  ==========================================  =========================================
latency   r-lat: huggingface → slow (+0.4 s),         latency-based-routing prefers the fast one
          huggingface/2 (HF_TOKEN_FAST) → fast
latency   r-cool: qwen → always 429,                  a 429 cools one replica down on both
          qwen/2 → ok                                 instances; its sibling serves
usage     r-use: huggingface (gateway.rpm 3) → own,   usage-based-routing-v2: each replica's
          huggingface/2 (rpm 5) → second              own rpm, across both instances
========  ==========================================  =========================================
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from helpers.fake_chat_server import FakeChatServer
from helpers.gateway_team import (
    Gateway,
    cli,
    gateway_env,
    require_litellm_and_redis,
    running_gateways,
    wait_for_a_fresh_minute,
)
from helpers.redis_server import RedisServer

pytestmark = [pytest.mark.team, pytest.mark.proxy]

SLOW_SECONDS = 0.4
OWN_RPM = 3
REPLICA_RPM = 5
#: LiteLLM counts rpm in memory and adds the counts to Redis once a second
#: (DEFAULT_REDIS_SYNC_INTERVAL): another instance sees them after that
REDIS_SYNC_INTERVAL = 1.0
#: LiteLLM reads cooldowns from Redis at most once a second (docs/team.md, "Limits of the
#: shared state"): a sibling instance sees a cooldown after that, not at once
COOLDOWN_REDIS_READ_INTERVAL = 1.0
FAST_TOKEN = "hf-fast-replica-dummy-token"

LATENCY_POLICY = """\
aliases:
  r-warm:
    huggingface_model: fake-warm
    upstreams: [huggingface]
    fallbacks: []
  r-lat:
    huggingface_model: fake-lat
    upstreams: [huggingface]
    fallbacks: []
  r-cool:
    local_model: fake-cool
    upstreams: [qwen]
    fallbacks: []
gateway:
  routing_strategy: latency-based-routing
  allowed_fails: 0
  cooldown_seconds: 120
  replicas:
    huggingface:
      - key_var: HF_TOKEN_FAST
        api_base: {fast}
    qwen:
      - api_base: {ok}
"""
USAGE_POLICY = f"""\
aliases:
  r-use:
    huggingface_model: fake-use
    upstreams: [huggingface]
    fallbacks: []
gateway:
  routing_strategy: usage-based-routing-v2
  rpm: {OWN_RPM}
  replicas:
    huggingface:
      - key_var: HF_TOKEN_SECOND
        api_base: {{second}}
        rpm: {REPLICA_RPM}
"""


@dataclass
class Pair:
    a: Gateway
    b: Gateway
    servers: dict[str, FakeChatServer]


def _pair(
    root: Path, policy: str, servers: dict[str, FakeChatServer], own: str, local: str
) -> Iterator[Pair]:
    """Two gateways sharing a fresh Redis; ``own``/``local``: the servers of huggingface's and
    qwen's own deployments (replicas name theirs in the policy)."""
    binary = require_litellm_and_redis()
    for server in servers.values():
        server.start()
    (root / "policy.yaml").write_text(
        policy.format(**{name: s.base_url for name, s in servers.items()})
    )
    redis = RedisServer(binary, root / "redis").start()
    extra = {
        "CODEX_ROUTE_GATEWAY_REDIS_URL": redis.url,
        "CODEX_ROUTE_OLLAMA_BASE_URL": servers[local].base_url,
        "HF_TOKEN_FAST": FAST_TOKEN,
        "HF_TOKEN_SECOND": FAST_TOKEN,
    }
    envs = [gateway_env(root, name, servers[own].base_url, extra) for name in ("a", "b")]
    try:
        with running_gateways(envs, FAST_TOKEN) as (a, b):
            yield Pair(a, b, servers)
    finally:
        for server in servers.values():
            server.stop()
        redis.stop()


@pytest.fixture(scope="module")
def latency(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    limited = FakeChatServer()
    limited.rate_limited = True
    servers = {
        "slow": FakeChatServer(response_delay=SLOW_SECONDS),
        "fast": FakeChatServer(),
        "limited": limited,
        "ok": FakeChatServer(),
    }
    root = tmp_path_factory.mktemp("replicas-latency")
    yield from _pair(root, LATENCY_POLICY, servers, own="slow", local="limited")


@pytest.fixture(scope="module")
def usage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    servers = {"own": FakeChatServer(), "second": FakeChatServer(), "local": FakeChatServer()}
    root = tmp_path_factory.mktemp("replicas-usage")
    yield from _pair(root, USAGE_POLICY, servers, own="own", local="local")


def _served_by(gateway: Gateway, alias: str) -> str | None:
    resp = gateway.post(alias)
    return resp.headers.get("x-litellm-model-id") if resp.status_code == 200 else None


def test_replicas_share_their_upstreams_order_in_the_generated_config(latency: Pair) -> None:
    text = next(Path(latency.a.env["CODEX_ROUTE_HOME"]).rglob("litellm.yaml")).read_text()
    assert FAST_TOKEN not in text
    entries = {
        e["model_info"]["id"]: e["litellm_params"]
        for e in yaml.safe_load(text)["model_list"]
        if e["model_name"] == "r-lat"
    }
    assert {i: p["order"] for i, p in entries.items()} == {
        "r-lat/1/huggingface": 1,
        "r-lat/1/huggingface/2": 1,
    }
    assert entries["r-lat/1/huggingface/2"]["api_key"] == "os.environ/HF_TOKEN_FAST"
    done = cli(latency.a.env, "proxy", "status", "--json")
    out, _err = done.communicate(timeout=60)
    hf = json.loads(out)["replicas"]["huggingface"]
    assert hf[0]["key_var"] == "HF_TOKEN_FAST" and "r-lat" in hf[0]["aliases"]
    assert FAST_TOKEN not in out


def test_latency_based_routing_prefers_the_fast_replica(latency: Pair) -> None:
    slow, fast = latency.servers["slow"], latency.servers["fast"]
    # An instance's first request takes about 2 s whatever the deployment (LiteLLM warming up);
    # measured on r-lat it would park the fast replica behind the slow one (LiteLLM never
    # re-measures a deployment it stopped choosing): warm each instance on another alias first.
    for gateway in (latency.a, latency.b):
        assert _served_by(gateway, "r-warm") is not None
    # warm-up: each instance measures both deployments (one without a latency yet goes first);
    # the latency stats are per instance (docs/team.md, "Limits of the shared state")
    for gateway in (latency.a, latency.b) * 3:
        assert _served_by(gateway, "r-lat") is not None
    assert slow.requests and fast.requests  # both were measured
    for gateway in (latency.a, latency.b):
        served = [_served_by(gateway, "r-lat") for _ in range(10)]
        # "most", not all: a busy machine can slow the fast one's single answer past 0.4 s
        assert served.count("r-lat/1/huggingface/2") >= 8, served
    assert all(r["has_auth"] for r in fast.requests)  # HF_TOKEN_FAST reached LiteLLM


def test_a_rate_limited_replica_cools_down_on_both_instances(latency: Pair) -> None:
    limited, ok = latency.servers["limited"], latency.servers["ok"]
    # instance A: until it has tried the rate-limited replica once (an untried one goes first)
    # (r-cool's own requests: a 429 also sends one on to the local fallback group, whose qwen
    # deployment is on the same server under another model name)
    for _ in range(6):
        latency.a.post("r-cool")
        if "fake-cool" in limited.models_requested():
            break
    assert limited.models_requested().count("fake-cool") == 1
    time.sleep(COOLDOWN_REDIS_READ_INTERVAL + 0.2)
    served = [_served_by(g, "r-cool") for g in (latency.b, latency.a) * 4]
    # B never measured the limited replica, so without the shared cooldown it would try it
    assert served == ["r-cool/1/qwen/2"] * 8, served
    assert limited.models_requested().count("fake-cool") == 1
    assert "fake-cool" in ok.models_requested()


def test_each_replicas_rpm_is_counted_across_instances(usage: Pair) -> None:
    own, second = usage.servers["own"], usage.servers["second"]
    # LiteLLM 1.106.2 passes a deployment that has siblings at most rpm - 1 requests a minute:
    # its selection skips one whose count + 1 reaches rpm (docs/team.md)
    own_share, second_share = OWN_RPM - 1, REPLICA_RPM - 1
    wait_for_a_fresh_minute()
    # instance A fills both: its own deployment up to gateway.rpm, the replica up to its own
    # (higher) rpm, then the local fallback
    served_a = [_served_by(usage.a, "r-use") for _ in range(own_share + second_share + 1)]
    assert sorted(served_a[:-1], key=str) == sorted(
        ["r-use/1/huggingface"] * own_share + ["r-use/1/huggingface/2"] * second_share
    ), served_a
    assert served_a[-1] is None or served_a[-1].startswith("codex-qwen-local/"), served_a
    time.sleep(REDIS_SYNC_INTERVAL + 0.2)
    # instance B has served nothing, yet counts A's requests (through Redis): neither replica
    # gets one more this minute
    served_b = [_served_by(usage.b, "r-use") for _ in range(own_share + second_share)]
    assert not any(s and s.startswith("r-use/") for s in served_b), served_b
    assert (len(own.requests), len(second.requests)) == (own_share, second_share)
