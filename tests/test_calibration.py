"""Calibrated cost estimates (issue 15 item 7): Codex's overhead and the output share learned per
alias from the user's own recorded runs (medians, at least ``calibrate_min_runs``), a bounded
read of the history, and the dry run showing which estimate it used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.history.record import TokenUsage
from codex_router.history.store import open_history, record_runs
from codex_router.history.usage import _NEWEST_USAGE, recent_usage
from codex_router.policy.settings import resolve_settings
from codex_router.routing.calibration import Calibration, UsageSample, calibrate, median
from codex_router.routing.cost import estimate_cost

from helpers.history import make_attempt, make_record


@pytest.mark.parametrize(
    ("values", "expected"),
    [([3], 3.0), ([5, 1, 3], 3.0), ([4, 1, 3, 2], 2.5), ([1, 1, 1, 1000], 1.0)],
)
def test_median(values, expected) -> None:
    assert median(values) == expected


def samples(*rows: tuple[int, int, int]) -> list[UsageSample]:
    return [UsageSample(*row) for row in rows]


FIVE = samples(
    (600, 7_600, 380),  # overhead 7,000; output 5% of input
    (100, 7_500, 150),  # 7,400; 2%
    (2_000, 9_412, 471),  # 7,412; ~5.0%
    (50, 7_550, 755),  # 7,500; 10%
    (300, 60_300, 603),  # 60,000 (a long tool loop); 1%
)


@pytest.mark.parametrize(
    ("rows", "min_runs", "overhead", "ratio", "runs", "calibrated"),
    [
        # the median: the long tool loop does not drag it (a mean would say 17,862)
        (FIVE, 5, 7_412, 0.05, 5, True),
        (FIVE, 3, 7_412, 0.05, 5, True),
        # too few runs: the policy's value, and how many there were
        (FIVE, 6, 9_000, None, 5, False),
        (FIVE[:4], 5, 9_000, None, 4, False),
        # calibration off
        (FIVE, 0, 9_000, None, 5, False),
        # nothing recorded
        ([], 5, 9_000, None, 0, False),
        # an even count: the mean of the middle two (7,000 and 7,400)
        (FIVE[:2] + FIVE[4:] + samples((0, 1_000, 10)), 4, 7_200, 0.015, 4, True),
        # reported input below the prompt: overhead 0, never negative
        (samples((5_000, 4_000, 40), (5_000, 4_500, 45), (5_000, 4_900, 49)), 3, 0, 0.01, 3, True),
        # a run without reported input is no sample
        (samples((100, 0, 0), (100, 1_100, 11)), 2, 9_000, None, 1, False),
    ],
)
def test_calibrate(rows, min_runs, overhead, ratio, runs, calibrated) -> None:
    found = calibrate("codex-default", rows, min_runs=min_runs, policy_overhead=9_000)
    assert found.overhead_tokens == overhead
    assert found.runs == runs and found.calibrated is calibrated
    if ratio is None:
        assert found.output_ratio is None
    else:
        assert found.output_ratio == pytest.approx(ratio, abs=1e-3)


def test_the_estimate_uses_the_calibration_only_when_calibrated() -> None:
    policy = resolve_settings({}, {}, app_dirs()).policy
    fixed = estimate_cost(policy, "codex-default", 1_000, 0)
    assert (fixed.input_tokens, fixed.output_tokens) == (10_000, 2_000)
    learned = Calibration("codex-default", 7_412, 0.05, 40, 5)
    used = estimate_cost(policy, "codex-default", 1_000, 0, learned)
    assert (used.input_tokens, used.output_tokens) == (8_412, 421)
    assert used.usd < fixed.usd
    # the user's own max_output_tokens stays the output
    assert estimate_cost(policy, "codex-default", 1_000, 500, learned).output_tokens == 500
    too_few = Calibration("codex-default", 9_000, None, 3, 5)
    assert estimate_cost(policy, "codex-default", 1_000, 0, too_few).input_tokens == 10_000


@pytest.mark.parametrize(
    ("calibration", "said"),
    [
        (
            Calibration("codex-default", 7_412, 0.031, 40, 5),
            "overhead 7,412 tokens, output 3.1% of input, from your last 40 runs on codex-default",
        ),
        (
            Calibration("codex-light", 9_000, None, 3, 5),
            "overhead 9,000 tokens: policy default (3 of 5 runs recorded on codex-light)",
        ),
        (
            Calibration("codex-light", 9_000, None, 12, 0),
            "overhead 9,000 tokens: policy default (calibrate_min_runs is 0)",
        ),
    ],
)
def test_the_basis_says_what_it_rests_on(calibration, said) -> None:
    assert calibration.describe() == said


def _run(n: int, *, alias: str = "codex-default", **overrides):
    """A succeeded one-attempt run with Codex's usage: overhead 7,000 + n, output 1% of input."""
    clean = 1_000
    usage = TokenUsage(input_tokens=clean + 7_000 + n, output_tokens=(clean + 7_000 + n) // 100)
    values = dict(
        alias=alias,
        started_at=1_750_000_000.0 + n,
        tokens_clean=clean,
        usage=usage,
        attempts=(make_attempt(usage=usage),),
    )
    values.update(overrides)
    return make_record(**values)


def test_the_reader_keeps_the_newest_qualifying_runs_of_the_alias() -> None:
    dirs = app_dirs()
    failed = _run(1000, outcome="failed", exit_code=1)
    fell_back = _run(1001, attempts=(make_attempt(outcome="failed"), make_attempt()))
    no_usage = _run(1002, usage=None)
    other = _run(1003, alias="codex-light")
    record_runs(dirs, [_run(n) for n in range(10)] + [failed, fell_back, no_usage, other])
    found = recent_usage(dirs, ["codex-default", "codex-deep"], 4)
    # newest first; failures, fallbacks and runs without usage are no samples
    assert found["codex-default"] == [(1_000, 8_000 + n, (8_000 + n) // 100) for n in (9, 8, 7, 6)]
    assert found["codex-deep"] == []


def test_the_read_is_bounded_and_uses_the_alias_index() -> None:
    dirs = app_dirs()
    record_runs(dirs, [_run(0)])
    with open_history(dirs) as conn:
        assert conn is not None
        plan = " ".join(
            str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + _NEWEST_USAGE, ("a", 1, 1))
        )
    assert "runs_alias" in plan and "SCAN runs" not in plan.replace("USING INDEX", "")


def test_no_history_means_the_policy_values_and_no_database() -> None:
    dirs = app_dirs()
    runner = CliRunner()
    done = runner.invoke(app, ["run", "--dry-run", "--json", "--no-stdin", "fix the typo"])
    assert done.exit_code in (0, 4), done.output  # 4: no codex installed here; the plan stands
    basis = json.loads(done.stdout)["estimate_basis"]
    assert basis["source"] == "policy" and basis["runs"] == 0 and basis["overhead_tokens"] == 9000
    assert not (dirs.state_dir / "history.sqlite3").exists()


def test_a_seeded_history_calibrates_the_dry_run() -> None:
    """40 recorded runs on codex-default: the plan's estimate uses their median overhead."""
    dirs = app_dirs()
    record_runs(dirs, [_run(n) for n in range(40)])
    runner = CliRunner()
    argv = ["run", "--dry-run", "--no-stdin", "--force-model", "codex-default", "fix the typo"]
    data = json.loads(runner.invoke(app, [*argv, "--json"]).stdout)
    basis = data["estimate_basis"]
    # overheads 7,000..7,039: the median of 40 is (7,019 + 7,020) / 2, rounded to even
    assert basis["source"] == "history" and basis["runs"] == 40
    assert basis["overhead_tokens"] == 7_020 and basis["output_ratio"] == 0.01
    cost = data["cost_by_alias"]["codex-default"]
    assert cost["input_tokens"] == data["tokens"]["clean"] + 7_020
    assert cost["basis"] == {k: v for k, v in basis.items() if k != "reason"}
    # only the chosen alias is read: the others keep the policy's values
    assert data["cost_by_alias"]["codex-light"]["basis"] is None
    assert data["cost_by_alias"]["codex-light"]["input_tokens"] == data["tokens"]["clean"] + 9_000
    human = runner.invoke(app, argv).stdout
    assert (
        "estimate   overhead 7,020 tokens, output 1.0% of input, from your last 40 runs on "
        "codex-default"
    ) in human.replace("\n               ", " ")


def _loaded_by_dry_run(*args: str) -> set[str]:
    code = (
        "import sys\nfrom codex_router.cli import main\n"
        f"try:\n    main(['run', '--dry-run', '--json', '--no-stdin', *{list(args)!r}, 'fix it'])\n"
        "except SystemExit:\n    pass\nprint('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_calibrate_min_runs_zero_opens_no_history(tmp_path) -> None:
    """The dry run's start-up budget: the history is read only when calibration is on."""
    dirs = app_dirs()
    record_runs(dirs, [_run(n) for n in range(10)])
    policy = tmp_path / "p.yaml"
    policy.write_text("cost_model:\n  calibrate_min_runs: 0\n")
    # (the health of the paths may read the history too: the calibration's reader is the test)
    assert "codex_router.history.usage" not in _loaded_by_dry_run("--policy", str(policy))
    assert "codex_router.history.usage" in _loaded_by_dry_run()
