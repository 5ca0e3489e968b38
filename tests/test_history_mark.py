"""``history mark RUN_ID good|bad [--note]``, the mark in ``history`` / ``history --json``, and
``stats --by alias-class`` counting it before the run's own outcome."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import ExitCode
from codex_router.history.query import RunFilter, recent_runs
from codex_router.history.stats import compute_stats
from codex_router.history.store import record_runs

from helpers.history import make_attempt, make_record
from helpers.tty import run_cli

GOOD_ID = "c0ffee01" + "0" * 24
TWIN_A = "abcd1234" + "0" * 24
TWIN_B = "abcd5678" + "0" * 24
DRY_ID = "d1d1d1d1" + "0" * 24


@pytest.fixture
def dirs():
    dirs = app_dirs()
    record_runs(
        dirs,
        [
            make_record(run_id=GOOD_ID),
            make_record(
                run_id=TWIN_A,
                outcome="failed",
                exit_code=1,
                attempts=(make_attempt(exit_code=1, outcome="failed"),),
            ),
            make_record(run_id=TWIN_B),
            make_record(run_id=DRY_ID, dry_run=True, outcome="dry_run", attempts=()),
        ],
    )
    return dirs


def _mark(*args: str):
    return CliRunner().invoke(app, ["history", "mark", *args])


def _feedback(dirs, run_id: str):
    (record,) = [r for r in recent_runs(dirs, RunFilter(), 100) if r.run_id == run_id]
    return record


def test_a_unique_prefix_marks_the_run(dirs) -> None:
    result = _mark("c0ff", "good", "--note", "fixed it first time")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"marked {GOOD_ID} good: fixed it first time\n"
    record = _feedback(dirs, GOOD_ID)
    assert record.feedback is not None
    assert (record.feedback.mark, record.feedback.note) == ("good", "fixed it first time")
    assert record.outcome == "success"  # the automatic signal stays as recorded


def test_a_failed_run_can_be_marked_good_and_keeps_its_outcome(dirs) -> None:
    assert _mark(TWIN_A, "GOOD").exit_code == 0
    record = _feedback(dirs, TWIN_A)
    assert record.feedback is not None and record.feedback.mark == "good"
    assert (record.outcome, record.exit_code) == ("failed", 1)


def test_marking_again_replaces_the_mark(dirs) -> None:
    assert _mark(GOOD_ID, "good", "--note", "first").exit_code == 0
    assert _mark(GOOD_ID, "bad").exit_code == 0
    feedback = _feedback(dirs, GOOD_ID).feedback
    assert feedback is not None and (feedback.mark, feedback.note) == ("bad", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abcd", "good"], f"RUN_ID 'abcd' is ambiguous: runs {TWIN_A}, {TWIN_B}"),
        (["9999", "good"], "RUN_ID '9999': no recorded run has an id starting with it"),
        (["c0f", "good"], "RUN_ID 'c0f': give at least 4 characters"),
        (["d1d1", "bad"], f"run {DRY_ID} launched nothing"),
        (["c0ff", "meh"], "good|bad: expected good or bad, got 'meh'"),
    ],
)
def test_errors_name_the_id(dirs, args: list[str], message: str) -> None:
    result = _mark(*args)
    assert result.exit_code == ExitCode.USAGE
    assert message in result.stderr
    assert all(r.feedback is None for r in recent_runs(dirs, RunFilter(), 100))


def test_no_history_yet_is_a_clear_error() -> None:
    result = _mark("c0ffee", "good")
    assert result.exit_code == ExitCode.USAGE
    assert "no run is recorded yet" in result.stderr


def test_the_note_is_redacted_and_capped(dirs) -> None:
    note = "see https://me:hunter22@example.com/x " + "y" * 600
    assert _mark(GOOD_ID, "bad", "--note", note).exit_code == 0
    feedback = _feedback(dirs, GOOD_ID).feedback
    assert feedback is not None and feedback.note is not None
    assert "hunter22" not in feedback.note and len(feedback.note) == 500


def test_history_json_and_table_show_the_mark(dirs) -> None:
    assert _mark(GOOD_ID, "good").exit_code == 0
    assert _mark(TWIN_A, "bad", "--note", "wrong file").exit_code == 0
    result = CliRunner().invoke(app, ["history", "--json"])
    assert result.exit_code == 0, result.stderr
    lines = {d["run_id"]: d for d in map(json.loads, result.stdout.splitlines())}
    assert lines[GOOD_ID]["feedback"]["mark"] == "good"
    assert lines[TWIN_A]["feedback"] == {
        "mark": "bad",
        "note": "wrong file",
        "marked_at": pytest.approx(lines[TWIN_A]["feedback"]["marked_at"]),
    }
    assert lines[TWIN_B]["feedback"] is None
    table = run_cli(["history"], tty_stdout=True, columns=80)
    assert table.returncode == 0, table.stderr
    results = [line.split()[-4] for line in table.stdout.splitlines()[1:]]
    assert results == ["dry-run", "ok", "failed✗", "ok✓"]  # newest first
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


# ---------------------------------------------------------------- stats --by alias-class


def test_stats_by_alias_class_counts_the_mark_before_the_outcome() -> None:
    dirs = app_dirs()
    light = dict(alias="codex-light", complexity="simple")
    failed = dict(
        outcome="failed", exit_code=1, attempts=(make_attempt(exit_code=1, outcome="failed"),)
    )
    record_runs(
        dirs,
        [
            make_record(run_id="11110000" + "0" * 24, **light),
            make_record(run_id="22220000" + "0" * 24, **light),
            make_record(run_id="33330000" + "0" * 24, **light, **failed),
            make_record(run_id="44440000" + "0" * 24, **light, **failed),
            make_record(run_id="55550000" + "0" * 24, alias="codex-deep", complexity="complex"),
            make_record(
                run_id="66660000" + "0" * 24, **light, dry_run=True, outcome="dry_run", attempts=()
            ),
        ],
    )
    assert _mark("3333", "good").exit_code == 0  # failed by its outcome, good by the user
    assert _mark("1111", "bad").exit_code == 0  # succeeded by its outcome, bad by the user
    assert _mark("2222", "good").exit_code == 0  # agrees with its outcome
    report = compute_stats(dirs, by="alias-class")
    rows = {(c.alias, c.complexity): c for c in report.classes}
    light_row = rows[("codex-light", "simple")]
    # launched 4 (not the dry run); by their own outcome 1111 and 2222 succeeded (2 of 4);
    # judged: 2222 and 3333 good, 1111 bad, 4444 failed and unmarked: 2 of 4
    assert (light_row.launched, light_row.succeeded) == (4, 2)
    assert (light_row.marked_good, light_row.marked_bad) == (2, 1)
    assert light_row.judged_good == 2
    assert light_row.automatic_success_rate == 0.5
    deep_row = rows[("codex-deep", "complex")]
    assert (deep_row.launched, deep_row.judged_good, deep_row.success_rate) == (1, 1, 1.0)
    # one more mark flips the light rate
    assert _mark("4444", "good").exit_code == 0
    again = {(c.alias, c.complexity): c for c in compute_stats(dirs, by="alias-class").classes}
    assert again[("codex-light", "simple")].success_rate == 0.75

    result = CliRunner().invoke(app, ["stats", "--by", "alias-class", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["by"] == "alias-class"
    assert data["groups"][1] == {
        "alias": "codex-light",
        "class": "simple",
        "launched": 4,
        "succeeded": 2,
        "marked_good": 3,
        "marked_bad": 1,
        "success_rate": 0.75,
        "automatic_success_rate": 0.5,
    }
    table = run_cli(["stats", "--by", "alias-class"], tty_stdout=True, columns=80)
    assert table.returncode == 0, table.stderr
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    row = next(line for line in table.stdout.splitlines() if line.startswith("light/simple"))
    assert row.split() == ["light/simple", "4", "75.0%", "50.0%", "3", "1"]


def test_stats_by_alias_class_since_leaves_older_runs_and_their_marks_out() -> None:
    dirs = app_dirs()
    record_runs(
        dirs,
        [
            make_record(run_id="aaaa0000" + "0" * 24, started_at=1_000.0),
            make_record(run_id="bbbb0000" + "0" * 24, started_at=5_000.0),
        ],
    )
    assert _mark("aaaa", "bad").exit_code == 0
    (row,) = compute_stats(dirs, since=2_000.0, by="alias-class").classes
    assert (row.launched, row.marked_bad, row.success_rate) == (1, 0, 1.0)


def test_stats_by_alias_class_matches_a_plain_count_across_days() -> None:
    """The rollup (whole days) plus the cut's own day from the runs: exact for any --since."""
    dirs = app_dirs()
    rng = random.Random(5)
    records = []
    for n in range(300):
        ok = rng.random() < 0.7
        launched = rng.random() < 0.9
        records.append(
            make_record(
                run_id=f"{n:08x}" + "f" * 24,
                started_at=1_750_000_000.0 + rng.uniform(0, 6 * 86_400),
                alias=rng.choice(("codex-light", "codex-deep")),
                complexity=rng.choice(("simple", "medium", "complex")),
                outcome=("success" if ok else "failed") if launched else "dry_run",
                dry_run=not launched,
                attempts=(make_attempt(outcome="ok" if ok else "failed"),) if launched else (),
            )
        )
    record_runs(dirs, records)
    since = 1_750_000_000.0 + 2.5 * 86_400
    expected: dict[tuple[str, str], list[int]] = {}
    for r in records:
        if r.attempts and r.started_at >= since:
            row = expected.setdefault((r.alias, r.complexity), [0, 0])
            row[0] += 1
            row[1] += r.outcome == "success"
    got = {
        (c.alias, c.complexity): [c.launched, c.succeeded]
        for c in compute_stats(dirs, since=since, by="alias-class").classes
    }
    assert got == expected
