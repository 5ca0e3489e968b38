"""Team gateway mode without processes: the ``gateway:`` settings and their provenance, the
Redis URL check, LiteLLM's router_settings, the operator key rule, the command's flags.
The real Redis and LiteLLM instances are in tests/test_gateway_team.py."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from codex_router.dirs import app_dirs
from codex_router.errors import PolicyError, ProxyError, UsageError
from codex_router.policy.gateway import resolve_gateway
from codex_router.policy.settings import resolve_settings
from codex_router.proxy import redis_check
from codex_router.proxy.config import (
    GatewayRouting,
    ProxyEndpoints,
    ProxyOptions,
    build_proxy_config,
)
from codex_router.proxy.process import (
    StartRequest,
    gateway_master_key,
    gateway_routing,
    proxy_status,
    start_proxy,
    stop_proxy,
)
from codex_router.proxy.state import proxy_files

from helpers.fake_litellm import make_fake_litellm
from helpers.net import free_port

ENDPOINTS = ProxyEndpoints("http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1")
KEY = "sk-" + "k" * 40


def _gateway(tmp_path: Path, policy: str, env: dict[str, str], flags: dict[str, Any]) -> Any:
    file = tmp_path / "policy.yaml"
    file.write_text(policy)
    dirs = app_dirs({"CODEX_ROUTE_HOME": str(tmp_path / "home")})
    settings = resolve_settings({}, {}, dirs, policy_flag=file)
    return resolve_gateway(flags, env, settings.policy)


@pytest.mark.parametrize(
    ("policy", "env", "flags", "name", "value", "source"),
    [
        ("{}", {}, {}, "redis_url", None, "default"),
        ("{}", {}, {}, "routing_strategy", "usage-based-routing-v2", "default"),
        ("gateway:\n  rpm: 7\n", {}, {}, "rpm", 7, "file"),
        ("gateway:\n  rpm: 7\n", {"CODEX_ROUTE_GATEWAY_RPM": "9"}, {}, "rpm", 9, "env"),
        (
            "gateway:\n  host: 0.0.0.0\n",
            {"CODEX_ROUTE_GATEWAY_HOST": "10.0.0.2"},
            {"host": "10.0.0.3"},
            "host",
            "10.0.0.3",
            "flag",
        ),
        (
            "gateway:\n  redis_url: redis://10.0.0.7:6379\n",
            {},
            {},
            "redis_url",
            "redis://10.0.0.7:6379",
            "file",
        ),
        ("{}", {}, {"port": 4100}, "port", 4100, "flag"),
    ],
)
def test_gateway_settings_resolve_with_provenance(
    tmp_path: Path,
    policy: str,
    env: dict[str, str],
    flags: dict[str, Any],
    name: str,
    value: Any,
    source: str,
) -> None:
    gateway = _gateway(tmp_path, policy, env, flags)
    assert gateway[name] == value
    assert gateway.values[name].source == source
    if source == "file":
        assert gateway.values[name].file == str(tmp_path / "policy.yaml")
        assert gateway.values[name].line == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.7:6379", "redis:// or rediss://"),
        ("redis://:s3cret@10.0.0.7:6379", "REDIS_PASSWORD"),
        ("redis://10.0.0.7", "host and port"),
        ("redis://10.0.0.7:6379/3", "database 0"),
        ("redis://10.0.0.7:99999", "1 to 65535"),
    ],
)
def test_a_bad_redis_url_is_refused_without_echoing_a_password(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        _gateway(tmp_path, f"gateway:\n  redis_url: {url}\n", {}, {})
    assert message in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert "gateway.redis_url" in str(caught.value)


def test_a_bad_flag_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--redis-url"):
        _gateway(tmp_path, "{}", {}, {"redis_url": "http://x:1"})


def _policy_with_two_deployments(tmp_path: Path) -> Any:
    file = tmp_path / "p.yaml"
    file.write_text(
        "aliases:\n  t-pair:\n    huggingface_model: hf-m\n    local_model: q-m\n"
        "    upstreams: [huggingface, qwen]\n    fallbacks: []\n"
    )
    dirs = app_dirs({"CODEX_ROUTE_HOME": str(tmp_path / "home")})
    return resolve_settings({}, {}, dirs, policy_flag=file).policy


ROUTING = GatewayRouting("10.0.0.7", 6380, "latency-based-routing", 2, 45, rpm=60, tpm=0)


@pytest.mark.parametrize(
    ("routing", "router", "limits"),
    [
        (None, {"num_retries": 0, "allowed_fails": 1, "cooldown_time": 30}, {}),
        (
            ROUTING,
            {
                "num_retries": 0,
                "routing_strategy": "latency-based-routing",
                "allowed_fails": 2,
                "cooldown_time": 45,
                "redis_host": "10.0.0.7",
                "redis_port": 6380,
                "cache_responses": False,
            },
            {"rpm": 60},
        ),
        (
            dataclasses.replace(ROUTING, redis_host=None, tpm=1000, rpm=0),
            {
                "num_retries": 0,
                "routing_strategy": "latency-based-routing",
                "allowed_fails": 2,
                "cooldown_time": 45,
            },
            {"tpm": 1000},
        ),
    ],
    ids=["local-proxy", "gateway-with-redis", "gateway-alone"],
)
def test_router_settings_share_state_only_in_gateway_mode(
    tmp_path: Path,
    routing: GatewayRouting | None,
    router: dict[str, Any],
    limits: dict[str, int],
) -> None:
    config = build_proxy_config(
        _policy_with_two_deployments(tmp_path), ENDPOINTS, ProxyOptions(), frozenset({"HF_TOKEN"})
    )
    data = yaml.safe_load(config.to_yaml(gateway=routing))
    settings = dict(data["router_settings"])
    settings.pop("fallbacks")
    assert settings == router
    pair = [e for e in data["model_list"] if e["model_name"] == "t-pair"]
    assert [e["model_info"]["id"] for e in pair] == ["t-pair/1/huggingface", "t-pair/2/qwen"]
    for entry in pair:
        assert {k: entry["litellm_params"][k] for k in limits} == limits
        assert not {"rpm", "tpm"} - set(limits) & set(entry["litellm_params"])
    assert "password" not in yaml.safe_dump(data)


def test_deployment_ids_have_no_colon_for_usage_based_routing(tmp_path: Path) -> None:
    config = build_proxy_config(
        _policy_with_two_deployments(tmp_path), ENDPOINTS, ProxyOptions(), frozenset({"HF_TOKEN"})
    )
    assert all(":" not in d.deployment_id for ds in config.groups.values() for d in ds)


def test_gateway_routing_takes_the_resolved_redis(tmp_path: Path) -> None:
    gateway = _gateway(tmp_path, "gateway:\n  redis_url: redis://10.1.2.3:7000/0\n", {}, {})
    routing = gateway_routing(gateway)
    assert (routing.redis_host, routing.redis_port) == ("10.1.2.3", 7000)
    assert routing.routing_strategy == "usage-based-routing-v2"


@pytest.mark.parametrize(
    ("env", "host", "expected"),
    [
        ({}, "127.0.0.1", None),  # loopback alone: a fresh session key
        ({"CODEX_ROUTE_GATEWAY_MASTER_KEY": KEY}, "127.0.0.1", KEY),
        ({"CODEX_ROUTE_GATEWAY_MASTER_KEY": KEY}, "0.0.0.0", KEY),
        ({}, "0.0.0.0", "needs CODEX_ROUTE_GATEWAY_MASTER_KEY"),
        ({}, "10.0.0.2", "needs CODEX_ROUTE_GATEWAY_MASTER_KEY"),
        ({"CODEX_ROUTE_GATEWAY_MASTER_KEY": "sk-short"}, "0.0.0.0", "shorter than 32"),
    ],
)
def test_a_gateway_beyond_loopback_needs_the_operator_key(
    env: dict[str, str], host: str, expected: str | None
) -> None:
    if expected is None or expected.startswith("sk-"):
        assert gateway_master_key(env, host) == expected
        return
    with pytest.raises(ProxyError) as caught:
        gateway_master_key(env, host)
    assert expected in str(caught.value)
    assert "sk-short" not in str(caught.value) + str(caught.value.hint)


@pytest.mark.parametrize("flag", [["--host", "0.0.0.0"], ["--redis-url", "redis://h:1"]])
def test_host_and_redis_url_need_gateway_mode(flag: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codex_router", "proxy", "start", *flag],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    assert "apply to a team gateway only" in done.stderr and "--gateway" in done.stderr
    assert done.stdout == ""


# --- proxy start --gateway with the stand-in litellm (tests/helpers/fake_litellm.py) -----------


@pytest.fixture
def fake_litellm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    exe = make_fake_litellm(tmp_path / "fakevenv")
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BIN", str(exe))
    monkeypatch.setenv("FAKE_LITELLM_REPORT", str(tmp_path / "report.json"))
    yield tmp_path / "report.json"
    stop_proxy(app_dirs(), grace=3.0)


@pytest.fixture
def listening() -> Iterator[int]:
    """A port standing in for Redis: it answers each command with ``+PONG`` (start only checks
    that Redis answers PING; the real redis-server is in tests/test_gateway_hardening.py)."""

    def answer(sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # the fixture closed the socket
            with conn:
                while conn.recv(4096):
                    conn.sendall(b"+PONG\r\n")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        threading.Thread(target=answer, args=(sock,), daemon=True).start()
        yield int(sock.getsockname()[1])
        sock.shutdown(socket.SHUT_RDWR)


def test_a_gateway_binds_the_chosen_address_with_the_operator_key(
    fake_litellm: Path, listening: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_ROUTE_GATEWAY_MASTER_KEY", KEY)
    monkeypatch.setenv("CODEX_ROUTE_GATEWAY_REDIS_URL", f"redis://127.0.0.1:{listening}")
    port = free_port()
    # 127.0.0.2: beyond 127.0.0.1 (so the key rule applies) yet still this machine's loopback
    args = ["proxy", "start", "--gateway", "--host", "127.0.0.2", "--port", str(port)]
    done = subprocess.run(
        [sys.executable, "-m", "codex_router", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(fake_litellm.read_text())
    assert report["argv"][-4:] == ["--host", "127.0.0.2", "--port", str(port)]
    assert report["env_sha256"]["LITELLM_MASTER_KEY"] == hashlib.sha256(KEY.encode()).hexdigest()
    files = proxy_files(app_dirs())
    config = yaml.safe_load(files.config.read_text())
    assert config["router_settings"]["redis_port"] == listening
    assert "gateway host: 127.0.0.2 (--host)" in done.stdout
    assert "gateway redis_url: redis://127.0.0.1:" in done.stdout
    assert "(CODEX_ROUTE_GATEWAY_REDIS_URL)" in done.stdout
    assert all(len(line) <= 80 for line in done.stdout.splitlines() if "gateway" in line)
    for text in (done.stdout, done.stderr, files.config.read_text(), files.record.read_text()):
        assert KEY not in text and KEY[3:20] not in text
    status = proxy_status(app_dirs())
    assert status.running and status.healthy and status.record is not None
    assert status.record.host == "127.0.0.2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CODEX_ROUTE_GATEWAY_REDIS_URL": "redis://127.0.0.1:{refused}"}, "does not answer"),
        ({"CODEX_ROUTE_GATEWAY_HOST": "127.0.0.2"}, "needs CODEX_ROUTE_GATEWAY_MASTER_KEY"),
    ],
    ids=["redis-down", "no-operator-key"],
)
def test_a_gateway_that_cannot_be_shared_safely_does_not_start(
    fake_litellm: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(refused=free_port()))
    with pytest.raises(ProxyError) as caught:
        start_proxy(
            StartRequest(gateway=True, gateway_flags={"port": free_port()}),
            env=os.environ,
            dirs=app_dirs(),
        )
    assert message in str(caught.value)
    assert not fake_litellm.exists()  # litellm never ran
    files = proxy_files(app_dirs())
    assert not files.record.exists() and not files.key.exists()


# --- Redis with a password or TLS, allowed_fails_policy (real components:
# tests/test_gateway_hardening.py) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "ping", "expected"),
    [
        (None, b"+PONG\r\n", None),
        (b"+OK\r\n", b"+PONG\r\n", None),
        (None, b"-NOAUTH Authentication required.\r\n", "REDIS_PASSWORD is not set"),
        (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            b"-NOAUTH Authentication required.\r\n",
            "refused REDIS_PASSWORD (wrong password)",
        ),
        (
            b"-ERR AUTH <password> called without any password configured for the default "
            b"user. Are you sure your configuration is correct?\r\n",
            b"+PONG\r\n",
            "Redis has no password",
        ),
        (None, b"", "closed the connection"),
        (None, b"HTTP/1.1 400 Bad Request\r\n", "does not speak Redis"),
        (None, b"-LOADING Redis is loading the dataset in memory\r\n", "answered PING with"),
    ],
    ids=["open", "authenticated", "noauth", "wrongpass", "no-password-set", "closed", "http", "x"],
)
def test_redis_replies_are_judged_without_naming_the_password(
    auth: bytes | None, ping: bytes, expected: str | None
) -> None:
    problem = redis_check.judge(auth, ping)
    if expected is None:
        assert problem is None
        return
    assert problem is not None and expected in problem.message


def test_commands_are_binary_safe_for_a_password_with_spaces() -> None:
    assert redis_check.encode_command("AUTH", "a b\r\n") == b"*2\r\n$4\r\nAUTH\r\n$5\r\na b\r\n\r\n"


@pytest.mark.parametrize(
    ("policy", "env", "expected"),
    [
        ("{}", {}, None),
        (
            "gateway:\n  allowed_fails_policy:\n    rate_limit: 3\n    authentication: 0\n",
            {},
            {"rate_limit": 3, "authentication": 0},
        ),
        (
            "gateway:\n  allowed_fails_policy: {rate_limit: 3}\n",
            {"CODEX_ROUTE_GATEWAY_ALLOWED_FAILS_POLICY": "internal_server=1, not_found=0"},
            {"internal_server": 1, "not_found": 0},
        ),
        ("gateway:\n  allowed_fails_policy: {}\n", {}, None),
    ],
    ids=["default", "file", "env-over-file", "empty"],
)
def test_allowed_fails_policy_resolves_per_error_class(
    tmp_path: Path, policy: str, env: dict[str, str], expected: dict[str, int] | None
) -> None:
    gateway = _gateway(tmp_path, policy, env, {})
    assert gateway["allowed_fails_policy"] == expected
    assert gateway.provenance()["allowed_fails_policy"]["value"] == expected


@pytest.mark.parametrize(
    ("policy", "env", "message", "where"),
    [
        (
            "gateway:\n  allowed_fails_policy:\n    rate_limt: 3\n",
            {},
            "'rate_limt' is not one of",
            "did you mean 'rate_limit'",
        ),
        (
            "gateway:\n  allowed_fails_policy:\n    timeout: -1\n",
            {},
            "timeout: must be at least 0",
            "",
        ),
        ("gateway:\n  allowed_fails_policy: 3\n", {}, "expected a mapping", ""),
        (
            "{}",
            {"CODEX_ROUTE_GATEWAY_ALLOWED_FAILS_POLICY": "authentication:0"},
            "write class=number",
            "CODEX_ROUTE_GATEWAY_ALLOWED_FAILS_POLICY",
        ),
    ],
    ids=["bad-class", "negative", "not-a-mapping", "env-syntax"],
)
def test_a_bad_allowed_fails_policy_names_the_bad_key(
    tmp_path: Path, policy: str, env: dict[str, str], message: str, where: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        _gateway(tmp_path, policy, env, {})
    shown = str(caught.value) + str(caught.value.hint)
    assert message in shown and where in shown
    if not env:
        assert "gateway.allowed_fails_policy" in shown and "policy.yaml:" in shown


def test_tls_and_the_allowed_fails_policy_reach_litellms_router_settings(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")  # only its existence is checked here
    gateway = _gateway(
        tmp_path,
        "gateway:\n  redis_url: rediss://redis.internal:6380\n  redis_ca_file: ca.pem\n"
        "  allowed_fails_policy: {rate_limit: 4, bad_gateway: 1}\n",
        {},
        {},
    )
    router = gateway_routing(gateway).router_settings()
    assert (router["redis_host"], router["redis_port"]) == ("redis.internal", 6380)
    # relative to the policy file that names it, absolute for LiteLLM
    assert router["cache_kwargs"] == {"ssl": True, "ssl_ca_certs": str(ca.resolve())}
    assert router["allowed_fails_policy"] == {
        "RateLimitErrorAllowedFails": 4,
        "BadGatewayErrorAllowedFails": 1,
    }
    plain = _gateway(tmp_path, "gateway:\n  redis_url: redis://10.0.0.7:6379\n", {}, {})
    assert "cache_kwargs" not in gateway_routing(plain).router_settings()


def test_a_missing_redis_ca_file_is_named_with_where_it_was_set(tmp_path: Path) -> None:
    gateway = _gateway(
        tmp_path,
        "gateway:\n  redis_url: rediss://10.0.0.7:6380\n",
        {"CODEX_ROUTE_GATEWAY_REDIS_CA_FILE": str(tmp_path / "nope.pem")},
        {},
    )
    with pytest.raises(ProxyError) as caught:
        gateway_routing(gateway)
    assert "gateway.redis_ca_file (from CODEX_ROUTE_GATEWAY_REDIS_CA_FILE)" in str(caught.value)
    assert "nope.pem is not a file" in str(caught.value)


@pytest.mark.parametrize(("host", "needs_key"), [("::1", False), ("::", True), ("fd00::7", True)])
def test_ipv6_loopback_is_loopback_and_every_interface_needs_the_key(
    host: str, needs_key: bool
) -> None:
    if not needs_key:
        assert gateway_master_key({}, host) is None
        return
    with pytest.raises(ProxyError, match="needs CODEX_ROUTE_GATEWAY_MASTER_KEY"):
        gateway_master_key({}, host)
