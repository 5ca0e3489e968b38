"""The history store: durable, concurrent, versioned, and never destroying what is not its own."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from codex_router.dirs import app_dirs
from codex_router.errors import ExitCode, StateError
from codex_router.history import migrations
from codex_router.history.migrations import APPLICATION_ID, SCHEMA_VERSION, apply_migrations
from codex_router.history.record import RunRecord, TokenUsage
from codex_router.history.store import (
    history_path,
    open_history,
    record_run,
    record_runs,
    redact,
)

from helpers.ci import missing_precondition
from helpers.history import make_attempt, make_record


@pytest.fixture
def dirs():
    return app_dirs()


def _count(dirs) -> int:
    with open_history(dirs) as conn:
        return 0 if conn is None else conn.execute("SELECT count(*) FROM runs").fetchone()[0]


def _stored_records(dirs) -> list[RunRecord]:
    with open_history(dirs) as conn:
        rows = conn.execute("SELECT record FROM run_details ORDER BY run").fetchall()
    return [RunRecord.from_dict(json.loads(r[0])) for r in rows]


def test_record_round_trips_every_field(dirs) -> None:
    usage = TokenUsage(input_tokens=120, cached_input_tokens=20, output_tokens=7, total_tokens=127)
    record = make_record(
        attempts=(
            make_attempt("litellm", exit_code=1, outcome="failed", error="http 429"),
            make_attempt("standard", session_id="0193-abc", usage=usage),
        ),
        usage=usage,
        intents=("avoid_openai",),
        extra={"note": "x"},
    )
    record_run(dirs, record)
    assert _stored_records(dirs) == [record]


def test_numbers_are_columns(dirs) -> None:
    usage = TokenUsage(input_tokens=120, output_tokens=7, total_tokens=127)
    record_run(dirs, make_record(usage=usage, attempts=(make_attempt("litellm"),) * 2))
    with open_history(dirs) as conn:
        row = conn.execute(
            "SELECT attempt_count, final_path, tokens_raw, tokens_clean, "
            "usage_input_tokens, usage_total_tokens FROM runs"
        ).fetchone()
        rules = conn.execute("SELECT rule, tokens FROM run_rules ORDER BY rule").fetchall()
    assert row == (2, "litellm", 1000, 600, 120, 127)
    assert rules == [("ansi", 100), ("repeated_lines", 300)]


def test_new_database_is_wal_and_current(dirs) -> None:
    record_run(dirs, make_record())
    conn = sqlite3.connect(history_path(dirs))
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        conn.close()


def test_reading_without_history_creates_nothing(dirs) -> None:
    with open_history(dirs) as conn:
        assert conn is None
    assert not dirs.state_dir.exists()


# ---------------------------------------------------------------- concurrency

_WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from helpers.history import make_record
    from codex_router.history.store import record_run
    from codex_router.dirs import app_dirs
    worker, count = int(sys.argv[1]), int(sys.argv[2])
    dirs = app_dirs()
    sys.stdin.readline()  # start together
    for i in range(count):
        record_run(dirs, make_record(run_id=f"{{worker:04d}}{{i:028d}}"))
""")


def test_concurrent_writers_lose_nothing(dirs) -> None:
    workers, each = 4, 60
    code = _WRITER.format(tests=str(Path(__file__).parent))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(w), str(each)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    with open_history(dirs) as conn:
        ids = [r[0] for r in conn.execute("SELECT run_id FROM runs")]
        details = conn.execute("SELECT count(*) FROM run_details").fetchone()[0]
    assert len(ids) == len(set(ids)) == workers * each == details


def test_batch_is_all_or_nothing(dirs) -> None:
    record_run(dirs, make_record())
    bad = make_record(tokens_raw="many")  # not an int: the row cannot be built
    with pytest.raises(ValueError):
        record_runs(dirs, [make_record(), bad])
    assert _count(dirs) == 1


# ---------------------------------------------------------------- schema versions

_V1_DDL_RUN = textwrap.dedent("""
    CREATE TABLE runs (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, started_at REAL NOT NULL,
        day TEXT NOT NULL, duration_ms INTEGER NOT NULL, outcome TEXT NOT NULL,
        exit_code INTEGER NOT NULL, alias TEXT NOT NULL, provider TEXT NOT NULL, final_path TEXT,
        attempt_count INTEGER NOT NULL, complexity TEXT NOT NULL, long_context INTEGER NOT NULL,
        interactive INTEGER NOT NULL, dry_run INTEGER NOT NULL, tokens_raw INTEGER NOT NULL,
        tokens_clean INTEGER NOT NULL, estimated_cost_usd REAL NOT NULL,
        deep_cost_usd REAL NOT NULL, usage_input_tokens INTEGER,
        usage_cached_input_tokens INTEGER, usage_output_tokens INTEGER,
        usage_reasoning_output_tokens INTEGER, usage_total_tokens INTEGER, codex_version TEXT,
        codex_route_version TEXT NOT NULL);
    CREATE TABLE run_details (run INTEGER PRIMARY KEY, record TEXT NOT NULL);
    CREATE TABLE run_rules (run INTEGER NOT NULL, started_at REAL NOT NULL, rule TEXT NOT NULL,
        tokens INTEGER NOT NULL);
    CREATE INDEX runs_started ON runs (started_at);
    CREATE INDEX runs_alias ON runs (alias, started_at);
    CREATE INDEX runs_provider ON runs (provider, started_at);
    CREATE INDEX runs_outcome ON runs (outcome, started_at);
    CREATE INDEX runs_duration ON runs (duration_ms, started_at) WHERE attempt_count > 0;
    CREATE INDEX runs_alias_duration ON runs (alias, duration_ms, started_at) WHERE attempt_count > 0;
    CREATE INDEX runs_provider_duration ON runs (provider, duration_ms, started_at)
        WHERE attempt_count > 0;
    CREATE INDEX runs_day_duration ON runs (day, duration_ms, started_at) WHERE attempt_count > 0;
    CREATE INDEX run_rules_rule ON run_rules (rule, started_at, tokens);
""")  # noqa: E501 - frozen as the first release wrote it, long lines included


def test_a_version_1_database_written_by_hand_is_read_and_extended(dirs) -> None:
    """A v1 file as the first release wrote it (DDL frozen here, not taken from the code)."""
    old = make_record(run_id="old")
    path = history_path(dirs)
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(_V1_DDL_RUN)
    conn.execute(
        "INSERT INTO runs VALUES (1, 'old', ?, '2025-06-15', 1200, 'success', 0, "
        "'codex-default', 'openai', 'standard', 1, 'medium', 0, 0, 0, 1000, 600, 0.002, "
        "0.02, NULL, NULL, NULL, NULL, NULL, '0.169.0', '0.1.0')",
        (old.started_at,),
    )
    conn.execute("INSERT INTO run_details VALUES (1, ?)", (json.dumps(old.to_dict()),))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()

    record_run(dirs, make_record(run_id="new"))
    assert [r.run_id for r in _stored_records(dirs)] == ["old", "new"]
    from codex_router.history.stats import compute_stats

    assert compute_stats(dirs).total.runs == 2  # the rollup of version 2 counts the old run
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        conn.close()


def test_pending_migrations_run_in_order_once(tmp_path: Path) -> None:
    calls: list[int] = []
    steps = [lambda c, i=i: calls.append(i) for i in range(3)]
    conn = sqlite3.connect(tmp_path / "x.sqlite3")
    try:
        assert apply_migrations(conn, 1, steps) == 3
        assert calls == [1, 2]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    finally:
        conn.close()


def test_a_failing_migration_leaves_the_database_as_it_was(dirs, monkeypatch) -> None:
    record_run(dirs, make_record())

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE runs ADD COLUMN extra_column INTEGER")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StateError, match="disk I/O error"):
        record_run(dirs, make_record())
    conn = sqlite3.connect(history_path(dirs))
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    finally:
        conn.close()
    assert "extra_column" not in columns


def test_a_newer_schema_is_refused_and_left_untouched(dirs) -> None:
    record_run(dirs, make_record())
    path = history_path(dirs)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for action in (lambda: record_run(dirs, make_record()), lambda: _count(dirs)):
        with pytest.raises(StateError, match="newer codex-route") as caught:
            action()
        assert str(path) in caught.value.message
        assert caught.value.exit_code == ExitCode.CONFIG
    assert path.read_bytes() == before


# ---------------------------------------------------------------- foreign and broken files


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database\n" * 100,
        b"SQLite format 3\x00" + b"\xff" * 4000,  # a valid magic, garbage behind it
    ],
)
def test_a_corrupt_file_is_refused_and_kept(dirs, content: bytes) -> None:
    path = history_path(dirs)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(StateError) as caught:
        record_run(dirs, make_record())
    assert str(path) in caught.value.message
    assert "never deletes" in (caught.value.hint or "")
    with pytest.raises(StateError):
        _count(dirs)
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_another_programs_database_is_refused(dirs) -> None:
    path = history_path(dirs)
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StateError, match="another program"):
        record_run(dirs, make_record())
    assert path.read_bytes() == before


@contextmanager
def _read_only(directory: Path) -> Iterator[None]:
    """Make ``directory`` unwritable even for root (chmod, then the immutable flag)."""
    directory.chmod(0o555)
    immutable = False
    probe = directory / ".probe"
    try:
        probe.touch()
        probe.unlink()
        writable = True
    except OSError:
        writable = False
    if writable and os.geteuid() == 0 and shutil.which("chattr"):
        immutable = (
            subprocess.run(["chattr", "+i", str(directory)], capture_output=True).returncode == 0
        )
        writable = not immutable
    try:
        if writable:
            missing_precondition(
                "cannot make a directory read-only here (root without a working chattr +i)"
            )
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        directory.chmod(0o755)


def test_a_read_only_state_dir_is_a_clear_error(dirs) -> None:
    dirs.state_dir.mkdir(parents=True)
    with _read_only(dirs.state_dir), pytest.raises(StateError) as caught:
        record_run(dirs, make_record())
    assert str(dirs.state_dir) in caught.value.message
    assert "writable" in caught.value.message + (caught.value.hint or "")
    assert not history_path(dirs).exists()


def test_a_read_only_existing_database_is_a_clear_error(dirs) -> None:
    record_run(dirs, make_record())
    before = history_path(dirs).read_bytes()
    with _read_only(dirs.state_dir):
        history_path(dirs).chmod(0o444)
        try:
            with pytest.raises(StateError) as caught:
                record_run(dirs, make_record())
        finally:
            history_path(dirs).chmod(0o644)
    assert str(history_path(dirs)) in caught.value.message
    assert history_path(dirs).read_bytes() == before


def test_history_is_readable_in_a_read_only_state_dir(dirs) -> None:
    record_run(dirs, make_record(run_id="kept"))
    with _read_only(dirs.state_dir):
        assert [r.run_id for r in _stored_records(dirs)] == ["kept"]
        assert sorted(p.name for p in dirs.state_dir.iterdir()) == ["history.sqlite3"]


def test_a_state_dir_that_cannot_be_created(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CODEX_ROUTE_HOME", str(blocker))
    dirs = app_dirs()
    with pytest.raises(StateError, match="cannot create the state directory"):
        record_run(dirs, make_record())


# ---------------------------------------------------------------- privacy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://user:pw@127.0.0.1:4000/v1", "http://***@127.0.0.1:4000/v1"),
        ("https://tok@router.huggingface.co/v1", "https://***@router.huggingface.co/v1"),
        ("http://h/v1?api_key=abc&x=1", "http://h/v1?api_key=***&x=1"),
        ("http://h/v1?x=1&access_token=abc", "http://h/v1?x=1&access_token=***"),
        ("http://127.0.0.1:4000/v1", "http://127.0.0.1:4000/v1"),
        (
            "policy /home/u/.config/codex-route/policy.yaml:12",
            "policy /home/u/.config/codex-route/policy.yaml:12",
        ),
        ("mail me at a@b.c", "mail me at a@b.c"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_key_values_never_reach_the_file(dirs, monkeypatch) -> None:
    secret = "sk-canary-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    record_run(
        dirs,
        make_record(
            reasons=(f"key was {secret}",),
            provenance={"litellm_base_url": f"http://x:{secret}@h/v1"},
        ),
    )
    stored = _stored_records(dirs)[0]
    assert secret not in json.dumps(stored.to_dict())
    for file in dirs.state_dir.iterdir():
        assert secret.encode() not in file.read_bytes()


def test_canary_secrets_never_reach_any_file(dirs, tmp_path: Path) -> None:
    """A recorded dry run with secrets in the prompt, the attachment and the environment:
    no file under CODEX_ROUTE_HOME or CODEX_HOME holds any of them afterwards."""
    canaries = {
        "prompt": "sk-proj-CANARYprompt0a1b2c3d4e5f",
        "attachment": "hf_CANARYattachment9z8y7x6w",
        "OPENAI_API_KEY": "sk-CANARYopenai11223344556677",
        "HF_TOKEN": "hf_CANARYtoken00998877665544",
        "GEMINI_API_KEY": "AIzaCANARYgemini5566778899aa",
        "LITELLM_API_KEY": "sk-CANARYlitellm1234567890ab",
        "CODEX_API_KEY": "sk-CANARYcodex0987654321abcd",
        "url": "CANARYurlpassword4455",
    }
    env = dict(os.environ)
    for name in (
        "OPENAI_API_KEY",
        "HF_TOKEN",
        "GEMINI_API_KEY",
        "LITELLM_API_KEY",
        "CODEX_API_KEY",
    ):
        env[name] = canaries[name]
    env["CODEX_ROUTE_LITELLM_BASE_URL"] = f"http://user:{canaries['url']}@127.0.0.1:9/v1"
    attachment = f"ERROR login failed token={canaries['attachment']}\n" * 50
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codex_router",
            "run",
            "--dry-run",
            "--record",
            f"fix the login bug; the key is {canaries['prompt']}",
        ],
        input=attachment,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    history = subprocess.run(
        [sys.executable, "-m", "codex_router", "history", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert len(history.stdout.splitlines()) == 1, history.stderr  # the run was recorded
    written = [
        Path(root) / name
        for top in (Path(env["CODEX_ROUTE_HOME"]), Path(env["CODEX_HOME"]))
        for root, _, names in os.walk(top)
        for name in names
    ]
    assert history_path(dirs) in written
    # The scan sees the stored records themselves (not an empty file with a pending WAL).
    assert any(b'"outcome":"dry_run"' in file.read_bytes() for file in written)
    for file in written:
        data = file.read_bytes()
        for where, canary in canaries.items():
            assert canary.encode() not in data, f"the {where} canary is in {file}"
    for where, canary in canaries.items():
        assert canary not in history.stdout, where
