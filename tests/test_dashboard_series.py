"""``dashboard/series.py``: stats reports → Chart.js configs (pure), and the terminal chart of
``stats`` (``views/stats.daily_chart``)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from codex_router.dashboard import series
from codex_router.history.stats import AdaptiveCounts, GroupStats, StatsReport
from codex_router.views.stats import CHART_DAYS, daily_chart


def group(key: str | None, **values: Any) -> GroupStats:
    """A GroupStats with zeros except ``values``."""
    fields: dict[str, Any] = dict(
        runs=0,
        launched=0,
        succeeded=0,
        fell_back=0,
        dry_runs=0,
        p50_ms=None,
        p95_ms=None,
        tokens_raw=0,
        tokens_clean=0,
        estimated_cost_usd=0.0,
        deep_cost_usd=0.0,
        usage_runs=0,
        usage_estimated_tokens=0,
        usage_input_tokens=0,
        token_error=None,
    )
    fields.update(values)
    return GroupStats(key, **fields)


def day(key: str, *, launched: int = 2, usage: int = 0, spend: float = 1.0, **more: Any):
    return group(
        key,
        runs=more.pop("runs", launched),
        launched=launched,
        spend_usd=spend,
        spend_usage_runs=usage,
        **more,
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([], []),
        (["2026-11-03"], ["2026-11-03"]),
        (["2026-11-03", "2026-11-01"], ["2026-11-01", "2026-11-02", "2026-11-03"]),
        (["2026-02-27", "2026-03-01"], ["2026-02-27", "2026-02-28", "2026-03-01"]),
        (["2025-12-31", "2026-01-01"], ["2025-12-31", "2026-01-01"]),
    ],
)
def test_calendar_days_fill_the_gaps(keys: list[str], expected: list[str]) -> None:
    assert series.calendar_days([day(k) for k in keys]) == expected


@pytest.mark.parametrize(
    ("launched", "usage", "reported"),
    [(0, 0, False), (3, 3, True), (3, 2, False), (3, 0, False)],
)
def test_a_day_is_reported_only_when_every_launched_run_has_usage(
    launched: int, usage: int, reported: bool
) -> None:
    assert series.day_spend_is_reported(day("2026-11-01", launched=launched, usage=usage)) is (
        reported
    )


def _datasets(chart: dict[str, Any]) -> dict[str, list[Any]]:
    return {d["label"]: d["data"] for d in chart["data"]["datasets"]}


def test_spend_by_day_marks_estimates_and_leaves_gaps() -> None:
    days = [
        # every launched run priced from Codex's usage
        day(
            "2026-11-01",
            launched=2,
            usage=2,
            spend=0.5,
            succeeded=2,
            succeeded_cost_usd=0.5,
            succeeded_deep_cost_usd=4.0,
            tokens_raw=1000,
            tokens_clean=600,
        ),
        # 2026-11-02: no runs at all
        # one of three estimated: the whole day's spend goes to the estimate series
        day("2026-11-03", launched=3, usage=2, spend=0.25, tokens_raw=50, tokens_clean=50),
        # only dry runs: nothing launched, nothing spent or saved
        day("2026-11-04", launched=0, runs=4, spend=0.0, dry_runs=4),
    ]
    chart = series.spend_by_day(days)
    assert chart["data"]["labels"] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    data = _datasets(chart)
    assert list(data) == list(series.SPEND_LABELS)
    reported, estimate, routing, compression = (data[label] for label in series.SPEND_LABELS)
    assert reported == [0.5, None, None, None]
    assert estimate == [None, None, 0.25, None]
    assert routing == [3.5, None, 0.0, None]
    assert compression == [400, None, 0, None]
    # the two spend series stack into one bar per day; the tokens have their own axis
    by_label = {d["label"]: d for d in chart["data"]["datasets"]}
    assert by_label[series.SPEND_LABELS[0]]["stack"] == by_label[series.SPEND_LABELS[1]]["stack"]
    assert by_label[series.SPEND_LABELS[3]]["yAxisID"] == "tokens"
    assert "tokens" in chart["options"]["scales"]


@pytest.mark.parametrize(
    ("aliases", "labels", "rates", "runs"),
    [
        ([], [], [], []),
        (
            [
                group("codex-deep", runs=4, launched=4, succeeded=3),
                group("codex-light", runs=2, launched=0, dry_runs=2),
                group("mine", runs=5, launched=5, succeeded=5),
            ],
            ["deep", "light", "mine"],
            [75.0, None, 100.0],
            [4, 2, 5],
        ),
        ([group("codex-", runs=1, launched=1, succeeded=0)], ["codex-"], [0.0], [1]),
    ],
)
def test_alias_charts(
    aliases: list[GroupStats], labels: list[str], rates: list[Any], runs: list[int]
) -> None:
    success = series.success_by_alias(aliases)
    assert success["data"]["labels"] == labels
    assert success["data"]["datasets"][0]["data"] == rates
    mix = series.alias_mix(aliases)
    assert mix["type"] == "doughnut"
    assert mix["data"]["labels"] == labels
    assert mix["data"]["datasets"][0]["data"] == runs
    assert len(mix["data"]["datasets"][0]["backgroundColor"]) == len(labels)


def test_rule_savings_keeps_the_reports_order() -> None:
    chart = series.rule_savings({"stack_frames": 900, "ansi": 40, "progress": 7})
    assert chart["data"]["labels"] == ["stack_frames", "ansi", "progress"]
    assert chart["data"]["datasets"][0]["data"] == [900, 40, 7]
    assert chart["options"]["indexAxis"] == "y"


def test_charts_are_json_for_chart_js() -> None:
    aliases = (group("codex-deep", runs=1, launched=1, succeeded=1),)
    report = StatsReport(
        None,
        "alias",
        group(None, runs=1, launched=1),
        aliases,
        {"ansi": 3},
        adaptive=AdaptiveCounts(),
        days=(day("2026-11-01", launched=1, usage=1),),
    )
    charts = series.charts(report)
    assert set(charts) == {"spend_by_day", "alias_mix", "success_by_alias", "rule_savings"}
    for config in charts.values():
        assert json.loads(json.dumps(config)) == config  # plain JSON: no NaN, no tuples
        assert {"type", "data", "options"} <= set(config)
        for dataset in config["data"]["datasets"]:
            assert {"label", "data"} <= set(dataset)
            assert len(dataset["data"]) == len(config["data"]["labels"])
    assert charts["alias_mix"]["data"]["labels"] == ["deep"]
    # a report grouped otherwise has no per-alias numbers: empty alias charts, not wrong ones
    other = series.charts(dataclasses.replace(report, by="day"))
    assert other["alias_mix"]["data"]["labels"] == []
    assert other["success_by_alias"]["data"]["labels"] == []


# ------------------------------------------------------------ the terminal chart of `stats`


def test_daily_chart_fits_and_marks_estimates() -> None:
    days = (
        day(
            "2026-11-01",
            launched=2,
            usage=2,
            spend=2.0,
            succeeded=2,
            succeeded_deep_cost_usd=6.0,
            succeeded_cost_usd=2.0,
        ),
        day("2026-11-03", launched=2, usage=1, spend=1.0),
    )
    lines = daily_chart(days, 80)
    assert lines[0].startswith("last 3 days")
    assert all(len(line) <= 80 for line in lines)
    first, gap, third = lines[1:]
    assert first.startswith("2026-11-01 ") and "~" not in first
    assert first.count("█") == 12 and first.count("▒") == 23  # saving $4 is the top: all cells
    assert first.rstrip().endswith("$4.000")
    assert gap.startswith("2026-11-02") and "█" not in gap and gap.rstrip().endswith("-")
    assert "~$1.000" in third and third.count("█") == 6
    assert "▒" not in third  # saved nothing


@pytest.mark.parametrize("width", [80, 200, 60])
def test_daily_chart_width(width: int) -> None:
    days = tuple(
        day(f"2026-10-{n:02d}", spend=1000.0 * n, succeeded_deep_cost_usd=5e4, launched=9)
        for n in range(1, 32)
    )
    lines = daily_chart(days, width)
    assert len(lines) == (1 if width >= 80 else 2) + CHART_DAYS  # the newest days only
    assert lines[-1].startswith("2026-10-31")
    assert max(len(line) for line in lines) <= min(width, 80)


def test_daily_chart_small_spend_still_shows_a_cell() -> None:
    days = (day("2026-11-01", spend=1000.0), day("2026-11-02", spend=0.0001))
    assert daily_chart(days)[2].count("█") == 1
    assert daily_chart(()) == []
