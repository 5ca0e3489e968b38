"""The *Spend & savings* page's data (``templates/spend.html``), also the HTML report's.

One ``compute_stats(by="alias", daily=True, percentiles=False)``: only sums, read from the
history's per-day rollups (``history/stats.py``), no percentile walk, so the page keeps its 1 s
budget at a million runs (``benchmarks/bench_dashboard.py``). The
definitions (spend, saving vs deep, tokens saved) are ``stats``' own
(docs/reference/history-json.md); this module only shapes them for the template.
"""

from __future__ import annotations

import time
from typing import Any

from codex_router.dashboard import series
from codex_router.dirs import AppDirs
from codex_router.errors import UsageError
from codex_router.history.query import parse_since
from codex_router.history.stats import GroupStats, StatsReport, compute_stats
from codex_router.views.money import usd

#: The ranges the page offers (label, ``since`` value; None: everything recorded).
RANGES: tuple[tuple[str, str | None], ...] = (
    ("7 days", "7d"),
    ("30 days", "30d"),
    ("90 days", "90d"),
    ("1 year", "52w"),
    ("all", None),
)

#: The day table lists at most this many days, newest first (the chart shows every day).
TABLE_DAYS = 31


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def since_seconds(since: str | None, *, now: float | None = None) -> float | None:
    """``since`` as ``stats --since`` reads it (7d, 24h, 2w, today, an ISO date) → unix seconds."""
    if since is None or not since.strip():
        return None
    try:
        return parse_since(since, now=time.time() if now is None else now)
    except ValueError as exc:
        raise UsageError(f"since: {exc}", hint="e.g. 7d, 30d, 2w, today, 2026-11-01") from None


def _spend_note(group: GroupStats) -> str:
    """Where a spend figure comes from: Codex's usage, the estimate, or both."""
    if not group.launched:
        return "nothing launched"
    estimated = group.launched - group.spend_usage_runs
    if not estimated:
        return "all from Codex-reported usage"
    if not group.spend_usage_runs:
        return "estimate"
    return f"{group.spend_usage_runs:,} runs from Codex-reported usage, {estimated:,} estimated"


def _day_row(day: GroupStats) -> dict[str, Any]:
    return {
        "day": day.key,
        "runs": f"{day.runs:,}",
        "launched": f"{day.launched:,}",
        "spend": usd(day.spend_usd),
        "estimate": not series.day_spend_is_reported(day),
        "spend_note": _spend_note(day),
        "saved_routing": usd(day.saving_vs_deep_usd),
        "saved_tokens": f"{day.tokens_saved:,}",
    }


def member_row(member: GroupStats) -> dict[str, Any]:
    """One member's line of the team report (``stats --team --html``)."""
    return {
        "member": str(member.key),
        "runs": f"{member.runs:,}",
        "launched": f"{member.launched:,}",
        "success": percent(member.success_rate),
        "spend": usd(member.spend_usd),
        "saved_routing": usd(member.saving_vs_deep_usd),
        "saved_tokens": f"{member.tokens_saved:,}",
    }


def _alias_row(alias: GroupStats) -> dict[str, Any]:
    return {
        "alias": series.short_alias(str(alias.key)),
        "runs": f"{alias.runs:,}",
        "launched": f"{alias.launched:,}",
        "success": percent(alias.success_rate),
        "spend": usd(alias.spend_usd),
        "saved_routing": usd(alias.saving_vs_deep_usd),
        "saved_tokens": f"{alias.tokens_saved:,}",
    }


def spend_context(dirs: AppDirs, since: str | None) -> dict[str, Any]:
    """Everything ``spend.html`` shows for runs started since ``since`` (``stats --since``'s
    syntax; None: all recorded). Raises ``UsageError`` for a malformed ``since``."""
    cut = since_seconds(since)
    report = compute_stats(dirs, since=cut, by="alias", daily=True, percentiles=False)
    return report_context(report, since, cut)


def report_context(report: StatsReport, since: str | None, cut: float | None) -> dict[str, Any]:
    """What ``spend.html`` shows of ``report`` (``by="alias"``, ``daily=True``): the local
    history's (:func:`spend_context`) or the team history's (``stats --team --html``)."""
    t = report.total
    shown_days = [d for d in reversed(report.days) if d.runs][:TABLE_DAYS]
    return {
        "since": since,
        "since_label": (
            "since " + time.strftime("%Y-%m-%d %H:%M", time.localtime(cut))
            if cut is not None
            else "all recorded runs"
        ),
        "ranges": [
            {"label": label, "since": value, "current": value == (since or None)}
            for label, value in RANGES
        ],
        "total": {
            "runs": f"{t.runs:,}",
            "launched": f"{t.launched:,}",
            "succeeded": f"{t.succeeded:,}",
            "success": percent(t.success_rate),
            "spend": usd(t.spend_usd),
            "estimate": t.launched > t.spend_usage_runs,
            "spend_note": _spend_note(t),
            "saved_routing": usd(t.saving_vs_deep_usd),
            "saved_tokens": f"{t.tokens_saved:,}",
            "tokens_raw": f"{t.tokens_raw:,}",
            "tokens_clean": f"{t.tokens_clean:,}",
        },
        "days": [_day_row(d) for d in shown_days],
        "days_total": sum(1 for d in report.days if d.runs),
        "aliases": [_alias_row(a) for a in report.groups],
        "rules": [{"rule": r, "tokens": f"{n:,}"} for r, n in report.rule_savings.items()],
        "charts": series.charts(report),
        "series_labels": series.SPEND_LABELS,
    }
