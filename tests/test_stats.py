"""``stats``: its definitions (docs/reference/history-json.md) checked against a plain-Python
reference."""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.history import migrations
from codex_router.history.record import RunRecord, TokenUsage
from codex_router.history.stats import (
    GroupStats,
    compute_stats,
    nearest_rank_offset,
    percentile_of,
)
from codex_router.history.store import history_path, local_day, record_run, record_runs

from helpers.history import make_attempt, make_record
from helpers.tty import run_cli


@pytest.fixture
def dirs():
    return app_dirs()


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 50, None),
        ([7], 50, 7),
        ([7], 95, 7),
        ([1, 2], 50, 1),
        ([1, 2], 95, 2),
        ([1, 2, 3, 4], 50, 2),
        ([1, 2, 3, 4], 95, 4),
        (list(range(1, 101)), 50, 50),
        (list(range(1, 101)), 95, 95),
        (list(range(1, 21)), 95, 19),
    ],
)
def test_nearest_rank(values: list[int], p: int, expected: int | None) -> None:
    assert percentile_of(values, p) == expected


@pytest.mark.parametrize(
    ("count", "p", "offset"),
    [(1, 50, 0), (2, 50, 0), (3, 50, 1), (10, 95, 9), (100, 95, 94), (0, 50, 0)],
)
def test_nearest_rank_offset(count: int, p: int, offset: int) -> None:
    assert nearest_rank_offset(count, p) == offset


# ---------------------------------------------------------------- the reference


def _reference(records: list[RunRecord], key=lambda r: None) -> dict:
    """Every number of a GroupStats, computed the obvious way in Python."""
    groups: dict = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    out = {}
    for name, runs in groups.items():
        launched = [r for r in runs if r.attempts]
        with_usage = [r for r in launched if r.usage and r.usage.input_tokens > 0]
        durations = sorted(r.duration_ms for r in launched)
        out[name] = dict(
            runs=len(runs),
            launched=len(launched),
            succeeded=sum(r.outcome == "success" for r in launched),
            fell_back=sum(len(r.attempts) > 1 for r in launched),
            dry_runs=sum(r.dry_run for r in runs),
            p50_ms=percentile_of(durations, 50),
            p95_ms=percentile_of(durations, 95),
            tokens_raw=sum(r.tokens_raw for r in launched),
            tokens_clean=sum(r.tokens_clean for r in launched),
            estimated_cost_usd=pytest.approx(sum(r.estimated_cost_usd for r in launched)),
            deep_cost_usd=pytest.approx(sum(r.deep_cost_usd for r in launched)),
            usage_runs=len(with_usage),
            usage_estimated_tokens=sum(r.tokens_clean for r in with_usage),
            usage_input_tokens=sum(r.usage.input_tokens for r in with_usage),
            token_error=pytest.approx(
                sum(
                    abs(r.usage.input_tokens - r.tokens_clean) / r.usage.input_tokens
                    for r in with_usage
                )
                / len(with_usage)
            )
            if with_usage
            else None,
        )
    return out


def _numbers(group: GroupStats) -> dict:
    return {
        k: getattr(group, k)
        for k in (
            "runs",
            "launched",
            "succeeded",
            "fell_back",
            "dry_runs",
            "p50_ms",
            "p95_ms",
            "tokens_raw",
            "tokens_clean",
            "estimated_cost_usd",
            "deep_cost_usd",
            "usage_runs",
            "usage_estimated_tokens",
            "usage_input_tokens",
            "token_error",
        )
    }


def _random_runs(seed: int, count: int, start: float, span: float) -> list[RunRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(count):
        kind = rng.random()
        attempts = (
            ()
            if kind < 0.15
            else tuple(
                make_attempt(rng.choice(("standard", "litellm")), duration_ms=rng.randint(1, 900))
                for _ in range(rng.choice((1, 1, 1, 2, 3)))
            )
        )
        outcome = (
            ("dry_run" if kind < 0.1 else "blocked")
            if not attempts
            else rng.choice(("success", "success", "failed", "interrupted"))
        )
        usage = (
            TokenUsage(input_tokens=rng.randint(0, 5000), output_tokens=9)
            if attempts and rng.random() < 0.6
            else None
        )
        raw = rng.randint(1, 10_000)
        records.append(
            make_record(
                run_id=f"{seed}-{i}",
                started_at=start + rng.random() * span,
                duration_ms=rng.randint(1, 100_000),
                outcome=outcome,
                attempts=attempts,
                dry_run=outcome == "dry_run",
                alias=rng.choice(("codex-light", "codex-deep", "codex-long")),
                provider=rng.choice(("openai", "gemini")),
                tokens_raw=raw,
                tokens_clean=rng.randint(1, raw),
                usage=usage,
                rules={"ansi": rng.randint(0, 50), "repeated_lines": rng.randint(0, 500)},
                estimated_cost_usd=rng.random() / 100,
                deep_cost_usd=rng.random() / 10,
            )
        )
    return records


START = 1_790_000_000.0  # 2026-09-21
SPAN = 9 * 86_400


@pytest.fixture
def random_runs(dirs) -> list[RunRecord]:
    records = _random_runs(1, 400, START, SPAN)
    record_runs(dirs, records[:200])
    for record in records[200:230]:
        record_run(dirs, record)  # the single-run path keeps the rollup too
    record_runs(dirs, records[230:])
    return records


@pytest.mark.parametrize(
    "since",
    [
        None,
        START - 1,
        START + 0.5 * 86_400,
        START + 3 * 86_400 + 7,
        START + 8.99 * 86_400,
        START + 20 * 86_400,
    ],
)
def test_totals_match_the_reference(dirs, random_runs, since) -> None:
    chosen = [r for r in random_runs if since is None or r.started_at >= since]
    report = compute_stats(dirs, since=since)
    expected = _reference(chosen).get(None)
    if expected is None:
        assert report.total.runs == 0 and report.total.p50_ms is None
    else:
        assert _numbers(report.total) == expected
    rules: dict[str, int] = defaultdict(int)
    for r in chosen:
        if r.attempts:
            for rule, tokens in r.rules.items():
                if tokens:
                    rules[rule] += tokens
    assert report.rule_savings == dict(rules)
    assert list(report.rule_savings.values()) == sorted(report.rule_savings.values(), reverse=True)


@pytest.mark.parametrize(
    "by,key",
    [
        ("alias", lambda r: r.alias),
        ("provider", lambda r: r.provider),
        ("day", lambda r: local_day(r.started_at)),
    ],
)
@pytest.mark.parametrize("since", [None, START + 4.25 * 86_400])
def test_groups_match_the_reference(dirs, random_runs, by, key, since) -> None:
    chosen = [r for r in random_runs if since is None or r.started_at >= since]
    report = compute_stats(dirs, since=since, by=by)
    expected = _reference(chosen, key)
    assert [g.key for g in report.groups] == sorted(expected)
    for group in report.groups:
        assert _numbers(group) == expected[group.key], group.key


@pytest.mark.parametrize(
    ("records", "expect"),
    [
        # a dry run counts as a run, in nothing else
        (
            [dict(outcome="dry_run", dry_run=True, attempts=())],
            dict(
                runs=1,
                launched=0,
                dry_runs=1,
                success_rate=None,
                fallback_rate=None,
                tokens_saved=0,
                saving_vs_deep_usd=0.0,
                p50_ms=None,
            ),
        ),
        # one success after a fallback: success 100 %, fallback 100 %
        (
            [dict(attempts=(make_attempt(outcome="failed", exit_code=1), make_attempt()))],
            dict(runs=1, launched=1, success_rate=1.0, fallback_rate=1.0),
        ),
        # tokens saved and money saved vs codex-deep
        (
            [dict(tokens_raw=1000, tokens_clean=250, estimated_cost_usd=0.01, deep_cost_usd=0.08)]
            * 2,
            dict(tokens_saved=1500, saving_vs_deep_usd=pytest.approx(0.14)),
        ),
        # estimate error: |1200 - 1000| / 1200 and |500 - 1000| / 500 → mean (1/6 + 1) / 2
        (
            [
                dict(tokens_clean=1000, usage=TokenUsage(input_tokens=1200)),
                dict(tokens_clean=1000, usage=TokenUsage(input_tokens=500)),
                dict(tokens_clean=1000, usage=None),
            ],
            dict(usage_runs=2, token_error=pytest.approx((1 / 6 + 1) / 2)),
        ),
        # usage of 0 input tokens is no usage
        (
            [dict(usage=TokenUsage(input_tokens=0, output_tokens=5))],
            dict(usage_runs=0, token_error=None),
        ),
    ],
)
def test_definitions(dirs, records: list[dict], expect: dict) -> None:
    record_runs(dirs, [make_record(**r) for r in records])
    total = compute_stats(dirs).total
    for name, value in expect.items():
        assert getattr(total, name) == value, name


def test_no_history(dirs) -> None:
    report = compute_stats(dirs, by="day")
    assert report.total.runs == 0 and report.groups == ()
    assert not dirs.state_dir.exists()


def test_percentiles_walk_an_index(dirs, random_runs) -> None:
    conn = sqlite3.connect(history_path(dirs))
    try:
        for index, where in (
            ("runs_duration", ""),
            ("runs_day_duration", "AND day = 'x'"),
            ("runs_alias_duration", "AND alias = 'x'"),
        ):
            plan = " ".join(
                r[-1]
                for r in conn.execute(
                    f"EXPLAIN QUERY PLAN SELECT duration_ms FROM runs INDEXED BY {index} "
                    f"WHERE attempt_count > 0 {where} AND started_at >= 0 "
                    "ORDER BY duration_ms LIMIT 1 OFFSET 3"
                )
            )
            assert index in plan and "TEMP B-TREE" not in plan, plan
    finally:
        conn.close()


def _drop_version_4(conn: sqlite3.Connection) -> None:
    conn.execute("DROP TABLE run_attempts")
    conn.execute("DROP TABLE run_marks")
    conn.execute("DROP INDEX runs_run_id")
    conn.execute("DROP TABLE run_class_totals")
    conn.execute("DROP TABLE run_adaptive")  # version 5's, built again with version 4's
    conn.execute("DROP TABLE adaptive_totals")


def test_a_version_1_store_gets_its_rollup_from_its_runs(dirs, random_runs) -> None:
    """Migrations 2 and 3 build run_totals from existing rows: the same numbers as live upkeep."""
    before = compute_stats(dirs, by="day").to_dict()
    conn = sqlite3.connect(history_path(dirs))
    # back to version 1's layout: no rollup, no overhead index, no usage-priced columns,
    # no attempt rows, marks or version 4's indexes
    _drop_version_4(conn)
    conn.execute("DROP TABLE run_totals")
    conn.execute("DROP INDEX runs_overhead")
    conn.execute("ALTER TABLE runs DROP COLUMN usage_cost_usd")
    conn.execute("ALTER TABLE runs DROP COLUMN usage_deep_cost_usd")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    assert migrations.SCHEMA_VERSION == 5
    assert compute_stats(dirs, by="day").to_dict() == before


def test_a_version_2_store_keeps_its_runs_and_gets_the_new_sums(dirs) -> None:
    """Migration 3 on a store of version 2: every run kept, the new sums from the old rows
    (usage-priced money unknown: the estimate stands in)."""
    records = [
        make_record(outcome="success", estimated_cost_usd=0.01, deep_cost_usd=0.05),
        make_record(outcome="failed", attempts=(make_attempt(exit_code=1, outcome="failed"),)),
        make_record(outcome="dry_run", dry_run=True, attempts=(), tokens_raw=900, tokens_clean=300),
    ]
    record_runs(dirs, records)
    conn = sqlite3.connect(history_path(dirs))
    _drop_version_4(conn)
    conn.execute("DROP TABLE run_totals")
    conn.execute("DROP INDEX runs_overhead")
    conn.execute("ALTER TABLE runs DROP COLUMN usage_cost_usd")
    conn.execute("ALTER TABLE runs DROP COLUMN usage_deep_cost_usd")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    total = compute_stats(dirs).total
    assert (total.runs, total.launched, total.dry_runs) == (3, 2, 1)
    assert total.dry_tokens_saved == 600
    assert total.saving_vs_deep_usd == pytest.approx(0.04)


# ---------------------------------------------------------------- the command


def test_cli_json(dirs, random_runs) -> None:
    result = CliRunner().invoke(
        app, ["stats", "--json", "--by", "provider", "--since", "2026-09-25"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"since", "by", "total", "groups", "rule_savings", "adaptive_router"}
    assert data["by"] == "provider" and [g["provider"] for g in data["groups"]] == [
        "gemini",
        "openai",
    ]
    assert set(data["total"]) == {
        "runs",
        "launched",
        "succeeded",
        "fell_back",
        "dry_runs",
        "success_rate",
        "fallback_rate",
        "duration_p50_ms",
        "duration_p95_ms",
        "tokens_raw",
        "tokens_clean",
        "tokens_saved",
        "estimated_cost_usd",
        "deep_cost_usd",
        "saving_vs_deep_usd",
        "token_estimate",
        # added by schema 3 (fields are only ever added)
        "not_launched",
        "dry_run_tokens_raw",
        "dry_run_tokens_clean",
        "dry_run_tokens_saved",
        "spend_usd",
        "spend_from_usage_runs",
        "succeeded_cost_usd",
        "succeeded_deep_cost_usd",
    }
    assert sum(g["runs"] for g in data["groups"]) == data["total"]["runs"]


def test_cli_human_fits_80_columns(dirs, random_runs) -> None:
    record_run(dirs, make_record(alias="codex-claude-complex", provider="claude"))
    for args in (["stats"], ["stats", "--by", "day"], ["stats", "--by", "alias"]):
        result = run_cli(args, tty_stdout=True, columns=80)  # a real terminal, 80 wide
        assert result.returncode == 0, result.stderr
        assert "success" in result.stdout and "p95" in result.stdout
        assert max(len(line) for line in result.stdout.splitlines()) <= 80
        # the daily chart is for the terminal only (test_dashboard_spend.py): compare the rest
        summary, chart, _ = result.stdout.partition("\nlast 14 days, one $ scale")
        assert chart, "the daily bar chart ends stats on a terminal"
        words = set(summary.split())
        # wrapped between words only: every word of the piped text is a word on the terminal
        piped = run_cli(args, columns=80)
        assert piped.returncode == 0, piped.stderr
        assert set(piped.stdout.split()) == words
    assert "claude-complex" in words  # the --by alias table keeps every built-in alias whole


def test_cli_human_in_a_pipe_is_one_line_per_row(dirs, random_runs) -> None:
    result = run_cli(["stats", "--by", "provider"], columns=80)
    assert result.returncode == 0, result.stderr
    summary, table = result.stdout.split("\n\n")
    rows = dict(line.split("\t", 1) for line in summary.splitlines())
    assert {"runs", "success", "duration", "compression", "spend", "saved", "estimate"} <= set(rows)
    assert [line.split("\t")[0] for line in table.splitlines()] == ["provider", "gemini", "openai"]


@pytest.mark.parametrize(
    ("args", "needle"), [(["--by", "week"], "--by"), (["--since", "soon"], "--since")]
)
def test_cli_bad_flags(dirs, args: list[str], needle: str) -> None:
    result = CliRunner().invoke(app, ["stats", *args])
    assert result.exit_code == 2
    assert needle in result.stderr


def test_the_reference_doc_lists_every_field(dirs, random_runs) -> None:
    """docs/reference/history-json.md names every field of both JSON outputs."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "reference" / "history-json.md").read_text()
    documented = set(re.findall(r"^\| `([^`]+)`", doc, re.M))
    documented |= {
        n
        for cell in re.findall(r"^\| (`[^|]+`) \|", doc, re.M)
        for n in re.findall(r"`([^`]+)`", cell)
    }
    record = random_runs[0].to_dict()
    for name in record:
        assert name in documented, name
    for name in record["attempts"][0] if record["attempts"] else ():
        assert f"attempts[].{name}" in documented, name
    report = compute_stats(dirs, by="alias").to_dict()
    for name in [*report, *report["total"]]:
        assert name in documented or name.startswith("duration_p"), name
    assert {"duration_p50_ms", "duration_p95_ms"} <= documented


@pytest.mark.parametrize("since", [None, START + 3 * 86_400 + 7])
def test_daily_and_without_percentiles(dirs, random_runs, since) -> None:
    """``daily=True`` (the charts) gives ``--by day``'s sums; ``percentiles=False`` the same
    numbers without the index walks."""
    full = compute_stats(dirs, since=since, by="alias")
    charts = compute_stats(dirs, since=since, by="alias", daily=True, percentiles=False)
    by_day = compute_stats(dirs, since=since, by="day")
    assert full.days == () and full.total.p95_ms is not None
    assert [d.key for d in charts.days] == [g.key for g in by_day.groups]
    for day, group in zip(charts.days, by_day.groups, strict=True):
        assert day == dataclasses.replace(group, p50_ms=None, p95_ms=None)
    assert charts.total == dataclasses.replace(
        full.total, p50_ms=None, p95_ms=None, overhead_median=None
    )
    for walked, summed in zip(full.groups, charts.groups, strict=True):
        assert summed == dataclasses.replace(walked, p50_ms=None, p95_ms=None)
    assert charts.rule_savings == full.rule_savings
    assert charts.to_dict() == {
        **full.to_dict(),
        "total": {
            **full.to_dict()["total"],
            "duration_p50_ms": None,
            "duration_p95_ms": None,
            "token_estimate": {
                **full.to_dict()["total"]["token_estimate"],
                "overhead_median_tokens": None,
            },
        },
        "groups": [
            {**g, "duration_p50_ms": None, "duration_p95_ms": None}
            for g in full.to_dict()["groups"]
        ],
    }  # --json never shows the days
