"""The paths' health in every plan: read from a seeded history (never created by a dry run),
shown in the human plan and in --json; applied mode re-orders the ready paths with a reason,
shadow mode only says what it would do; the cost guard; quota cooldown; a forced codex
provider stays first; each run records the verdict and `stats` counts it over a period."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.history.record import AdaptiveVerdict
from codex_router.history.stats import AdaptiveCounts, compute_stats
from codex_router.history.store import history_path, record_runs
from codex_router.routing.health import reorder
from codex_router.views.plan import render_plan

from helpers.history import make_attempt, make_record

runner = CliRunner()
ROUTED = ["standard", "litellm", "huggingface"]  # the default fallback_order


@pytest.fixture(autouse=True)
def hf_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """standard and huggingface ready (litellm has no proxy): two paths to choose from."""
    monkeypatch.setenv("HF_TOKEN", "hf_" + "x" * 30)


def _policy(tmp_path: Path, **adaptive: object) -> str:
    lines = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in adaptive.items())
    file = tmp_path / "policy.yaml"
    file.write_text("adaptive_router:\n" + lines, "utf-8")
    return str(file)


def _dry(*args: str):
    result = runner.invoke(app, ["run", "--dry-run", "--no-stdin", *args, "fix the typo"])
    assert result.exit_code in (0, 4), result.output  # 4: no codex here, the plan still shows
    return result


def _plan(*args: str) -> dict:
    return json.loads(_dry("--json", *args).stdout)


def _names(plan: dict) -> list[str]:
    return [p["name"] for p in plan["paths"]]


def _seed_standard_failing(
    *, standard_cost: float = 0.002, hf_cost: float = 0.002, outcome_kind: str = "upstream_error"
) -> None:
    """standard failed slowly 6 times in the last hour, huggingface answered fast 6 times."""
    now = time.time()
    runs = []
    for i in range(6):
        runs.append(
            make_record(
                started_at=now - 3600 + i * 120,
                outcome="failed",
                exit_code=1,
                estimated_cost_usd=standard_cost,
                attempts=(
                    make_attempt(
                        "standard",
                        exit_code=1,
                        outcome="failed",
                        duration_ms=50_000,
                        outcome_kind=outcome_kind,
                    ),
                ),
            )
        )
        runs.append(
            make_record(
                started_at=now - 3540 + i * 120,
                estimated_cost_usd=hf_cost,
                attempts=(make_attempt("huggingface", duration_ms=2_000, outcome_kind="ok"),),
            )
        )
    record_runs(app_dirs(), runs)


# ---------------------------------------------------------------- no history


def test_without_a_history_the_plan_has_no_health_and_creates_none(tmp_path: Path) -> None:
    plan = _plan("--policy", _policy(tmp_path, enabled=True, shadow_mode=False))
    assert plan["adaptive_router"] is None
    assert _names(plan) == ROUTED
    assert not history_path(app_dirs()).exists()
    assert "Path health: nothing recorded yet" in _dry().stdout


# ---------------------------------------------------------------- shadow, applied


def test_shadow_mode_keeps_the_order_and_says_it_would_switch(tmp_path: Path) -> None:
    _seed_standard_failing()
    policy = _policy(tmp_path, enabled=True, shadow_mode=True)
    plan = _plan("--policy", policy)
    adaptive = plan["adaptive_router"]
    assert _names(plan) == ROUTED
    assert adaptive["baseline"] == "standard" and adaptive["suggested"] == "huggingface"
    assert adaptive["would_switch"] is True and adaptive["applied"] is False
    assert adaptive["suggested_order"] == ["huggingface", "standard"]
    assert adaptive["order"] == ["standard", "huggingface"]
    assert [h["path"] for h in adaptive["health"]] == ["standard", "huggingface"]
    assert adaptive["health"][0]["observations"] == 6 and adaptive["health"][0]["failures"] == 6
    assert set(adaptive) == {
        "enabled",
        "shadow_mode",
        "baseline",
        "suggested",
        "suggested_order",
        "confidence_delta",
        "would_switch",
        "cost_guard_blocked",
        "cost_multiplier",
        "applied",
        "held",
        "order",
        "health",
        "error",
    }
    doc = (Path(__file__).resolve().parents[1] / "docs/reference/plan-json.md").read_text("utf-8")
    section = doc[doc.index("## `adaptive_router`") :]
    assert all(f"`{key}`" in section for key in adaptive)
    assert all(f"`{key}`" in section for key in adaptive["health"][0])
    assert not any("adaptive router" in r for r in plan["decision_reasons"])
    text = _dry("--policy", policy).stdout
    assert "Path health (adaptive router: shadow mode, the order is kept)" in text
    assert "would switch to huggingface" in text
    assert "applied    no: adaptive_router.shadow_mode is true" in text


def test_disabled_by_default_the_health_is_shown_only() -> None:
    _seed_standard_failing()
    plan = _plan()
    assert plan["adaptive_router"]["enabled"] is False
    assert plan["adaptive_router"]["would_switch"] is True
    assert plan["adaptive_router"]["applied"] is False and _names(plan) == ROUTED
    assert "applied    no: adaptive_router.enabled is false" in _dry().stdout


def test_applied_mode_reorders_the_ready_paths_with_a_reason(tmp_path: Path) -> None:
    _seed_standard_failing()
    policy = _policy(tmp_path, enabled=True, shadow_mode=False)
    plan = _plan("--policy", policy)
    adaptive = plan["adaptive_router"]
    assert adaptive["applied"] is True and adaptive["order"] == ["huggingface", "standard"]
    # litellm is not ready: it keeps its slot; the ready ones swap
    assert _names(plan) == ["huggingface", "litellm", "standard"]
    assert (
        "adaptive router (applied): huggingface first, adjusted score"
        in (plan["decision_reasons"][-1])
    )
    assert "applied    yes" in _dry("--policy", policy).stdout


def test_a_forced_codex_provider_stays_first(tmp_path: Path) -> None:
    _seed_standard_failing()
    policy = _policy(tmp_path, enabled=True, shadow_mode=False)
    plan = _plan("--policy", policy, "--codex-provider", "standard")
    adaptive = plan["adaptive_router"]
    assert _names(plan)[0] == "standard"
    assert adaptive["would_switch"] is True and adaptive["applied"] is False
    assert adaptive["held"] == "codex_provider standard is set (flag)"
    assert "no: codex_provider standard is set" in (
        _dry("--policy", policy, "--codex-provider", "standard").stdout
    )


def test_open_models_only_keeps_standard_out_whatever_its_health(tmp_path: Path) -> None:
    """standard is unusable under open_models_only: never scored, never moved into play."""
    now = time.time()
    record_runs(
        app_dirs(),
        [
            make_record(
                started_at=now - 600 + i,
                attempts=(make_attempt("huggingface", exit_code=1, outcome="failed"),),
            )
            for i in range(6)
        ]
        + [make_record(started_at=now - 300 + i) for i in range(6)],  # standard: fine
    )
    policy = _policy(tmp_path, enabled=True, shadow_mode=False)
    plan = _plan("--policy", policy, "--open-models-only")
    assert not any(p["ready"] for p in plan["paths"] if p["name"] == "standard")
    assert [h["path"] for h in plan["adaptive_router"]["health"]] == ["huggingface"]
    assert plan["adaptive_router"]["applied"] is False
    assert _names(plan)[0] == "huggingface"


# ---------------------------------------------------------------- cost guard, quota


def test_the_cost_guard_blocks_a_switch_to_a_much_dearer_path(tmp_path: Path) -> None:
    _seed_standard_failing(standard_cost=0.001, hf_cost=0.01)
    policy = _policy(tmp_path, enabled=True, shadow_mode=False)
    plan = _plan("--policy", policy)
    adaptive = plan["adaptive_router"]
    assert adaptive["would_switch"] is True
    assert adaptive["cost_guard_blocked"] is True and adaptive["applied"] is False
    assert adaptive["cost_multiplier"] == pytest.approx(10.0)
    assert _names(plan) == ROUTED
    text = _dry("--policy", policy).stdout
    assert "cost guard blocked: 10.00× standard's average cost" in text
    assert "applied    no: the cost guard blocked it" in text


def test_shadow_mode_shows_a_path_cooling_down_after_a_quota_hit(tmp_path: Path) -> None:
    now = time.time()
    record_runs(
        app_dirs(),
        [
            make_record(started_at=now - 900, attempts=(make_attempt("huggingface"),)),
            make_record(
                started_at=now - 60,
                outcome="failed",
                exit_code=1,
                attempts=(
                    make_attempt(
                        "standard",
                        exit_code=1,
                        outcome="failed",
                        duration_ms=4_000,
                        outcome_kind="usage_limit",
                    ),
                ),
            ),
        ],
    )
    policy = _policy(tmp_path, enabled=True, shadow_mode=True)
    plan = _plan("--policy", policy)
    standard = plan["adaptive_router"]["health"][0]
    assert standard["state"] == "cooldown" and standard["quota"]["status"] == "cooldown"
    until = standard["quota"]["until"]
    assert until == pytest.approx(now - 60 + 4 + 600, abs=2)
    assert plan["adaptive_router"]["would_switch"] is True
    assert _names(plan) == ROUTED  # shadow: kept
    hhmm = time.strftime("%H:%M", time.localtime(until))
    assert f"usage_limit: cooling down until {hhmm}" in _dry("--policy", policy).stdout
    applied = _plan("--policy", _policy(tmp_path, enabled=True, shadow_mode=False))
    assert _names(applied) == ["huggingface", "litellm", "standard"]
    assert "standard is cooling down after a usage_limit" in applied["decision_reasons"][-1]


def test_the_health_section_fits_80_columns(tmp_path: Path) -> None:
    _seed_standard_failing(standard_cost=0.001, hf_cost=0.01)
    plan = _plan("--policy", _policy(tmp_path, enabled=True))
    text = render_plan(plan, width=80)
    section = text[text.index("Path health") :].split("\n\n")[0].splitlines()
    assert len(section) >= 6, section  # title, 2 paths, suggests, cost guard, applied
    assert all(len(line) <= 80 for line in section), section


def test_an_unreadable_history_is_reported_and_the_plan_goes_on() -> None:
    path = history_path(app_dirs())
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database at all, " * 100)
    plan = _plan()
    assert plan["adaptive_router"]["error"] and "health" not in plan["adaptive_router"]
    assert _names(plan) == ROUTED
    assert "Path health: the history could not be read" in _dry().stdout


def test_a_dry_run_does_not_upgrade_an_older_history(tmp_path: Path) -> None:
    """A plan reads the health only from a current history: upgrading a big one takes long and
    is a write, which a dry run must not do; the next recorded run upgrades it."""
    import sqlite3

    _seed_standard_failing()
    path = history_path(app_dirs())
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 4")  # as an older codex-route left it
    conn.commit()
    conn.close()
    plan = _plan()
    assert "older codex-route" in plan["adaptive_router"]["error"]
    assert _names(plan) == ROUTED
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    conn.close()


# ---------------------------------------------------------------- record and stats


def test_a_recorded_run_keeps_the_verdict(tmp_path: Path) -> None:
    _seed_standard_failing()
    policy = _policy(tmp_path, enabled=True, shadow_mode=False)
    runner.invoke(app, ["run", "--dry-run", "--record", "--no-stdin", "--policy", policy, "x"])
    newest = json.loads(runner.invoke(app, ["history", "--json", "--limit", "1"]).stdout)
    assert newest["adaptive"] == {
        "baseline": "standard",
        "suggested": "huggingface",
        "would_switch": True,
        "applied": True,
        "blocked": False,
    }
    assert compute_stats(app_dirs()).adaptive.observations == 0  # a dry run is no observation


def _verdict(would: bool, applied: bool, blocked: bool) -> AdaptiveVerdict:
    return AdaptiveVerdict(
        "standard", "huggingface" if would else "standard", would, applied, blocked
    )


def test_stats_counts_the_verdicts_of_launched_runs_over_a_period() -> None:
    record_runs(
        app_dirs(),
        [
            make_record(started_at=1_000.0, adaptive=_verdict(True, True, False)),
            make_record(started_at=2_000.0, adaptive=_verdict(True, False, True)),
            make_record(started_at=3_000.0, adaptive=_verdict(True, False, False)),
            make_record(started_at=4_000.0, adaptive=_verdict(False, False, False)),
            make_record(started_at=5_000.0),  # no health read
            make_record(started_at=200_000.0, adaptive=_verdict(True, True, False)),  # day 2
            make_record(  # not launched: never counted
                started_at=6_000.0,
                dry_run=True,
                outcome="dry_run",
                attempts=(),
                adaptive=_verdict(True, True, False),
            ),
        ],
    )
    assert compute_stats(app_dirs()).adaptive == AdaptiveCounts(5, 4, 2, 1)
    # the cut's own day from its runs, the days after from the daily counts
    assert compute_stats(app_dirs(), since=2_500.0).adaptive == AdaptiveCounts(3, 2, 1, 0)
    assert compute_stats(app_dirs(), since=100_000.0).adaptive == AdaptiveCounts(1, 1, 1, 0)
    data = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert data["adaptive_router"] == {
        "observations": 5,
        "would_switch": 4,
        "applied": 2,
        "blocked": 1,
    }
    text = runner.invoke(app, ["stats"]).stdout
    assert "5 launched runs read the paths' health: would switch 4, applied 2," in text
    assert "blocked by the cost guard 1" in text


def test_stats_without_verdicts_says_so() -> None:
    record_runs(app_dirs(), [make_record()])
    assert "no launched run read the paths' health yet" in runner.invoke(app, ["stats"]).stdout


# ---------------------------------------------------------------- pure parts, imports


@pytest.mark.parametrize(
    ("paths", "order", "expected"),
    [
        (["a", "b", "c"], ["c", "a"], ("c", "b", "a")),  # b not ready: keeps its slot
        (["a", "b"], ["a", "b"], ("a", "b")),
        (["a", "b", "c"], ["b", "c", "a"], ("b", "c", "a")),
        (["a"], ["a"], ("a",)),
    ],
)
def test_reorder_refills_the_ready_slots_only(paths, order, expected) -> None:
    assert reorder(paths, order) == expected


def _modules_of_dry_run() -> set[str]:
    code = (
        "import sys\nfrom codex_router.cli import main\n"
        "try:\n    main(['run', '--dry-run', '--json', '--no-stdin', 'fix the typo'])\n"
        "except SystemExit:\n    pass\nprint('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_dry_run_reads_the_store_only_when_a_history_exists() -> None:
    loaded = _modules_of_dry_run()
    assert not loaded & {"sqlite3", "codex_router.run.health", "codex_router.history.store"}
    record_runs(app_dirs(), [make_record()])
    loaded = _modules_of_dry_run()
    assert {"sqlite3", "codex_router.run.health"} <= loaded
