"""Rendering for ``stats``: a summary, a per-group table for ``--by``, or one JSON document.

On a terminal the summary wraps between words and the table is 80 columns; in a pipe every row
is one ``label<TAB>text`` line and the table tab-separated, so ``grep``/``cut`` find whole values.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

from codex_router import ui
from codex_router.history.stats import ALIAS_CLASS, ClassStats, GroupStats, StatsReport
from codex_router.views.history import count, duration, short_alias
from codex_router.views.money import usd

# (header, width) after the key column, which takes the rest of 80 columns (15: every built-in
# alias whole); one space between columns.
_GROUP_COLUMNS = (
    ("runs", 8),
    ("ok", 6),
    ("fallbk", 6),
    ("p50", 6),
    ("p95", 6),
    ("tok saved", 9),
    ("spend", 8),
    ("saved", 8),
)


# ``--by alias-class``: (header, width) after the key column (alias/class).
_CLASS_COLUMNS = (
    ("runs", 8),
    ("ok", 6),
    ("auto ok", 7),
    ("good", 6),
    ("bad", 6),
)


def _class_cells(group: ClassStats) -> tuple[str, ...]:
    return (
        f"{group.launched:,}",
        percent(group.success_rate),
        percent(group.automatic_success_rate),
        f"{group.marked_good:,}",
        f"{group.marked_bad:,}",
    )


def _class_line(cells: list[str], terminal: bool) -> str:
    if not terminal:
        return "\t".join(cells)
    key_width = 80 - sum(w + 1 for _h, w in _CLASS_COLUMNS)
    key = cells[0] if len(cells[0]) <= key_width else cells[0][: key_width - 1] + "…"
    parts = [key.ljust(key_width)]
    parts += [c.rjust(w) for c, (_h, w) in zip(cells[1:], _CLASS_COLUMNS, strict=True)]
    return " ".join(parts).rstrip()


def print_alias_classes(report: StatsReport, terminal: bool) -> None:
    """Launched runs per alias and task class: success judged by the user's mark where there
    is one (``ok``), by the run's own outcome alone (``auto ok``), and the marks."""
    header = ["alias/class", *(h for h, _w in _CLASS_COLUMNS)]
    sys.stdout.write(_class_line(header, terminal) + "\n")
    for group in report.classes:
        key = f"{short_alias(group.alias)}/{group.complexity}"
        sys.stdout.write(_class_line([key, *_class_cells(group)], terminal) + "\n")


def print_stats_json(report: StatsReport) -> None:
    ui.print_json(report.to_dict())


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _ms(value: int | None) -> str:
    return "-" if value is None else duration(value)


def _tilde(path: str) -> str:
    """``path`` with the home directory written ``~``: shorter, so it fits a line."""
    home = os.path.expanduser("~").rstrip("/")
    return "~" + path[len(home) :] if len(home) > 1 and path.startswith(home + "/") else path


def _runs_line(report: StatsReport) -> str:
    t = report.total
    scope = (
        "since " + time.strftime("%Y-%m-%d %H:%M", time.localtime(report.since))
        if report.since is not None
        else "all recorded"
    )
    classes = [
        f"{t.launched:,} launched codex",
        f"{t.dry_runs:,} dry runs",
        f"{t.blocked:,} stopped by max_cost_usd",
        f"{t.imported:,} imported",
        f"{t.other_not_launched:,} "
        + ("error" if t.other_not_launched == 1 else "errors")
        + " before launch",
    ]
    return f"{t.runs:,} {scope} = " + " + ".join(classes)


def _spend_line(t: GroupStats) -> str:
    if not t.launched:
        return "$0 (nothing launched)"
    estimated = t.launched - t.spend_usage_runs
    if not estimated:
        return f"{usd(t.spend_usd)}: Codex's reported usage × prices, all {t.launched:,} runs"
    if not t.spend_usage_runs:
        return f"~{usd(t.spend_usd)} estimated (~: no run has usage reported by Codex)"
    return (
        f"~{usd(t.spend_usd)} (~: {t.spend_usage_runs:,} runs priced from Codex's reported "
        f"usage, {estimated:,} estimated)"
    )


def summary_rows(
    report: StatsReport,
    *,
    deep_alias: str = "the deep alias",
    overhead_setting: int | None = None,
    policy_file: str | None = None,
) -> list[tuple[str, str]]:
    """(label, text) pairs of the human summary."""
    t = report.total
    rows = [
        ("runs", _runs_line(report)),
        (
            "success",
            f"{percent(t.success_rate)}   fallback {percent(t.fallback_rate)}   "
            f"(of {t.launched:,} launched)",
        ),
        ("duration", f"p50 {_ms(t.p50_ms)}   p95 {_ms(t.p95_ms)}   (launched runs)"),
        (
            "compression",
            f"{count(t.tokens_saved)} tokens kept out of launched runs "
            f"({count(t.tokens_raw)} raw → {count(t.tokens_clean)} sent)",
        ),
    ]
    if t.dry_runs:
        rows.append(
            (
                "dry runs",
                f"{count(t.dry_tokens_saved)} tokens compression would remove "
                f"({count(t.dry_tokens_raw)} → {count(t.dry_tokens_clean)}; not counted "
                "above: nothing was sent)",
            )
        )
    rows.append(("spend", _spend_line(t)))
    rows.append(
        (
            "saved",
            f"{usd(t.saving_vs_deep_usd)} vs always {deep_alias}, over the {t.succeeded:,} "
            f"runs that succeeded ({usd(t.succeeded_deep_cost_usd)} there instead of "
            f"{usd(t.succeeded_cost_usd)}; failed runs saved nothing)",
        )
    )
    if t.usage_runs:
        rows.append(
            (
                "estimate",
                f"over {t.usage_runs:,} launched runs with usage from Codex: prompt "
                f"{count(t.usage_estimated_tokens)} tokens, Codex's input "
                f"{count(t.usage_input_tokens)}; mean |input - prompt| / input "
                f"{percent(t.token_error)} (Codex adds its own instructions, tools and turns)",
            )
        )
    else:
        rows.append(("estimate", "no run with usage reported by Codex yet"))
    if t.overhead_median is not None:
        text = (
            f"Codex added a median {t.overhead_median:,} input tokens to the prompt over "
            f"{t.overhead_runs:,} succeeded runs"
        )
        if overhead_setting is not None:
            suggested = max(0, round(t.overhead_median, -2))
            text += f"; cost_model.codex_overhead_input_tokens is {overhead_setting:,}"
            if suggested != overhead_setting:
                where = _tilde(policy_file) if policy_file else "your policy file (docs/policy.md)"
                text += (
                    f"; to estimate with yours, put `cost_model: {{codex_overhead_input_tokens: "
                    f"{suggested}}}` in {where}"
                )
        rows.append(("overhead", text))
    if report.rule_savings:
        rows.append(
            (
                "per rule",
                ", ".join(
                    f"{rule} {count(tokens)}" for rule, tokens in report.rule_savings.items()
                ),
            )
        )
    rows.append(("adaptive", _adaptive_line(report)))
    return rows


def _adaptive_line(report: StatsReport) -> str:
    """The adaptive router's verdicts over the launched runs of the period."""
    a = report.adaptive
    if not a.observations:
        return "no launched run read the paths' health yet (adaptive_router, docs/policy.md)"
    return (
        f"{a.observations:,} launched runs read the paths' health: would switch "
        f"{a.would_switch:,}, applied {a.applied:,}, blocked by the cost guard {a.blocked:,}"
    )


def _group_cells(group: GroupStats) -> tuple[str, ...]:
    return (
        f"{group.runs:,}",
        percent(group.success_rate),
        percent(group.fallback_rate),
        _ms(group.p50_ms),
        _ms(group.p95_ms),
        count(group.tokens_saved),
        usd(group.spend_usd),
        usd(group.saving_vs_deep_usd),
    )


def _wrapped(rows: list[tuple[str, str]], width: int) -> str:
    """Label column, text wrapped between words (never inside one, never at a hyphen)."""
    label_width = max(len(label) for label, _ in rows) + 2
    out = []
    for label, text in rows:
        lines = textwrap.wrap(
            text,
            width=max(20, width - label_width),
            break_long_words=False,
            break_on_hyphens=False,
        ) or [""]
        out.append(f"{label:<{label_width}}{lines[0]}")
        out.extend(" " * label_width + line for line in lines[1:])
    return "\n".join(out) + "\n"


def _plain(rows: list[tuple[str, str]]) -> str:
    """For a pipe: one ``label<TAB>text`` line per row, never wrapped (grep-friendly)."""
    return "".join(f"{label}\t{text}\n" for label, text in rows)


def _group_line(cells: list[str], terminal: bool) -> str:
    if not terminal:
        return "\t".join(cells)
    key_width = 80 - sum(w + 1 for _h, w in _GROUP_COLUMNS)
    key = cells[0] if len(cells[0]) <= key_width else cells[0][: key_width - 1] + "…"
    parts = [key.ljust(key_width)]
    parts += [c.rjust(w) for c, (_h, w) in zip(cells[1:], _GROUP_COLUMNS, strict=True)]
    return " ".join(parts).rstrip()


#: The terminal chart: at most this many days, the newest (a longer chart would push the
#: summary off the screen; the HTML report and the dashboard show every day).
CHART_DAYS = 14
_SPEND_BAR = "█"
_SAVED_BAR = "▒"


def _bar(value: float, top: float, cells: int, glyph: str) -> str:
    """``value`` as ``glyph`` × a share of ``cells`` (``top`` fills them all); a positive
    value too small to round to one cell still shows one, so no spend looks like none."""
    if value <= 0 or top <= 0:
        return ""
    return glyph * max(1, round(value / top * cells))


def daily_chart(days: tuple[GroupStats, ...], width: int = 80) -> list[str]:
    """Lines of the per-day spend and saved-vs-deep bars, for the last ``CHART_DAYS`` calendar
    days up to the newest day with runs (a day without runs shows empty); one $ scale for both
    bars. ``~`` marks a day whose spend holds estimates. Every line fits ``width`` (≤ 80)."""
    by_day = {str(d.key): d for d in days if d.key is not None}
    if not by_day:
        return []
    last = date.fromisoformat(max(by_day))
    first = max(date.fromisoformat(min(by_day)), last - timedelta(days=CHART_DAYS - 1))
    labels = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    shown = [by_day.get(label) for label in labels]
    top = max(
        (max(d.spend_usd, d.saving_vs_deep_usd) for d in shown if d is not None and d.launched),
        default=0.0,
    )
    value_width = 9
    width = min(width, 80)
    cells = max(4, (width - 10 - 3 * 1 - 2 * value_width - 2) // 2)
    title = f"last {len(labels)} days, one $ scale:"
    legend = f"spend {_SPEND_BAR} (~ holds estimates), saved vs deep {_SAVED_BAR}"
    lines = [f"{title} {legend}"] if len(title) + 1 + len(legend) <= width else [title, legend]
    for label, day in zip(labels, shown, strict=True):
        if day is None or not day.launched:
            lines.append(f"{label} {'':<{cells}} {'-':>{value_width}}")
            continue
        mark = "" if day.spend_usage_runs == day.launched else "~"
        spend = _bar(day.spend_usd, top, cells, _SPEND_BAR)
        saved = _bar(day.saving_vs_deep_usd, top, cells, _SAVED_BAR)
        lines.append(
            f"{label} {spend:<{cells}} {mark + usd(day.spend_usd):>{value_width}}  "
            f"{saved:<{cells}} {usd(day.saving_vs_deep_usd):>{value_width}}"
        )
    return [line.rstrip() for line in lines]


def print_stats(
    report: StatsReport,
    *,
    deep_alias: str = "the deep alias",
    overhead_setting: int | None = None,
    policy_file: str | None = None,
    terminal: bool | None = None,
) -> None:
    """The summary (wrapped to the terminal, at most 100 columns; one line per row in a pipe),
    then the per-group table for ``--by`` (80 columns; tab-separated in a pipe)."""
    terminal = sys.stdout.isatty() if terminal is None else terminal
    rows = summary_rows(
        report,
        deep_alias=deep_alias,
        overhead_setting=overhead_setting,
        policy_file=policy_file,
    )
    if terminal:
        width = min(shutil.get_terminal_size((80, 24)).columns, 100)
        sys.stdout.write(_wrapped(rows, width))
    else:
        sys.stdout.write(_plain(rows))
    if report.by == ALIAS_CLASS:
        sys.stdout.write("\n")
        print_alias_classes(report, terminal)
    elif report.by:
        sys.stdout.write("\n")
        header = [report.by, *(h for h, _w in _GROUP_COLUMNS)]
        sys.stdout.write(_group_line(header, terminal) + "\n")
        for group in report.groups:
            if report.by == "alias" and group.key is not None:
                key = short_alias(group.key)
            else:
                key = str(group.key)
            sys.stdout.write(_group_line([key, *_group_cells(group)], terminal) + "\n")
    if terminal and report.days:
        width = shutil.get_terminal_size((80, 24)).columns
        sys.stdout.write("\n" + "".join(line + "\n" for line in daily_chart(report.days, width)))
    sys.stdout.flush()


def print_report_written(path: Path) -> None:
    """Where ``stats --html`` wrote the report (a diagnostic: stderr)."""
    ui.err().print(f"wrote {ui.escape(str(path))}: open it in a browser (works offline)")
