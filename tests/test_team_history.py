"""The team history in a real PostgreSQL (codex_router/history/team.py, docs/team.md): one
throwaway server for the session (initdb + pg_ctl on a free 127.0.0.1 port, in a temp dir),
one new database per test. Members are separate CODEX_ROUTE_HOMEs with different user names."""

from __future__ import annotations

import json
import os
import re
import socket
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
    assert versions == [(1,), (2,), (3,)]
    assert {"user_name", "host", "run_id", "record", "usage_cost_usd", "day"} <= columns
    assert {"mark", "mark_note", "marked_at"} <= columns
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


# ---------------------------------------------------------------- history --team, marks, report


def _history_lines(*argv: str) -> list[dict[str, Any]]:
    result = _cli("history", *argv)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def _classed_runs(count: int, offset: int = 0) -> list[Any]:
    """Launched runs over two aliases and three task classes, some failed, one dry run."""
    records = []
    for i in range(count):
        outcome = "failed" if i % 4 == 3 else "success"
        record = make_record(
            alias=("codex-light", "codex-default")[i % 2],
            complexity=("simple", "medium", "complex")[i % 3],
            outcome=outcome,
            exit_code=0 if outcome == "success" else 1,
            attempts=(make_attempt(outcome=outcome, exit_code=0 if outcome == "success" else 1),),
            duration_ms=500 + 13 * i,
        )
        records.append(replace(record, started_at=1_750_000_000.0 + offset + i * 600))
    records.append(
        replace(
            make_record(outcome="dry_run", dry_run=True, attempts=(), duration_ms=0),
            started_at=1_750_000_000.0 + offset + count * 600,
        )
    )
    return records


def test_history_team_lists_every_members_runs_as_the_local_history_does(
    team_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    alice = _member(tmp_path, "alice", team_url)
    bob = _member(tmp_path, "bob", team_url)
    _use(monkeypatch, alice)
    record_runs(app_dirs(), _varied_runs(10))
    alice_local = _history_lines("--json", "--limit", "100")
    assert _cli("history", "sync").exit_code == 0
    _use(monkeypatch, bob)
    record_runs(app_dirs(), _varied_runs(6, offset=7))
    assert _cli("history", "sync").exit_code == 0

    team = _history_lines("--team", "--json", "--limit", "100")
    assert len(team) == 16
    assert [r["started_at"] for r in team] == sorted((r["started_at"] for r in team), reverse=True)
    assert {(r["user"], r["host"]) for r in team} == {
        ("alice", socket.gethostname()),
        ("bob", socket.gethostname()),
    }
    # alice's runs read back from PostgreSQL are her local history's objects plus user and host
    alices = [{k: v for k, v in r.items() if k not in ("user", "host")} for r in team]
    assert [r for r, t in zip(alices, team, strict=True) if t["user"] == "alice"] == alice_local

    # the local filters, with the same meanings
    for flags in (("--alias", "light"), ("--failed",), ("--provider", "gemini"),
                  ("--outcome", "dry-run"), ("--path", "std")):  # fmt: skip
        local_ids = {r["run_id"] for r in _history_lines("--json", "-n", "100", *flags)}
        _use(monkeypatch, alice)
        local_ids |= {r["run_id"] for r in _history_lines("--json", "-n", "100", *flags)}
        _use(monkeypatch, bob)
        team_ids = [r["run_id"] for r in _history_lines("--team", "--json", "-n", "100", *flags)]
        assert team_ids and set(team_ids) == local_ids, flags
    assert len(_history_lines("--team", "--json", "--limit", "3")) == 3
    newest = team[4]["started_at"]
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(newest))
    assert len(_history_lines("--team", "--json", "--since", since)) == 5

    # a row written by another tool with a password in it is masked as locally
    with psycopg.connect(team_url) as conn:
        conn.execute(
            "UPDATE runs SET record = jsonb_set(record, '{skipped}', %s::jsonb) WHERE run_id = %s",
            (json.dumps({"litellm": f"https://u:{PASSWORD}@proxy.internal/v1 down"}),
             team[0]["run_id"]),
        )  # fmt: skip
    shown = _cli("history", "--team", "--json")
    assert shown.exit_code == 0 and PASSWORD not in shown.output
    assert "https://***@proxy.internal/v1" in shown.stdout

    table = _cli("history", "--team")  # piped: a header and tab-separated cells
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split("\t") == ["when", "member", "alias", "path", "result", "time", "cost"]
    assert [line.split("\t")[1] for line in lines[1:]] == [
        f"{r['user']}@{socket.gethostname()}" for r in team[:20]
    ]
    assert PASSWORD not in table.output


def test_history_team_table_fits_80_columns() -> None:
    from codex_router.history.team import TeamRun
    from codex_router.views.history import _TEAM_COLUMNS, table_line, team_row

    run = TeamRun("a-rather-long-user-name", "build-runner-17.ci.example.com", make_record())
    line = table_line(team_row(run, now=time.time()), _TEAM_COLUMNS)
    assert len(line) <= 80 and "…" in line
    assert len(table_line((h for h, _w, _j in _TEAM_COLUMNS), _TEAM_COLUMNS)) <= 80


def test_team_stats_by_alias_class_equal_local_and_count_marks_made_after_the_sync(
    team_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_router.history.store import mark_run
    from codex_router.history.team import compute_team_stats, sync_team_history

    dirs = app_dirs()
    runs = _classed_runs(24)
    record_runs(dirs, runs)
    first = sync_team_history(dirs, team_url, os.environ)
    assert (first.pushed, first.marks_pushed) == (25, 0)
    # marks after the sync: good on failed runs, bad on succeeded ones, so they change counts
    for i, verdict in ((3, "good"), (7, "good"), (0, "bad"), (1, "bad"), (4, "good")):
        mark_run(dirs, runs[i].run_id, verdict, "checked by hand", now=1_760_000_000.0 + i)

    def classes(report: Any) -> list[dict[str, Any]]:
        return [c.to_dict() for c in report.classes]

    before = classes(compute_team_stats(team_url, by="alias-class"))
    assert sum(c["marked_good"] + c["marked_bad"] for c in before) == 0
    second = sync_team_history(dirs, team_url, os.environ)
    assert (second.sent, second.marks_pushed, second.marks_pending) == (0, 5, 0)
    team = compute_team_stats(team_url, by="alias-class")
    local = compute_stats(dirs, by="alias-class")
    assert classes(team) == classes(local)
    assert sum(c["marked_good"] for c in classes(team)) == 3
    assert team.to_dict() == local.to_dict()
    cut = runs[10].started_at
    assert classes(compute_team_stats(team_url, by="alias-class", since=cut)) == classes(
        compute_stats(dirs, by="alias-class", since=cut)
    )
    for by in ("alias", "provider", "day"):
        assert compute_team_stats(team_url, by=by).to_dict() == compute_stats(dirs, by=by).to_dict()

    # a repeat pushes nothing; a changed mark is pushed again, and only it
    assert sync_team_history(dirs, team_url, os.environ).marks_pushed == 0
    mark_run(dirs, runs[0].run_id, "good", None, now=1_770_000_000.0)
    assert sync_team_history(dirs, team_url, os.environ).marks_pushed == 1
    assert classes(compute_team_stats(team_url, by="alias-class")) == classes(
        compute_stats(dirs, by="alias-class")
    )
    monkeypatch.setenv("CODEX_ROUTE_HISTORY_URL", team_url)
    team_json = _history_lines("--team", "--json", "-n", "100")
    assert [r["feedback"] for r in team_json] == [
        r["feedback"] for r in _history_lines("--json", "-n", "100")
    ]


def _team_marks(url: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT run_id, mark FROM runs WHERE mark IS NOT NULL").fetchall()
    return {str(r): str(m) for r, m in rows}


def test_history_mark_reaches_the_team_database_in_the_background(
    team_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _member(tmp_path, "erin", team_url)
    _use(monkeypatch, env)
    runs = _classed_runs(4)
    record_runs(app_dirs(), runs)
    assert _cli("history", "sync").exit_code == 0
    marked = _cli("history", "mark", runs[1].run_id, "bad")
    assert marked.exit_code == 0, marked.output
    deadline = time.monotonic() + 60
    while not _team_marks(team_url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _team_marks(team_url) == {runs[1].run_id: "bad"}


def test_a_mark_made_while_the_database_is_down_is_pushed_after_it(
    postgres: PostgresServer, team_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_router.history.team import team_backlog

    env = _member(tmp_path, "frank", team_url)
    _use(monkeypatch, env)
    runs = _classed_runs(6)
    record_runs(app_dirs(), runs)
    assert _cli("history", "sync").exit_code == 0
    postgres.stop()
    try:
        marked = _cli("history", "mark", runs[2].run_id, "good", "--note", "right fix")
        assert marked.exit_code == 0, marked.output  # the background sync fails quietly
        failed = _cli("history", "sync")
        assert failed.exit_code != 0 and PASSWORD not in failed.output
        assert team_backlog(app_dirs(), team_url) == (0, 1)
        for argv in (("history", "--team"), ("stats", "--team", "--by", "alias-class")):
            down = _cli(*argv)
            assert down.exit_code == 5, (argv, down.output)
            assert "not reachable" in down.output and PASSWORD not in down.output
    finally:
        postgres.start()
    synced = _cli("history", "sync", "--json")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout) | {"target": ""} == {
        "target": "", "pushed": 0, "sent": 0, "pending": 0, "marks_pushed": 1, "marks_pending": 0,
    }  # fmt: skip
    assert team_backlog(app_dirs(), team_url) == (0, 0)
    stats = _cli("stats", "--team", "--by", "alias-class", "--json")
    assert stats.exit_code == 0, stats.output
    assert sum(g["marked_good"] for g in json.loads(stats.stdout)["groups"]) == 1
    assert json.loads(stats.stdout) == json.loads(
        _cli("stats", "--by", "alias-class", "--json").stdout
    )


def test_stats_team_html_renders_every_members_runs_from_postgres(
    team_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = _member(tmp_path, "alice", team_url)
    bob = _member(tmp_path, "bob", team_url)
    _use(monkeypatch, alice)
    record_runs(app_dirs(), _varied_runs(10))
    assert _cli("history", "sync").exit_code == 0
    _use(monkeypatch, bob)
    record_runs(app_dirs(), _varied_runs(5, offset=7))
    assert _cli("history", "sync").exit_code == 0
    out = tmp_path / "team.html"
    written = _cli("stats", "--team", "--html", str(out))
    assert written.exit_code == 0, written.output
    html = out.read_text()
    assert "team history, all recorded runs: 15 runs, 9 launched codex" in " ".join(html.split())
    member_rows = re.findall(r"<tr><td>(alice|bob)</td><td class=\"num\">(\d+)</td>", html)
    assert member_rows == [("alice", "10"), ("bob", "5")]
    chart = json.loads(
        re.search(
            r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S
        ).group(1)  # type: ignore[union-attr]
    )
    assert chart["alias_mix"]  # drawn from PostgreSQL's per-alias sums
    assert PASSWORD not in html and "src=" not in html
    local = tmp_path / "local.html"
    assert _cli("stats", "--html", str(local)).exit_code == 0
    assert "Per member" not in local.read_text()  # bob's own report: his runs, no members


def test_doctor_reports_the_team_database_without_changing_it(
    team_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from codex_router import doctor
    from codex_router.history.team import SCHEMA_VERSION

    monkeypatch.setenv("CODEX_ROUTE_HISTORY_URL", team_url)
    record_runs(app_dirs(), _varied_runs(3))

    def check() -> Any:
        return doctor.check_team_history(doctor.DoctorContext.build(os.environ, app_dirs()))

    fresh = check()
    assert (fresh.status, fresh.fix) == ("warn", "codex-route history sync")
    assert "no schema yet" in fresh.summary and "3 runs not pushed yet" in fresh.summary
    with psycopg.connect(team_url) as conn:  # doctor created nothing
        assert conn.execute("SELECT to_regclass('codex_route_schema')").fetchone() == (None,)
    assert _cli("history", "sync").exit_code == 0
    synced = check()
    assert synced.status == "ok", synced
    assert f"reachable, schema {SCHEMA_VERSION}; 0 runs not pushed yet" in synced.summary
    assert PASSWORD not in synced.summary and "postgresql://***@127.0.0.1" in synced.summary
    report = _cli("doctor", "--json")
    checks = {c["id"]: c for c in json.loads(report.stdout)["checks"]}
    assert checks["team_history"]["status"] == "ok"


def test_an_older_mark_never_replaces_a_newer_one_in_the_team_database(team_url: str) -> None:
    """A slower concurrent sync (here: a row changed behind this machine's back) cannot put an
    older mark back; it stays pending instead of being counted as pushed."""
    import psycopg

    from codex_router.history.store import mark_run
    from codex_router.history.team import sync_team_history, team_backlog

    dirs = app_dirs()
    runs = _classed_runs(3)
    record_runs(dirs, runs)
    mark_run(dirs, runs[0].run_id, "good", None, now=1_760_000_000.0)
    assert sync_team_history(dirs, team_url, os.environ).marks_pushed == 1
    with psycopg.connect(team_url) as conn:
        conn.execute("UPDATE runs SET mark = 'bad', marked_at = 1800000000 WHERE mark = 'good'")
    mark_run(dirs, runs[0].run_id, "good", "again", now=1_760_000_100.0)
    again = sync_team_history(dirs, team_url, os.environ)
    assert (again.marks_pushed, again.marks_pending) == (0, 1)
    assert _team_marks(team_url) == {runs[0].run_id: "bad"}
    assert team_backlog(dirs, team_url) == (0, 1)


def _stats_views(report: Any) -> dict[str, Any]:
    """What ``stats`` shows: the totals, the groups, the rules, the adaptive counts, the
    classes, the days (``to_dict`` rounds money as the JSON does)."""
    data = report.to_dict()
    return {
        **data,
        "rules": report.rule_savings,
        "adaptive": report.adaptive,
        "days": [d.to_dict() for d in report.days],
    }


def _rolled_runs(count: int) -> list[Any]:
    """``_varied_runs`` with rules and task classes that differ from run to run."""
    runs = []
    for i, record in enumerate(_varied_runs(count)):
        rules = {"ansi": i % 4, "repeated_lines": 10 * i, f"rule{i % 3}": 7} if i % 6 else {}
        complexity = ("low", "medium", "high")[i % 3]
        runs.append(replace(record, rules=rules, complexity=complexity))
    return runs


#: ``--since`` cuts: before every run, mid-day, at a UTC midnight, a second after a run,
#: after every run.
_CUTS = (
    None,
    1_700_000_000.0,
    1_750_000_000.0 + 20 * 3600 + 1,
    (1_750_000_000 // 86_400 + 1) * 86_400.0,
    1_750_000_000.0 + 50 * 3600,
    1_760_000_000.0,
)


def _assert_team_equals_local(url: str, dirs: Any) -> None:
    from codex_router.history.team import compute_team_stats

    for since in _CUTS:
        for by in (None, "alias", "provider", "day", "alias-class"):
            team = compute_team_stats(url, since=since, by=by, daily=True)
            local = compute_stats(dirs, since=since, by=by, daily=True)
            assert _stats_views(team) == _stats_views(local), (since, by)


def test_team_stats_from_the_rollup_equal_local_stats_at_every_cut(team_url: str) -> None:
    """Small batches add to the same rollup rows (ON CONFLICT … DO UPDATE); a lost watermark
    sends every run again and the rollup counts none twice."""
    import psycopg

    from codex_router.history.store import mark_run
    from codex_router.history.team import (
        SYNC_STATE_FILE_NAME,
        compute_team_stats,
        member_names,
        sync_team_history,
    )

    dirs = app_dirs()
    runs = _rolled_runs(70)
    record_runs(dirs, runs)
    assert sync_team_history(dirs, team_url, os.environ, batch=4).pushed == 70
    (dirs.state_dir / SYNC_STATE_FILE_NAME).unlink()
    again = sync_team_history(dirs, team_url, os.environ, batch=9)
    assert (again.sent, again.pushed) == (70, 0)
    for i, verdict in ((0, "good"), (1, "good"), (2, "bad"), (65, "bad")):
        mark_run(dirs, runs[i].run_id, verdict, None, now=1_760_000_000.0 + i)
    assert sync_team_history(dirs, team_url, os.environ).marks_pushed == 4
    _assert_team_equals_local(team_url, dirs)
    with psycopg.connect(team_url) as conn:
        rollup_runs = conn.execute("SELECT sum(runs) FROM team_totals").fetchone()
    assert rollup_runs == (70,)
    # the member's own rows, grouped by user, are the totals
    by_user = compute_team_stats(team_url, by="user", since=_CUTS[2])
    assert [g.key for g in by_user.groups] == [member_names(os.environ)[0]]
    # (the overhead median is the total's only, as locally)
    member = replace(by_user.groups[0], key=None, overhead_median=by_user.total.overhead_median)
    assert member.to_dict() == by_user.total.to_dict()


def test_a_schema_2_database_with_runs_is_rolled_up_by_the_migration(team_url: str) -> None:
    """A database synced before the rollup existed: the migration rolls up every run (and
    the marks), and the syncs after it add to the rollup."""
    import psycopg

    from codex_router.history.store import mark_run
    from codex_router.history.team import SCHEMA_VERSION, sync_team_history, team_schema_version

    dirs = app_dirs()
    runs = _rolled_runs(70)
    record_runs(dirs, runs[:50])
    sync_team_history(dirs, team_url, os.environ)
    mark_run(dirs, runs[6].run_id, "bad", "checked", now=1_760_000_000.0)
    assert sync_team_history(dirs, team_url, os.environ).marks_pushed == 1
    # back to what schema 2 wrote: the same runs table, no rollup
    with psycopg.connect(team_url) as conn:
        conn.execute("DROP TABLE team_totals, team_rule_totals, team_durations")
        conn.execute("DROP INDEX runs_marked")
        conn.execute("DELETE FROM codex_route_schema WHERE version > 2")
    assert team_schema_version(team_url) == SCHEMA_VERSION == 3
    _assert_team_equals_local(team_url, dirs)
    record_runs(dirs, runs[50:])
    assert sync_team_history(dirs, team_url, os.environ).pushed == 20
    _assert_team_equals_local(team_url, dirs)
