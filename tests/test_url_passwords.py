"""A password in an endpoint URL is shown as ``***`` everywhere and never copied to disk.

The value itself is not changed: codex and LiteLLM get the real URL at run time. Issue 11, item 16.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.codex.argv import managed_provider_table
from codex_router.dirs import app_dirs
from codex_router.policy.settings import resolve_settings

CANARY = "Canary-pw-7f3a9"
URLS = {
    "litellm_base_url": f"http://user:{CANARY}@127.0.0.1:9/v1",
    "huggingface_base_url": f"https://tok:{CANARY}@127.0.0.1:9/v1",
    "ollama_base_url": f"http://o:{CANARY}@127.0.0.1:9/v1",
}
COMMANDS = [
    ["run", "--dry-run", "fix the typo"],
    ["run", "--dry-run", "--json", "fix the typo"],
    ["run", "--dry-run", "--codex-provider", "litellm", "fix the typo"],
    ["run", "--dry-run", "--json", "--codex-provider", "huggingface", "fix the typo"],
    ["policy", "show"],
    ["policy", "show", "--json"],
    ["doctor"],
    ["doctor", "--json"],
]

runner = CliRunner()


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CODEX_ROUTE_LITELLM_BASE_URL")
    path = tmp_path / "policy.yaml"
    body = "".join(f"  {key}: {url}\n" for key, url in URLS.items())
    path.write_text(f"version: 1\nendpoints:\n{body}", encoding="utf-8")
    monkeypatch.setenv("CODEX_ROUTE_POLICY", str(path))
    return path


def _files_under(root: Path) -> list[Path]:
    return [Path(d) / f for d, _, files in os.walk(root) for f in files]


@pytest.mark.parametrize(
    "args", COMMANDS, ids=[" ".join(a[:-1] if a[0] == "run" else a) for a in COMMANDS]
)
def test_no_command_shows_the_password(policy: Path, args: list[str]) -> None:
    for _ in range(2):  # the second time from the parsed-policy cache, if there is one
        result = runner.invoke(app, args, env={"COLUMNS": "250"})  # no table cell folded
        assert result.exit_code in (0, 1), result.output + result.stderr
        assert CANARY not in result.stdout + result.stderr
    if args[0] != "doctor":  # doctor shows the URLs of unreachable services only
        assert "://***@127.0.0.1:9/v1" in result.stdout


def test_no_file_under_codex_route_home_holds_the_password(policy: Path) -> None:
    for args in COMMANDS:
        runner.invoke(app, args)
    home = Path(os.environ["CODEX_ROUTE_HOME"])
    files = _files_under(home)
    assert files, "the commands wrote nothing: the check below would prove nothing"
    holding = [str(f) for f in files if f.is_file() and CANARY.encode() in f.read_bytes()]
    assert holding == []


def test_the_parsed_policy_cache_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nendpoints:\n  litellm_base_url: http://127.0.0.1:9/v1\n")
    monkeypatch.setenv("CODEX_ROUTE_POLICY", str(path))
    os.umask(umask := os.umask(0o022))
    try:
        assert runner.invoke(app, ["policy", "show"]).exit_code == 0
    finally:
        os.umask(umask)
    cached = list((app_dirs().cache_dir / "policy").glob("*.marshal"))
    assert cached, "no cache file was written"
    assert {stat.S_IMODE(f.stat().st_mode) for f in cached} == {0o600}


def test_the_real_url_is_what_codex_is_given(policy: Path) -> None:
    settings = resolve_settings({}, dict(os.environ), app_dirs())
    for key, url in URLS.items():
        assert settings[key] == url
    assert managed_provider_table("litellm", settings)["base_url"] == URLS["litellm_base_url"]
    table = managed_provider_table("huggingface", settings)
    assert table["base_url"] == URLS["huggingface_base_url"]


FAKE_CODEX = """#!{python}
import os, sys
if sys.argv[1:] == ["--version"]:
    print("codex-cli 0.169.0"); sys.exit(0)
sys.stdin.read()
with open(os.path.join(os.environ["CODEX_HOME"], "config.toml")) as src:
    open(os.environ["SEEN_CONFIG"], "w").write(src.read())
print("done")
"""


def test_a_real_run_gives_codex_the_real_url_and_shows_it_nowhere(tmp_path: Path) -> None:
    listener = socket.socket()  # something listening, so the litellm path counts as ready
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    url = f"http://user:{CANARY}@127.0.0.1:{listener.getsockname()[1]}/v1"
    path = tmp_path / "policy.yaml"
    path.write_text(f"version: 1\nendpoints:\n  litellm_base_url: {url}\n", encoding="utf-8")
    codex = tmp_path / "codex"
    codex.write_text(FAKE_CODEX.format(python=sys.executable))
    codex.chmod(0o755)
    seen = tmp_path / "seen-config.toml"
    env = {k: v for k, v in os.environ.items() if k != "CODEX_ROUTE_LITELLM_BASE_URL"}
    env |= {
        "CODEX_ROUTE_CODEX_BIN": str(codex),
        "CODEX_ROUTE_POLICY": str(path),
        "LITELLM_API_KEY": "sk-test-key",
        "SEEN_CONFIG": str(seen),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",  # tmp_path is no git repository
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "codex_router", "run", "--codex-provider", "litellm", "hi"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr
    assert f'base_url = "{url}"' in seen.read_text()  # codex was given the real URL
    assert CANARY not in done.stdout + done.stderr
    home = Path(os.environ["CODEX_ROUTE_HOME"])
    holding = [str(f) for f in _files_under(home) if CANARY.encode() in f.read_bytes()]
    assert holding == []


def test_the_local_fast_path_names_ollama_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpers.fake_chat_server import FakeChatServer

    with FakeChatServer(models={"qwen2.5-coder:3b"}, reply="It lists files") as server:
        url = server.base_url.replace("http://", f"http://o:{CANARY}@")
        monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", url)
        result = runner.invoke(app, ["run", "--no-stdin", "--provider", "qwen", "what is ls"])
    assert result.exit_code == 0, result.output
    assert "answers this simple task directly" in result.stderr
    assert "http://***@127.0.0.1" in result.stderr
    assert CANARY not in result.stdout + result.stderr
