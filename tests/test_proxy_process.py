"""proxy start|stop|status with a stand-in litellm: version pin, key handling, port in use,
death and Ctrl-C during start, crash clean-up, PID reuse, and the session key for codex."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import ProxyError
from codex_router.proxy import install
from codex_router.proxy import process as process_module
from codex_router.proxy.process import StartRequest, proxy_status, start_proxy, stop_proxy
from codex_router.proxy.session import pid_alive, proxy_env_for_codex, running_proxy
from codex_router.proxy.state import (
    ProxyFiles,
    ProxyRecord,
    proxy_files,
    read_key,
    write_record,
)
from codex_router.routing.readiness import gather_facts

from helpers.fake_chat_server import FakeChatServer
from helpers.fake_litellm import make_fake_litellm
from helpers.net import free_port

REPO = Path(__file__).resolve().parents[1]
HF_SECRET = "hf_dummy-value-typed-at-the-prompt-0123456789"


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = make_fake_litellm(tmp_path / "fakevenv")
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BIN", str(exe))
    monkeypatch.setenv("FAKE_LITELLM_REPORT", str(tmp_path / "report.json"))
    return exe


@pytest.fixture
def stopper() -> Iterator[None]:
    """Whatever a test starts is stopped by its recorded PID, even when the test fails."""
    yield
    stop_proxy(app_dirs(), grace=3.0)


def _report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report.json").read_text())


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _state_text() -> str:
    files = proxy_files(app_dirs())
    return "".join(p.read_text(errors="replace") for p in files.directory.iterdir() if p.is_file())


# --- install checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "extra", "message"),
    [
        ("1.107.0", (), "LiteLLM 1.107.0 is a compromised release"),
        ("1.82.7", (), "LiteLLM 1.82.7 is a compromised release"),
        ("1.82.8", (), "compromised release"),
        ("1.106.2", ("litellm_init.pth",), "with litellm_init.pth in"),
        ("1.106.2", ("cook.pth",), "compromised release"),
        ("1.105.0", (), "LiteLLM 1.105.0 is installed; codex-route runs only the pinned 1.106.2"),
        ("1.109.1", (), "runs only the pinned 1.106.2"),
    ],
)
def test_versions_outside_the_pin_are_refused_before_running_anything(
    tmp_path: Path, version: str, extra: tuple[str, ...], message: str
) -> None:
    exe = make_fake_litellm(tmp_path / "v", version, extra)
    with pytest.raises(ProxyError) as info:
        install.find_litellm(str(exe), {})
    assert message in info.value.message


def test_the_pinned_version_is_accepted(tmp_path: Path) -> None:
    exe = make_fake_litellm(tmp_path / "v")
    found = install.find_litellm(None, {"CODEX_ROUTE_LITELLM_BIN": str(exe)})
    assert found.version == "1.106.2" and found.bin == exe and found.source == "env"


def test_no_dist_info_or_two_versions_is_refused(tmp_path: Path) -> None:
    exe = make_fake_litellm(tmp_path / "v")
    site = next((tmp_path / "v" / "lib").glob("python*/site-packages"))
    other = site / "litellm-1.105.0.dist-info"
    other.mkdir()
    (other / "METADATA").write_text("Version: 1.105.0\n")
    with pytest.raises(ProxyError, match="several LiteLLM versions"):
        install.find_litellm(str(exe), {})
    for dist in site.glob("litellm-*.dist-info"):
        for f in dist.iterdir():
            f.unlink()
        dist.rmdir()
    with pytest.raises(ProxyError, match="cannot tell which LiteLLM version"):
        install.find_litellm(str(exe), {})


def test_missing_litellm_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nobin" / "python"))
    with pytest.raises(ProxyError) as info:
        install.find_litellm(None, {"PATH": str(tmp_path)})
    assert info.value.message == "LiteLLM is not installed (no litellm executable found)"
    # a command that works when pasted, for this install; never the index's codex-route
    hint = info.value.hint or ""
    assert hint.startswith(f"install the pinned proxy: {install.install_command()} ")
    assert "[proxy]" in hint and "pip install 'codex-route[proxy]'" not in hint
    with pytest.raises(ProxyError, match="--litellm-bin names"):
        install.find_litellm(str(tmp_path / "nope"), {})


def test_start_refuses_a_compromised_release_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "CODEX_ROUTE_LITELLM_BIN", str(make_fake_litellm(tmp_path / "bad", "1.107.0"))
    )
    result = CliRunner().invoke(app, ["proxy", "start", "--port", str(free_port())])
    assert result.exit_code == 1
    assert "compromised release" in result.stderr
    assert not proxy_files(app_dirs()).key.exists()
    assert not (tmp_path / "report.json").exists()


# --- start / status / stop --------------------------------------------------------------------


def test_start_status_stop(fake_bin: Path, tmp_path: Path, stopper: None) -> None:
    port = free_port()
    runner = CliRunner()
    started = runner.invoke(app, ["proxy", "start", "--port", str(port)])
    assert started.exit_code == 0, started.output
    files = proxy_files(app_dirs())
    report = _report(tmp_path)
    pid = report["pid"]
    assert f"PID {pid}, http://127.0.0.1:{port}/v1" in started.stdout
    # no provider key: every group is served by its fallback, the local Qwen (none dropped)
    aliases_line = next(line for line in started.stdout.splitlines() if line.startswith("aliases:"))
    assert "codex-qwen-local" in aliases_line and "codex-no-openai" in aliases_line
    assert "served by their fallback codex-qwen-local" in started.stderr
    # the proxy got the session key in its environment, and only 127.0.0.1
    key = read_key(files)
    assert key is not None and key.startswith("sk-") and len(key) > 40
    assert report["env_sha256"]["LITELLM_MASTER_KEY"] == _sha(key)
    assert report["env_sha256"]["LITELLM_LOCAL_MODEL_COST_MAP"] == _sha("True")
    assert report["argv"][-4:] == ["--host", "127.0.0.1", "--port", str(port)]
    # the key lives only in a 0600 file in a 0700 directory, and nowhere else
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.directory.stat().st_mode) == 0o700
    assert key not in files.record.read_text() and key not in files.config.read_text()
    assert key not in started.output and key[3:12] not in started.output
    # missing provider keys are named (stdin is not a terminal: nothing asked)
    assert "HF_TOKEN not set" in started.stderr and "GEMINI_API_KEY not set" in started.stderr

    status = runner.invoke(app, ["proxy", "status", "--json"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["running"] and data["healthy"] and data["pid"] == pid and data["port"] == port
    assert data["litellm_version"] == "1.106.2" and "codex-no-openai" in data["aliases"]
    assert data["unavailable_aliases"] == {}
    assert data["served_by_fallback"]["codex-no-openai"] == "codex-qwen-local"
    assert data["gateway"] is None  # the local proxy, not a team gateway
    text = runner.invoke(app, ["proxy", "status"])
    assert (
        "running, healthy" in text.stdout and "1.106.2" in text.stdout and str(pid) in text.stdout
    )
    assert "codex-no-openai: served by codex-qwen-local" in text.stdout

    again = runner.invoke(app, ["proxy", "start", "--port", str(port)])
    assert again.exit_code == 0 and f"already running: PID {pid}" in again.stdout

    stopped = runner.invoke(app, ["proxy", "stop"])
    assert stopped.exit_code == 0 and f"PID {pid}" in stopped.stdout
    assert not pid_alive(pid)
    assert not files.key.exists() and not files.record.exists()
    after = runner.invoke(app, ["proxy", "status"])
    assert after.exit_code == 1 and "not running" in after.stdout


def test_typed_keys_reach_only_the_proxy_environment(
    fake_bin: Path, tmp_path: Path, stopper: None
) -> None:
    asked: list[tuple[str, tuple[str, ...]]] = []

    def ask(var: str, aliases: tuple[str, ...]) -> str | None:
        asked.append((var, aliases))
        return HF_SECRET if var == "HF_TOKEN" else None  # Enter (skip) for the others

    env = dict(os.environ)
    result = start_proxy(StartRequest(port=free_port()), env=env, dirs=app_dirs(), ask=ask)
    assert {v for v, _ in asked} == {
        "OPENAI_API_KEY",
        "GEMINI_API_KEY",
        "HF_TOKEN",
        "ANTHROPIC_API_KEY",
    }
    assert dict(asked)["HF_TOKEN"] == ("codex-hf-cheap", "codex-hf-fast")
    # codex-default has no deployment of its own: its fallback, the Hugging Face one, serves it
    assert "codex-hf-cheap" not in result.record.served_by
    assert result.record.served_by["codex-default"] == "codex-hf-fast"
    assert _report(tmp_path)["env_sha256"]["HF_TOKEN"] == _sha(HF_SECRET)
    assert "HF_TOKEN" not in os.environ  # not leaked into our own environment either
    assert HF_SECRET not in _state_text()
    assert HF_SECRET[:10] not in _state_text()


def test_unsafe_override_never_reaches_the_proxy(
    fake_bin: Path, tmp_path: Path, stopper: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY", "true")
    start_proxy(StartRequest(port=free_port()), env=dict(os.environ), dirs=app_dirs())
    assert (
        "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY" not in _report(tmp_path)["env_sha256"]
    )


def test_a_policy_leaving_no_deployment_fails_clearly(fake_bin: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "aliases:\n  codex-qwen-local:\n    local_model: null\n"
        "  codex-small-local:\n    local_model: null\n"
    )
    result = CliRunner().invoke(
        app, ["proxy", "start", "--policy", str(policy), "--port", str(free_port())]
    )
    assert result.exit_code == 1
    assert "the policy leaves the proxy no deployment at all" in result.stderr
    assert "codex-no-openai: GEMINI_API_KEY not set" in result.stderr
    assert not proxy_files(app_dirs()).key.exists() and not (tmp_path / "report.json").exists()


def test_port_in_use_is_a_clear_error_and_changes_nothing(fake_bin: Path, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["proxy", "start", "--port", str(port)])
    assert result.exit_code == 1
    assert f"error: port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr and "CODEX_ROUTE_LITELLM_BASE_URL" in result.stderr
    assert not proxy_files(app_dirs()).key.exists() and not (tmp_path / "report.json").exists()


def test_default_port_comes_from_litellm_base_url(
    fake_bin: Path, tmp_path: Path, stopper: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    result = CliRunner().invoke(app, ["proxy", "start"])
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}/v1" in result.stdout
    assert "export CODEX_ROUTE_LITELLM_BASE_URL" not in result.stderr


def test_a_proxy_that_dies_during_start_points_at_its_log(
    fake_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LITELLM_MODE", "die")
    result = CliRunner().invoke(app, ["proxy", "start", "--port", str(free_port())])
    files = proxy_files(app_dirs())
    assert result.exit_code == 1
    assert f"LiteLLM exited with code 3 while starting; its log: {files.log}" in result.stderr
    assert "something went wrong at startup" in files.log.read_text()
    assert not files.key.exists() and not files.record.exists()
    assert not pid_alive(_report(tmp_path)["pid"])


def test_a_proxy_never_ready_is_stopped_after_the_timeout(
    fake_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LITELLM_MODE", "hang")
    result = CliRunner().invoke(
        app, ["proxy", "start", "--port", str(free_port()), "--timeout", "1"]
    )
    files = proxy_files(app_dirs())
    assert (
        result.exit_code == 1
        and "not ready after 1 s" in result.stderr
        and str(files.log) in result.stderr
    )
    assert not pid_alive(_report(tmp_path)["pid"])
    assert not files.key.exists() and not files.record.exists()


def test_ctrl_c_during_start_leaves_nothing_running(fake_bin: Path, tmp_path: Path) -> None:
    env = {**os.environ, "FAKE_LITELLM_MODE": "hang"}
    files = proxy_files(app_dirs())
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_router", "proxy", "start", "--port", str(free_port())],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 30
        while not (files.record.exists() and (tmp_path / "report.json").exists()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the proxy was never started"
            time.sleep(0.05)
        pid = _report(tmp_path)["pid"]
        assert pid_alive(pid) and files.key.exists()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    assert not pid_alive(pid)
    assert not files.key.exists() and not files.record.exists()


def test_two_starts_at_once_give_one_proxy(fake_bin: Path, tmp_path: Path, stopper: None) -> None:
    port = str(free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "codex_router", "proxy", "start", "--port", port],
            env=dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    stdout = "".join(out for out, _err in outs)
    assert stdout.count(" ready in ") == 1 and stdout.count("already running") == 1
    record = proxy_files(app_dirs()).record.read_text()
    pid = json.loads(record)["pid"]
    assert f"PID {pid}" in outs[0][0] and f"PID {pid}" in outs[1][0]


def test_stop_after_a_crash_cleans_up(fake_bin: Path, tmp_path: Path) -> None:
    start_proxy(StartRequest(port=free_port()), env=dict(os.environ), dirs=app_dirs())
    files = proxy_files(app_dirs())
    pid = _report(tmp_path)["pid"]
    os.killpg(pid, signal.SIGKILL)  # the proxy crashes
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    status = proxy_status(app_dirs())
    assert status.stale and not status.running
    assert proxy_env_for_codex(app_dirs()) == {}  # a dead proxy's key is never handed out
    result = stop_proxy(app_dirs())
    assert not result.stopped and "no longer running" in result.notes[0]
    assert not files.key.exists() and not files.record.exists()


def _record_as_the_proxy(files: ProxyFiles, pid: int) -> None:
    """Record ``pid`` (a plain Python process, not litellm) as codex-route's proxy."""
    write_record(
        files,
        ProxyRecord(
            pid=pid,
            host="127.0.0.1",
            port=4000,
            config=str(files.config),
            log=str(files.log),
            litellm_bin="/x/litellm",
            litellm_version="1.106.2",
            started_at=time.time(),
        ),
    )


def test_a_dying_proxy_this_process_started_is_reaped() -> None:
    """A proxy found dead may still be exiting (its other threads): it is waited for, not
    polled once and dropped unreaped (Python then warns it still runs; warnings fail here)."""
    files = proxy_files(app_dirs())
    files.directory.mkdir(parents=True)
    dying = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    _record_as_the_proxy(files, dying.pid)
    started = process_module._STARTED
    started[dying.pid] = dying
    try:
        stop_proxy(app_dirs())
        assert dying.returncode == 0 and dying.pid not in started
    finally:
        started.pop(dying.pid, None)
        if dying.poll() is None:
            dying.kill()
            dying.wait()


def test_stop_never_kills_a_process_that_is_not_ours(tmp_path: Path) -> None:
    files = proxy_files(app_dirs())
    files.directory.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _record_as_the_proxy(files, other.pid)
        files.key.write_text("sk-old\n")
        result = stop_proxy(app_dirs())
        assert other.poll() is None, "an unrelated process was killed"
        assert not result.stopped and "belongs to another program" in result.notes[0]
        assert not files.key.exists() and not files.record.exists()
    finally:
        other.kill()
        other.wait()


def test_stop_with_nothing_recorded_removes_a_stray_key() -> None:
    files = proxy_files(app_dirs())
    files.directory.mkdir(parents=True)
    files.key.write_text("sk-stray\n")
    result = CliRunner().invoke(app, ["proxy", "stop"])
    assert result.exit_code == 0 and "no LiteLLM proxy of codex-route was running" in result.stdout
    assert "leftover master key" in result.stderr and not files.key.exists()


# --- what run gets from the proxy --------------------------------------------------------------


def test_session_key_for_codex_only_while_our_proxy_runs(fake_bin: Path, stopper: None) -> None:
    dirs = app_dirs()
    assert proxy_env_for_codex(dirs) == {}
    port = free_port()
    start_proxy(StartRequest(port=port), env=dict(os.environ), dirs=dirs)
    key = read_key(proxy_files(dirs))
    assert proxy_env_for_codex(dirs) == {"LITELLM_API_KEY": key}
    assert proxy_env_for_codex(dirs, f"http://127.0.0.1:{port}/v1") == {"LITELLM_API_KEY": key}
    assert proxy_env_for_codex(dirs, f"http://localhost:{port}/v1") == {"LITELLM_API_KEY": key}
    assert proxy_env_for_codex(dirs, f"http://127.0.0.1:{port + 1}/v1") == {}
    assert running_proxy(dirs) is not None
    stop_proxy(dirs)
    assert proxy_env_for_codex(dirs) == {}


def test_readiness_counts_the_session_key_and_knows_the_aliases(
    fake_bin: Path, stopper: None
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    start_proxy(StartRequest(port=port), env=dict(os.environ), dirs=app_dirs())
    facts = gather_facts(dict(os.environ), litellm_url=url)
    assert facts.litellm_reachable and "LITELLM_API_KEY" in facts.env_present
    assert facts.litellm_aliases is not None
    assert {"codex-qwen-local", "codex-no-openai"} <= facts.litellm_aliases


def test_plan_uses_the_running_proxy(
    fake_bin: Path,
    stopper: None,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    codex_installed: Path,
) -> None:
    port = free_port()
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    runner = CliRunner()
    # Ollama up with the model (else --provider qwen degrades, issue 12)
    ollama = FakeChatServer(models={"qwen2.5-coder:3b"}).start()
    request.addfinalizer(ollama.stop)
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", ollama.base_url)

    def plan(provider: str) -> dict:
        args = ["run", "--dry-run", "--json", "--no-stdin", "--provider", provider, "x"]
        return json.loads(runner.invoke(app, args).stdout)

    down = plan("qwen")
    assert (
        down["paths"][0]["ready"] is False
        and "codex-route proxy start" in down["paths"][0]["reason"]
    )
    assert runner.invoke(app, ["proxy", "start"]).exit_code == 0
    up = plan("qwen")
    assert up["paths"][0] == {
        **up["paths"][0],
        "name": "litellm",
        "ready": True,
        "model": "codex-qwen-local",
    }
    assert runner.invoke(app, ["proxy", "stop"]).exit_code == 0


def test_the_quota_saver_without_gemini_key_is_served_by_the_local_qwen(
    fake_bin: Path,
    stopper: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    codex_installed: Path,
) -> None:
    port = free_port()
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    runner = CliRunner()

    def plan(provider: str) -> dict:
        args = ["run", "--dry-run", "--json", "--no-stdin", "--provider", provider, "x"]
        return json.loads(runner.invoke(app, args).stdout)

    started = runner.invoke(app, ["proxy", "start"])
    assert started.exit_code == 0, started.output
    assert "GEMINI_API_KEY not set" in started.stderr
    config = yaml.safe_load(
        Path(
            json.loads(runner.invoke(app, ["proxy", "status", "--json"]).stdout)["config_file"]
        ).read_text()
    )
    models = {
        e["litellm_params"]["model"]
        for e in config["model_list"]
        if e["model_name"] == "codex-no-openai"
    }
    assert models == {"openai/qwen2.5-coder:3b"}
    gem = plan("no-openai")
    litellm = next(p for p in gem["paths"] if p["name"] == "litellm")
    assert litellm["ready"] is True and litellm["model"] == "codex-no-openai"
    assert runner.invoke(app, ["proxy", "stop"]).exit_code == 0
    # an alias the proxy could not serve at all (nor its fallbacks) is not ready, and says why
    policy = tmp_path / "p.yaml"
    policy.write_text("aliases:\n  codex-qwen-local:\n    local_model: null\n")
    monkeypatch.setenv("CODEX_ROUTE_POLICY", str(policy))
    assert runner.invoke(app, ["proxy", "start"]).exit_code == 0
    gem = plan("no-openai")
    litellm = next(p for p in gem["paths"] if p["name"] == "litellm")
    assert litellm["ready"] is False and "no deployment for codex-no-openai" in litellm["reason"]
    assert runner.invoke(app, ["proxy", "stop"]).exit_code == 0


@pytest.mark.parametrize(
    ("flags", "kept", "dropped"),
    [
        ({}, {"OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN"}, set()),
        ({"avoid_openai": True}, {"GEMINI_API_KEY", "HF_TOKEN"}, {"OPENAI_API_KEY"}),
        ({"open_models_only": True}, {"HF_TOKEN"}, {"OPENAI_API_KEY", "GEMINI_API_KEY"}),
    ],
)
def test_the_proxy_gets_only_the_keys_its_deployments_use(
    fake_bin: Path,
    tmp_path: Path,
    stopper: None,
    monkeypatch: pytest.MonkeyPatch,
    flags: dict[str, bool],
    kept: set[str],
    dropped: set[str],
) -> None:
    for var in ("OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN"):
        monkeypatch.setenv(var, f"secret-{var}")
    start_proxy(StartRequest(port=free_port(), flags=flags), env=dict(os.environ), dirs=app_dirs())
    received = set(_report(tmp_path)["env_sha256"])
    assert kept <= received
    assert not dropped & received
