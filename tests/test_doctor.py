"""``doctor``: every check provoked into ok, warn and fail; never a key value in the report."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router import doctor
from codex_router.cli import app
from codex_router.codex import profiles
from codex_router.codex.config_guard import ConfigGuard
from codex_router.dirs import app_dirs, codex_home
from codex_router.doctor import CHECKS, Check, DoctorContext, run_checks
from codex_router.errors import CodexConfigError
from codex_router.history.store import history_path, record_run
from codex_router.tokens.counter import EncodingStatus

from helpers.history import make_record
from helpers.net import refused_url


def _check(function, **build) -> Check:
    ctx = DoctorContext.build(dict(os.environ), app_dirs(), **build)
    return function(ctx)


def _status(function, **build) -> str:
    return _check(function, **build).status


# ---------------------------------------------------------------- helpers


def _script(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@contextmanager
def _http(routes: dict[str, tuple[int, str]]) -> Iterator[str]:
    """A local HTTP server answering ``routes`` (path → status, body); yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = routes.get(self.path, (404, "not found"))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ---------------------------------------------------------------- codex


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ('echo "codex-cli 0.169.0"', "ok", "codex 0.169.0"),
        ('echo "codex-cli 0.170.2"', "ok", "codex 0.170.2"),
        ('echo "codex-cli 0.120.0"', "warn", "older than 0.169"),
        ('echo "hello"', "warn", "not a version"),
        ('echo "boom" >&2; exit 3', "fail", "exited 3"),
    ],
)
def test_codex(tmp_path: Path, monkeypatch, body: str, status: str, needle: str) -> None:
    _script(tmp_path / "bin", "codex", body)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    result = _check(doctor.check_codex)
    assert (result.status, needle in result.summary) == (status, True), result


def test_codex_missing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = _check(doctor.check_codex)
    assert result.status == "fail" and "not on PATH" in result.summary and result.fix


def test_codex_bin_flag_naming_nothing(tmp_path: Path) -> None:
    result = _check(doctor.check_codex, codex_bin_flag=str(tmp_path / "nope"))
    assert result.status == "fail" and "--codex-bin" in result.summary


# ---------------------------------------------------------------- CODEX_HOME and config.toml


def _config(text: str | bytes) -> Path:
    path = Path(os.environ["CODEX_HOME"]) / "config.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_codex_home_ok_without_and_with_config() -> None:
    assert _status(doctor.check_codex_home) == "ok"
    _config('model = "gpt-5.4"\n')
    assert "parses" in _check(doctor.check_codex_home).summary


def test_codex_home_missing_when_set_is_a_failure(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "absent"))
    result = _check(doctor.check_codex_home)
    assert result.status == "fail" and "CODEX_HOME" in result.summary


def test_default_codex_home_missing_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CODEX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _status(doctor.check_codex_home) == "warn"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('model = "gpt-5.4"\n[model_providers.x\nname = "x"\n', "line 2"),
        (b'model = "\xff"\n', "not UTF-8"),
    ],
)
def test_codex_home_broken_config_names_the_place(content, needle: str) -> None:
    path = _config(content)
    result = _check(doctor.check_codex_home)
    assert result.status == "fail"
    assert str(path) in result.summary and needle in result.summary


@pytest.mark.parametrize(("kind", "words"), [("fifo", "a FIFO"), ("dev-zero", "character device")])
def test_a_config_that_is_not_a_regular_file_fails_the_checks_without_a_hang(
    kind: str, words: str
) -> None:
    home = Path(os.environ["CODEX_HOME"])
    config, profile = home / "config.toml", profiles.profile_file(home, "litellm")
    for path in (config, profile):
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.symlink_to("/dev/zero")
    # in a child with a timeout: a read of the FIFO or of /dev/zero would hang, not fail
    done = subprocess.run(
        [sys.executable, "-m", "codex_router", "doctor", "--json"],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    checks = {c["id"]: c for c in json.loads(done.stdout)["checks"]}
    for check_id, path in (("codex_home", config), ("managed_profiles", profile)):
        check = checks[check_id]
        assert check["status"] == "fail", check
        assert str(path) in check["summary"] and words in check["summary"]
        assert "regular file" in check["fix"]


@pytest.mark.parametrize(
    ("content", "status", "needle"),
    [
        ('model = "gpt-5.4"\n[model_providers.lite]\nwire_api = "responses"\n', "ok", "no legacy"),
        (
            '[model_providers.lite]\nname = "l"\nwire_api = "chat"\n',
            "fail",
            'model_providers.lite.wire_api = "chat"',
        ),
        ('profile = "fast"\n', "fail", 'top-level profile = "fast"'),
        ('[profiles.cost-routing]\nmodel = "m"\n', "fail", "[profiles.cost-routing]"),
        (
            '[profiles.fast]\nmodel = "m"\n[profiles.slow]\nmodel = "n"\n',
            "warn",
            "[profiles.fast], [profiles.slow]",
        ),
    ],
)
def test_codex_legacy(content: str, status: str, needle: str) -> None:
    _config(content)
    result = _check(doctor.check_codex_legacy)
    assert result.status == status and needle in result.summary, result


# ---------------------------------------------------------------- policy and tokens


def test_policy_ok() -> None:
    assert _status(doctor.check_policy) == "ok"


def test_policy_invalid_is_a_failure_naming_the_file(tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("max_cost_usd: lots\n")
    monkeypatch.setenv("CODEX_ROUTE_POLICY", str(bad))
    result = _check(doctor.check_policy)
    assert result.status == "fail" and str(bad) in result.summary


def test_policy_forcing_one_alias_is_a_warning(monkeypatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_FORCE_MODEL", "codex-deep")
    result = _check(doctor.check_policy)
    assert result.status == "warn" and "CODEX_ROUTE_FORCE_MODEL" in result.summary + result.fix


def test_token_encoding_ok() -> None:
    assert _status(doctor.check_token_encoding) == "ok"


def test_token_encoding_without_a_writable_cache_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "route"
    home.mkdir()
    (home / "cache").write_text("a file where the cache dir should be")
    monkeypatch.setenv("CODEX_ROUTE_HOME", str(home))
    result = _check(doctor.check_token_encoding)
    assert result.status == "warn" and "cache" in result.summary


def test_token_encoding_missing_data_is_a_failure(monkeypatch) -> None:
    monkeypatch.setattr(
        "codex_router.tokens.counter.encoding_status",
        lambda: EncodingStatus(False, "", False, None, "no o200k_base data found"),
    )
    result = _check(doctor.check_token_encoding)
    assert result.status == "fail" and "o200k_base" in result.summary


# ---------------------------------------------------------------- LiteLLM


def _fake_litellm(root: Path, version: str, implant: str | None = None) -> Path:
    binary = _script(root / "bin", "litellm", "exit 0")
    site = root / "lib" / "python3.11" / "site-packages"
    dist = site / f"litellm-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: litellm\nVersion: {version}\n")
    if implant:
        (site / implant).write_text("")
    return binary


@pytest.mark.parametrize(
    ("version", "implant", "status"),
    [
        ("1.106.2", None, "ok"),
        ("1.100.0", None, "warn"),
        ("1.82.7", None, "fail"),
        ("1.107.0", None, "fail"),
        ("1.106.2", "litellm_init.pth", "fail"),
    ],
)
def test_litellm_installed(tmp_path: Path, monkeypatch, version: str, implant, status: str) -> None:
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BIN", str(_fake_litellm(tmp_path, version, implant)))
    assert _status(doctor.check_litellm_installed) == status


def test_litellm_not_installed_is_a_warning(tmp_path: Path, monkeypatch) -> None:
    # An interpreter with no litellm beside it, whatever environment runs the tests.
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    result = _check(doctor.check_litellm_installed)
    assert result.status == "warn" and "not installed" in result.summary


def test_litellm_running(monkeypatch) -> None:
    with _http({"/health/readiness": (200, '{"status": "healthy", "db": "Not connected"}')}) as url:
        monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", f"{url}/v1")
        result = _check(doctor.check_litellm_running)
    assert result.status == "ok" and "healthy" in result.summary


def test_litellm_down_is_a_warning(monkeypatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", refused_url())
    result = _check(doctor.check_litellm_running)
    assert result.status == "warn" and result.fix == "codex-route proxy start"


def test_litellm_disabled_is_not_probed(monkeypatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_DISABLE_LITELLM", "1")
    assert "disabled" in _check(doctor.check_litellm_running).summary


def test_something_else_on_the_litellm_port_is_a_failure(monkeypatch) -> None:
    with _http({"/health/readiness": (500, "oops")}) as url:
        monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", f"{url}/v1")
        result = _check(doctor.check_litellm_running)
    assert result.status == "fail" and "500" in result.summary


# ---------------------------------------------------------------- Ollama


@pytest.mark.parametrize(
    ("routes", "status", "needle"),
    [
        (
            {"/v1/models": (200, '{"object": "list", "data": [{"id": "qwen2.5-coder:3b"}]}')},
            "ok",
            "serves qwen2.5-coder:3b",
        ),
        ({"/api/tags": (200, '{"models": [{"name": "qwen2.5-coder:3b"}]}')}, "ok", "serves"),
        ({"/v1/models": (200, '{"data": [{"id": "llama3:8b"}]}')}, "warn", "does not have"),
        ({}, "fail", "not as Ollama"),
        ({"/v1/models": (200, "<html>hi</html>")}, "fail", "not as Ollama"),
    ],
)
def test_ollama(monkeypatch, routes, status: str, needle: str) -> None:
    with _http(routes) as url:
        monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", f"{url}/v1")
        result = _check(doctor.check_ollama)
    assert result.status == status and needle in result.summary, result


def test_ollama_down_is_a_warning(monkeypatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", refused_url())
    result = _check(doctor.check_ollama)
    assert result.status == "warn" and "ollama pull" in result.fix


# ---------------------------------------------------------------- keys


CANARY = "sk-canary-doctor-7c1e9a"


@pytest.mark.parametrize(
    ("env", "status", "needle"),
    [
        ({}, "warn", "OPENAI_API_KEY not set"),
        ({"OPENAI_API_KEY": CANARY}, "ok", "OPENAI_API_KEY set"),
        ({"HF_TOKEN": CANARY, "GEMINI_API_KEY": CANARY}, "ok", "HF_TOKEN set"),
        ({"OPENAI_API_KEY": ""}, "fail", "OPENAI_API_KEY is set but empty"),
        ({"HF_TOKEN": CANARY + "\n"}, "fail", "HF_TOKEN is set but holds"),
        ({"GEMINI_API_KEY": f'"{CANARY}"'}, "fail", "GEMINI_API_KEY is set but holds"),
    ],
)
def test_provider_keys(monkeypatch, env: dict, status: str, needle: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = _check(doctor.check_provider_keys)
    assert result.status == status and needle in result.summary, result
    assert CANARY[4:] not in json.dumps(result.to_dict())


# ---------------------------------------------------------------- state


def test_state_dirs_ok() -> None:
    assert _status(doctor.check_state_dirs) == "ok"


def test_state_dirs_blocked_by_a_file(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "route"
    blocker.write_text("not a directory")
    monkeypatch.setenv("CODEX_ROUTE_HOME", str(blocker))
    result = _check(doctor.check_state_dirs)
    assert result.status == "fail" and "not a directory" in result.summary


def test_state_dir_writable_by_everyone_is_a_warning() -> None:
    state = app_dirs().state_dir
    state.mkdir(parents=True)
    state.chmod(0o777)
    result = _check(doctor.check_state_dirs)
    assert result.status == "warn" and "chmod 700" in result.fix
    state.chmod(0o777 | stat.S_ISVTX)  # sticky: others cannot replace our files
    assert _status(doctor.check_state_dirs) == "ok"


def test_history_states() -> None:
    dirs = app_dirs()
    assert _status(doctor.check_history) == "ok"
    record_run(dirs, make_record())
    result = _check(doctor.check_history)
    assert result.status == "ok" and "1 runs" in result.summary
    conn = sqlite3.connect(history_path(dirs))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    assert _status(doctor.check_history) == "warn"
    conn = sqlite3.connect(history_path(dirs))
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    result = _check(doctor.check_history)
    assert result.status == "fail" and "newer codex-route" in result.summary


def test_history_corrupt_is_a_failure_and_kept() -> None:
    path = history_path(app_dirs())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * 5000)
    result = _check(doctor.check_history)
    assert result.status == "fail" and str(path) in result.summary
    assert path.read_bytes() == b"x" * 5000


_TEAM_TARGET = "postgresql://***@db.internal/history"


@pytest.mark.parametrize(
    ("target", "probe", "backlog", "status", "summary_has", "fix_has"),
    [
        (None, None, None, "ok", "not configured", None),
        (_TEAM_TARGET, None, (3, 0), "warn", "psycopg", "codex-route[team]"),
        (_TEAM_TARGET, (False, None, "connection refused"), (3, 1), "warn", "3 runs and 1 mark not",
         "history sync"),
        (_TEAM_TARGET, (True, 9, ""), (0, 0), "fail", "schema 9, this codex-route knows up to 2",
         "upgrade"),
        (_TEAM_TARGET, (True, 0, ""), (4, 0), "warn", "no schema yet", "history sync"),
        (_TEAM_TARGET, (True, 1, ""), (0, 0), "ok", "schema 1 of 2 (the next sync", None),
        (_TEAM_TARGET, (True, 2, ""), (0, 0), "ok", "schema 2; 0 runs not pushed", None),
        (_TEAM_TARGET, (True, 2, ""), (0, 5), "warn", "0 runs and 5 marks", "history sync"),
        (_TEAM_TARGET, (True, 2, ""), None, "ok", "backlog is unknown", None),
    ],
)  # fmt: skip
def test_team_history_verdict_table(
    target: str | None,
    probe: tuple[bool, int | None, str] | None,
    backlog: tuple[int, int] | None,
    status: str,
    summary_has: str,
    fix_has: str | None,
) -> None:
    from codex_router.history.team import TeamProbe

    check = doctor.team_history_verdict(
        target,
        None if probe is None else TeamProbe(*probe),
        backlog,
        known_schema=2,
        driver_hint='pip install "codex-route[team]"',
    )
    assert (check.id, check.status) == ("team_history", status)
    assert summary_has in check.summary
    if fix_has is None:
        assert check.fix is None
    else:
        assert check.fix is not None and fix_has in check.fix


def test_team_history_is_not_configured_without_a_url() -> None:
    result = _check(doctor.check_team_history)
    assert (result.status, result.summary) == ("ok", "not configured (history.team_url is not set)")


def test_team_history_down_is_a_warning_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpers.net import free_port

    record_run(app_dirs(), make_record())
    url = f"postgresql://team:pw-doctor-0123456789@127.0.0.1:{free_port()}/history"
    monkeypatch.setenv("CODEX_ROUTE_HISTORY_URL", url)
    result = _check(doctor.check_team_history)
    assert result.status == "warn", result
    assert "not reachable" in result.summary and "1 run not pushed yet" in result.summary
    assert "history sync" in (result.fix or "")
    assert "pw-doctor" not in result.summary + (result.fix or "")


# ---------------------------------------------------------------- the report


# ---------------------------------------------------------------- config guard and profiles

TABLE = {"name": "p", "base_url": "http://127.0.0.1:4000/v1", "env_key": "LITELLM_API_KEY"}


def _guard() -> ConfigGuard:
    config = codex_home(os.environ) / "config.toml"
    config.write_text('model = "o3"\n')
    return ConfigGuard(config, app_dirs().state_dir)


def test_config_guard_ok_when_nothing_is_edited():
    assert _check(doctor.check_config_guard).status == "ok"


def test_config_guard_ok_while_a_live_run_holds_the_edit():
    guard = _guard()
    guard.enter("a", "cost-routing", TABLE)
    result = _check(doctor.check_config_guard)
    assert result.status == "ok" and "running codex-route" in result.summary
    guard.leave("a")


def test_config_guard_fails_after_an_interrupted_run_and_names_the_fix():
    guard = _guard()
    guard.enter("a", "cost-routing", TABLE)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    journal = json.loads(guard.journal_path.read_bytes())
    journal["runs"]["a"]["pid"] = proc.pid
    guard.journal_path.write_text(json.dumps(journal))
    result = _check(doctor.check_config_guard)
    assert result.status == "fail" and result.fix == "codex-route config restore"


def test_config_guard_warns_on_a_stray_backup():
    guard = _guard()
    guard.dir.mkdir(parents=True)
    guard.backup_path.write_bytes(b"old")
    assert _check(doctor.check_config_guard).status == "warn"


def test_config_guard_fails_on_codex_routes_marked_lines_with_no_journal_left():
    """Item 6: the edit carries its own marker, so it is found even with every journal gone."""
    guard = _guard()
    guard.enter("a", "cost-routing", TABLE)
    shutil.rmtree(guard.dir)  # the guard's files deleted mid-run
    result = _check(doctor.check_config_guard)
    assert result.status == "fail" and "codex-route: temporary" in result.summary
    assert "delete the marked lines" in (result.fix or "")


def test_managed_profiles_states():
    assert _check(doctor.check_managed_profiles).status == "ok"
    ctx = DoctorContext.build(dict(os.environ), app_dirs())
    home = codex_home(os.environ)
    profiles.enable(home, ctx.settings)
    assert "enabled" in _check(doctor.check_managed_profiles).summary
    with open(home / "cost-routing.config.toml", "a") as f:
        f.write("\n# edited\n")
    assert _check(doctor.check_managed_profiles).status == "warn"
    (home / "cost-routing.config.toml").write_text('model = "mine"\n')  # the user's own file
    result = _check(doctor.check_managed_profiles)
    assert result.status == "warn" and "did not write" in result.summary


def test_profiles_enable_refuses_a_foreign_file_and_disable_leaves_it(tmp_path: Path):
    ctx = DoctorContext.build(dict(os.environ), app_dirs())
    home = codex_home(os.environ)
    (home / "cost-routing.config.toml").write_text('model = "mine"\n')
    with pytest.raises(CodexConfigError, match="not written by codex-route"):
        profiles.enable(home, ctx.settings)
    profiles.disable(home, ctx.settings)
    assert (home / "cost-routing.config.toml").read_text() == 'model = "mine"\n'
    states = {s.name: s.state for s in profiles.enable(home, ctx.settings, force=True)}
    assert states == {"cost-routing": "enabled", "cost-routing-hf": "enabled"}
    text = (home / "cost-routing-hf.config.toml").read_text()
    assert (
        'model = "openai/gpt-oss-120b:fastest"' in text
        and "unbounded_connection_retries = false" in text
    )
    profiles.disable(home, ctx.settings)
    assert not list(home.glob("cost-routing*.config.toml"))


OLD_HOME = Path(__file__).parent / "data" / "old-codex-home"


def _old_files(*names: str) -> Path:
    home = codex_home(os.environ)
    for name in names:
        shutil.copy(OLD_HOME / name, home / name)
    return home


# files copied from the earlier cost router's $CODEX_HOME → status, words in the summary
OLD_ROUTER_CASES = {
    "nothing": ((), "ok", ["nothing left"]),
    "managed block": (
        ("config.toml",),
        "warn",
        ["config.toml holds its managed block (lines 5-29)"],
    ),
    "standalone files": (
        ("cost-routing.config.toml", "cost-routing-hf.config.toml"),
        "warn",
        ["cost-routing.config.toml", "cost-routing-hf.config.toml", 'wire_api = "chat"'],
    ),
    "all of it": (
        ("config.toml", "cost-routing.config.toml"),
        "warn",
        ["managed block", "cost-routing.config.toml: its profile files"],
    ),
}


@pytest.mark.parametrize("case", list(OLD_ROUTER_CASES))
def test_old_cost_router_leftovers_are_named_with_the_fix(case: str) -> None:
    names, status, words = OLD_ROUTER_CASES[case]
    _old_files(*names)
    result = _check(doctor.check_old_cost_router)
    assert result.status == status, result
    for word in words:
        assert word in result.summary, (word, result.summary)
    if "config.toml" in names:
        assert "# BEGIN CODEX COST ROUTER" in (result.fix or "")
    if any(n.startswith("cost-routing") for n in names):
        assert "config disable" in (result.fix or "") and "config enable --force" in (
            result.fix or ""
        )


def test_old_cost_router_files_are_told_from_codex_routes_own_profiles() -> None:
    ctx = DoctorContext.build(dict(os.environ), app_dirs())
    home = codex_home(os.environ)
    profiles.enable(home, ctx.settings)  # codex-route's own profiles: not the old tool's
    assert _check(doctor.check_old_cost_router).status == "ok"
    (home / "cost-routing.config.toml").write_text('model = "mine"\n')  # the user's own file
    assert _check(doctor.check_old_cost_router).status == "ok"
    _old_files("cost-routing-hf.config.toml")
    result = _check(doctor.check_old_cost_router)
    assert result.status == "warn" and "cost-routing-hf.config.toml" in result.summary
    assert "cost-routing.config.toml" not in result.summary.replace("cost-routing-hf.config", "")


def test_old_cost_router_block_without_end_and_backup_are_named() -> None:
    home = codex_home(os.environ)
    (home / "config.toml").write_text('model = "m"\n# BEGIN CODEX COST ROUTER\n')
    (home / "logs").mkdir()
    (home / "logs" / "config.toml.cost_router_backup").write_text('model = "m"\n')
    result = _check(doctor.check_old_cost_router)
    assert "from line 2, no END marker" in result.summary
    assert "config.toml.cost_router_backup" in result.summary


def test_old_cost_router_block_through_the_cli() -> None:
    _old_files("config.toml", "cost-routing.config.toml")
    result = CliRunner().invoke(app, ["doctor", "--json"])
    checks = {c["id"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["old_cost_router"]["status"] == "warn"
    # the old block's [profiles.cost-routing] and wire_api "chat" are what Codex refuses
    assert checks["codex_legacy"]["status"] == "fail"


def test_every_check_has_tests_above() -> None:
    tested = {name.removeprefix("test_").split("_is_")[0] for name in globals()}
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        assert any(t.startswith(name) for t in tested), name


def test_a_crashing_check_is_a_failure_not_a_crash() -> None:
    def check_broken(ctx: DoctorContext) -> Check:
        raise RuntimeError("surprise")

    ctx = DoctorContext.build(dict(os.environ), app_dirs())
    [result] = run_checks(ctx, [check_broken])
    assert (result.id, result.status) == ("broken", "fail") and "surprise" in result.summary


def test_adding_a_check_is_one_function_and_one_entry(monkeypatch) -> None:
    def check_extra(ctx: DoctorContext) -> Check:
        return Check("extra", "warn", "from a check added later", "do something")

    monkeypatch.setattr(doctor, "CHECKS", [*doctor.CHECKS, check_extra])
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert json.loads(result.stdout)["checks"][-1]["id"] == "extra"


def _healthy_env(tmp_path: Path, monkeypatch) -> None:
    _script(tmp_path / "bin", "codex", 'echo "codex-cli 0.169.0"')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)


def test_cli_json_and_exit_code(tmp_path: Path, monkeypatch) -> None:
    _healthy_env(tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["doctor", "--json"])
    data = json.loads(result.stdout)
    assert [c["id"] for c in data["checks"]] == [f.__name__.removeprefix("check_") for f in CHECKS]
    assert all(set(c) == {"id", "status", "summary", "fix"} for c in data["checks"])
    assert result.exit_code == 0 and data["status"] in ("ok", "warn")
    assert CANARY not in result.stdout + result.stderr

    _config('profile = "fast"\n')
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "fail"


def test_cli_text_fits_80_columns(tmp_path: Path, monkeypatch) -> None:
    _healthy_env(tmp_path, monkeypatch)
    _config('[model_providers.lite]\nname = "l"\nwire_api = "chat"\n')
    # an 80-column terminal (in a pipe nothing is wrapped: tests/test_output_layout.py)
    monkeypatch.setattr("codex_router.views.layout.width", lambda: 80)
    result = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "80"})
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("FAIL codex_legacy") for line in lines)
    assert "fix:" in result.stdout and CANARY not in result.stdout
    assert lines[-1].endswith("1 failed")
