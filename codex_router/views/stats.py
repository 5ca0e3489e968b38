"""Rendering for ``stats``: a summary, a per-group table for ``--by``, or one JSON document."""

from __future__ import annotations

import shutil
import sys
import textwrap
import time

from codex_router import ui
from codex_router.history.stats import GroupStats, StatsReport
from codex_router.views.history import cost, count, duration, short_alias

# (header, width) after the 11-wide key column: 77 columns with one space between columns.
_GROUP_COLUMNS = (
    ("runs", 8),
    ("ok", 6),
    ("fallbk", 6),
    ("p50", 6),
    ("p95", 6),
    ("tok saved", 9),
    ("cost", 8),
    ("vs deep", 8),
)


def print_stats_json(report: StatsReport) -> None:
    ui.print_json(report.to_dict())


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def money(usd: float) -> str:
    return cost(usd) if abs(usd) < 100 else f"${usd:,.0f}"


def _ms(value: int | None) -> str:
    return "-" if value is None else duration(value)


def summary_rows(report: StatsReport) -> list[tuple[str, str]]:
    """(label, text) pairs of the human summary."""
    t = report.total
    scope = (
        "since " + time.strftime("%Y-%m-%d %H:%M", time.localtime(report.since))
        if report.since is not None
        else "all recorded"
    )
    runs = f"{t.runs:,} {scope} ({t.launched:,} launched codex"
    runs += f", {t.dry_runs:,} dry runs)" if t.dry_runs else ")"
    rows = [
        ("runs", runs),
        ("success", f"{percent(t.success_rate)}   fallback {percent(t.fallback_rate)}"),
        ("duration", f"p50 {_ms(t.p50_ms)}   p95 {_ms(t.p95_ms)}"),
        (
            "compression",
            f"{count(t.tokens_saved)} tokens saved "
            f"({count(t.tokens_raw)} raw → {count(t.tokens_clean)} sent)",
        ),
        (
            "cost",
            f"{money(t.estimated_cost_usd)} estimated; always deep "
            f"{money(t.deep_cost_usd)}: routing saved {money(t.saving_vs_deep_usd)}",
        ),
    ]
    if t.usage_runs:
        rows.append(
            (
                "estimate",
                f"{t.usage_runs:,} runs with usage from Codex: "
                f"{count(t.usage_estimated_tokens)} estimated, "
                f"{count(t.usage_input_tokens)} input reported, "
                f"mean error {percent(t.token_error)}",
            )
        )
    else:
        rows.append(("estimate", "no run with usage reported by Codex yet"))
    if report.rule_savings:
        rows.append(
            (
                "per rule",
                ", ".join(
                    f"{rule} {count(tokens)}" for rule, tokens in report.rule_savings.items()
                ),
            )
        )
    return rows


def _group_cells(group: GroupStats) -> tuple[str, ...]:
    return (
        f"{group.runs:,}",
        percent(group.success_rate),
        percent(group.fallback_rate),
        _ms(group.p50_ms),
        _ms(group.p95_ms),
        count(group.tokens_saved),
        money(group.estimated_cost_usd),
        money(group.saving_vs_deep_usd),
    )


def _wrapped(rows: list[tuple[str, str]], width: int) -> str:
    label_width = max(len(label) for label, _ in rows) + 2
    out = []
    for label, text in rows:
        lines = textwrap.wrap(text, width=max(20, width - label_width)) or [""]
        out.append(f"{label:<{label_width}}{lines[0]}")
        out.extend(" " * label_width + line for line in lines[1:])
    return "\n".join(out) + "\n"


def print_stats(report: StatsReport) -> None:
    """The summary as plain wrapped text (no Rich unless a per-group table follows)."""
    width = min(shutil.get_terminal_size((80, 24)).columns, 100)
    sys.stdout.write(_wrapped(summary_rows(report), width))
    if not report.by:
        sys.stdout.flush()
        return
    table = ui.table(box=None, padding=(0, 1, 0, 0), pad_edge=False, header_style="bold")
    table.add_column(report.by, width=11, no_wrap=True, overflow="ellipsis")
    for header, width in _GROUP_COLUMNS:
        table.add_column(header, width=width, no_wrap=True, overflow="ellipsis", justify="right")
    for group in report.groups:
        if report.by == "alias" and group.key is not None:
            key = short_alias(group.key)
        else:
            key = str(group.key)
        table.add_row(ui.escape(key), *_group_cells(group))
    sys.stdout.write("\n")
    sys.stdout.flush()
    ui.out().print(table)
