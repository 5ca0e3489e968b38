"""The aggregates of ``stats`` (docs/reference/history-json.md), computed inside SQLite.

At a million runs, neither moving rows into Python nor scanning them in SQL fits the 1 s budget
(a full scan of the sums took 0.6 s, grouped by day 1.1 s). So the sums come from the
``run_totals`` rollup the store keeps per (UTC day, local day, alias, provider); with ``--since``,
the whole days after the cut come from the rollup and the cut's own day from ``runs``, so the
result is exact. Each percentile is an index walk (``LIMIT 1 OFFSET k`` over a partial index on
``(group, duration_ms, started_at)``), and the per-rule savings a ``GROUP BY`` over ``run_rules``.

Definitions (docs/reference/history-json.md repeats them):

- *launched*: the run started codex at least once (``attempt_count > 0``); dry runs, cost
  stops and errors before launch are counted in ``runs`` but in no rate, duration or money;
- *success rate*: launched runs whose outcome is ``success`` / launched runs;
- *fallback rate*: launched runs with more than one attempt / launched runs;
- *p50/p95*: nearest-rank percentiles of the run's wall time over launched runs;
- *not launched*: dry runs, cost stops (``blocked``), imported runs of the earlier cost router,
  and the rest (a codex-route error or Ctrl-C before the first attempt): with *launched* they
  add up to *runs*;
- *tokens saved*: ``tokens_raw - tokens_clean`` summed over launched runs; the dry runs' own
  sum is reported apart (nothing was sent, so nothing was saved);
- *spend*: over launched runs, Codex's reported usage × the alias's prices where the record has
  it (``usage_cost_usd``), the estimate otherwise (``spend_from_usage_runs`` says how many);
- *saving vs deep*: over runs that *succeeded*, the same tokens on the deep role's alias minus
  what they cost (usage-priced where known, else estimated); a failed run saved nothing;
- *token estimate error*: over launched runs where Codex reported usage, the mean of
  ``|actual input - estimated prompt tokens| / actual input``. Codex's input also holds its own
  instructions and tool round trips, so it runs above the prompt estimate: *overhead* is that
  difference over succeeded runs (mean from the rollup, median by an index walk), what
  ``cost_model.codex_overhead_input_tokens`` should be.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from codex_router.dirs import AppDirs
from codex_router.history.migrations import (
    CLASS_TOTALS_AGGREGATES,
    OVERHEAD_EXPRESSION,
    OVERHEAD_WHERE,
    TOTALS_AGGREGATES,
    TOTALS_COLUMNS,
)
from codex_router.history.store import open_history

#: ``--by`` choices → the column grouped on, and the partial index whose walk gives percentiles.
GROUPINGS: dict[str, tuple[str, str]] = {
    "alias": ("alias", "runs_alias_duration"),
    "provider": ("provider", "runs_provider_duration"),
    "day": ("day", "runs_day_duration"),
}
_OVERALL_INDEX = "runs_duration"

#: ``--by alias-class``: success per alias × task class, the user's marks counted first.
ALIAS_CLASS = "alias-class"

PERCENTILES = (50, 95)


@dataclass(frozen=True)
class GroupStats:
    """Aggregates over one group of runs (or over all of them: ``key`` None)."""

    key: str | None
    runs: int
    launched: int
    succeeded: int
    fell_back: int
    dry_runs: int
    p50_ms: int | None
    p95_ms: int | None
    tokens_raw: int
    tokens_clean: int
    estimated_cost_usd: float
    deep_cost_usd: float
    usage_runs: int  # launched runs where Codex reported token usage
    usage_estimated_tokens: int  # the prompt estimate of those runs
    usage_input_tokens: int  # what Codex reported as input for those runs
    token_error: float | None  # mean |actual - estimate| / actual over those runs
    blocked: int = 0  # not launched: max_cost_usd stop
    imported: int = 0  # not launched: the earlier cost router's runs (result unknown)
    dry_tokens_raw: int = 0  # dry runs' tokens as given
    dry_tokens_clean: int = 0  # dry runs' tokens after compression
    spend_usd: float = 0.0  # launched runs: Codex's usage × price where known, else estimate
    spend_usage_runs: int = 0  # launched runs whose spend comes from Codex's reported usage
    succeeded_cost_usd: float = 0.0  # succeeded runs, priced like spend
    succeeded_deep_cost_usd: float = 0.0  # the same runs on the deep role's alias
    overhead_runs: int = 0  # succeeded runs with reported usage
    overhead_tokens: int = 0  # their sum of (reported input - prompt tokens)
    overhead_median: int | None = None  # the median of that difference

    @property
    def other_not_launched(self) -> int:
        """Runs that launched nothing and are neither dry runs, cost stops nor imported: a
        codex-route error (or a Ctrl-C) before the first attempt."""
        return self.runs - self.launched - self.dry_runs - self.blocked - self.imported

    @property
    def dry_tokens_saved(self) -> int:
        return self.dry_tokens_raw - self.dry_tokens_clean

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.launched if self.launched else None

    @property
    def fallback_rate(self) -> float | None:
        return self.fell_back / self.launched if self.launched else None

    @property
    def tokens_saved(self) -> int:
        return self.tokens_raw - self.tokens_clean

    @property
    def saving_vs_deep_usd(self) -> float:
        """Only runs that succeeded: a failed run saved nothing."""
        return self.succeeded_deep_cost_usd - self.succeeded_cost_usd

    def to_dict(self) -> dict[str, Any]:
        def ratio(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "runs": self.runs,
            "launched": self.launched,
            "succeeded": self.succeeded,
            "fell_back": self.fell_back,
            "dry_runs": self.dry_runs,
            "success_rate": ratio(self.success_rate),
            "fallback_rate": ratio(self.fallback_rate),
            "duration_p50_ms": self.p50_ms,
            "duration_p95_ms": self.p95_ms,
            "tokens_raw": self.tokens_raw,
            "tokens_clean": self.tokens_clean,
            "tokens_saved": self.tokens_saved,
            "estimated_cost_usd": round(self.estimated_cost_usd, 6),
            "deep_cost_usd": round(self.deep_cost_usd, 6),
            "saving_vs_deep_usd": round(self.saving_vs_deep_usd, 6),
            "token_estimate": {
                "runs": self.usage_runs,
                "estimated_tokens": self.usage_estimated_tokens,
                "actual_input_tokens": self.usage_input_tokens,
                "mean_abs_error": ratio(self.token_error),
                "overhead_runs": self.overhead_runs,
                "overhead_mean_tokens": (
                    round(self.overhead_tokens / self.overhead_runs) if self.overhead_runs else None
                ),
                "overhead_median_tokens": self.overhead_median,
            },
            "not_launched": {
                "dry_run": self.dry_runs,
                "blocked": self.blocked,
                "imported": self.imported,
                "error": self.other_not_launched,
            },
            "dry_run_tokens_raw": self.dry_tokens_raw,
            "dry_run_tokens_clean": self.dry_tokens_clean,
            "dry_run_tokens_saved": self.dry_tokens_saved,
            "spend_usd": round(self.spend_usd, 6),
            "spend_from_usage_runs": self.spend_usage_runs,
            "succeeded_cost_usd": round(self.succeeded_cost_usd, 6),
            "succeeded_deep_cost_usd": round(self.succeeded_deep_cost_usd, 6),
        }


@dataclass(frozen=True)
class ClassStats:
    """Launched runs of one alias and task class (``complexity``), judged by the user's mark
    where there is one (``history mark``), else by the run's own outcome."""

    alias: str
    complexity: str
    launched: int
    succeeded: int  # the run's own outcome: success
    marked_good: int
    marked_bad: int
    marked_succeeded: int  # of the marked runs, how many succeeded by their own outcome

    @property
    def judged_good(self) -> int:
        """Marked good, plus unmarked runs that succeeded."""
        return self.marked_good + self.succeeded - self.marked_succeeded

    @property
    def success_rate(self) -> float | None:
        return self.judged_good / self.launched if self.launched else None

    @property
    def automatic_success_rate(self) -> float | None:
        return self.succeeded / self.launched if self.launched else None

    def to_dict(self) -> dict[str, Any]:
        def ratio(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "alias": self.alias,
            "class": self.complexity,
            "launched": self.launched,
            "succeeded": self.succeeded,
            "marked_good": self.marked_good,
            "marked_bad": self.marked_bad,
            "success_rate": ratio(self.success_rate),
            "automatic_success_rate": ratio(self.automatic_success_rate),
        }


@dataclass(frozen=True)
class AdaptiveCounts:
    """The adaptive router's verdicts over launched runs (``adaptive_router``): how many runs
    read the paths' health, and how often it would have switched, switched, was blocked."""

    observations: int = 0
    would_switch: int = 0
    applied: int = 0
    blocked: int = 0  # by the cost guard

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


_ADAPTIVE_DAYS = (
    "SELECT coalesce(sum(observations), 0), coalesce(sum(would_switch), 0), "
    "coalesce(sum(applied), 0), coalesce(sum(blocked), 0) FROM adaptive_totals"
)
_ADAPTIVE_RUNS = (
    "SELECT count(*), coalesce(sum(would_switch), 0), coalesce(sum(applied), 0), "
    "coalesce(sum(blocked), 0) FROM run_adaptive WHERE started_at >= ? AND started_at < ?"
)


def _adaptive_counts(conn: sqlite3.Connection, since: float | None) -> AdaptiveCounts:
    """Whole UTC days from the daily counts; with ``--since``, the cut's own day from the
    verdicts of its runs (as ``_sums`` does)."""
    if since is None:
        return AdaptiveCounts(*conn.execute(_ADAPTIVE_DAYS).fetchone())
    cut_day = int(since // 86_400)
    days = conn.execute(_ADAPTIVE_DAYS + " WHERE utc_day > ?", (cut_day,)).fetchone()
    part = conn.execute(_ADAPTIVE_RUNS, (since, (cut_day + 1) * 86_400)).fetchone()
    return AdaptiveCounts(*(a + b for a, b in zip(days, part, strict=True)))


@dataclass(frozen=True)
class StatsReport:
    """What `stats` shows: totals and the groups of one query."""

    since: float | None
    by: str | None
    total: GroupStats
    groups: tuple[GroupStats, ...]  # ordered by key (days oldest first)
    rule_savings: dict[str, int]  # compression rule → tokens removed, largest first
    classes: tuple[ClassStats, ...] = ()  # --by alias-class, ordered by alias then class
    adaptive: AdaptiveCounts = AdaptiveCounts()
    # ``daily=True``: the sums per local day, oldest first, without percentiles (the charts of
    # ``stats`` on a terminal, the dashboard, the HTML report); not part of ``--json``
    days: tuple[GroupStats, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.by == ALIAS_CLASS:
            groups = [c.to_dict() for c in self.classes]
        elif self.by:
            groups = [{self.by: g.key, **g.to_dict()} for g in self.groups]
        else:
            groups = []
        return {
            "since": self.since,
            "by": self.by,
            "total": self.total.to_dict(),
            "groups": groups,
            "rule_savings": dict(self.rule_savings),
            "adaptive_router": self.adaptive.to_dict(),
        }


def nearest_rank_offset(count: int, percentile: float) -> int:
    """0-based position of the nearest-rank ``percentile`` in ``count`` sorted values."""
    return max(0, math.ceil(percentile / 100 * count) - 1)


def percentile_of(sorted_values: Sequence[int], percentile: float) -> int | None:
    """Nearest-rank percentile of an already sorted sequence (the reference the SQL matches)."""
    if not sorted_values:
        return None
    return sorted_values[nearest_rank_offset(len(sorted_values), percentile)]


def _percentiles(
    conn: sqlite3.Connection,
    index: str,
    column: str | None,
    key: Any,
    launched: int,
    since: float | None,
) -> list[int | None]:
    if not launched:
        return [None] * len(PERCENTILES)
    terms = ["attempt_count > 0"]
    params: list[Any] = []
    if column is not None:
        terms.append(f"{column} = ?")
        params.append(key)
    if since is not None:
        terms.append("started_at >= ?")
        params.append(since)
    sql = (
        f"SELECT duration_ms FROM runs INDEXED BY {index} WHERE {' AND '.join(terms)} "
        "ORDER BY duration_ms LIMIT 1 OFFSET ?"
    )
    return [
        conn.execute(sql, [*params, nearest_rank_offset(launched, p)]).fetchone()[0]
        for p in PERCENTILES
    ]


def _overhead_median(conn: sqlite3.Connection, runs: int, since: float | None) -> int | None:
    """Median Codex overhead of succeeded runs with usage: an index walk (``runs_overhead``)."""
    if not runs:
        return None
    where, params = OVERHEAD_WHERE, []
    if since is not None:
        where += " AND started_at >= ?"
        params.append(since)
    row = conn.execute(
        f"SELECT {OVERHEAD_EXPRESSION} FROM runs INDEXED BY runs_overhead WHERE {where} "
        f"ORDER BY {OVERHEAD_EXPRESSION} LIMIT 1 OFFSET ?",
        [*params, nearest_rank_offset(runs, 50)],
    ).fetchone()
    return None if row is None else int(row[0])


def _group_stats(
    key: str | None,
    sums: Sequence[Any],
    percentiles: list[int | None],
    overhead_median: int | None = None,
) -> GroupStats:
    (
        runs,
        launched,
        succeeded,
        fell_back,
        dry_runs,
        tokens_raw,
        tokens_clean,
        cost,
        deep,
        usage_runs,
        usage_estimated,
        usage_input,
        token_error_sum,
        *more,
    ) = sums
    return GroupStats(
        key,
        runs,
        launched,
        succeeded,
        fell_back,
        dry_runs,
        percentiles[0],
        percentiles[1],
        tokens_raw,
        tokens_clean,
        cost,
        deep,
        usage_runs,
        usage_estimated,
        usage_input,
        token_error_sum / usage_runs if usage_runs else None,
        overhead_median=overhead_median,
        **dict(zip(TOTALS_COLUMNS[13:], more, strict=True)),
    )


def _sums(
    conn: sqlite3.Connection, column: str | None, since: float | None
) -> dict[str | None, list[Any]]:
    """Per group (``column``; None: one overall group), the ``TOTALS_COLUMNS`` sums."""
    key = column or "NULL"
    rollup_where, params = "", []
    parts: list[tuple[str, list[Any]]] = []
    if since is not None:
        cut_day = int(since // 86_400)
        rollup_where, params = "WHERE utc_day > ?", [cut_day]
        # The cut's own UTC day, row by row (at most a day of runs, through runs_started).
        parts.append(
            (
                f"SELECT {key}, {TOTALS_AGGREGATES} FROM runs "
                f"WHERE started_at >= ? AND started_at < ? GROUP BY 1",
                [since, (cut_day + 1) * 86_400],
            )
        )
    sums_sql = ", ".join(f"sum({c})" for c in TOTALS_COLUMNS)
    parts.append((f"SELECT {key}, {sums_sql} FROM run_totals {rollup_where} GROUP BY 1", params))
    merged: dict[str | None, list[Any]] = {}
    for sql, args in parts:
        for group, *values in conn.execute(sql, args):
            if values[0] is None or values[0] == 0:
                continue
            into = merged.setdefault(group, [0] * len(TOTALS_COLUMNS))
            for i, value in enumerate(values):
                into[i] += value
    return merged


def _rule_savings(conn: sqlite3.Connection, since: float | None) -> dict[str, int]:
    where, params = ("WHERE started_at >= ?", [since]) if since is not None else ("", [])
    rows = conn.execute(
        f"SELECT rule, sum(tokens) FROM run_rules {where} GROUP BY rule ORDER BY 2 DESC, 1", params
    ).fetchall()
    return dict(rows)


def _alias_classes(conn: sqlite3.Connection, since: float | None) -> tuple[ClassStats, ...]:
    """Per (alias, complexity) of launched runs: the ``run_class_totals`` rollup (with
    ``--since``, whole UTC days after the cut; the cut's own day from ``runs``, as ``_sums``),
    then the marked runs (few: one per ``history mark``) joined to theirs."""
    parts: list[tuple[str, list[Any]]] = []
    rollup_where: str = ""
    params: list[Any] = []
    marked_where = "r.attempt_count > 0"
    if since is not None:
        cut_day = int(since // 86_400)
        rollup_where, params = "WHERE utc_day > ?", [cut_day]
        parts.append(
            (
                f"SELECT alias, complexity, {CLASS_TOTALS_AGGREGATES} FROM runs "
                "WHERE started_at >= ? AND started_at < ? AND attempt_count > 0 GROUP BY 1, 2",
                [since, (cut_day + 1) * 86_400],
            )
        )
        marked_where += " AND r.started_at >= ?"
    parts.append(
        (
            "SELECT alias, complexity, sum(launched), sum(succeeded) FROM run_class_totals "
            f"{rollup_where} GROUP BY 1, 2",
            params,
        )
    )
    counts: dict[tuple[str, str], list[int]] = {}
    for sql, args in parts:
        for alias, complexity, launched, succeeded in conn.execute(sql, args):
            row = counts.setdefault((alias, complexity), [0, 0, 0, 0, 0])
            row[0] += launched
            row[1] += succeeded
    for alias, complexity, mark, succeeded, n in conn.execute(
        # Each marked run by its id (an IN over run_marks): as a join, SQLite 3.40 builds a
        # Bloom filter over every run first (0.3 s at a million runs).
        "SELECT r.alias, r.complexity, (SELECT mark FROM run_marks WHERE run = r.id), "
        "r.outcome = 'success', count(*) FROM runs AS r "
        f"WHERE r.id IN (SELECT run FROM run_marks) AND {marked_where} GROUP BY 1, 2, 3, 4",
        [] if since is None else [since],
    ):
        marked = counts.get((alias, complexity))
        if marked is None:
            continue
        marked[2 if mark == "good" else 3] += n
        marked[4] += n if succeeded else 0
    return tuple(ClassStats(a, c, *values) for (a, c), values in sorted(counts.items()))


def _empty(key: str | None) -> GroupStats:
    return _group_stats(key, [0] * len(TOTALS_COLUMNS), [None] * len(PERCENTILES))


def _days(conn: sqlite3.Connection, since: float | None) -> tuple[GroupStats, ...]:
    """Per local day, from the rollup like every sum; no percentiles: a chart needs none, and
    two index walks per day would cost seconds over years of history."""
    no_percentiles: list[int | None] = [None] * len(PERCENTILES)
    return tuple(
        _group_stats(day, sums, no_percentiles)
        for day, sums in sorted(_sums(conn, "day", since).items())
    )


def compute_stats(
    dirs: AppDirs,
    *,
    since: float | None = None,
    by: str | None = None,
    daily: bool = False,
    percentiles: bool = True,
) -> StatsReport:
    """Aggregate the recorded runs started at or after ``since``, optionally per ``by`` group;
    ``daily``: also the sums per local day (``StatsReport.days``). ``percentiles=False`` leaves
    the durations' percentiles and the overhead median out (None): the charts need only sums,
    and each percentile is an index walk (most of ``--by alias``'s time at a million runs)."""
    if by is not None and by not in GROUPINGS and by != ALIAS_CLASS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, {ALIAS_CLASS}, not {by!r}")
    with open_history(dirs) as conn:
        if conn is None:
            return StatsReport(since, by, _empty(None), (), {})
        overall = _sums(conn, None, since).get(None)
        if overall is None:
            return StatsReport(since, by, _empty(None), (), _rule_savings(conn, since))
        overhead_runs = overall[TOTALS_COLUMNS.index("overhead_runs")]
        skipped: list[int | None] = [None] * len(PERCENTILES)
        total = _group_stats(
            None,
            overall,
            _percentiles(conn, _OVERALL_INDEX, None, None, overall[1], since)
            if percentiles
            else skipped,
            _overhead_median(conn, overhead_runs, since) if percentiles else None,
        )
        groups: list[GroupStats] = []
        adaptive = _adaptive_counts(conn, since)
        days = _days(conn, since) if daily else ()
        if by == ALIAS_CLASS:
            classes = _alias_classes(conn, since)
            return StatsReport(
                since, by, total, (), _rule_savings(conn, since), classes, adaptive, days
            )
        if by is not None:
            column, index = GROUPINGS[by]
            for key, sums in sorted(_sums(conn, column, since).items()):
                walked = (
                    _percentiles(conn, index, column, key, sums[1], since)
                    if percentiles
                    else skipped
                )
                groups.append(_group_stats(key, sums, walked))
        rules = _rule_savings(conn, since)
    return StatsReport(since, by, total, tuple(groups), rules, adaptive=adaptive, days=days)
