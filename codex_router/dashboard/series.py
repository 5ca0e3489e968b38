"""The dashboard's and the report's charts: ``stats`` reports → Chart.js configs (pure).

Each chart is a plain dict Chart.js 4 takes as it is (``type``, ``data.labels``,
``data.datasets[{label, data, …}]``, ``options``); ``static/charts.js`` hands it to
``new Chart(canvas, config)``. A value with no meaning (a day without runs, an alias that
launched nothing) is ``None`` (JSON ``null``: Chart.js leaves a gap), never a made-up 0 rate.

- ``spend_by_day``: per local day, the spend in $ (Codex's reported usage × prices where every
  launched run of the day has it; a day with any estimated run is drawn in the *estimate*
  series), the saving vs always the deep alias in $ (runs that succeeded), and the tokens
  compression kept out of launched runs (tokens, right-hand axis);
- ``alias_mix``: runs per alias;
- ``success_by_alias``: success rate (%) of each alias's launched runs;
- ``rule_savings``: tokens each compression rule removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from codex_router.history.stats import GroupStats, StatsReport

#: Colours of the series (Chart.js takes CSS colours); one per meaning, the same in every chart.
SPEND_REPORTED = "#2f6fb0"
SPEND_ESTIMATE = "#9dbfe3"
SAVED_ROUTING = "#2e8b57"
SAVED_COMPRESSION = "#c77d1a"
ALIAS_COLOURS = (
    "#2f6fb0",
    "#2e8b57",
    "#c77d1a",
    "#8a4fb0",
    "#b03a48",
    "#3a9fb0",
    "#7a7a2e",
    "#5a5a5a",
)

#: Labels of ``spend_by_day``'s datasets, in order (the tests and the browser tests read them).
SPEND_LABELS = (
    "spend, Codex-reported usage ($)",
    "spend, estimate ($)",
    "saved by routing vs deep ($)",
    "saved by compression (tokens)",
)


def short_alias(alias: str) -> str:
    """Every built-in alias starts with ``codex-``: the charts show the rest."""
    return alias[len("codex-") :] if alias.startswith("codex-") and len(alias) > 6 else alias


def _base_options(*, legend: bool = True) -> dict[str, Any]:
    # animation off: a chart is a figure to read (and screenshot), not a show
    return {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "plugins": {"legend": {"display": legend}},
    }


def calendar_days(days: Sequence[GroupStats]) -> list[str]:
    """Every calendar day from the first to the last of ``days`` (keys ``YYYY-MM-DD``), so a
    gap without runs shows as a gap, not as two neighbouring bars."""
    keys = sorted(str(d.key) for d in days if d.key is not None)
    if not keys:
        return []
    first, last = date.fromisoformat(keys[0]), date.fromisoformat(keys[-1])
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def day_spend_is_reported(day: GroupStats) -> bool:
    """True when every launched run of the day was priced from Codex's reported usage."""
    return day.launched > 0 and day.spend_usage_runs == day.launched


def _money(value: float) -> float:
    return round(value, 6)


def spend_by_day(days: Sequence[GroupStats]) -> dict[str, Any]:
    by_key = {str(d.key): d for d in days}
    labels = calendar_days(days)
    reported: list[float | None] = []
    estimate: list[float | None] = []
    routing: list[float | None] = []
    compression: list[int | None] = []
    for label in labels:
        day = by_key.get(label)
        if day is None or not day.launched:
            reported.append(None)
            estimate.append(None)
            routing.append(None)
            compression.append(None)
            continue
        spend = _money(day.spend_usd)
        reported.append(spend if day_spend_is_reported(day) else None)
        estimate.append(None if day_spend_is_reported(day) else spend)
        routing.append(_money(day.saving_vs_deep_usd))
        compression.append(day.tokens_saved)
    options = _base_options()
    options["scales"] = {
        "x": {"stacked": True},
        "y": {"stacked": True, "beginAtZero": True, "title": {"display": True, "text": "US $"}},
        "tokens": {
            "position": "right",
            "beginAtZero": True,
            "grid": {"drawOnChartArea": False},
            "title": {"display": True, "text": "tokens"},
        },
    }
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": SPEND_LABELS[0],
                    "data": reported,
                    "backgroundColor": SPEND_REPORTED,
                    "stack": "spend",
                    "yAxisID": "y",
                },
                {
                    "label": SPEND_LABELS[1],
                    "data": estimate,
                    "backgroundColor": SPEND_ESTIMATE,
                    "stack": "spend",
                    "yAxisID": "y",
                },
                {
                    "label": SPEND_LABELS[2],
                    "data": routing,
                    "backgroundColor": SAVED_ROUTING,
                    "stack": "routing",
                    "yAxisID": "y",
                },
                {
                    "type": "line",
                    "label": SPEND_LABELS[3],
                    "data": compression,
                    "borderColor": SAVED_COMPRESSION,
                    "backgroundColor": SAVED_COMPRESSION,
                    "pointRadius": 2,
                    "spanGaps": False,
                    "yAxisID": "tokens",
                },
            ],
        },
        "options": options,
    }


def alias_mix(aliases: Sequence[GroupStats]) -> dict[str, Any]:
    shown = [a for a in aliases if a.runs]
    return {
        "type": "doughnut",
        "data": {
            "labels": [short_alias(str(a.key)) for a in shown],
            "datasets": [
                {
                    "label": "runs",
                    "data": [a.runs for a in shown],
                    "backgroundColor": [
                        ALIAS_COLOURS[i % len(ALIAS_COLOURS)] for i in range(len(shown))
                    ],
                }
            ],
        },
        "options": _base_options(),
    }


def success_by_alias(aliases: Sequence[GroupStats]) -> dict[str, Any]:
    options = _base_options(legend=False)
    options["scales"] = {
        "y": {
            "beginAtZero": True,
            "max": 100,
            "title": {"display": True, "text": "% of launched runs"},
        }
    }
    return {
        "type": "bar",
        "data": {
            "labels": [short_alias(str(a.key)) for a in aliases],
            "datasets": [
                {
                    "label": "success rate (%)",
                    "data": [
                        None if a.success_rate is None else round(a.success_rate * 100, 1)
                        for a in aliases
                    ],
                    "backgroundColor": SAVED_ROUTING,
                }
            ],
        },
        "options": options,
    }


def rule_savings(savings: dict[str, int]) -> dict[str, Any]:
    options = _base_options(legend=False)
    options["indexAxis"] = "y"
    options["scales"] = {"x": {"beginAtZero": True, "title": {"display": True, "text": "tokens"}}}
    return {
        "type": "bar",
        "data": {
            "labels": list(savings),
            "datasets": [
                {
                    "label": "tokens removed",
                    "data": list(savings.values()),
                    "backgroundColor": SAVED_COMPRESSION,
                }
            ],
        },
        "options": options,
    }


def charts(report: StatsReport) -> dict[str, dict[str, Any]]:
    """Every chart of the Spend page and the report, from ``compute_stats(by="alias",
    daily=True)``."""
    aliases = report.groups if report.by == "alias" else ()
    return {
        "spend_by_day": spend_by_day(report.days),
        "alias_mix": alias_mix(aliases),
        "success_by_alias": success_by_alias(aliases),
        "rule_savings": rule_savings(report.rule_savings),
    }
