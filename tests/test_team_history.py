"""The team history in a real PostgreSQL (codex_router/history/team.py, docs/team.md): one
throwaway server for the session (initdb + pg_ctl on a free 127.0.0.1 port, in a temp dir),
one new database per test. Members are separate CODEX_ROUTE_HOMEs with different user names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import StateError
from codex_router.history.record import AdaptiveVerdict, TokenUsage
from codex_router.history.stats import compute_stats
from codex_router.history.store import record_runs

from helpers.ci import missing_precondition
from helpers.history import make_attempt, make_record
from helpers.postgres import PostgresServer, find_pg_bin

pytestmark = pytest.mark.team

REPO = Path(__file__).resolve().parents[1]
#: PostgreSQL trusts every local connection here, so any password is accepted: it only has to
#: be kept out of every output.
PASSWORD = "pw-team-0123456789"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        missing_precondition(
            "PostgreSQL's initdb/pg_ctl not found: ./scripts/test.sh installs Debian's postgresql"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing_precondition('psycopg is missing: pip install -e ".[test]"')
    server = PostgresServer(bin_dir)
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def team_url(postgres: PostgresServer) -> str:
    """A new database, named with a password in the URL (trust auth ignores it)."""
    return postgres.create_database().replace("postgres@", f"postgres:{PASSWORD}@", 1)


def _member(root: Path, name: str, team_url: str) -> dict[str, str]:
    """The environment of one team member: their own home and state, their user name."""
    home = root / name
    (home / ".codex").mkdir(parents=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "CODEX_HOME": str(home / ".codex"),
        "CODEX_ROUTE_HOME": str(home / "codex-route"),
        "CODEX_ROUTE_HISTORY_URL": team_url,
        "USER": name,
        "LOGNAME": name,
    }
    return env


def _use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in ("HOME", "CODEX_HOME", "CODEX_ROUTE_HOME", "CODEX_ROUTE_HISTORY_URL", "USER"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("LOGNAME", env["LOGNAME"])


def _cli(*argv: str) -> Any:
    return CliRunner().invoke(app, list(argv))


def _team_rows(url: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        try:
            rows = conn.execute("SELECT user_name, run_id FROM runs").fetchall()
        except psycopg.errors.UndefinedTable:
            return []  # no sync has created the schema yet
        return [(str(u), str(r)) for u, r in rows]


def _varied_runs(count: int, offset: int = 0) -> list[Any]:
    """Launched, failed, fallen-back, dry and blocked runs, some with Codex's usage."""
    records = []
    for i in range(count):
        kind = i % 5
        usage = TokenUsage(input_tokens=900 + i, output_tokens=50, total_tokens=950 + i)
        if kind == 0:
            record = make_record(duration_ms=1000 + 37 * i, usage=usage, usage_cost_usd=0.003)
        elif kind == 1:
            record = make_record(
                outcome="failed",
                exit_code=1,
                duration_ms=400 + i,
                attempts=(make_attempt(outcome="failed", exit_code=1),),
                alias="codex-light",
            )
        elif kind == 2:
            record = make_record(
                attempts=(make_attempt(outcome="failed", exit_code=1), make_attempt("litellm")),
                duration_ms=2500 + i,
                provider="gemini",
                adaptive=AdaptiveVerdict("standard", "litellm", True, i % 3 == 0, i % 2 == 0),
            )
        elif kind == 3:
            record = make_record(outcome="dry_run", dry_run=True, attempts=(), duration_ms=0)
        else:
            record = make_record(outcome="blocked", exit_code=3, attempts=(), duration_ms=0)
        records.append(replace(record, started_at=1_750_000_000.0 + offset + i * 3600))
    return records


def test_the_schema_is_created_once_and_versioned(team_url: str) -> None:
    import psycopg

    from codex_router.history.team import SCHEMA_VERSION, team_schema_version

    assert team_schema_version(team_url) == SCHEMA_VERSION
    assert team_schema_version(team_url) == SCHEMA_VERSION  # a second connection migrates nothing
    with psycopg.connect(team_url) as conn:
        versions = conn.execute("SELECT version FROM codex_route_schema").fetchall()
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'runs'"
            )
        }
    assert versions == [(1,)]
    assert {"user_name", "host", "run_id", "record", "usage_cost_usd", "day"} <= columns
    assert not any("prompt" in c for c in columns)


def test_team_stats_equal_local_stats_over_the_same_runs(
    team_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PostgreSQL sums and percentiles follow the local definitions exactly."""
    from codex_router.history.team import compute_team_stats, sync_team_history

    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")
    dirs = app_dirs()
    record_runs(dirs, _varied_runs(41))
    result = sync_team_history(dirs, team_url, os.environ)
    assert (result.pushed, result.sent, result.pending) == (41, 41, 0)
    local = compute_stats(dirs)
    team = compute_team_stats(team_url)
    assert team.total.to_dict() == local.total.to_dict()
    assert team.rule_savings == local.rule_savings
    assert team.adaptive == local.adaptive
    since = 1_750_000_000.0 + 20 * 3600 + 1
    assert (
        compute_team_stats(team_url, since=since).total.to_dict()
        == compute_stats(dirs, since=since).total.to_dict()
    )
    by_alias = compute_team_stats(team_url, by="alias")
    assert [g.to_dict() for g in by_alias.groups] == [
        g.to_dict() for g in compute_stats(dirs, by="alias").groups
    ]


def test_two_members_merge_and_stats_by_user(
    team_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = _member(tmp_path, "alice", team_url)
    bob = _member(tmp_path, "bob", team_url)
    _use(monkeypatch, alice)
    record_runs(app_dirs(), _varied_runs(10))
    synced = _cli("history", "sync", "--json")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["pushed"] == 10
    _use(monkeypatch, bob)
    record_runs(app_dirs(), _varied_runs(5, offset=7))
    synced = _cli("history", "sync")
    assert synced.exit_code == 0, synced.output
    assert synced.stdout.startswith("synced 5 runs to postgresql://***@127.0.0.1:")
    assert PASSWORD not in synced.output

    rows = _team_rows(team_url)
    assert sorted(u for u, _ in rows) == ["alice"] * 10 + ["bob"] * 5
    by_user = _cli("stats", "--by", "user", "--json")
    assert by_user.exit_code == 0, by_user.output
    report = json.loads(by_user.stdout)
    assert report["by"] == "user"
    assert [(g["user"], g["runs"], g["launched"]) for g in report["groups"]] == [
        ("alice", 10, 6),
        ("bob", 5, 3),
    ]
    assert report["total"]["runs"] == 15
    team = _cli("stats", "--team", "--json")
    assert json.loads(team.stdout)["total"] == report["total"]
    # bob's local stats still see only bob's runs
    assert json.loads(_cli("stats", "--json").stdout)["total"]["runs"] == 5
    table = _cli("stats", "--by", "user")
    assert table.exit_code == 0
    assert [line.split("\t")[0] for line in table.stdout.splitlines()[-2:]] == ["alice", "bob"]
    assert PASSWORD not in table.output


def test_a_second_sync_sends_nothing_and_a_lost_watermark_duplicates_nothing(
    team_url: str,
) -> None:
    from codex_router.history.team import SYNC_STATE_FILE_NAME, sync_team_history

    dirs = app_dirs()
    record_runs(dirs, _varied_runs(7))
    assert sync_team_history(dirs, team_url, os.environ, batch=3).pushed == 7
    assert sync_team_history(dirs, team_url, os.environ).sent == 0
    (dirs.state_dir / SYNC_STATE_FILE_NAME).unlink()
    again = sync_team_history(dirs, team_url, os.environ)
    assert (again.sent, again.pushed) == (7, 0)
    assert len(_team_rows(team_url)) == 7


def _dry_run(env: dict[str, str], text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codex_router", "run", "--dry-run", "--record", text],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _wait_for_rows(url: str, count: int, seconds: float = 60.0) -> list[tuple[str, str]]:
    deadline = time.monotonic() + seconds
    rows = _team_rows(url)
    while len(rows) < count and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = _team_rows(url)
    return rows


def test_a_recorded_run_is_pushed_in_the_background(team_url: str, tmp_path: Path) -> None:
    env = _member(tmp_path, "carol", team_url)
    done = _dry_run(env, "fix the failing test in parser.py")
    assert done.returncode == 0, done.stderr
    rows = _wait_for_rows(team_url, 1)
    assert [u for u, _ in rows] == ["carol"]
    assert PASSWORD not in done.stdout + done.stderr


def test_runs_during_an_outage_succeed_and_sync_after_it(
    postgres: PostgresServer, team_url: str, tmp_path: Path
) -> None:
    env = _member(tmp_path, "dave", team_url)
    assert _dry_run(env, "first task, database up").returncode == 0
    _wait_for_rows(team_url, 1)
    postgres.stop()
    try:
        for n in range(3):
            during = _dry_run(env, f"task {n} while the database is down")
            assert during.returncode == 0, during.stderr
        failed = subprocess.run(
            [sys.executable, "-m", "codex_router", "history", "sync"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert failed.returncode != 0
        assert "not reachable" in failed.stderr
        assert "history sync" in failed.stderr  # the hint
        assert PASSWORD not in failed.stdout + failed.stderr
    finally:
        postgres.start()
    synced = subprocess.run(
        [sys.executable, "-m", "codex_router", "history", "sync", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["pending"] == 0
    rows = _team_rows(team_url)
    assert len(rows) == 4 and {u for u, _ in rows} == {"dave"}
    assert len({r for _, r in rows}) == 4


def test_a_down_database_raises_a_state_error_without_the_password(tmp_path: Path) -> None:
    from codex_router.history.team import pending_runs, sync_team_history

    from helpers.net import free_port

    dirs = app_dirs()
    record_runs(dirs, _varied_runs(2))
    url = f"postgresql://team:{PASSWORD}@127.0.0.1:{free_port()}/history"
    with pytest.raises(StateError) as caught:
        sync_team_history(dirs, url, os.environ, timeout=1)
    assert PASSWORD not in str(caught.value) and PASSWORD not in str(caught.value.hint)
    assert pending_runs(dirs, url) == 2


def test_team_commands_without_a_url_name_the_setting() -> None:
    for argv in (("stats", "--team"), ("stats", "--by", "user"), ("history", "sync")):
        result = _cli(*argv)
        assert result.exit_code == 2, (argv, result.output)
        assert "CODEX_ROUTE_HISTORY_URL" in result.output


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("postgresql://u:p@db.example:5432/history", True),
        ("postgres://db.example/history", True),
        ("http://db.example/history", False),
        ("mysql://u:secretpw@db/history", False),
    ],
)
def test_the_url_setting_accepts_postgresql_urls_only(value: str, accepted: bool) -> None:
    from codex_router.errors import PolicyError
    from codex_router.policy.settings import resolve_settings

    env = {"CODEX_ROUTE_HISTORY_URL": value}
    if accepted:
        resolved = resolve_settings({}, env, app_dirs()).values["history_team_url"]
        assert (resolved.value, resolved.source) == (value, "env")
        return
    with pytest.raises(PolicyError) as caught:
        resolve_settings({}, env, app_dirs())
    assert "secretpw" not in str(caught.value)
