"""Per-member gateway keys with real components: two REAL LiteLLM instances (``proxy start
--gateway``) sharing one Redis and one members file made by ``codex-route proxy keys``, in front
of one fake chat upstream; LiteLLM loads codex-route's ``custom_auth`` hook beside its config.

Members alice, bob and carol get keys before the gateways start; the tests then revoke and
rotate keys on the running instances, without a restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from codex_router.proxy.gateway_auth import key_sha256

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
)
from helpers.net import free_port
from helpers.redis_server import RedisServer

pytestmark = [pytest.mark.team, pytest.mark.proxy]

CLI = [sys.executable, "-m", "codex_router"]
ALIAS = "m-chat"
POLICY = f"""\
aliases:
  {ALIAS}:
    huggingface_model: fake-member
    upstreams: [huggingface]
    fallbacks: []
"""


@dataclass
class Members:
    file: Path
    keys: dict[str, Path]  # member → their key file
    gateways: list[Gateway]
    upstream: FakeChatServer
    root: Path

    def key(self, name: str) -> str:
        return self.keys[name].read_text().strip()


def _keys(members_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI, "proxy", "keys", *args, "--members-file", str(members_file)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return done


def _post(gateway: Gateway, key: str | None, path: str = "/chat/completions") -> httpx.Response:
    body = {"model": ALIAS, "messages": [{"role": "user", "content": "say hi"}]}
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    with httpx.Client(timeout=60, trust_env=False) as client:
        return client.post(f"{gateway.base_url}{path}", json=body, headers=headers)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Members]:
    redis_bin = require_litellm_and_redis()
    root = tmp_path_factory.mktemp("gateway-members")
    (root / "policy.yaml").write_text(POLICY)
    members_file = root / "shared" / "gateway-members.txt"  # what every instance mounts
    keys = {name: root / f"{name}.key" for name in ("alice", "bob", "carol")}
    for name, out in keys.items():
        _keys(members_file, "add", name, "--out", str(out))
    redis = RedisServer(redis_bin, root / "redis").start()
    upstream = FakeChatServer().start()
    extra = {
        "CODEX_ROUTE_GATEWAY_REDIS_URL": redis.url,
        "CODEX_ROUTE_GATEWAY_MEMBERS_FILE": str(members_file),
    }
    envs = [gateway_env(root, name, upstream.base_url, extra) for name in ("a", "b")]
    secrets = [out.read_text().strip() for out in keys.values()]
    try:
        with running_gateways(envs, *secrets) as gateways:
            yield Members(members_file, keys, gateways, upstream, root)
    finally:
        upstream.stop()
        redis.stop()


def test_the_config_names_the_hook_and_holds_no_key(team: Members) -> None:
    for gateway in team.gateways:
        proxy_dir = Path(gateway.env["CODEX_ROUTE_HOME"]) / "state" / "proxy"
        text = (proxy_dir / "litellm.yaml").read_text()
        assert "custom_auth: codex_route_gateway_auth.user_api_key_auth" in text
        assert (proxy_dir / "codex_route_gateway_auth.py").exists()
        for name in team.keys:
            assert team.key(name) not in text


def test_each_members_key_is_answered_by_every_instance(team: Members) -> None:
    for gateway in team.gateways:
        for name in ("alice", "bob"):
            resp = _post(gateway, team.key(name))
            assert resp.status_code == 200, (name, resp.text)


def test_the_master_key_still_works(team: Members) -> None:
    for gateway in team.gateways:
        assert _post(gateway, MASTER_KEY).status_code == 200
        with httpx.Client(timeout=30, trust_env=False) as client:
            models = client.get(
                f"{gateway.base_url}/models", headers={"Authorization": f"Bearer {MASTER_KEY}"}
            )
        assert models.status_code == 200 and ALIAS in models.text


@pytest.mark.parametrize("kind", ["unknown", "none", "a member's hash"])
def test_an_unknown_or_missing_key_gets_401(team: Members, kind: str) -> None:
    key = {
        "unknown": "sk-not-a-member-key-0123456789",
        "none": None,
        "a member's hash": key_sha256(team.key("alice")),  # what the members file holds
    }[kind]
    mark = len(team.upstream.requests)
    for gateway in team.gateways:
        assert _post(gateway, key).status_code == 401
    assert len(team.upstream.requests) == mark  # nothing reached the provider


def test_a_member_key_reaches_no_admin_route(team: Members) -> None:
    with httpx.Client(timeout=30, trust_env=False) as client:
        resp = client.post(
            f"http://127.0.0.1:{team.gateways[0].port}/key/generate",
            json={},
            headers={"Authorization": f"Bearer {team.key('alice')}"},
        )
    assert resp.status_code == 403, resp.text


def test_a_revoked_key_is_refused_by_the_running_instances_at_once(team: Members) -> None:
    carol = team.key("carol")
    for gateway in team.gateways:
        assert _post(gateway, carol).status_code == 200
    _keys(team.file, "revoke", "carol")
    # no restart, no wait: each request checks whether the file changed
    for gateway in team.gateways:
        assert _post(gateway, carol).status_code == 401
        assert _post(gateway, team.key("alice")).status_code == 200  # others unaffected


def test_a_rotated_key_replaces_the_old_one(team: Members) -> None:
    old = team.key("bob")
    new_file = team.root / "bob-2.key"
    _keys(team.file, "rotate", "bob", "--out", str(new_file))
    for gateway in team.gateways:
        assert _post(gateway, old).status_code == 401
        assert _post(gateway, new_file.read_text().strip()).status_code == 200
    listed = json.loads(_keys(team.file, "list", "--json").stdout)
    assert [m["name"] for m in listed["members"]] == ["alice", "bob", "carol"]


def test_a_members_run_goes_through_the_gateway_with_their_own_key(team: Members) -> None:
    if not CODEX_BIN.exists():
        missing_precondition(
            "the real codex is not installed: run ./scripts/test.sh (npm ci --prefix tools)"
        )
    env = base_env(team.root, f"member-{free_port()}")
    key = team.key("alice")
    env.update(
        {
            "CODEX_ROUTE_LITELLM_BASE_URL": team.gateways[1].base_url,
            "LITELLM_API_KEY": key,
            "CODEX_ROUTE_CODEX_BIN": str(CODEX_BIN),
            "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",
        }
    )
    mark = len(team.upstream.requests)
    done = run_cli(env, "run", "--codex-provider", "litellm", "--force-model", ALIAS, "say hi")
    assert done.returncode == 0, done.stderr
    assert DEFAULT_REPLY in done.stdout
    assert team.upstream.models_requested()[mark:][-1] == "fake-member"
    assert key not in done.stdout + done.stderr and MASTER_KEY not in env.values()
