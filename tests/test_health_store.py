"""The health model's input read from the history store: one row per attempt, a bounded
indexed read per path, the user's mark on the run's last attempt, dry runs never counted."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from codex_router.dirs import app_dirs
from codex_router.history import migrations
from codex_router.history.attempts import _NEWEST_OF_PATH, recent_attempts
from codex_router.history.record import TokenUsage
from codex_router.history.store import history_path, mark_run, open_history, record_runs
from codex_router.run.health import observation, read_health

from helpers.history import ADAPTIVE_DEFAULTS, make_attempt, make_record

CONFIG = ADAPTIVE_DEFAULTS._replace(enabled=True, shadow_mode=False)


@pytest.fixture
def dirs():
    return app_dirs()


def _attempt_rows(dirs) -> list[tuple]:
    with open_history(dirs) as conn:
        return conn.execute(
            "SELECT path, started_at, outcome, exit_code, duration_ms, error, total_tokens, "
            "cost_usd FROM run_attempts ORDER BY run, seq"
        ).fetchall()


def test_each_attempt_is_a_row_with_its_start_and_its_share_of_the_cost(dirs) -> None:
    usage = TokenUsage(input_tokens=900, output_tokens=100, total_tokens=1000)
    record_runs(
        dirs,
        [
            make_record(
                started_at=1_000.0,
                attempts=(
                    make_attempt(
                        "litellm",
                        exit_code=1,
                        duration_ms=2_000,
                        outcome="failed",
                        error="response_too_many_failed_attempts (http 429)",
                    ),
                    make_attempt(
                        "standard", duration_ms=500, usage=replace(usage, total_tokens=750)
                    ),
                    make_attempt(
                        "huggingface", duration_ms=100, usage=replace(usage, total_tokens=250)
                    ),
                ),
                usage=usage,
                usage_cost_usd=0.02,
                estimated_cost_usd=0.5,
            ),
            # no usage reported: every attempt carries the run's estimate
            make_record(started_at=2_000.0, estimated_cost_usd=0.004),
            # a dry run launched nothing, whatever its record says
            make_record(started_at=3_000.0, dry_run=True, outcome="dry_run"),
        ],
    )
    assert _attempt_rows(dirs) == [
        (
            "litellm",
            1_000.0,
            "failed",
            1,
            2_000,
            "response_too_many_failed_attempts (http 429)",
            None,
            None,
        ),
        ("standard", 1_002.0, "ok", 0, 500, None, 750, pytest.approx(0.015)),
        ("huggingface", 1_002.5, "ok", 0, 100, None, 250, pytest.approx(0.005)),
        ("standard", 2_000.0, "ok", 0, 1_100, None, None, 0.004),
    ]


def test_the_outcome_kind_from_codex_events_is_what_is_stored(dirs) -> None:
    attempts = (
        make_attempt(
            "litellm", exit_code=1, outcome="failed", outcome_kind="rate_limit", ttft_ms=None
        ),
        make_attempt(
            "standard", exit_code=0, outcome="failed", outcome_kind="turn_failed", ttft_ms=850
        ),
    )
    record_runs(dirs, [make_record(attempts=attempts)])
    got = recent_attempts(dirs, ["litellm", "standard"], 10)
    assert [(a.outcome, a.ttft_ms) for a in got] == [("rate_limit", None), ("turn_failed", 850)]
    # exit 0 with a failed turn counts as a failure
    assert observation(got[1]).failed


def test_recent_attempts_is_the_newest_window_per_path_oldest_first(dirs) -> None:
    records = [
        make_record(started_at=float(t), attempts=(make_attempt(path, duration_ms=t),))
        for t, path in [(10, "standard"), (20, "litellm"), (30, "standard"), (40, "standard")]
    ]
    record_runs(dirs, records)
    got = recent_attempts(dirs, ["standard", "litellm", "huggingface"], 2)
    assert [(a.path, a.started_at) for a in got] == [
        ("standard", 30.0),
        ("standard", 40.0),
        ("litellm", 20.0),
    ]


def test_nothing_recorded_reads_nothing_and_creates_nothing(dirs) -> None:
    assert recent_attempts(dirs, ["standard"], 200) == []
    assert not history_path(dirs).exists()
    decision = read_health(dirs, ["standard", "litellm"], CONFIG, now=0)
    assert decision.order == ("standard", "litellm") and not decision.would_switch


def test_the_read_walks_the_path_index(dirs) -> None:
    record_runs(dirs, [make_record()])
    with open_history(dirs) as conn:
        plan = " ".join(
            r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + _NEWEST_OF_PATH, ("standard", 200))
        )
    assert "run_attempts_path" in plan, plan
    assert "TEMP B-TREE" not in plan.split("SCAN a")[0], plan  # no sort of the whole path


def test_the_mark_rides_on_the_runs_last_attempt(dirs) -> None:
    record_runs(
        dirs,
        [
            make_record(
                run_id="feedbeef" + "0" * 24,
                attempts=(
                    make_attempt("litellm", exit_code=1, outcome="failed"),
                    make_attempt("standard"),
                ),
            )
        ],
    )
    mark_run(dirs, "feedbeef", "bad", None, now=5.0)
    got = {a.path: a for a in recent_attempts(dirs, ["litellm", "standard"], 10)}
    assert (got["litellm"].mark, got["standard"].mark) == (None, "bad")
    assert observation(got["standard"]).quality == 0.0
    assert observation(got["litellm"]).quality is None


def test_a_recorded_quota_hit_cools_the_path_down_then_a_success_clears_it(dirs) -> None:
    hit = make_record(
        started_at=1_000.0,
        attempts=(
            make_attempt(
                "litellm",
                exit_code=1,
                duration_ms=1_000,
                outcome="failed",
                error="usage_limit_exceeded",
            ),
            make_attempt("standard"),
        ),
    )
    record_runs(dirs, [hit])
    decision = read_health(dirs, ["litellm", "standard"], CONFIG, now=1_100)
    assert decision.path("litellm").state == "cooldown"
    assert decision.path("litellm").quota.until == 1_601.0
    assert decision.applied and decision.order == ("standard", "litellm")
    assert read_health(dirs, ["litellm", "standard"], CONFIG, now=1_700).cooling == ()
    record_runs(dirs, [make_record(started_at=1_800.0, attempts=(make_attempt("litellm"),))])
    after = read_health(dirs, ["litellm", "standard"], CONFIG, now=1_900)
    assert after.path("litellm").quota.status == "clear"


def test_schema_3_gets_its_attempts_from_the_recorded_json(dirs) -> None:
    usage = TokenUsage(input_tokens=90, output_tokens=10, total_tokens=100)
    record_runs(
        dirs,
        [
            make_record(
                attempts=(
                    make_attempt("litellm", exit_code=1, outcome="failed"),
                    make_attempt("standard", usage=usage),
                ),
                usage=usage,
                usage_cost_usd=0.01,
            ),
            make_record(dry_run=True, outcome="dry_run", attempts=()),
            make_record(),
        ],
    )
    fresh = _attempt_rows(dirs)
    conn = sqlite3.connect(history_path(dirs))
    for statement in (
        "DROP TABLE run_attempts",
        "DROP TABLE run_marks",
        "DROP INDEX runs_run_id",
        "DROP TABLE run_class_totals",
        "DROP TABLE run_adaptive",  # schema 5
        "DROP TABLE adaptive_totals",
        "PRAGMA user_version = 3",
    ):
        conn.execute(statement)
    conn.commit()
    conn.close()
    assert _attempt_rows(dirs) == fresh  # reading migrates: the same rows as live upkeep
    assert len(fresh) == 3
    assert migrations.SCHEMA_VERSION == 5
