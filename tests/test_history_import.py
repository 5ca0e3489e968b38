"""``codex-route history import``: the earlier cost router's ``cost_router.jsonl`` into the history.

The fixture ``tests/data/old-history/cost_router.jsonl`` is written from that script's documented
log format: records of the older variant (logged before launching, dry runs included), of the
newer one (classifier fields, a dry run with ``kpi_eligible: false``, records after execution
with ``returncode``/``success``/``latency_ms``), a malformed line, a JSON array, a record without
timestamp, an empty line, a record carrying prompt fields, and the first line repeated.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import ExitCode
from codex_router.history.legacy import ID_PREFIX, read_legacy_lines, record_id
from codex_router.history.store import history_path

OLD_LOG = Path(__file__).parent / "data" / "old-history" / "cost_router.jsonl"
SECRET_WORDS = "SECRET PROMPT WORDS"


def _import(*args: str) -> Any:
    return CliRunner().invoke(app, ["history", "import", *args])


def _history() -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["history", "--json", "--limit", "100"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


# line of the fixture → what the history holds for it
EXPECTED: dict[int, dict[str, Any]] = {
    1: {
        "alias": "codex-light",
        "provider": "auto",
        "outcome": "dry_run",
        "dry_run": True,
        "attempts": [],
        "path_order": ["standard", "litellm", "huggingface"],
        "tokens_raw": 120,
        "tokens_clean": 96,
        "estimated_cost_usd": 0.00412,
        "started_at": 1786365296.789012,  # 2026-08-10T12:34:56.789012+00:00
    },
    2: {
        "alias": "codex-deep",
        "provider": "claude",
        "outcome": "imported",  # logged before launching: the result is unknown
        "dry_run": False,
        "attempts": [],
        "tokens_raw": 2400,
        "tokens_clean": 1800,
        "estimated_cost_usd": 0.0425,  # the old script's own estimate, kept
        # the same tokens on codex-deep's prices: 1,800 in × $1.25 + 2,000 out × $10 per M
        "deep_cost_usd": 0.02225,
    },
    4: {
        "alias": "codex-no-openai",
        "provider": "no-openai",
        "outcome": "imported",
        "path_order": ["litellm", "standard", "huggingface"],
        "estimated_cost_usd": 0.0,
    },
    7: {
        "alias": "codex-small-local",
        "provider": "local-small",
        "outcome": "dry_run",
        "complexity": "simple",
    },
    8: {
        "alias": "codex-small-local",
        "outcome": "success",
        "exit_code": 0,
        "duration_ms": 5123,
        "attempts": [("standard", "phi4-mini", 0, "ok")],
    },
    9: {
        "alias": "codex-default",
        "outcome": "failed",
        "exit_code": 4,
        "attempts": [("litellm", "codex-default", 4, "failed")],
    },
    11: {"alias": "codex-light", "provider": "openai", "outcome": "dry_run"},
}
SKIPPED = {3: "not valid JSON", 5: "not a JSON object", 6: "no timestamp"}


def _ids_by_line() -> dict[int, str]:
    ids = {}
    for number, line in enumerate(OLD_LOG.read_text().splitlines(), 1):
        if number in EXPECTED:
            data = json.loads(line)
            ids[number] = record_id(data)
    return ids


def test_every_record_is_mapped_and_every_bad_line_skipped_with_its_reason() -> None:
    result = _import(str(OLD_LOG))
    assert result.exit_code == 0, result.output
    runs = {run["run_id"]: run for run in _history()}
    ids = _ids_by_line()
    assert set(runs) == set(ids.values())
    for number, expected in EXPECTED.items():
        run = runs[ids[number]]
        for key, value in expected.items():
            if key == "attempts":
                got = [(a["path"], a["model"], a["exit_code"], a["outcome"]) for a in run[key]]
                assert got == value, (number, key)
            else:
                assert run[key] == pytest.approx(value), (number, key, run[key])
        assert run["run_id"].startswith(ID_PREFIX)
        assert run["extra"]["imported_from"] == "cost_router.jsonl"
    for number, why in SKIPPED.items():
        assert f"cost_router.jsonl:{number}: skipped: {why}" in result.stderr
    assert result.stdout == (
        f"imported 7 runs from {OLD_LOG}, 1 repeated in the file, "
        "skipped 3 (1 not valid JSON; 1 not a JSON object; 1 no timestamp)\n"
    )


def test_importing_twice_adds_nothing_and_a_new_line_adds_one(tmp_path: Path) -> None:
    log = tmp_path / "cost_router.jsonl"
    shutil.copy(OLD_LOG, log)
    assert _import(str(log)).exit_code == 0
    before = _history()
    again = _import(str(log))
    assert again.exit_code == 0
    assert again.stdout.startswith(f"imported 0 runs from {log}, 7 already in the history")
    assert _history() == before
    # the old script appended to its log: a re-import picks up only the new record
    first = json.loads(OLD_LOG.read_text().splitlines()[0])
    with log.open("a") as handle:
        handle.write(json.dumps({**first, "timestamp": "2026-08-14T10:00:00+00:00"}) + "\n")
    third = _import(str(log))
    assert third.stdout.startswith(f"imported 1 runs from {log}, 7 already in the history")
    assert len(_history()) == len(before) + 1


def test_prompt_text_is_never_imported_and_the_dropped_fields_are_named() -> None:
    result = _import(str(OLD_LOG))
    assert result.exit_code == 0
    assert "field 'prompt' looks like prompt text: not imported (line 11)" in result.stderr
    assert (
        "field 'optimized_prompt' looks like prompt text: not imported (line 11)" in result.stderr
    )
    assert SECRET_WORDS.encode() not in history_path(app_dirs()).read_bytes()
    for suffix in ("-wal", "-shm"):
        side = history_path(app_dirs()).with_name(history_path(app_dirs()).name + suffix)
        if side.exists():
            assert SECRET_WORDS.encode() not in side.read_bytes()
    assert SECRET_WORDS not in json.dumps(_history())


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"timestamp": "2026-08-10T12:00:00", "model": "codex-light"}', "has no UTC offset"),
        ('{"timestamp": "yesterday", "model": "codex-light"}', "is not ISO 8601"),
        ('{"timestamp": "2026-08-10T12:00:00Z"}', "no model"),
        ('{"timestamp": "2026-08-10T12:00:00Z", "model": 3}', "model is not a string"),
        (
            '{"timestamp": "2026-08-10T12:00:00Z", "model": "m", "estimated_cost_usd": "x"}',
            "estimated_cost_usd is not a number",
        ),
        (
            '{"timestamp": "2026-08-10T12:00:00Z", "model": "m", "original_input_tokens": -1}',
            "original_input_tokens is negative",
        ),
        (
            '{"timestamp": "2026-08-10T12:00:00Z", "model": "m", "returncode": "0"}',
            "returncode is not a whole number",
        ),
    ],
)
def test_records_that_cannot_be_mapped_are_skipped_with_the_reason(line: str, reason: str) -> None:
    report = read_legacy_lines([line], deep_cost=lambda i, o: 0.0, version="t")
    assert report.records == []
    assert len(report.skipped) == 1 and reason in report.skipped[0][1]


@pytest.mark.parametrize("key", ["prompt", "optimized_prompt", "input", "Prompt", "messages"])
def test_prompt_like_fields_are_dropped_and_leave_the_id_unchanged(key: str) -> None:
    plain = {"timestamp": "2026-08-10T12:00:00Z", "model": "codex-light"}
    report = read_legacy_lines(
        [json.dumps({**plain, key: "words of a prompt"})], deep_cost=lambda i, o: 0.0, version="t"
    )
    assert report.dropped_fields == {key: [1]}
    assert report.records[0].run_id == record_id(plain)
    assert "words of a prompt" not in json.dumps(report.records[0].to_dict())


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = _import(str(tmp_path / "nope.jsonl"))
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "no such file" in result.stderr and "cost_router.jsonl" in result.stderr


def test_json_summary(tmp_path: Path) -> None:
    result = _import("--json", str(OLD_LOG))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["imported"] == 7 and data["already_present"] == 0
    assert data["duplicate_lines"] == 1
    assert data["skipped"] == [{"line": n, "reason": why} for n, why in SKIPPED.items()]
    assert data["dropped_prompt_fields"] == {"optimized_prompt": [11], "prompt": [11]}


def test_the_imported_runs_count_in_stats_and_history_still_lists() -> None:
    assert _import(str(OLD_LOG)).exit_code == 0
    table = CliRunner().invoke(app, ["history"], env={"COLUMNS": "80"})
    assert table.exit_code == 0 and "unknown" in table.stdout and "dry-run" in table.stdout
    stats = CliRunner().invoke(app, ["stats", "--json"])
    total = json.loads(stats.stdout)["total"]
    assert total["runs"] == 7 and total["dry_runs"] == 3 and total["launched"] == 2
    conn = sqlite3.connect(history_path(app_dirs()))
    try:
        outcomes = dict(conn.execute("SELECT outcome, count(*) FROM runs GROUP BY outcome"))
    finally:
        conn.close()
    assert outcomes == {"dry_run": 3, "imported": 2, "success": 1, "failed": 1}
