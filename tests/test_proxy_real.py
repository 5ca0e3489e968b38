"""The REAL LiteLLM proxy (pinned 1.106.2) between the real Codex 0.169 and a fake chat upstream.

Everything listens on 127.0.0.1: the fake upstream plays the Hugging Face router (its model name
picks 200, 500 or 429), the "Ollama" endpoint is a port nothing listens on (connection refused).
The proxy config is the one ``codex-route proxy start`` generates from a test policy:

==============  =========================  =====================================
alias           deployment                 expected
==============  =========================  =====================================
codex-hf-cheap  fake-ok                    answers
codex-hf-fast   fake-500                   LiteLLM falls back to codex-hf-cheap
t-429           fake-429                   LiteLLM falls back to codex-hf-cheap
t-refused       Ollama (refused)           LiteLLM falls back to codex-hf-cheap
t-ordered       fake-ok (1), Ollama (2)    order 1 always, never load-balanced
==============  =========================  =====================================

litellm comes from ``CODEX_ROUTE_TEST_LITELLM_BIN`` (scripts/test.sh installs it in .venv-proxy);
codex from tools/. Missing either: the tests fail in CI and skip locally, saying how to install.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from codex_router.dirs import AppDirs, app_dirs
from codex_router.proxy.session import pid_alive, process_args, proxy_env_for_codex
from codex_router.proxy.state import proxy_files, read_key, read_record

from helpers.ci import missing_precondition
from helpers.fake_chat_server import DEFAULT_REPLY, FakeChatServer
from helpers.net import free_port

pytestmark = pytest.mark.proxy

REPO = Path(__file__).resolve().parents[1]
LITELLM_BIN = os.environ.get("CODEX_ROUTE_TEST_LITELLM_BIN") or str(
    REPO / ".venv-proxy" / "bin" / "litellm"
)
CODEX_BIN = REPO / "tools" / "node_modules" / ".bin" / "codex"
HF_DUMMY = "hf-dummy-token-for-the-fake-upstream"
CODEX_ARGS = ["--", "--skip-git-repo-check"]

POLICY = """\
aliases:
  codex-hf-cheap:
    huggingface_model: fake-ok
    fallbacks: []
  codex-hf-fast:
    huggingface_model: fake-500
    fallbacks: [codex-hf-cheap]
  t-429:
    huggingface_model: fake-429
    upstreams: [huggingface]
    fallbacks: [codex-hf-cheap]
  t-refused:
    local_model: qwen2.5-coder:3b
    upstreams: [qwen]
    fallbacks: [codex-hf-cheap]
  t-ordered:
    huggingface_model: fake-ok
    local_model: qwen2.5-coder:3b
    upstreams: [huggingface, qwen]
"""


@dataclass
class Proxy:
    env: dict[str, str]
    dirs: AppDirs
    port: int
    upstream: FakeChatServer
    work: Path
    codex_home: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def cli(
        self, *args: str, timeout: float = 240, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codex_router", *args],
            env=env or self.env,
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def key(self) -> str:
        key = read_key(proxy_files(self.dirs))
        assert key is not None
        return key

    def responses(self, model: str, *, key: str | None, stream: bool = True) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        body = {
            "model": model,
            "input": "say hi",
            "stream": stream,
            "prompt_cache_key": "session-123",
            "store": False,
        }
        with httpx.Client(timeout=60, trust_env=False) as client:
            return client.post(f"{self.base_url}/responses", json=body, headers=headers)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    if not Path(LITELLM_BIN).exists():
        missing_precondition(
            f"LiteLLM is not installed at {LITELLM_BIN}: run ./scripts/test.sh (it installs the "
            "pinned litellm[proxy] in .venv-proxy) or set CODEX_ROUTE_TEST_LITELLM_BIN"
        )
    if not CODEX_BIN.exists():
        missing_precondition(
            "the real codex is not installed: run ./scripts/test.sh (npm ci --prefix tools)"
        )
    root = tmp_path_factory.mktemp("proxy-real")
    for sub in ("home", "codex-home", "route-home", "work"):
        (root / sub).mkdir()
    (root / "policy.yaml").write_text(POLICY)
    upstream = FakeChatServer().start()
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CODEX_ROUTE_", "CODEX_ROUTER_", "LITELLM_"))
        and k not in ("OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN", "CODEX_API_KEY")
    }
    env.update(
        {
            "HOME": str(root / "home"),
            "CODEX_HOME": str(root / "codex-home"),
            "CODEX_ROUTE_HOME": str(root / "route-home"),
            "CODEX_ROUTE_POLICY": str(root / "policy.yaml"),
            "CODEX_ROUTE_LITELLM_BIN": LITELLM_BIN,
            "CODEX_ROUTE_CODEX_BIN": str(CODEX_BIN),
            "CODEX_ROUTE_LITELLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
            "CODEX_ROUTE_HF_BASE_URL": upstream.base_url,
            "CODEX_ROUTE_OLLAMA_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
            "HF_TOKEN": HF_DUMMY,
            "PYTHONPATH": str(REPO),
            "NO_COLOR": "1",
        }
    )
    p = Proxy(env, app_dirs(env), port, upstream, root / "work", root / "codex-home")
    started = p.cli("proxy", "start", "--timeout", "240")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield p
    finally:
        p.cli("proxy", "stop")
        upstream.stop()


def test_start_serves_the_generated_aliases(proxy: Proxy) -> None:
    status = proxy.cli("proxy", "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["running"] and data["healthy"] and data["litellm_version"] == "1.106.2"
    assert data["host"] == "127.0.0.1" and data["port"] == proxy.port
    assert {
        "codex-hf-cheap",
        "codex-hf-fast",
        "t-429",
        "t-refused",
        "t-ordered",
        "codex-qwen-local",
    } <= set(data["aliases"])
    # no OpenAI/Gemini key in this test: the groups without a deployment of their own are
    # served by their fallbacks (none is dropped)
    assert data["unavailable_aliases"] == {}
    assert data["served_by_fallback"]["codex-default"] == "codex-hf-fast"
    assert data["served_by_fallback"]["codex-light"] == "codex-hf-cheap"
    assert {"codex-default", "codex-light", "codex-no-openai"} <= set(data["aliases"])


def test_a_group_without_its_own_deployment_answers_through_its_fallback(proxy: Proxy) -> None:
    mark = len(proxy.upstream.requests)
    resp = proxy.responses("codex-light", key=proxy.key())  # no OpenAI or Gemini key
    assert resp.status_code == 200, resp.text
    sent = proxy.upstream.requests[mark:]
    assert [r["body"]["model"] for r in sent] == ["fake-ok"]  # codex-hf-cheap's deployment


def test_the_proxy_listens_on_loopback_only(proxy: Proxy) -> None:
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    ours = [
        line.split()
        for line in listening
        if line.split()[1].endswith(f":{proxy.port:04X}") and line.split()[3] == "0A"
    ]
    assert ours and all(fields[1].startswith("0100007F:") for fields in ours)  # 127.0.0.1


def test_the_bridge_reaches_the_chat_upstream_without_codex_only_params(proxy: Proxy) -> None:
    mark = len(proxy.upstream.requests)
    resp = proxy.responses("codex-hf-cheap", key=proxy.key())
    assert resp.status_code == 200, resp.text
    assert "response.completed" in resp.text and "fake" in resp.text
    sent = proxy.upstream.requests[mark:]
    assert [r["path"] for r in sent] == ["/v1/chat/completions"]  # bridged, not /v1/responses
    body = sent[0]["body"]
    assert (
        body["model"] == "fake-ok"
        and "prompt_cache_key" not in body
        and "web_search_options" not in body
    )
    assert sent[0]["has_auth"]


@pytest.mark.parametrize(
    ("alias", "failing"),
    [("codex-hf-fast", "fake-500"), ("t-429", "fake-429"), ("t-refused", None)],
    ids=["500", "429", "connection-refused"],
)
def test_litellm_falls_back_from_a_failing_deployment(
    proxy: Proxy, alias: str, failing: str | None
) -> None:
    mark = len(proxy.upstream.requests)
    resp = proxy.responses(alias, key=proxy.key(), stream=False)
    assert resp.status_code == 200, resp.text
    assert int(resp.headers.get("x-litellm-attempted-fallbacks", "0")) >= 1
    assert resp.headers.get("x-litellm-model-group") == "codex-hf-cheap"
    models = proxy.upstream.models_requested()[mark:]
    assert models[-1] == "fake-ok"
    if failing:
        assert failing in models


def test_deployments_of_a_group_are_tried_in_order(proxy: Proxy) -> None:
    mark = len(proxy.upstream.requests)
    for _ in range(4):
        resp = proxy.responses("t-ordered", key=proxy.key(), stream=False)
        assert resp.status_code == 200, resp.text
        assert (
            int(resp.headers.get("x-litellm-attempted-fallbacks", "0")) == 0
        )  # never the refused one
    assert proxy.upstream.models_requested()[mark:] == ["fake-ok"] * 4


@pytest.mark.parametrize("key", [None, "sk-wrong-key-0123456789"], ids=["missing", "wrong"])
def test_requests_without_the_master_key_are_refused(proxy: Proxy, key: str | None) -> None:
    mark = len(proxy.upstream.requests)
    resp = proxy.responses("codex-hf-cheap", key=key)
    assert resp.status_code in (400, 401), resp.text
    assert "response.completed" not in resp.text
    with httpx.Client(timeout=30, trust_env=False) as client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        assert client.get(f"{proxy.base_url}/models", headers=headers).status_code in (400, 401)
    assert len(proxy.upstream.requests) == mark  # nothing reached the upstream


def test_codex_with_a_wrong_key_is_refused(proxy: Proxy) -> None:
    config = proxy.codex_home / "config.toml"
    config.write_text(
        f'model_provider = "lp"\n[model_providers.lp]\nname = "proxy"\n'
        f'base_url = "{proxy.base_url}"\nenv_key = "LITELLM_API_KEY"\n'
        "request_max_retries = 0\nstream_max_retries = 0\n"
    )
    try:
        done = subprocess.run(
            [str(CODEX_BIN), "exec", "--skip-git-repo-check", "-m", "codex-hf-cheap", "hi"],
            env={**proxy.env, "LITELLM_API_KEY": "sk-wrong-key-0123456789"},
            cwd=proxy.work,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    finally:
        config.unlink()
    assert done.returncode == 1
    assert DEFAULT_REPLY not in done.stdout


@pytest.mark.parametrize("alias", ["codex-hf-cheap", "codex-hf-fast", "t-429", "t-refused"])
def test_codex_route_run_through_the_litellm_path(proxy: Proxy, alias: str) -> None:
    # A stale LITELLM_API_KEY of the user's must not shadow the session key.
    env = {**proxy.env, "LITELLM_API_KEY": "sk-stale-user-key-0123456789"}
    mark = len(proxy.upstream.requests)
    done = proxy.cli(
        "run", "--codex-provider", "litellm", "--force-model", alias, "say hi", *CODEX_ARGS, env=env
    )
    assert done.returncode == 0, done.stderr
    assert DEFAULT_REPLY in done.stdout
    # the chosen path first; the rest of fallback_order stays behind it, unused
    assert re.search(r"attempt 1/\d litellm \([^)]*\): ok in", done.stderr), done.stderr
    assert proxy.upstream.models_requested()[mark:][-1] == "fake-ok"
    key = proxy.key()
    assert key not in done.stdout + done.stderr and key[3:11] not in done.stdout + done.stderr


def test_session_key_is_handed_to_codex_only_for_this_proxy(proxy: Proxy) -> None:
    assert proxy_env_for_codex(proxy.dirs, proxy.base_url) == {"LITELLM_API_KEY": proxy.key()}
    assert proxy_env_for_codex(proxy.dirs, "http://127.0.0.1:1/v1") == {}


def test_stop_leaves_no_process_and_no_key_file(proxy: Proxy) -> None:
    files = proxy_files(proxy.dirs)
    record = read_record(files)
    assert record is not None and pid_alive(record.pid)
    done = proxy.cli("proxy", "stop")
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 15
    while pid_alive(record.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pid_alive(record.pid)
    assert not files.key.exists() and not files.record.exists()
    # no process of that proxy is left: nothing runs with its config in argv
    leftovers = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and pid_alive(int(entry.name)):
            args = process_args(int(entry.name)) or []
            if record.config in args:
                leftovers.append(int(entry.name))
    for pid in leftovers:  # clean up before failing, by PID
        os.kill(pid, signal.SIGKILL)
    assert leftovers == []
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", proxy.port)) != 0
    status = proxy.cli("proxy", "status")
    assert status.returncode == 1 and "not running" in status.stdout
