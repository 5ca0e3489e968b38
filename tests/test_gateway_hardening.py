"""Team gateway hardening with real components: REAL LiteLLM instances (``proxy start
--gateway``) sharing a REAL ``redis-server`` that wants a password (``REDIS_PASSWORD`` in the
gateways' environment, never in the URL), over plain TCP and over TLS only (a throwaway CA),
with ``gateway.allowed_fails_policy`` in effect; fake upstreams on 127.0.0.1.

==========  =========================================================  =======================
alias       deployments (order)                                        used by
==========  =========================================================  =======================
h-auth      1: huggingface fake-401, 2: qwen fake-ok                   authentication: 0
h-rate      1: huggingface fake-429, 2: qwen fake-ok                   rate_limit: 2
h-tokens    1: huggingface fake-tokens                                 tpm
==========  =========================================================  =======================

The generic ``allowed_fails`` is 5: without the policy neither deployment would cool down within
these few requests, so each test fails if the policy does not reach LiteLLM.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from helpers.ci import missing_precondition
from helpers.e2e import user_config
from helpers.fake_chat_server import FakeChatServer
from helpers.fake_responses import REPLY_TEXT, FakeResponses
from helpers.gateway_team import (
    CODEX_BIN,
    MASTER_KEY,
    Gateway,
    base_env,
    cli,
    gateway_env,
    require_litellm_and_redis,
    run_cli,
    running_gateways,
)
from helpers.net import free_port
from helpers.redis_server import RedisServer, TlsFiles, make_tls_files

pytestmark = [pytest.mark.team, pytest.mark.proxy]


REDIS_PASSWORD = "redis test password 7f3a9c"  # a space: it must travel binary-safe
RATE_LIMIT_ALLOWED = 2
#: tokens per minute per deployment: each fake answer counts 16 (11 prompt + 5 completion), so
#: about 7 requests exhaust it, while the other aliases' deployments stay below it
TPM = 120
COOLDOWN_REDIS_READ_INTERVAL = 1.0  # seconds: see _let_siblings_see_cooldowns
POLICY = f"""\
aliases:
  h-auth:
    huggingface_model: fake-401
    local_model: fake-ok
    upstreams: [huggingface, qwen]
    fallbacks: []
  h-rate:
    huggingface_model: fake-429
    local_model: fake-ok
    upstreams: [huggingface, qwen]
    fallbacks: []
  h-tokens:
    huggingface_model: fake-tokens
    upstreams: [huggingface]
    fallbacks: []
gateway:
  tpm: {TPM}
  allowed_fails: 5
  cooldown_seconds: 120
  allowed_fails_policy:
    authentication: 0
    rate_limit: {RATE_LIMIT_ALLOWED}
"""


@dataclass
class SecuredTeam:
    redis: RedisServer
    upstream: FakeChatServer
    a: Gateway
    b: Gateway
    root: Path


def _tls_files(root: Path) -> TlsFiles:
    try:
        return make_tls_files(root / "tls")
    except FileNotFoundError as exc:
        missing_precondition(f"{exc}: ./scripts/test.sh installs it")


def _secured_team(root: Path, tls: TlsFiles | None) -> Iterator[SecuredTeam]:
    binary = require_litellm_and_redis()
    (root / "policy.yaml").write_text(POLICY)
    redis = RedisServer(binary, root / "redis", password=REDIS_PASSWORD, tls=tls).start()
    upstream = FakeChatServer().start()
    extra = {"CODEX_ROUTE_GATEWAY_REDIS_URL": redis.url, "REDIS_PASSWORD": REDIS_PASSWORD}
    if tls is not None:
        extra["CODEX_ROUTE_GATEWAY_REDIS_CA_FILE"] = str(tls.ca)
    envs = [gateway_env(root, name, upstream.base_url, extra) for name in ("a", "b")]
    try:
        with running_gateways(envs, REDIS_PASSWORD) as (a, b):
            yield SecuredTeam(redis, upstream, a, b, root)
    finally:
        upstream.stop()
        redis.stop()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredTeam]:
    """Redis with a password over plain TCP (the documented way)."""
    yield from _secured_team(tmp_path_factory.mktemp("gateway-password"), None)


@pytest.fixture(scope="module")
def tls_team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredTeam]:
    """Redis with a password over TLS only (no plain port), its CA in gateway.redis_ca_file."""
    root = tmp_path_factory.mktemp("gateway-tls")
    yield from _secured_team(root, _tls_files(root))


def _config(gateway: Gateway) -> dict[str, object]:
    text = next(Path(gateway.env["CODEX_ROUTE_HOME"]).rglob("litellm.yaml")).read_text()
    assert REDIS_PASSWORD not in text
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _served_by(alias: str, gateways: list[Gateway]) -> list[str | None]:
    return [g.post(alias).headers.get("x-litellm-model-id") for g in gateways]


def _let_siblings_see_cooldowns() -> None:
    """An instance re-reads a cooldown it has not seen from Redis at most once a second
    (LiteLLM's DEFAULT_COOLDOWN_REDIS_READ_INTERVAL_SECONDS, litellm/constants.py): a request
    to a sibling within that second may still try the deployment that just cooled down."""
    time.sleep(COOLDOWN_REDIS_READ_INTERVAL + 0.5)


def _assert_one_auth_failure_cools_for_every_instance(team: SecuredTeam) -> None:
    mark = len(team.upstream.requests)
    served = _served_by("h-auth", [team.a])
    _let_siblings_see_cooldowns()
    served += _served_by("h-auth", [team.b, team.a, team.b])
    # authentication: 0 → A's first 401 cools order 1 at once; B (and A) skip it from then on
    assert team.upstream.models_requested()[mark:].count("fake-401") == 1, served
    assert served[1:] == ["h-auth/2/qwen"] * 3, served
    # the cooldown lives in the password-protected Redis (LiteLLM's key names the deployment)
    assert b"h-auth/1/huggingface" in team.redis.command("KEYS", "*")


def test_the_password_reaches_litellm_from_the_environment_only(secured: SecuredTeam) -> None:
    router = _config(secured.a)["router_settings"]
    assert isinstance(router, dict)
    assert router["redis_port"] == secured.redis.port and "redis_password" not in router
    assert router["allowed_fails_policy"] == {
        "AuthenticationErrorAllowedFails": 0,
        "RateLimitErrorAllowedFails": RATE_LIMIT_ALLOWED,
    }


def test_instances_share_a_cooldown_through_a_redis_with_a_password(secured: SecuredTeam) -> None:
    _assert_one_auth_failure_cools_for_every_instance(secured)


def test_rate_limits_are_allowed_as_the_policy_says_across_instances(
    secured: SecuredTeam,
) -> None:
    mark = len(secured.upstream.requests)
    served = _served_by("h-rate", [secured.a, secured.b, secured.a])
    before = secured.upstream.models_requested()[mark:].count("fake-429")
    _let_siblings_see_cooldowns()
    served += _served_by("h-rate", [secured.b, secured.a, secured.b])
    after = secured.upstream.models_requested()[mark:].count("fake-429") - before
    # rate_limit: 2 → the 429s of the first two requests (on A, then B) are allowed; the
    # third (A) makes the shared count 3 and cools the deployment for both instances
    assert (before, after) == (RATE_LIMIT_ALLOWED + 1, 0), served
    assert served[3:] == ["h-rate/2/qwen"] * 3, served


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (None, "Redis requires a password and REDIS_PASSWORD is not set"),
        ("not the password", "Redis refused REDIS_PASSWORD (wrong password)"),
    ],
    ids=["missing", "wrong"],
)
def test_a_gateway_refuses_a_redis_it_cannot_authenticate_to(
    secured: SecuredTeam, password: str | None, message: str
) -> None:
    env = gateway_env(
        secured.root,
        f"refused-{free_port()}",
        secured.upstream.base_url,
        {"CODEX_ROUTE_GATEWAY_REDIS_URL": secured.redis.url},
    )
    if password is not None:
        env["REDIS_PASSWORD"] = password
    proc = cli(env, "proxy", "start", "--gateway", "--port", str(free_port()))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    assert message in err and "CODEX_ROUTE_GATEWAY_REDIS_URL" in err, err
    assert REDIS_PASSWORD not in out + err and (password is None or password not in out + err)
    assert not list(Path(env["CODEX_ROUTE_HOME"]).rglob("proxy.json"))  # litellm never ran


def test_router_state_goes_through_tls(tls_team: SecuredTeam) -> None:
    router = _config(tls_team.a)["router_settings"]
    assert isinstance(router, dict)
    assert router["cache_kwargs"] == {
        "ssl": True,
        "ssl_ca_certs": str(tls_team.root / "tls" / "ca.pem"),
    }
    # the Redis has no plain port: any shared state went through TLS
    _assert_one_auth_failure_cools_for_every_instance(tls_team)


def test_a_gateway_refuses_a_tls_redis_it_cannot_trust(tls_team: SecuredTeam) -> None:
    env = gateway_env(
        tls_team.root,
        f"untrusted-{free_port()}",
        tls_team.upstream.base_url,
        {"CODEX_ROUTE_GATEWAY_REDIS_URL": tls_team.redis.url, "REDIS_PASSWORD": REDIS_PASSWORD},
    )
    proc = cli(env, "proxy", "start", "--gateway", "--port", str(free_port()))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, out + err
    assert "TLS certificate is not trusted" in err and "redis_ca_file" in err, err
    assert REDIS_PASSWORD not in out + err


def test_proxy_status_json_shows_the_gateway_settings_in_effect(secured: SecuredTeam) -> None:
    proc = cli(secured.a.env, "proxy", "status", "--json")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    status = json.loads(out)
    gateway = status["gateway"]
    assert gateway["master_key"] == "set" and gateway["redis_password"] == "set"
    settings = gateway["settings"]
    assert settings["redis_url"] == {
        "value": secured.redis.url,
        "source": "env",
        "origin": "CODEX_ROUTE_GATEWAY_REDIS_URL",
    }
    policy_file = str(secured.root / "policy.yaml")
    assert settings["allowed_fails_policy"] == {
        "value": {"authentication": 0, "rate_limit": RATE_LIMIT_ALLOWED},
        "source": "file",
        "origin": "gateway.allowed_fails_policy",
        "file": policy_file,
        "line": 21,
    }
    assert settings["routing_strategy"]["source"] == "default"
    assert MASTER_KEY not in out and REDIS_PASSWORD not in out


def _wait_for_a_fresh_minute() -> None:
    """tpm windows are calendar minutes: keep the whole test inside one."""
    if time.gmtime().tm_sec > 40:
        time.sleep(61 - time.gmtime().tm_sec)


def test_the_tpm_limit_is_enforced_by_an_instance(secured: SecuredTeam) -> None:
    """gateway.tpm reaches LiteLLM and holds. It is NOT shared between instances in LiteLLM
    1.106.2 (docs/team.md: each instance routes on its own in-memory token count)."""
    _wait_for_a_fresh_minute()
    served = _served_by("h-tokens", [secured.a] * 10)
    limited = "h-tokens/1/huggingface"
    cut = next((i for i, name in enumerate(served) if name != limited), len(served))
    # 16 tokens per answer: out of tokens after about TPM / 16 requests, then routed around
    assert 5 <= cut <= TPM // 16, served
    assert limited not in served[cut:] and None not in served, served


def _ipv6_loopback_missing() -> str | None:
    """Why this machine cannot bind ::1 (None: it can)."""
    if not socket.has_ipv6:
        return "this Python was built without IPv6"
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError as exc:
        return f"the kernel has no IPv6 loopback (binding ::1: {exc.strerror})"
    return None


def test_a_gateway_binds_ipv6_loopback(secured: SecuredTeam) -> None:
    missing = _ipv6_loopback_missing()
    if missing is not None:
        pytest.skip(missing)  # a property of the machine, not a missing install
    env = gateway_env(
        secured.root,
        f"ipv6-{free_port()}",
        secured.upstream.base_url,
        {"CODEX_ROUTE_GATEWAY_REDIS_URL": secured.redis.url, "REDIS_PASSWORD": REDIS_PASSWORD},
    )
    with running_gateways([env], REDIS_PASSWORD, host="::1") as (gateway,):
        proc = cli(env, "proxy", "status", "--json")
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        status = json.loads(out)
        assert status["host"] == "::1"
        assert status["base_url"] == f"http://[::1]:{gateway.port}/v1"
        resp = httpx.post(
            f"{status['base_url']}/chat/completions",
            json={"model": "h-tokens", "messages": [{"role": "user", "content": "say hi"}]},
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            timeout=60,
            trust_env=False,
        )
        assert resp.status_code == 200, resp.text


def _member_plan(member: dict[str, str]) -> dict[str, dict[str, object]]:
    done = run_cli(member, "run", "--dry-run", "--json", "say hi", timeout=120)
    assert done.returncode == 0, done.stderr
    return {path["name"]: path for path in json.loads(done.stdout)["paths"]}


def test_a_member_falls_back_when_its_gateway_stops_answering(secured: SecuredTeam) -> None:
    if not CODEX_BIN.exists():
        missing_precondition(
            "the real codex is not installed: run ./scripts/test.sh (npm ci --prefix tools)"
        )
    gateway_host = gateway_env(
        secured.root,
        f"down-{free_port()}",
        secured.upstream.base_url,
        {"CODEX_ROUTE_GATEWAY_REDIS_URL": secured.redis.url, "REDIS_PASSWORD": REDIS_PASSWORD},
    )
    member = base_env(secured.root, f"member-{free_port()}")
    member_policy = Path(member["HOME"]) / "policy.yaml"
    member_policy.write_text("fallback_order: [litellm, standard]\n")
    with FakeResponses("ok") as standard, running_gateways([gateway_host]) as (gateway,):
        # the member's own Codex login: the standard path, a fake Responses server
        Path(member["CODEX_HOME"], "config.toml").write_bytes(user_config(standard.base_url))
        member.update(
            {
                "CODEX_ROUTE_POLICY": str(member_policy),
                "CODEX_ROUTE_LITELLM_BASE_URL": gateway.base_url,
                "LITELLM_API_KEY": MASTER_KEY,
                "CODEX_ROUTE_CODEX_BIN": str(CODEX_BIN),
                "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",
                "FAKE_KEY": "fake-user-key",
            }
        )
        assert _member_plan(member)["litellm"]["ready"] is True
        stop = cli(gateway_host, "proxy", "stop")
        stop.communicate(timeout=60)
        assert stop.returncode == 0
        plan = _member_plan(member)
        assert plan["litellm"]["ready"] is False and "down" in str(plan["litellm"]["reason"])
        assert plan["standard"]["ready"] is True, plan["standard"]
        done = run_cli(member, "run", "say hi")
        assert done.returncode == 0, done.stderr
        assert REPLY_TEXT in done.stdout
        assert len(standard.requests) == 1  # the run went to the next path of fallback_order
    assert MASTER_KEY not in done.stdout + done.stderr
    history = run_cli(member, "history", "--json", "--limit", "1", timeout=60)
    [record] = [json.loads(line) for line in history.stdout.splitlines() if line.strip()]
    assert [a["path"] for a in record["attempts"]] == ["standard"]
