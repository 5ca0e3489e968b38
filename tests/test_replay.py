"""``codex-route replay`` (issue 15, item 6): recorded runs re-decided under another policy, on
a seeded history whose mix, costs and failure rates are computed by hand below."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import ExitCode
from codex_router.history.decisions import RecordedDecision, recorded_decisions
from codex_router.history.record import TokenUsage
from codex_router.history.store import record_runs
from codex_router.policy.settings import resolve_settings
from codex_router.routing.replay import Replayer
from codex_router.run.replay import replay_history
from codex_router.run.route_eval import ALL_READY
from codex_router.views.layout import visible
from codex_router.views.replay import render_replay

from helpers.history import make_attempt, make_record
from helpers.tty import run_cli

runner = CliRunner()
DAY = 86_400

#: Round prices, so every cost below is a hand sum (USD per million tokens).
PRICES = """\
version: 1
cost_model:
  codex_overhead_input_tokens: 1000
  expected_output_tokens: 100
aliases:
  codex-light: {input_usd_per_mtok: 1, cached_input_usd_per_mtok: 1, output_usd_per_mtok: 10}
  codex-default: {input_usd_per_mtok: 2, cached_input_usd_per_mtok: 0.5, output_usd_per_mtok: 20}
  codex-long: {input_usd_per_mtok: 2, cached_input_usd_per_mtok: 0.5, output_usd_per_mtok: 20}
  codex-deep: {input_usd_per_mtok: 10, cached_input_usd_per_mtok: 1, output_usd_per_mtok: 100}
"""
USAGE = TokenUsage(input_tokens=10_000, cached_input_tokens=4_000, output_tokens=500)


@pytest.fixture
def history() -> None:
    """Within the last 30 days: 4 simple runs on codex-light (2 failed), no usage, 1,000 clean
    tokens; 2 medium runs on codex-default with Codex's usage, 2,000 tokens. Besides: a dry run
    (never replayed), an imported run of unknown class (not replayable) and, 60 days ago, 3
    complex runs on codex-deep (1 failed)."""
    now = time.time()
    light = [
        make_record(
            alias="codex-light",
            complexity="simple",
            tokens_clean=1_000,
            outcome=outcome,
            exit_code=0 if outcome == "success" else 1,
            attempts=(make_attempt(outcome="ok" if outcome == "success" else "failed"),),
            started_at=now - 3 * DAY,
        )
        for outcome in ("success", "success", "failed", "failed")
    ]
    default = [
        make_record(
            alias="codex-default",
            complexity="medium",
            tokens_clean=2_000,
            usage=USAGE,
            usage_cost_usd=0.03,
            started_at=now - 2 * DAY,
        )
        for _ in range(2)
    ]
    others = [
        make_record(outcome="dry_run", dry_run=True, attempts=(), started_at=now - DAY),
        make_record(outcome="imported", complexity="unknown", attempts=(), started_at=now - DAY),
    ]
    old = [
        make_record(
            alias="codex-deep",
            complexity="complex",
            tokens_clean=5_000,
            outcome=outcome,
            started_at=now - 60 * DAY,
        )
        for outcome in ("success", "success", "failed")
    ]
    record_runs(app_dirs(), [*light, *default, *others, *old])


def policy_file(tmp_path: Path, extra: str, name: str = "new.yaml") -> Path:
    path = tmp_path / name
    path.write_text(PRICES + extra, encoding="utf-8")
    return path


def replay_json(*args: str) -> dict:
    result = runner.invoke(app, ["replay", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_forcing_deep_moves_every_run_and_prices_it_by_hand(history, tmp_path: Path) -> None:
    report = replay_json("--policy", str(policy_file(tmp_path, "force_model: codex-deep\n")))
    # 4 light + 2 default + 3 deep = 9 replayed; the dry run is not read, the import skipped
    assert report["runs"] == 9
    assert report["skipped"] == {"complexity_unknown": 1, "intents_unknown": 0}
    assert report["changed"] == 6
    mix = {a["alias"]: (a["recorded_runs"], a["replayed_runs"]) for a in report["aliases"]}
    assert mix == {"codex-deep": (3, 9), "codex-light": (4, 0), "codex-default": (2, 0)}
    assert report["moves"] == [
        {"from": "codex-light", "to": "codex-deep", "runs": 4},
        {"from": "codex-default", "to": "codex-deep", "runs": 2},
    ]
    # light, estimated: (1,000 + 1,000 overhead) x 1 + 100 x 10 = 3,000 µ$; on deep:
    # 2,000 x 10 + 100 x 100 = 30,000 µ$. default, Codex's usage: 6,000 x 2 + 4,000 x 0.5
    # + 500 x 20 = 24,000 µ$; on deep: 6,000 x 10 + 4,000 x 1 + 500 x 100 = 114,000 µ$.
    # deep (5,000 tokens), both sides: 6,000 x 10 + 100 x 100 = 70,000 µ$.
    recorded = 4 * 0.003 + 2 * 0.024 + 3 * 0.07
    replayed = 4 * 0.03 + 2 * 0.114 + 3 * 0.07
    cost = report["cost"]
    assert cost["recorded_usd"] == pytest.approx(recorded)
    assert cost["replayed_usd"] == pytest.approx(replayed)
    assert cost["delta_usd"] == pytest.approx(replayed - recorded)
    # as recorded: make_record's 0.002 estimate, the usage cost 0.03 where recorded
    assert cost["as_recorded_usd"] == pytest.approx(7 * 0.002 + 2 * 0.03)
    assert (cost["runs_from_usage"], cost["runs_from_estimate"]) == (2, 7)
    assert report["failed_before"] == [
        {"alias": "codex-deep", "runs_moving_in": 6, "launched": 3, "failed": 1,
         "failure_rate": 0.3333}
    ]  # fmt: skip


def test_other_roles_and_cut_points(history, tmp_path: Path) -> None:
    extra = (
        "roles: {light: codex-default}\n"
        "classification: {light_below: -0.2, long_context_tokens: 1500}\n"
    )
    report = replay_json("--policy", str(policy_file(tmp_path, extra)))
    assert report["moves"] == [
        # simple runs follow roles.light; the cut-point cannot move them (no prompt text)
        {"from": "codex-light", "to": "codex-default", "runs": 4},
        # 2,000 tokens > 1,500: long context, replayed from the recorded count; and so are
        # the old complex runs (5,000 tokens)
        {"from": "codex-deep", "to": "codex-long", "runs": 3},
        {"from": "codex-default", "to": "codex-long", "runs": 2},
    ]
    classification = report["classification"]
    assert classification["long_context_changed"] == 5
    assert classification["not_replayed_changes"] == [
        {"key": "classification.light_below", "current": -0.579, "replay": -0.2}
    ]
    text = runner.invoke(app, ["replay", "--policy", str(policy_file(tmp_path, extra))]).stdout
    assert "not replayed: classification.light_below -0.579 → -0.2" in text


def test_runs_moving_to_an_alias_that_failed_before(history, tmp_path: Path) -> None:
    policy = policy_file(tmp_path, "roles: {default: codex-light}\n")
    report = replay_json("--policy", str(policy), "--since", "30d")
    assert report["failed_before"] == [
        {"alias": "codex-light", "runs_moving_in": 2, "launched": 4, "failed": 2,
         "failure_rate": 0.5}
    ]  # fmt: skip
    text = runner.invoke(app, ["replay", "--policy", str(policy), "--since", "30d"]).stdout
    assert "2 runs would move to codex-light, which failed 50% of its 4 recorded runs" in text


def test_since_keeps_only_newer_runs_and_their_failure_rates(history, tmp_path: Path) -> None:
    policy = policy_file(tmp_path, "force_model: codex-deep\n")
    report = replay_json("--policy", str(policy), "--since", "30d")
    assert report["runs"] == 6
    assert report["since"] is not None
    deep = next(a for a in report["aliases"] if a["alias"] == "codex-deep")
    assert (deep["recorded_runs"], deep["launched"], deep["failure_rate"]) == (0, 0, None)
    assert report["failed_before"][0]["launched"] == 0
    text = runner.invoke(app, ["replay", "--policy", str(policy), "--since", "30d"]).stdout
    assert "6 runs would move to codex-deep, which has no recorded run" in text
    bad = runner.invoke(app, ["replay", "--policy", str(policy), "--since", "soon"])
    assert bad.exit_code == ExitCode.USAGE and "--since" in bad.stderr


def test_json_shape_is_documented(history, tmp_path: Path) -> None:
    report = replay_json("--policy", str(policy_file(tmp_path, "force_model: codex-deep\n")))
    assert list(report) == [
        "schema", "codex_route_version", "policy", "since", "runs", "changed", "skipped",
        "classification", "aliases", "moves", "failed_before", "stops", "cost",
    ]  # fmt: skip
    assert report["schema"] == 1
    assert report["policy"]["source"] == "flag"
    doc = (Path(__file__).parents[1] / "docs" / "reference" / "replay-json.md").read_text()
    documented = set(re.findall(r"^\| `([^`]+)`", doc, re.M))
    nested = {
        "skipped": report["skipped"],
        "classification": report["classification"],
        "aliases[]": report["aliases"][0],
        "moves[]": report["moves"][0],
        "failed_before[]": report["failed_before"][0],
        "stops": report["stops"],
        "cost": report["cost"],
    }
    for name in report:
        assert name in documented, name
    for parent, entry in nested.items():
        for name in entry:
            assert f"{parent}.{name}" in documented, f"{parent}.{name}"


def test_a_bad_policy_is_a_policy_error_naming_its_line(history, tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("version: 1\nclassification:\n  medium_tokens: lots\n", encoding="utf-8")
    result = runner.invoke(app, ["replay", "--policy", str(policy)])
    assert result.exit_code == ExitCode.POLICY
    assert f"{policy}:3" in result.stderr


def test_no_history_replays_nothing(tmp_path: Path) -> None:
    report = replay_json("--policy", str(policy_file(tmp_path, "")))
    assert (report["runs"], report["aliases"], report["moves"]) == (0, [], [])


def test_human_output_fits_80_columns_on_a_terminal(history, tmp_path: Path) -> None:
    extra = "roles: {default: codex-light}\nclassification: {deep_from: 0.9}\n"
    ran = run_cli(
        ["replay", "--policy", str(policy_file(tmp_path, extra))], tty_stdout=True, columns=80
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert len(lines) > 10
    assert all(visible(line) <= 80 for line in lines), lines


def test_no_progress_line_in_a_pipe(history, tmp_path: Path) -> None:
    result = runner.invoke(app, ["replay", "--policy", str(policy_file(tmp_path, ""))])
    assert result.exit_code == 0 and result.stderr == ""


def test_progress_advances_once_per_run_read(history, tmp_path: Path) -> None:
    dirs = app_dirs()
    settings = resolve_settings({}, {}, dirs, policy_flag=policy_file(tmp_path, ""))
    ticks: list[int] = []
    replay_history(dirs, settings, advance=lambda: ticks.append(1))
    assert len(ticks) == 10  # every run but the dry run, the skipped import included


def test_decisions_are_streamed_from_the_store(history) -> None:
    runs = recorded_decisions(app_dirs())
    first = next(runs)  # a generator: nothing is read before it is asked for
    assert isinstance(first, RecordedDecision)
    assert sum(1 for _ in runs) == 9


def _run(complexity: str, tokens: int, intents: tuple[str, ...] = ()) -> RecordedDecision:
    return RecordedDecision(
        0.0, "success", True, "codex-light", complexity, False, intents, tokens, 0.0,
        None, None, None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("complexity", "tokens", "intents", "alias", "stop"),
    [
        ("simple", 1_000, (), "codex-light", None),
        ("medium", 1_000, (), "codex-default", None),
        ("complex", 1_000, (), "codex-deep", None),
        # long context from the recorded count: 60,000 is not above the threshold
        ("simple", 60_000, (), "codex-light", None),
        ("simple", 60_001, (), "codex-long", None),
        ("medium", 5_000, ("avoid_openai",), "codex-no-openai", None),
        # too big for every allowed window: the run would stop before launch
        ("medium", 2_000_000, (), "codex-long", "context_window"),
    ],
)
def test_replay_decides_from_the_record(
    complexity: str, tokens: int, intents: tuple[str, ...], alias: str, stop: str | None
) -> None:
    settings = resolve_settings({}, {}, app_dirs())
    replayed = Replayer(settings, ALL_READY).replay(_run(complexity, tokens, intents))
    assert (replayed.alias, replayed.stop) == (alias, stop)


def test_render_without_runs_is_short() -> None:
    data = {
        "runs": 0,
        "since": None,
        "policy": {"value": None, "source": "default"},
        "skipped": {"complexity_unknown": 0, "intents_unknown": 0},
    }
    assert render_replay(data).count("\n") == 2


WINDOWS = """\
version: 1
aliases:
  codex-light: {context_window: 30000}
  codex-default: {context_window: 40000}
  codex-long: {context_window: 80000}
"""


@pytest.mark.parametrize(
    ("complexity", "long_context", "intents"),
    [
        ("simple", False, frozenset()),
        ("medium", False, frozenset()),
        ("complex", True, frozenset()),
        ("medium", False, frozenset({"avoid_openai"})),
        ("simple", False, frozenset({"open_models"})),
    ],
)
def test_remembered_decisions_equal_decide_route(
    tmp_path: Path, complexity: str, long_context: bool, intents: frozenset[str]
) -> None:
    """The per-class token intervals give what decide_route gives, at every size, probed in a
    random order (intervals learnt out of order, widened and merged), around each window."""
    import random

    from codex_router.routing.classify import Classification
    from codex_router.routing.route import decide_route

    policy = tmp_path / "windows.yaml"
    policy.write_text(WINDOWS, encoding="utf-8")
    settings = resolve_settings({}, {}, app_dirs(), policy_flag=policy)
    edges = [w - 11_000 + d for w in (30_000, 40_000, 80_000, 1_048_576) for d in (-1, 0, 1)]
    sizes = [*edges, *random.Random(3).sample(range(0, 1_200_000), 400)]
    random.Random(5).shuffle(sizes)
    replayer = Replayer(settings, ALL_READY)
    task = Classification(complexity, long_context, intents, ())
    seen = set()
    for tokens in sizes:
        direct = decide_route(settings, task, ALL_READY, input_tokens=tokens)
        refused = direct.window is not None and direct.window.status == "refused"
        expected = (direct.alias, "context_window" if refused else None)
        assert replayer.route((complexity, long_context, intents), tokens) == expected, tokens
        seen.add(expected)
    assert len(seen) >= 2  # the sizes cross at least one window
    assert replayer.decided < len(sizes) / 4
    assert len(replayer.intervals[(complexity, long_context, intents)].decisions) == len(seen)


def test_a_legacy_alias_name_is_the_alias_it_stands_for() -> None:
    from codex_router.routing.replay import ReplayTally

    settings = resolve_settings({}, {}, app_dirs())
    replayer, tally = Replayer(settings, ALL_READY), ReplayTally()
    replayer.add(tally, replace(_run("simple", 1_000), alias="codex-cheap"))  # codex-light
    replayer.add(tally, _run("medium", 1_000))
    assert (tally.runs, tally.changed) == (2, 1)
    assert tally.moves == {("codex-light", "codex-default"): 1}
