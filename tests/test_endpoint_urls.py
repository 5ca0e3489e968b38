"""Endpoint URLs (policy, environment): a bad port or host is a clear error, IPv6 hosts work."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import ExitCode, PolicyError
from codex_router.policy.settings import resolve_settings
from codex_router.proxy.process import probe_readiness
from codex_router.routing.readiness import probe_tcp

#: (id, url, what the message must say)
BAD_URLS = [
    ("port-too-big", "http://127.0.0.1:99999/v1", "port must be a whole number from 1 to 65535"),
    ("port-not-a-number", "http://127.0.0.1:abc/v1", "port must be a whole number"),
    ("port-negative", "http://127.0.0.1:-1/v1", "port must be a whole number"),
    ("port-zero", "http://127.0.0.1:0/v1", "port must be a whole number"),
    ("ipv6-port-too-big", "http://[::1]:99999/v1", "port must be a whole number"),
    ("ipv6-unbracketed", "http://::1:4000/v1", "IPv6 host must be in brackets"),
    ("ipv6-unclosed", "http://[::1:4000/v1", "[IPv6] host is not valid"),
    ("no-host", "http://:4000/v1", "has no host"),
    ("no-scheme", "localhost:4000", "http:// or https://"),
]

#: (setting, its policy key, its environment variable)
URL_SETTINGS = [
    ("litellm_base_url", "endpoints.litellm_base_url", "CODEX_ROUTE_LITELLM_BASE_URL"),
    ("huggingface_base_url", "endpoints.huggingface_base_url", "CODEX_ROUTE_HF_BASE_URL"),
    ("ollama_base_url", "endpoints.ollama_base_url", "CODEX_ROUTE_OLLAMA_BASE_URL"),
]

runner = CliRunner()


def _policy(tmp_path: Path, key: str, url: str) -> Path:
    section, name = key.split(".")
    path = tmp_path / "policy.yaml"
    path.write_text(f"version: 1\n{section}:\n  {name}: '{url}'\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("url", "needle"), [b[1:] for b in BAD_URLS], ids=[b[0] for b in BAD_URLS])
@pytest.mark.parametrize(("setting", "key", "var"), URL_SETTINGS, ids=[s[0] for s in URL_SETTINGS])
def test_bad_url_in_the_policy_names_file_line_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, needle: str, setting, key, var
) -> None:
    monkeypatch.delenv("CODEX_ROUTE_LITELLM_BASE_URL")
    path = _policy(tmp_path, key, url)
    with pytest.raises(PolicyError) as info:
        resolve_settings({}, {}, app_dirs(), policy_flag=path)
    err = info.value
    assert (err.file, err.line, err.key) == (str(path), 3, key)
    assert needle in err.message


@pytest.mark.parametrize(("url", "needle"), [b[1:] for b in BAD_URLS], ids=[b[0] for b in BAD_URLS])
@pytest.mark.parametrize(("setting", "key", "var"), URL_SETTINGS, ids=[s[0] for s in URL_SETTINGS])
def test_bad_url_in_the_environment_names_the_variable(
    url: str, needle: str, setting, key, var
) -> None:
    with pytest.raises(PolicyError) as info:
        resolve_settings({}, {var: url}, app_dirs())
    assert info.value.key == var
    assert needle in info.value.message
    assert info.value.hint == f"fix or unset {var}"


@pytest.mark.parametrize(("url", "needle"), [b[1:] for b in BAD_URLS], ids=[b[0] for b in BAD_URLS])
def test_dry_run_with_a_bad_url_exits_3_not_70(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, needle: str
) -> None:
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", url)
    result = runner.invoke(app, ["run", "--dry-run", "hello"])
    assert result.exit_code == ExitCode.POLICY, result.stderr
    assert "error: CODEX_ROUTE_LITELLM_BASE_URL: " in result.stderr
    assert needle in result.stderr
    monkeypatch.delenv("CODEX_ROUTE_LITELLM_BASE_URL")
    path = _policy(tmp_path, "endpoints.litellm_base_url", url)
    result = runner.invoke(app, ["run", "--dry-run", "--policy", str(path), "hello"])
    assert result.exit_code == ExitCode.POLICY, result.stderr
    assert f"{path}:3: endpoints.litellm_base_url: " in result.stderr


def test_a_password_in_a_bad_url_is_not_repeated() -> None:
    url = "http://user:s3cret@127.0.0.1:99999/v1"
    with pytest.raises(PolicyError) as info:
        resolve_settings({}, {"CODEX_ROUTE_LITELLM_BASE_URL": url}, app_dirs())
    assert "s3cret" not in info.value.message
    assert "http://***@127.0.0.1:99999" in info.value.message  # the one mask: codex_router.redact


@pytest.mark.parametrize(
    "url",
    ["http://[::1]:4000/v1", "http://[::1]/v1", "https://[2001:db8::1]:8443/v1", "http://h:1/v1"],
)
def test_good_urls_are_accepted_from_every_layer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.delenv("CODEX_ROUTE_LITELLM_BASE_URL")
    for setting, key, var in URL_SETTINGS:
        assert resolve_settings({}, {var: url}, app_dirs())[setting] == url
        path = _policy(tmp_path, key, url)
        assert resolve_settings({}, {}, app_dirs(), policy_flag=path)[setting] == url


def test_probe_of_an_unusable_url_reports_instead_of_raising() -> None:
    reachable, detail = probe_tcp("http://127.0.0.1:99999/v1")
    assert reachable is False
    assert "not a usable URL" in detail


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")


class _Readiness(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "healthy"}'
        self.send_response(200 if self.path == "/health/readiness" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def v6_server() -> Iterator[int]:
    server = _V6Server(("::1", 0), _Readiness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@needs_ipv6
def test_ipv6_proxy_url_is_probed_and_reported_in_brackets(v6_server: int) -> None:
    url = f"http://[::1]:{v6_server}/v1"
    assert probe_tcp(url) == (True, f"[::1]:{v6_server} accepts connections")
    assert probe_readiness("::1", v6_server) == (True, "healthy")


@needs_ipv6
def test_dry_run_with_an_ipv6_proxy_url_sees_it_ready(
    monkeypatch: pytest.MonkeyPatch, v6_server: int, codex_installed: Path
) -> None:
    url = f"http://[::1]:{v6_server}/v1"
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", url)
    monkeypatch.setenv("LITELLM_API_KEY", "test-key")
    result = runner.invoke(app, ["run", "--dry-run", "--codex-provider", "litellm", "hello"])
    assert result.exit_code == 0, result.stderr
    assert f"LiteLLM proxy at {url}" in result.stdout
