"""The history database's schema, as an ordered list of migrations.

``PRAGMA user_version`` holds how many migrations a database has had; ``MIGRATIONS[i]`` takes a
database from version ``i`` to ``i + 1``. Append new steps, never edit or reorder old ones: a
database written by an older codex-route must upgrade in place, keeping every run.

Layout (why it is split in three tables):

- ``runs``: one narrow row per run holding every number and name that ``history`` filters on
  and ``stats`` aggregates, so a full scan at a million runs touches tens of MB, not the JSON;
- ``run_details``: the full ``RunRecord.to_dict()`` JSON (attempts, provenance, reasons…),
  read only for the few rows ``history`` shows;
- ``run_rules``: tokens removed per compression rule, one row per (launched run, rule) that
  removed something, so per-rule savings are a ``GROUP BY`` rather than JSON parsing.

The duration indexes are partial (``attempt_count > 0``: runs that launched codex) and end in
``started_at``, so a percentile is an index walk even with a ``--since`` filter.

Version 2 adds ``run_totals``: the sums ``stats`` reports, per (UTC day number, local day, alias,
provider), kept up to date in the same transaction as each run. Scanning a million ``runs`` rows
for them took 0.6 s (1.1 s grouped by day); summing the ~30,000 rollup rows takes milliseconds.
The UTC day number lets ``--since`` be exact: whole days after the cut come from the rollup,
the runs of the cut's own day from ``runs``.

Version 3 adds ``runs.usage_cost_usd`` / ``usage_deep_cost_usd`` (Codex's reported usage priced
on the alias / the deep role's alias when the run was recorded; NULL before), rebuilds
``run_totals`` with more sums (non-launched runs by kind, dry-run compression, money over
succeeded runs, Codex's overhead) and adds ``runs_overhead`` for the median overhead.

Version 4 adds ``run_attempts`` (one row per attempt: path, outcome, exit code, duration, TTFT,
tokens, cost; indexed on ``(path, started_at)`` so the adaptive health model reads a path's
newest attempts in a bounded index walk), ``run_marks`` (the user's ``history mark``), and
an index on ``run_id`` (id prefixes) and ``run_class_totals`` (launched and succeeded runs per
UTC day, alias and task class: ``stats --by alias-class``). Existing runs' attempts are copied
from their JSON once.

Version 5 adds ``run_adaptive``: the adaptive router's verdict on each launched run that read
the paths' health (would switch, applied, blocked by the cost guard, the suggested path), and
``adaptive_totals``, their counts per UTC day kept with each run as ``run_totals`` is (counting
920,000 verdicts took 0.24 s); the cut's own day of a ``--since`` is counted from
``run_adaptive`` (an index walk). Runs recorded before had no verdict.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

#: ``PRAGMA application_id`` of a codex-route history database ("CRTH"): tells ours from
#: another program's SQLite file.
APPLICATION_ID = 0x43525448

Migration = Callable[[sqlite3.Connection], None]


def _v1_initial(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            started_at REAL NOT NULL,
            day TEXT NOT NULL,
            duration_ms INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            exit_code INTEGER NOT NULL,
            alias TEXT NOT NULL,
            provider TEXT NOT NULL,
            final_path TEXT,
            attempt_count INTEGER NOT NULL,
            complexity TEXT NOT NULL,
            long_context INTEGER NOT NULL,
            interactive INTEGER NOT NULL,
            dry_run INTEGER NOT NULL,
            tokens_raw INTEGER NOT NULL,
            tokens_clean INTEGER NOT NULL,
            estimated_cost_usd REAL NOT NULL,
            deep_cost_usd REAL NOT NULL,
            usage_input_tokens INTEGER,
            usage_cached_input_tokens INTEGER,
            usage_output_tokens INTEGER,
            usage_reasoning_output_tokens INTEGER,
            usage_total_tokens INTEGER,
            codex_version TEXT,
            codex_route_version TEXT NOT NULL
        )""")
    conn.execute("""
        CREATE TABLE run_details (
            run INTEGER PRIMARY KEY,
            record TEXT NOT NULL
        )""")
    conn.execute("""
        CREATE TABLE run_rules (
            run INTEGER NOT NULL,
            started_at REAL NOT NULL,
            rule TEXT NOT NULL,
            tokens INTEGER NOT NULL
        )""")
    for statement in (
        "CREATE INDEX runs_started ON runs (started_at)",
        "CREATE INDEX runs_alias ON runs (alias, started_at)",
        "CREATE INDEX runs_provider ON runs (provider, started_at)",
        "CREATE INDEX runs_outcome ON runs (outcome, started_at)",
        "CREATE INDEX runs_duration ON runs (duration_ms, started_at) WHERE attempt_count > 0",
        "CREATE INDEX runs_alias_duration ON runs (alias, duration_ms, started_at)"
        " WHERE attempt_count > 0",
        "CREATE INDEX runs_provider_duration ON runs (provider, duration_ms, started_at)"
        " WHERE attempt_count > 0",
        "CREATE INDEX runs_day_duration ON runs (day, duration_ms, started_at)"
        " WHERE attempt_count > 0",
        "CREATE INDEX run_rules_rule ON run_rules (rule, started_at, tokens)",
    ):
        conn.execute(statement)


#: The sums of one group of ``runs`` rows, in :data:`TOTALS_COLUMNS` order; the definitions
#: of ``stats`` (codex_router/history/stats.py) in SQL. Frozen as version 2 wrote them: a change
#: of definition needs a new migration that rebuilds ``run_totals``.
_V2_TOTALS_AGGREGATES = """
    count(*),
    coalesce(sum(attempt_count > 0), 0),
    coalesce(sum(attempt_count > 0 AND outcome = 'success'), 0),
    coalesce(sum(attempt_count > 1), 0),
    coalesce(sum(dry_run), 0),
    coalesce(sum(CASE WHEN attempt_count > 0 THEN tokens_raw END), 0),
    coalesce(sum(CASE WHEN attempt_count > 0 THEN tokens_clean END), 0),
    total(CASE WHEN attempt_count > 0 THEN estimated_cost_usd END),
    total(CASE WHEN attempt_count > 0 THEN deep_cost_usd END),
    coalesce(sum(attempt_count > 0 AND usage_input_tokens > 0), 0),
    coalesce(sum(CASE WHEN attempt_count > 0 AND usage_input_tokens > 0 THEN tokens_clean END), 0),
    coalesce(sum(CASE WHEN attempt_count > 0 AND usage_input_tokens > 0
                      THEN usage_input_tokens END), 0),
    total(CASE WHEN attempt_count > 0 AND usage_input_tokens > 0
               THEN abs(usage_input_tokens - tokens_clean) * 1.0 / usage_input_tokens END)
"""
_V2_TOTALS_COLUMNS = (
    "runs",
    "launched",
    "succeeded",
    "fell_back",
    "dry_runs",
    "tokens_raw",
    "tokens_clean",
    "estimated_cost_usd",
    "deep_cost_usd",
    "usage_runs",
    "usage_estimated_tokens",
    "usage_input_tokens",
    "token_error_sum",
)

#: Version 3 adds to version 2's sums (same order first): the runs that did not launch codex
#: by kind (so the counts add up), the dry runs' compression, and money over *succeeded* runs,
#: priced from Codex's reported usage where the record has it (``usage_cost_usd``), else the
#: estimate; and the Codex overhead (reported input - prompt tokens) of succeeded runs.
_V3_MORE_AGGREGATES = """,
    coalesce(sum(attempt_count = 0 AND outcome = 'blocked'), 0),
    coalesce(sum(attempt_count = 0 AND outcome = 'imported'), 0),
    coalesce(sum(CASE WHEN dry_run THEN tokens_raw END), 0),
    coalesce(sum(CASE WHEN dry_run THEN tokens_clean END), 0),
    total(CASE WHEN attempt_count > 0 THEN coalesce(usage_cost_usd, estimated_cost_usd) END),
    coalesce(sum(attempt_count > 0 AND usage_cost_usd IS NOT NULL), 0),
    total(CASE WHEN attempt_count > 0 AND outcome = 'success'
               THEN coalesce(usage_cost_usd, estimated_cost_usd) END),
    total(CASE WHEN attempt_count > 0 AND outcome = 'success'
               THEN coalesce(usage_deep_cost_usd, deep_cost_usd) END),
    coalesce(sum(outcome = 'success' AND usage_input_tokens > 0), 0),
    coalesce(sum(CASE WHEN outcome = 'success' AND usage_input_tokens > 0
                      THEN usage_input_tokens - tokens_clean END), 0)
"""
_V3_TOTALS_AGGREGATES = _V2_TOTALS_AGGREGATES + _V3_MORE_AGGREGATES
TOTALS_AGGREGATES = _V3_TOTALS_AGGREGATES

TOTALS_COLUMNS = (
    *_V2_TOTALS_COLUMNS,
    "blocked",
    "imported",
    "dry_tokens_raw",
    "dry_tokens_clean",
    "spend_usd",
    "spend_usage_runs",
    "succeeded_cost_usd",
    "succeeded_deep_cost_usd",
    "overhead_runs",
    "overhead_tokens",
)

#: The Codex overhead of one succeeded run with reported usage; ``runs_overhead`` sorts on it.
OVERHEAD_EXPRESSION = "(usage_input_tokens - tokens_clean)"
OVERHEAD_WHERE = "outcome = 'success' AND usage_input_tokens > 0"

#: The rollup key: UTC day number (``started_at // 86400``), local day, alias, provider.
TOTALS_KEY = "CAST(started_at / 86400 AS INTEGER), day, alias, provider"


def _v2_run_totals(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE run_totals (
            utc_day INTEGER NOT NULL,
            day TEXT NOT NULL,
            alias TEXT NOT NULL,
            provider TEXT NOT NULL,
            runs INTEGER NOT NULL,
            launched INTEGER NOT NULL,
            succeeded INTEGER NOT NULL,
            fell_back INTEGER NOT NULL,
            dry_runs INTEGER NOT NULL,
            tokens_raw INTEGER NOT NULL,
            tokens_clean INTEGER NOT NULL,
            estimated_cost_usd REAL NOT NULL,
            deep_cost_usd REAL NOT NULL,
            usage_runs INTEGER NOT NULL,
            usage_estimated_tokens INTEGER NOT NULL,
            usage_input_tokens INTEGER NOT NULL,
            token_error_sum REAL NOT NULL,
            PRIMARY KEY (utc_day, day, alias, provider)
        ) WITHOUT ROWID""")
    conn.execute(
        f"INSERT INTO run_totals SELECT {TOTALS_KEY}, {_V2_TOTALS_AGGREGATES} "
        "FROM runs GROUP BY 1, 2, 3, 4"
    )


def _v3_usage_costs(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE runs ADD COLUMN usage_cost_usd REAL")
    conn.execute("ALTER TABLE runs ADD COLUMN usage_deep_cost_usd REAL")
    conn.execute("DROP TABLE run_totals")
    columns = ",\n".join(
        f"{c} {'REAL' if c.endswith(('_usd', '_sum')) else 'INTEGER'} NOT NULL"
        for c in TOTALS_COLUMNS
    )
    conn.execute(f"""
        CREATE TABLE run_totals (
            utc_day INTEGER NOT NULL,
            day TEXT NOT NULL,
            alias TEXT NOT NULL,
            provider TEXT NOT NULL,
            {columns},
            PRIMARY KEY (utc_day, day, alias, provider)
        ) WITHOUT ROWID""")
    conn.execute(
        f"INSERT INTO run_totals SELECT {TOTALS_KEY}, {_V3_TOTALS_AGGREGATES} "
        "FROM runs GROUP BY 1, 2, 3, 4"
    )
    conn.execute(
        f"CREATE INDEX runs_overhead ON runs ({OVERHEAD_EXPRESSION}, started_at) "
        f"WHERE {OVERHEAD_WHERE}"
    )


def attempt_rows(run: int, record: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The ``run_attempts`` rows of one recorded run (its ``RunRecord.to_dict()``), in
    :data:`ATTEMPT_COLUMNS` order; none for a dry run.

    An attempt's start is the run's start plus the attempts before it. Its cost is its share
    (by total tokens) of the run's usage priced on the alias when Codex reported usage, else
    the run's estimate; unknown (NULL) for an attempt without usage in a run with some.
    """
    if record.get("dry_run"):
        return []
    run_usage = record.get("usage") or {}
    run_tokens = int(run_usage.get("total_tokens") or 0)
    usage_cost = record.get("usage_cost_usd")
    start = float(record["started_at"])
    rows: list[tuple[Any, ...]] = []
    for seq, attempt in enumerate(record.get("attempts") or []):
        usage = attempt.get("usage") or {}
        tokens = int(usage["total_tokens"]) if usage.get("total_tokens") is not None else None
        cost: float | None
        if usage_cost is not None and run_tokens > 0:
            cost = float(usage_cost) * (tokens or 0) / run_tokens if tokens else None
        else:
            cost = float(record.get("estimated_cost_usd") or 0.0)
        duration = int(attempt.get("duration_ms") or 0)
        rows.append(
            (
                run,
                seq,
                str(attempt.get("path") or ""),
                start,
                # the finer kind Codex's events give (ok, rate_limit, …) where recorded
                str(attempt.get("outcome_kind") or attempt.get("outcome") or ""),
                attempt.get("exit_code"),
                duration,
                attempt.get("error"),
                attempt.get("ttft_ms"),  # None in runs recorded before Codex's events were read
                tokens,
                cost,
            )
        )
        start += duration / 1000
    return rows


#: The ``run_class_totals`` key and sums over launched ``runs`` rows (``stats --by alias-class``).
CLASS_TOTALS_KEY = "CAST(started_at / 86400 AS INTEGER), alias, complexity"
CLASS_TOTALS_AGGREGATES = "count(*), coalesce(sum(outcome = 'success'), 0)"

ATTEMPT_COLUMNS = (
    "run",
    "seq",
    "path",
    "started_at",
    "outcome",
    "exit_code",
    "duration_ms",
    "error",
    "ttft_ms",
    "total_tokens",
    "cost_usd",
)
INSERT_ATTEMPT = (
    f"INSERT INTO run_attempts ({', '.join(ATTEMPT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(ATTEMPT_COLUMNS))})"
)


def _v4_attempts_and_marks(conn: sqlite3.Connection) -> None:
    # One row per attempt, so a path's newest attempts are an index walk on (path, started_at)
    # instead of JSON parsing: the adaptive health model reads the newest max_history per path.
    conn.execute("""
        CREATE TABLE run_attempts (
            run INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            path TEXT NOT NULL,
            started_at REAL NOT NULL,
            outcome TEXT NOT NULL,
            exit_code INTEGER,
            duration_ms INTEGER NOT NULL,
            error TEXT,
            ttft_ms INTEGER,
            total_tokens INTEGER,
            cost_usd REAL,
            PRIMARY KEY (run, seq)
        ) WITHOUT ROWID""")
    conn.execute("CREATE INDEX run_attempts_path ON run_attempts (path, started_at)")
    # The user's verdict on a run (``history mark``), kept apart from what the run recorded.
    conn.execute("""
        CREATE TABLE run_marks (
            run INTEGER PRIMARY KEY,
            mark TEXT NOT NULL CHECK (mark IN ('good', 'bad')),
            note TEXT,
            marked_at REAL NOT NULL
        )""")
    # ``history mark PREFIX`` finds a run by a prefix of its id (a range on this index).
    conn.execute("CREATE INDEX runs_run_id ON runs (run_id)")
    # ``stats --by alias-class``: launched and succeeded runs per (UTC day, alias, task class),
    # kept up to date with each run as ``run_totals`` is (a scan of a million runs took 0.9 s).
    conn.execute("""
        CREATE TABLE run_class_totals (
            utc_day INTEGER NOT NULL,
            alias TEXT NOT NULL,
            complexity TEXT NOT NULL,
            launched INTEGER NOT NULL,
            succeeded INTEGER NOT NULL,
            PRIMARY KEY (utc_day, alias, complexity)
        ) WITHOUT ROWID""")
    conn.execute(
        f"INSERT INTO run_class_totals SELECT {CLASS_TOTALS_KEY}, {CLASS_TOTALS_AGGREGATES} "
        "FROM runs WHERE attempt_count > 0 GROUP BY 1, 2, 3"
    )
    read = conn.execute(
        "SELECT d.run, d.record FROM run_details AS d JOIN runs AS r ON r.id = d.run "
        "WHERE r.attempt_count > 0 AND NOT r.dry_run"
    )
    while batch := read.fetchmany(10_000):
        rows = [row for run, doc in batch for row in attempt_rows(run, json.loads(doc))]
        conn.executemany(INSERT_ATTEMPT, rows)


def _v5_adaptive_decisions(conn: sqlite3.Connection) -> None:
    conn.execute("""
        CREATE TABLE run_adaptive (
            run INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            would_switch INTEGER NOT NULL,
            applied INTEGER NOT NULL,
            blocked INTEGER NOT NULL,
            suggested TEXT NOT NULL
        )""")
    # covering: ``stats`` counts the cut's own day from the index alone
    conn.execute(
        "CREATE INDEX run_adaptive_time "
        "ON run_adaptive (started_at, would_switch, applied, blocked)"
    )
    conn.execute("""
        CREATE TABLE adaptive_totals (
            utc_day INTEGER PRIMARY KEY,
            observations INTEGER NOT NULL,
            would_switch INTEGER NOT NULL,
            applied INTEGER NOT NULL,
            blocked INTEGER NOT NULL
        )""")


#: ``run_adaptive``'s columns, in insert order.
ADAPTIVE_COLUMNS = ("run", "started_at", "would_switch", "applied", "blocked", "suggested")
INSERT_ADAPTIVE = (
    f"INSERT INTO run_adaptive ({', '.join(ADAPTIVE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(ADAPTIVE_COLUMNS))})"
)
#: The verdict just inserted (by ``run``), added to its day's counts.
ADD_TO_ADAPTIVE_TOTALS = (
    "INSERT INTO adaptive_totals SELECT CAST(started_at / 86400 AS INTEGER), 1, would_switch, "
    "applied, blocked FROM run_adaptive WHERE run = ? ON CONFLICT (utc_day) DO UPDATE SET "
    "observations = observations + 1, would_switch = would_switch + excluded.would_switch, "
    "applied = applied + excluded.applied, blocked = blocked + excluded.blocked"
)

#: Ordered: index ``i`` upgrades schema version ``i`` to ``i + 1``.
MIGRATIONS: tuple[Migration, ...] = (
    _v1_initial,
    _v2_run_totals,
    _v3_usage_costs,
    _v4_attempts_and_marks,
    _v5_adaptive_decisions,
)

#: The schema version this codex-route writes.
SCHEMA_VERSION = len(MIGRATIONS)


def apply_migrations(
    conn: sqlite3.Connection, current: int, migrations: Sequence[Migration]
) -> int:
    """Run the migrations after ``current`` inside the caller's transaction; return the new version.

    The caller holds a write transaction (``BEGIN IMMEDIATE``) and re-read ``current`` inside
    it, so two processes opening a new database at once migrate it exactly once.
    """
    for version in range(current, len(migrations)):
        migrations[version](conn)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {len(migrations)}")
    return len(migrations)
