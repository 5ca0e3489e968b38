"""Selecting runs (``history``): filters, order, limits, and the command around them."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.history.query import (
    FAILED_OUTCOMES,
    RunFilter,
    parse_since,
    recent_runs,
    where_clause,
)
from codex_router.history.store import history_path, record_runs

from helpers.history import make_attempt, make_record
from helpers.tty import run_cli

NOW = datetime(2026, 11, 21, 15, 30, 0).timestamp()  # local time


@pytest.mark.parametrize(
    ("text", "seconds_ago"),
    [
        ("7d", 7 * 86_400),
        ("24h", 86_400),
        ("30m", 1800),
        ("2w", 14 * 86_400),
        ("90s", 90),
        (" 3D ", 3 * 86_400),
        ("0h", 0),
        ("today", 15.5 * 3600),
        ("yesterday", 39.5 * 3600),
    ],
)
def test_parse_since_relative(text: str, seconds_ago: float) -> None:
    assert parse_since(text, now=NOW) == pytest.approx(NOW - seconds_ago)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", datetime(2026, 11, 1).timestamp()),
        ("2026-11-01T08:30", datetime(2026, 11, 1, 8, 30).timestamp()),
        ("2026-11-01 08:30:15", datetime(2026, 11, 1, 8, 30, 15).timestamp()),
        (
            "2026-11-01T08:30+02:00",
            datetime(2026, 11, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))).timestamp(),
        ),
        ("2026-11-01T08:30Z", datetime(2026, 11, 1, 8, 30, tzinfo=UTC).timestamp()),
    ],
)
def test_parse_since_iso(text: str, expected: float) -> None:
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text", ["", "7", "d7", "-3d", "3 days", "2026-13-01", "next week", "1.5h", "7y"]
)
def test_parse_since_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="7d, 24h"):
        parse_since(text, now=NOW)


@pytest.mark.parametrize(
    ("flt", "sql", "params"),
    [
        (RunFilter(), "", []),
        (RunFilter(since=5.0), "WHERE started_at >= ?", [5.0]),
        (
            RunFilter(alias="codex-deep", provider="gemini"),
            "WHERE alias = ? AND provider = ?",
            ["codex-deep", "gemini"],
        ),
        (RunFilter(failed=True), "WHERE outcome IN (?, ?, ?, ?, ?)", list(FAILED_OUTCOMES)),
    ],
)
def test_where_clause(flt: RunFilter, sql: str, params: list) -> None:
    assert where_clause(flt) == (sql, params)


# ---------------------------------------------------------------- reading the store


@pytest.fixture
def dirs():
    return app_dirs()


@pytest.fixture
def seeded(dirs):
    """Nine runs, one per second from t0, with varied alias, provider and outcome."""
    t0 = 1_790_000_000.0
    specs = [
        ("codex-light", "openai", "success"),
        ("codex-deep", "openai", "failed"),
        ("codex-deep", "gemini", "success"),
        ("codex-long", "gemini", "interrupted"),
        ("codex-light", "qwen", "dry_run"),
        ("codex-deep", "openai", "stopped_changes"),
        ("codex-default", "huggingface", "blocked"),
        ("codex-light", "openai", "error"),
        ("codex-deep", "gemini", "success"),
    ]
    records = [
        make_record(
            run_id=f"r{i}",
            started_at=t0 + i,
            alias=a,
            provider=p,
            outcome=o,
            attempts=() if o in ("dry_run", "blocked") else (make_attempt(),),
        )
        for i, (a, p, o) in enumerate(specs)
    ]
    record_runs(dirs, records)
    return t0


def _ids(dirs, flt: RunFilter, limit: int = 100) -> list[str]:
    return [r.run_id for r in recent_runs(dirs, flt, limit)]


@pytest.mark.parametrize(
    ("flt", "limit", "expected"),
    [
        (RunFilter(), 100, ["r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"]),
        (RunFilter(), 3, ["r8", "r7", "r6"]),
        (RunFilter(), 0, []),
        (RunFilter(), 10**30, ["r8", "r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"]),
        (RunFilter(alias="codex-deep"), 100, ["r8", "r5", "r2", "r1"]),
        (RunFilter(provider="gemini"), 2, ["r8", "r3"]),
        (RunFilter(failed=True), 100, ["r7", "r6", "r5", "r3", "r1"]),
        (RunFilter(alias="codex-deep", failed=True), 100, ["r5", "r1"]),
        (RunFilter(alias="codex-nothing"), 100, []),
    ],
)
def test_recent_runs(dirs, seeded, flt: RunFilter, limit: int, expected: list[str]) -> None:
    assert _ids(dirs, flt, limit) == expected


def test_since_is_inclusive(dirs, seeded) -> None:
    assert _ids(dirs, RunFilter(since=seeded + 6)) == ["r8", "r7", "r6"]
    assert _ids(dirs, RunFilter(since=seeded + 6, provider="openai")) == ["r7"]


def test_same_start_time_newest_recorded_first(dirs) -> None:
    record_runs(dirs, [make_record(run_id=f"t{i}", started_at=1_790_000_000.0) for i in range(3)])
    assert _ids(dirs, RunFilter()) == ["t2", "t1", "t0"]


def test_history_queries_walk_an_index(dirs, seeded) -> None:
    """``history --limit 20`` must not sort the table: each filter has an index for it."""
    conn = sqlite3.connect(history_path(dirs))
    try:
        for flt in (
            RunFilter(),
            RunFilter(alias="a"),
            RunFilter(provider="p"),
            RunFilter(since=1.0),
        ):
            where, params = where_clause(flt)
            plan = " | ".join(
                row[-1]
                for row in conn.execute(
                    f"EXPLAIN QUERY PLAN SELECT id FROM runs {where} "
                    "ORDER BY started_at DESC, id DESC LIMIT 20",
                    params,
                )
            )
            assert "USING" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        conn.close()


# ---------------------------------------------------------------- the command


def _run(*args: str):
    return CliRunner().invoke(app, ["history", *args])


def test_cli_json_lines_are_the_records(dirs, seeded) -> None:
    result = _run("--json", "--limit", "4")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    expected = [r.to_dict() for r in recent_runs(dirs, RunFilter(), 4)]
    assert [json.loads(line) for line in lines] == expected


def test_cli_table_fits_80_columns(dirs) -> None:
    long = make_record(
        started_at=1_600_000_000.0,  # 2020-09-13 12:26 UTC: same day in most zones
        alias="codex-a-very-long-custom-alias-name",
        provider="huggingface",
        outcome="stopped_changes",
        duration_ms=7_265_000,
        tokens_raw=123_456_789,
        tokens_clean=98_765_432,
        estimated_cost_usd=1234.5,
        attempts=(make_attempt("standard"), make_attempt("litellm"), make_attempt("huggingface")),
    )
    record_runs(dirs, [long, make_record(alias="codex-claude-complex", provider="claude")])
    # on a real terminal of 80 columns (stdout a pty)
    result = run_cli(["history"], tty_stdout=True, columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split() == [
        "when",
        "alias",
        "provider",
        "path",
        "result",
        "time",
        "tokens",
        "cost",
    ]
    assert max(len(line) for line in lines) <= 80
    # every built-in alias, provider family and path chain whole: no word cut in the middle
    assert lines[1].split()[1:3] == ["claude-complex", "claude"]
    assert lines[2].split() == [
        "2020-09-13",
        "a-very-long-c…",  # only a user's own alias longer than 14 is shortened
        "huggingface",
        "std›lite›hf",
        "changes",
        "2.0h",
        "123M→98M",
        "$1,234",
    ]


def test_cli_table_in_a_pipe_is_tab_separated_and_whole(dirs) -> None:
    long = make_record(
        alias="codex-a-very-long-custom-alias-name",
        attempts=(make_attempt("standard"), make_attempt("litellm"), make_attempt("huggingface")),
    )
    record_runs(dirs, [long])
    result = run_cli(["history"], columns=80)  # stdout a pipe
    assert result.returncode == 0, result.stderr
    header, line = result.stdout.splitlines()
    assert header.split("\t") == [
        "when",
        "alias",
        "provider",
        "path",
        "result",
        "time",
        "tokens",
        "cost",
    ]
    cells = line.split("\t")
    assert cells[1:4] == ["a-very-long-custom-alias-name", "openai", "std›lite›hf"]
    assert "…" not in line


def test_cli_without_history_says_so_on_stderr(dirs) -> None:
    result = _run()
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no runs recorded" in result.stderr
    assert not dirs.state_dir.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--since", "last tuesday"], "--since"),
        (["--limit", "-1"], "--limit"),
        (["--limit", "many"], "--limit"),
    ],
)
def test_cli_bad_flags(dirs, seeded, args: list[str], needle: str) -> None:
    result = _run(*args)
    assert result.exit_code == 2
    assert needle in result.stderr
    assert result.stdout == ""


def test_cli_corrupt_store_is_exit_5_naming_the_file(dirs) -> None:
    path = history_path(dirs)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    result = _run()
    assert result.exit_code == 5
    assert str(path) in result.stderr
    assert path.read_bytes() == b"garbage" * 1000
