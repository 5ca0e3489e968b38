"""Team mode's quick record: the run spools its record (``store.spool_run``) and whoever opens
the history next — the background sync, ``history``, ``stats``, ``history mark`` — writes it to
SQLite first (``store.ingest_pending``), each run once."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from contextlib import closing
from pathlib import Path

import pytest

from codex_router.dirs import app_dirs
from codex_router.history.query import RunFilter, recent_runs
from codex_router.history.store import (
    history_path,
    ingest_pending,
    mark_run,
    pending_dir,
    record_run,
    spool_run,
)
from codex_router.run.execute import keep_run

from helpers.history import make_attempt, make_record


@pytest.fixture
def dirs():
    return app_dirs()


def _ids(dirs) -> list[str]:
    return [r.run_id for r in recent_runs(dirs, RunFilter(), 1000)]


def _pending(dirs) -> list[str]:
    folder = pending_dir(dirs)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_spooled_run_is_one_private_file_and_no_database(dirs) -> None:
    record = make_record()
    file = spool_run(dirs, record)
    assert file == pending_dir(dirs) / f"{record.run_id}.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert json.loads(file.read_text())["run_id"] == record.run_id
    assert not history_path(dirs).exists()  # SQLite is not opened by the run
    assert _pending(dirs) == [file.name]  # no partial file left behind


def test_a_spooled_record_holds_no_key_value(dirs, monkeypatch) -> None:
    secret = "sk-canary-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    record = make_record(
        reasons=(f"key was {secret}",),
        provenance={"litellm_base_url": f"http://x:{secret}@h/v1"},
    )
    file = spool_run(dirs, record)
    assert secret not in file.read_text()
    ingest_pending(dirs)
    for path in dirs.state_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes()


def test_readers_write_pending_runs_first_in_the_order_they_were_kept(dirs) -> None:
    first, second = make_record(), make_record()
    record_run(dirs, make_record())
    spool_run(dirs, first)
    spool_run(dirs, second)
    os.utime(pending_dir(dirs) / f"{first.run_id}.json", ns=(1, 1))  # kept first
    ids = _ids(dirs)  # history reads: the pending runs are written, then listed
    assert first.run_id in ids and second.run_id in ids
    assert _pending(dirs) == []
    with closing(sqlite3.connect(history_path(dirs))) as conn:
        order = [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY id")]
    assert order[-2:] == [first.run_id, second.run_id]


@pytest.mark.parametrize("already_there", [False, True])
def test_each_run_is_written_once(dirs, already_there: bool) -> None:
    record = make_record()
    if already_there:  # e.g. a sync wrote it, then a crash before its file was removed
        record_run(dirs, record)
    file = spool_run(dirs, record)
    copy = file.read_bytes()
    assert ingest_pending(dirs) == (0 if already_there else 1)
    file.write_bytes(copy)  # the same record kept again
    assert ingest_pending(dirs) == 0
    assert _ids(dirs).count(record.run_id) == 1


def test_a_bad_file_is_set_aside_and_holds_nothing_back(dirs) -> None:
    good = make_record()
    spool_run(dirs, good)
    (pending_dir(dirs) / "broken.json").write_text("{not json")
    (pending_dir(dirs) / "wrong.json").write_text(json.dumps({"run_id": 3}))
    assert ingest_pending(dirs) == 1
    assert _ids(dirs) == [good.run_id]
    assert _pending(dirs) == ["broken.json.rejected", "wrong.json.rejected"]
    assert ingest_pending(dirs) == 0  # set aside: never read again


def test_nothing_pending_costs_no_database(dirs) -> None:
    assert ingest_pending(dirs) == 0
    assert not dirs.state_dir.exists() or not history_path(dirs).exists()


def test_a_plan_never_writes_pending_runs(dirs) -> None:
    from codex_router.history.store import open_history

    record_run(dirs, make_record())
    spool_run(dirs, make_record())
    with open_history(dirs, migrate=False) as conn:
        assert conn is not None
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    assert len(_pending(dirs)) == 1


def test_a_pending_run_can_be_marked(dirs) -> None:
    record = make_record(attempts=(make_attempt("standard"),))
    spool_run(dirs, record)
    full_id, _note = mark_run(dirs, record.run_id[:8], "good", None, now=1.0)
    assert full_id == record.run_id


def test_two_readers_at_once_write_each_run_once(dirs) -> None:
    records = [make_record() for _ in range(30)]
    record_run(dirs, make_record())
    for record in records:
        spool_run(dirs, record)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            ingest_pending(dirs)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = _ids(dirs)
    assert all(ids.count(r.run_id) == 1 for r in records)


@pytest.mark.parametrize("team_url", [None, "postgresql://db.invalid/codex_route"])
def test_keep_run_spools_only_in_team_mode(dirs, team_url: str | None) -> None:
    record = make_record()
    keep_run(dirs, record, team_url)
    if team_url:
        assert _pending(dirs) == [f"{record.run_id}.json"]
    else:
        assert _pending(dirs) == [] and history_path(dirs).exists()
    assert _ids(dirs) == [record.run_id]


def test_keep_run_writes_directly_when_the_spool_cannot_be_written(dirs) -> None:
    dirs.state_dir.mkdir(parents=True, exist_ok=True)
    Path(pending_dir(dirs)).write_text("a file where the folder goes")
    record = make_record()
    keep_run(dirs, record, "postgresql://db.invalid/codex_route")
    assert history_path(dirs).exists()
    assert _ids(dirs) == [record.run_id]


def test_doctor_counts_spooled_runs_as_not_yet_synced(dirs) -> None:
    from codex_router.history.team import team_backlog

    url = "postgresql://db.invalid/codex_route"
    spool_run(dirs, make_record())
    assert team_backlog(dirs, url) == (1, 0)  # no SQLite file yet
    record_run(dirs, make_record())
    spool_run(dirs, make_record())
    assert team_backlog(dirs, url) == (3, 0)
