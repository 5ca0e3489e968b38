"""The team history: the local runs copied into one PostgreSQL database (docs/team.md).

Every run is recorded in the local SQLite first, as without a team URL: a run never waits on
the network. Syncing pushes the local runs PostgreSQL does not hold yet, in order of the local
row id, and only after PostgreSQL committed them moves this machine's watermark for that
database (``<state_dir>/team-sync.sqlite3``) past them. The insert ignores a run it already
holds (unique ``(user_name, host, run_id)``), so a crash between the commit and the watermark
only repeats work; a database that is down fails the sync, never the run, and the next sync
(after the next recorded run, or ``codex-route history sync``) pushes everything after the
watermark. What is pushed is what the local store kept: no prompt text, every string already
redacted and scrubbed of key values (``store``); each row adds the member's user and host name.
The URL's password is never shown: messages pass it through :func:`redact`.

Marks (``history mark``) can change after their run was pushed, so they are not behind the
watermark: each sync compares the local marks with the ones this machine last saw PostgreSQL
accept for that database (``pushed_marks`` in the sync file: run id and ``marked_at``) and
sends only those that differ, after the runs; a mark whose run PostgreSQL does not hold yet
stays pending. Sending one again rewrites the same values, so a repeat adds nothing.

``stats --team`` reads a rollup the sync keeps (schema 3), as the local ``stats`` does: at a
million runs a scan of ``runs`` (and of each record's JSON, for the rules and the adaptive
verdicts) took 9.5 s. Each batch adds its new runs' sums to ``team_totals`` /
``team_rule_totals`` and their wall times to ``team_durations`` in the statement that inserts
them, so only runs PostgreSQL did not hold count, once.
"""

from __future__ import annotations

import getpass
import math
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from codex_router.dirs import AppDirs
from codex_router.errors import StateError, UsageError
from codex_router.history.migrations import TOTALS_COLUMNS
from codex_router.history.store import _RUN_COLUMNS as RUN_COLUMNS
from codex_router.history.store import (
    history_path,
    ingest_pending,
    open_history,
    pending_files,
)
from codex_router.redact import redact, redact_tree

if TYPE_CHECKING:
    import psycopg

    from codex_router.history.query import RunFilter
    from codex_router.history.record import RunRecord
    from codex_router.history.stats import StatsReport

#: The environment variable (and policy key) naming the team database.
TEAM_URL_ENV = "CODEX_ROUTE_HISTORY_URL"
#: This machine's sync position per team database.
SYNC_STATE_FILE_NAME = "team-sync.sqlite3"
#: How long a sync waits for PostgreSQL to accept the connection before giving up for now.
CONNECT_TIMEOUT_SECONDS = 3
#: Runs per insert batch (one transaction each, so a long backlog commits as it goes).
SYNC_BATCH = 2_000

#: ``stats --by`` groupings over the team history → the column grouped on.
TEAM_GROUPINGS = {
    "user": "user_name",
    "host": "host",
    "alias": "alias",
    "provider": "provider",
    "day": "day",
}
#: ``stats --by alias-class`` over the team history: success per alias × task class, every
#: member's marks counted before the run's own outcome (as locally).
TEAM_ALIAS_CLASS = "alias-class"

_INTEGER_COLUMNS = {
    "duration_ms",
    "exit_code",
    "attempt_count",
    "long_context",
    "interactive",
    "dry_run",
    "tokens_raw",
    "tokens_clean",
    "usage_input_tokens",
    "usage_cached_input_tokens",
    "usage_output_tokens",
    "usage_reasoning_output_tokens",
    "usage_total_tokens",
}
_REAL_COLUMNS = {
    "started_at",
    "estimated_cost_usd",
    "deep_cost_usd",
    "usage_cost_usd",
    "usage_deep_cost_usd",
}
_NULLABLE = {
    "final_path",
    "usage_input_tokens",
    "usage_cached_input_tokens",
    "usage_output_tokens",
    "usage_reasoning_output_tokens",
    "usage_total_tokens",
    "codex_version",
    "usage_cost_usd",
    "usage_deep_cost_usd",
}


def _column_type(name: str) -> str:
    kind = (
        "bigint"
        if name in _INTEGER_COLUMNS
        else "double precision"
        if name in _REAL_COLUMNS
        else "text"
    )
    return f"{name} {kind}" + ("" if name in _NULLABLE else " NOT NULL")


def _flag(condition: str) -> str:
    return f"count(*) FILTER (WHERE {condition})"


def _total(expression: str, condition: str, kind: str = "bigint") -> str:
    return f"coalesce(sum({expression}) FILTER (WHERE {condition}), 0)::{kind}"


_LAUNCHED = "attempt_count > 0"
_USAGE = "attempt_count > 0 AND usage_input_tokens > 0"
_SUCCEEDED = "attempt_count > 0 AND outcome = 'success'"
_OVERHEAD = "outcome = 'success' AND usage_input_tokens > 0"

#: The sums of ``stats`` in PostgreSQL, in ``migrations.TOTALS_COLUMNS`` order (the same
#: definitions as the local rollup; docs/reference/history-json.md).
_AGGREGATES = (
    "count(*)",
    _flag(_LAUNCHED),
    _flag(_SUCCEEDED),
    _flag("attempt_count > 1"),
    _flag("dry_run <> 0"),
    _total("tokens_raw", _LAUNCHED),
    _total("tokens_clean", _LAUNCHED),
    _total("estimated_cost_usd", _LAUNCHED, "float8"),
    _total("deep_cost_usd", _LAUNCHED, "float8"),
    _flag(_USAGE),
    _total("tokens_clean", _USAGE),
    _total("usage_input_tokens", _USAGE),
    _total("abs(usage_input_tokens - tokens_clean)::float8 / usage_input_tokens", _USAGE, "float8"),
    _flag("attempt_count = 0 AND outcome = 'blocked'"),
    _flag("attempt_count = 0 AND outcome = 'imported'"),
    _total("tokens_raw", "dry_run <> 0"),
    _total("tokens_clean", "dry_run <> 0"),
    _total("coalesce(usage_cost_usd, estimated_cost_usd)", _LAUNCHED, "float8"),
    _flag("attempt_count > 0 AND usage_cost_usd IS NOT NULL"),
    _total("coalesce(usage_cost_usd, estimated_cost_usd)", _SUCCEEDED, "float8"),
    _total("coalesce(usage_deep_cost_usd, deep_cost_usd)", _SUCCEEDED, "float8"),
    _flag(_OVERHEAD),
    _total("usage_input_tokens - tokens_clean", _OVERHEAD),
)
TEAM_AGGREGATES = ", ".join(_AGGREGATES)
# The adaptive router's verdicts (``stats``' adaptive counts): launched, not dry, runs only.
_ADAPTIVE = "jsonb_typeof(record->'adaptive') = 'object' AND attempt_count > 0 AND dry_run = 0"
_ADAPTIVE_AGGREGATES = (
    _flag(_ADAPTIVE),
    *(
        _flag(f"{_ADAPTIVE} AND (record->'adaptive'->>'{verdict}')::boolean")
        for verdict in ("would_switch", "applied", "blocked")
    ),
)
ADAPTIVE_COLUMNS = (
    "adaptive_runs",
    "adaptive_would_switch",
    "adaptive_applied",
    "adaptive_blocked",
)
#: ``team_totals``' sums: the local rollup's columns, then the adaptive counts.
ROLLUP_COLUMNS = (*TOTALS_COLUMNS, *ADAPTIVE_COLUMNS)
_FLOAT_SUMS = {
    "estimated_cost_usd",
    "deep_cost_usd",
    "token_error_sum",
    "spend_usd",
    "succeeded_cost_usd",
    "succeeded_deep_cost_usd",
}
# The rollup key: the member, the UTC day number (a ``--since`` cut takes the whole days after
# its own from the rollup, its own day from ``runs``), and every ``--by`` grouping.
_ROLLUP_KEY = ("user_name", "host", "utc_day", "day", "alias", "provider", "complexity")
_UTC_DAY = "floor(started_at / 86400)::bigint"
_ROLLUP_SELECT = f"user_name, host, {_UTC_DAY}, day, alias, provider, complexity, " + ", ".join(
    (*_AGGREGATES, *_ADAPTIVE_AGGREGATES)
)
_ROLLUP_GROUP = ", ".join(str(n) for n in range(1, len(_ROLLUP_KEY) + 1))
# Tokens removed per compression rule by launched runs, per member and UTC day.
_RULES_OF = (
    "FROM {source}, jsonb_each_text(coalesce(record->'rules', '{{}}'::jsonb)) AS rule "
    "WHERE attempt_count > 0 AND rule.value::bigint > 0"
)
# A launched run's wall time and Codex overhead (succeeded runs with usage), for percentiles.
_DURATIONS_OF = (
    "SELECT user_name, host, alias, provider, day, started_at, duration_ms, "
    f"CASE WHEN {_OVERHEAD} THEN usage_input_tokens - tokens_clean END "
    "FROM {source} WHERE attempt_count > 0"
)
_RULE_ROLLUP = (
    f"SELECT user_name, host, {_UTC_DAY}, rule.key, sum(rule.value::bigint)::bigint "
    f"{_RULES_OF} GROUP BY 1, 2, 3, 4"
)


def _v1_runs() -> list[str]:
    # The local ``runs`` columns, the member's names, and the record's JSON (no prompt text).
    columns = ",\n    ".join(_column_type(c) for c in RUN_COLUMNS)
    return [
        f"""CREATE TABLE runs (
    id bigserial PRIMARY KEY,
    user_name text NOT NULL,
    host text NOT NULL,
    {columns},
    record jsonb NOT NULL,
    synced_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_name, host, run_id)
)""",
        "CREATE INDEX runs_started ON runs (started_at)",
        "CREATE INDEX runs_user ON runs (user_name, started_at)",
    ]


def _v2_marks() -> list[str]:
    # ``history mark``: the member's verdict on a run, pushed after the run (docs/team.md)
    return [
        "ALTER TABLE runs ADD COLUMN mark text CHECK (mark IN ('good', 'bad')), "
        "ADD COLUMN mark_note text, ADD COLUMN marked_at double precision"
    ]


def _v3_rollup() -> list[str]:
    # ``stats --team`` over a million runs: sums of ~30,000 rollup rows instead of a scan of
    # every run (and of its JSON, for the rules and the adaptive verdicts); docs/team.md
    sums = ",\n    ".join(
        f"{name} {'double precision' if name in _FLOAT_SUMS else 'bigint'} NOT NULL"
        for name in ROLLUP_COLUMNS
    )
    key = ", ".join(_ROLLUP_KEY)
    return [
        f"""CREATE TABLE team_totals (
    user_name text NOT NULL,
    host text NOT NULL,
    utc_day bigint NOT NULL,
    day text NOT NULL,
    alias text NOT NULL,
    provider text NOT NULL,
    complexity text NOT NULL,
    {sums},
    PRIMARY KEY ({key})
)""",
        """CREATE TABLE team_rule_totals (
    user_name text NOT NULL,
    host text NOT NULL,
    utc_day bigint NOT NULL,
    rule text NOT NULL,
    tokens bigint NOT NULL,
    PRIMARY KEY (user_name, host, utc_day, rule)
)""",
        # the runs already synced, rolled up once
        f"INSERT INTO team_totals SELECT {_ROLLUP_SELECT} FROM runs GROUP BY {_ROLLUP_GROUP}",
        f"INSERT INTO team_rule_totals {_RULE_ROLLUP.format(source='runs')}",
        # ``stats --by alias-class`` counts the marks from the marked runs only
        "CREATE INDEX runs_marked ON runs (started_at) WHERE mark IS NOT NULL",
        # the percentiles: index walks over a narrow copy of the launched runs (a sort of the
        # wide ``runs`` rows took 1.3 s at a million runs, a walk here ~0.1 s)
        """CREATE TABLE team_durations (
    user_name text NOT NULL,
    host text NOT NULL,
    alias text NOT NULL,
    provider text NOT NULL,
    day text NOT NULL,
    started_at double precision NOT NULL,
    duration_ms bigint NOT NULL,
    overhead bigint
)""",
        f"INSERT INTO team_durations {_DURATIONS_OF.format(source='runs')}",
        "CREATE INDEX team_durations_all ON team_durations (duration_ms, started_at)",
        *(
            f"CREATE INDEX team_durations_{column} "
            f"ON team_durations ({column}, duration_ms, started_at)"
            for column in TEAM_GROUPINGS.values()
        ),
        "CREATE INDEX team_durations_overhead ON team_durations (overhead, started_at) "
        "WHERE overhead IS NOT NULL",
    ]


#: Ordered: index ``i`` upgrades schema version ``i`` to ``i + 1`` (as the local store).
MIGRATIONS = (_v1_runs, _v2_marks, _v3_rollup)
SCHEMA_VERSION = len(MIGRATIONS)
#: Serialises concurrent migrations (any constant: the key of a transaction advisory lock).
_MIGRATION_LOCK = 0x636F_6465_7872


class SyncResult(NamedTuple):
    target: str  # the database URL, password masked
    pushed: int  # runs PostgreSQL did not hold before
    sent: int  # runs sent (a run sent twice is counted once in pushed)
    pending: int  # local runs still after the watermark (0 after a full sync)
    marks_pushed: int = 0  # marks PostgreSQL took (new or changed since the last sync)
    marks_pending: int = 0  # marks still to push (their run is not in PostgreSQL yet)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "pushed": self.pushed,
            "sent": self.sent,
            "pending": self.pending,
            "marks_pushed": self.marks_pushed,
            "marks_pending": self.marks_pending,
        }


def member_names(env: Mapping[str, str]) -> tuple[str, str]:
    """``(user, host)`` the runs of this machine are tagged with."""
    user = env.get("LOGNAME") or env.get("USER") or getpass.getuser()
    return user, socket.gethostname()


def shown_url(url: str) -> str:
    """The URL as shown: its password (its whole user part) masked."""
    return redact(url)


def _sync_key(url: str) -> str:
    """Which database a watermark belongs to: the URL without its password (never stored)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}@{host}"))


# ---------------------------------------------------------------- PostgreSQL


def _unreachable(url: str, exc: BaseException) -> StateError:
    # psycopg's message may quote the connection string: mask it as well
    reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return StateError(
        f"{shown_url(url)}: the team history database is not reachable ({reason}); "
        "the runs stay recorded locally",
        hint="`codex-route history sync` pushes them once it is back",
    )


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise UsageError(
            "the team history needs the PostgreSQL driver (psycopg)",
            hint='pip install "codex-route[team]"',
        ) from None
    return psycopg


@contextmanager
def connect_team(url: str, *, timeout: float = CONNECT_TIMEOUT_SECONDS) -> Iterator[Any]:
    """An open connection to the team database with its schema current; StateError when down."""
    psycopg = _driver()
    try:
        conn = psycopg.connect(url, connect_timeout=max(1, int(timeout)), autocommit=False)
    except psycopg.Error as exc:
        raise _unreachable(url, exc) from None
    try:
        try:
            if _migrate(conn) < 3:
                # the rollup's percentile walks read the indexes alone only on pages VACUUM
                # marked all-visible: do it now, not when autovacuum gets to the new table
                conn.autocommit = True
                conn.execute("VACUUM (ANALYZE) team_durations")
                conn.autocommit = False
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None
        yield conn
    finally:
        conn.close()


def _migrate(conn: psycopg.Connection[Any]) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; the version it had before."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS codex_route_schema (version integer NOT NULL)")
        row = conn.execute("SELECT max(version) FROM codex_route_schema").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        if current > SCHEMA_VERSION:
            raise StateError(
                f"the team history database has schema {current}; this codex-route knows up "
                f"to {SCHEMA_VERSION}",
                hint="upgrade codex-route",
            )
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]():
                conn.execute(statement)
            conn.execute("INSERT INTO codex_route_schema (version) VALUES (%s)", (version + 1,))
    return current


class TeamProbe(NamedTuple):
    """What ``doctor`` learns of the team database without changing it."""

    reachable: bool
    schema: int | None  # None: not reachable; 0: no codex-route schema yet
    detail: str  # why not reachable (password masked), else ""


def probe_team(url: str, *, timeout: float) -> TeamProbe:
    """Connect and read the schema version only: no migration, nothing written (``doctor``).
    Raises :class:`UsageError` when the driver is not installed."""
    psycopg = _driver()
    try:
        with psycopg.connect(url, connect_timeout=max(1, round(timeout))) as conn:
            exists = conn.execute("SELECT to_regclass('codex_route_schema')").fetchone()
            if exists is None or exists[0] is None:
                return TeamProbe(True, 0, "")
            row = conn.execute("SELECT max(version) FROM codex_route_schema").fetchone()
            return TeamProbe(True, int(row[0]) if row and row[0] is not None else 0, "")
    except psycopg.Error as exc:
        text = str(exc).strip()
        return TeamProbe(False, None, redact(text.splitlines()[0] if text else type(exc).__name__))


def team_schema_version(url: str) -> int:
    """The schema version of the team database (migrating it first, as every connection)."""
    with connect_team(url) as conn:
        row = conn.execute("SELECT max(version) FROM codex_route_schema").fetchone()
        return int(row[0])


# ---------------------------------------------------------------- the watermark


def _sync_state_path(dirs: AppDirs) -> Path:
    return dirs.state_dir / SYNC_STATE_FILE_NAME


def _open_sync_state(dirs: AppDirs) -> sqlite3.Connection:
    path = _sync_state_path(dirs)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS synced ("
        "target TEXT PRIMARY KEY, last_run INTEGER NOT NULL, synced_at REAL NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS pushed_marks (target TEXT NOT NULL, run_id TEXT NOT NULL, "
        "marked_at REAL NOT NULL, PRIMARY KEY (target, run_id))"
    )
    return conn


def _last_run(state: sqlite3.Connection, target: str) -> int:
    """The local id of the last run ``target`` holds, from an open sync file."""
    row = state.execute("SELECT last_run FROM synced WHERE target = ?", (target,)).fetchone()
    return int(row[0]) if row else 0


def _accepted_marks(state: sqlite3.Connection, target: str) -> dict[str, float]:
    """Run id → ``marked_at`` of each mark ``target`` accepted, from an open sync file."""
    rows = state.execute("SELECT run_id, marked_at FROM pushed_marks WHERE target = ?", (target,))
    return {str(r): float(t) for r, t in rows}


def _runs_after(local: sqlite3.Connection, after: int) -> int:
    """How many local runs come after the watermark ``after``."""
    return int(local.execute("SELECT count(*) FROM runs WHERE id > ?", (after,)).fetchone()[0])


def _watermark(dirs: AppDirs, target: str) -> int:
    if not _sync_state_path(dirs).exists():
        return 0
    with closing(_open_sync_state(dirs)) as conn:
        return _last_run(conn, target)


def _advance(dirs: AppDirs, target: str, last_run: int) -> None:
    # max(): two syncs at once may finish out of order; the mark only ever moves forward
    with closing(_open_sync_state(dirs)) as conn:
        conn.execute(
            "INSERT INTO synced (target, last_run, synced_at) VALUES (?, ?, ?) "
            "ON CONFLICT (target) DO UPDATE SET last_run = max(last_run, excluded.last_run), "
            "synced_at = excluded.synced_at",
            (target, last_run, time.time()),
        )


def _local_batch(conn: sqlite3.Connection, after: int, limit: int) -> list[tuple[Any, ...]]:
    columns = ", ".join(f"r.{c}" for c in RUN_COLUMNS)
    return conn.execute(
        f"SELECT r.id, {columns}, d.record FROM runs AS r JOIN run_details AS d ON d.run = r.id "
        "WHERE r.id > ? ORDER BY r.id LIMIT ?",
        (after, limit),
    ).fetchall()


def _pushed_marks(dirs: AppDirs, target: str) -> dict[str, float]:
    """Run id → ``marked_at`` of each mark PostgreSQL accepted from this machine."""
    if not _sync_state_path(dirs).exists():
        return {}
    with closing(_open_sync_state(dirs)) as conn:
        return _accepted_marks(conn, target)


def _remember_marks(dirs: AppDirs, target: str, marks: list[tuple[str, float]]) -> None:
    with closing(_open_sync_state(dirs)) as conn:
        # one transaction: the connection autocommits, which would be a commit (and a sync to
        # disk) per mark
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO pushed_marks (target, run_id, marked_at) VALUES (?, ?, ?) "
            "ON CONFLICT (target, run_id) DO UPDATE SET marked_at = excluded.marked_at",
            [(target, run_id, marked_at) for run_id, marked_at in marks],
        )
        conn.execute("COMMIT")


class LocalMark(NamedTuple):
    run_id: str
    mark: str
    note: str | None
    marked_at: float


_LOCAL_MARKS = (
    "SELECT r.run_id, m.mark, m.note, m.marked_at FROM run_marks AS m JOIN runs AS r "
    "ON r.id = m.run ORDER BY m.marked_at"
)


def marks_to_push(marks: list[LocalMark], pushed: Mapping[str, float]) -> list[LocalMark]:
    """The local marks PostgreSQL has not accepted as they are now: new, or changed since."""
    return [m for m in marks if pushed.get(m.run_id) != m.marked_at]


# One index probe per mark (sent pipelined by executemany): a join against an array of marks
# was planned as a hash of all the member's runs, 0.3 s at 100,000 runs even for one mark. The
# guard keeps a slower concurrent sync from putting back an older mark than the one PostgreSQL
# holds. RETURNING: the marks that took (their run is there).
_PUSH_MARK = (
    "UPDATE runs SET mark = %s, mark_note = %s, marked_at = %s "
    "WHERE user_name = %s AND host = %s AND run_id = %s "
    "AND (marked_at IS NULL OR marked_at <= %s) RETURNING run_id, marked_at"
)


def team_backlog(dirs: AppDirs, url: str) -> tuple[int, int]:
    """``(runs, marks)`` recorded here and not yet in the team database ``url``, read without
    writing anything (``doctor``): both files are opened read-only."""
    key = _sync_key(url)
    path = history_path(dirs)
    spooled = len(pending_files(dirs))  # runs kept by team-mode runs, not yet in SQLite
    if not path.exists():
        return spooled, 0
    after, pushed = 0, {}
    sync_path = _sync_state_path(dirs)
    if sync_path.exists():
        with closing(sqlite3.connect(f"{sync_path.as_uri()}?mode=ro", uri=True)) as state:
            tables = {r[0] for r in state.execute("SELECT name FROM sqlite_master")}
            after = _last_run(state, key)
            if "pushed_marks" in tables:
                pushed = _accepted_marks(state, key)
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as local:
        runs = spooled + _runs_after(local, after)
        tables = {r[0] for r in local.execute("SELECT name FROM sqlite_master")}
        if "run_marks" not in tables:  # an older local schema: the next run migrates it
            return runs, 0
        marks = [LocalMark(*row) for row in local.execute(_LOCAL_MARKS)]
    return runs, len(marks_to_push(marks, pushed))


def pending_runs(dirs: AppDirs, url: str) -> int:
    """Local runs not yet pushed to the team database ``url``."""
    after = _watermark(dirs, _sync_key(url))
    with open_history(dirs) as conn:
        if conn is None:
            return 0
        return _runs_after(conn, after)


_TEAM_COLUMNS = f"user_name, host, {', '.join(RUN_COLUMNS)}, record"
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_runs "
    "(LIKE runs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_COPY = f"COPY staged_runs ({_TEAM_COLUMNS}) FROM STDIN"
_ADD_TO_TOTALS = ", ".join(f"{c} = team_totals.{c} + excluded.{c}" for c in ROLLUP_COLUMNS)
# The runs PostgreSQL did not hold yet, and their sums added to the rollup, in one statement
# (so in the batch's transaction). The rollup rows are locked in key order: two syncs of one
# member at once wait for each other instead of deadlocking.
_INSERT_STAGED = f"""WITH new AS (
    INSERT INTO runs ({_TEAM_COLUMNS}) SELECT {_TEAM_COLUMNS} FROM staged_runs
    ORDER BY id ON CONFLICT (user_name, host, run_id) DO NOTHING RETURNING *
), totals AS (
    INSERT INTO team_totals SELECT {_ROLLUP_SELECT} FROM new
    GROUP BY {_ROLLUP_GROUP} ORDER BY {_ROLLUP_GROUP}
    ON CONFLICT ({", ".join(_ROLLUP_KEY)}) DO UPDATE SET {_ADD_TO_TOTALS}
), rules AS (
    INSERT INTO team_rule_totals {_RULE_ROLLUP.format(source="new")} ORDER BY 1, 2, 3, 4
    ON CONFLICT (user_name, host, utc_day, rule)
    DO UPDATE SET tokens = team_rule_totals.tokens + excluded.tokens
), durations AS (
    INSERT INTO team_durations {_DURATIONS_OF.format(source="new")}
)
SELECT count(*) FROM new"""


def sync_team_history(
    dirs: AppDirs,
    url: str,
    env: Mapping[str, str],
    *,
    timeout: float = CONNECT_TIMEOUT_SECONDS,
    batch: int = SYNC_BATCH,
) -> SyncResult:
    """Push the local runs after this machine's watermark to ``url``; StateError when the
    database is down (nothing is lost: the watermark stays where PostgreSQL's data ends)."""
    target = shown_url(url)
    key = _sync_key(url)
    user, host = member_names(env)
    # the runs kept by team-mode runs go to the local history first: it is written even when
    # PostgreSQL is down (store.spool_run)
    ingest_pending(dirs)
    after = _watermark(dirs, key)
    pushed = sent = 0
    if not history_path(dirs).exists():
        return SyncResult(target, 0, 0, 0)
    psycopg = _driver()
    with connect_team(url, timeout=timeout) as pg, open_history(dirs) as local:
        assert local is not None  # the file exists (checked above); it is never deleted
        try:
            while rows := _local_batch(local, after, batch):
                with pg.transaction(), pg.cursor() as cur:
                    # COPY into a session table, then one INSERT … ON CONFLICT: ~3× the
                    # records/s of a row-by-row insert (benchmarks/bench_team_history.py)
                    cur.execute(_STAGING)
                    with cur.copy(_COPY) as copy:
                        for row in rows:
                            copy.write_row((user, host, *row[1:]))
                    cur.execute(_INSERT_STAGED)
                    inserted = cur.fetchone()
                    pushed += int(inserted[0]) if inserted else 0
                sent += len(rows)
                after = int(rows[-1][0])
                _advance(dirs, key, after)
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None
        if pushed:
            _let_walks_skip_the_heap(pg)
        pending = _runs_after(local, after)
        changed = marks_to_push(
            [LocalMark(*row) for row in local.execute(_LOCAL_MARKS)], _pushed_marks(dirs, key)
        )
        taken = 0
        try:
            for start in range(0, len(changed), batch):
                part = changed[start : start + batch]
                accepted: list[tuple[Any, ...]] = []
                with pg.transaction(), pg.cursor() as cur:
                    cur.executemany(
                        _PUSH_MARK,
                        [
                            (m.mark, m.note, m.marked_at, user, host, m.run_id, m.marked_at)
                            for m in part
                        ],
                        returning=True,
                    )
                    while True:
                        accepted.extend(cur.fetchall())
                        if not cur.nextset():
                            break
                # only after PostgreSQL committed them: a crash before repeats the batch
                _remember_marks(dirs, key, [(str(r), float(t)) for r, t in accepted])
                taken += len(accepted)
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None
    return SyncResult(target, pushed, sent, pending, taken, len(changed) - taken)


def _let_walks_skip_the_heap(conn: psycopg.Connection[Any]) -> None:
    """VACUUM ``team_durations`` after new runs: the percentile walks read its indexes alone
    only on pages VACUUM marked all-visible (else a heap fetch per entry: ``stats --team --by
    user`` 1.5 s instead of 0.3 s at a million runs until autovacuum came by). Only the pages
    written since the last VACUUM are visited."""
    psycopg = _driver()
    conn.autocommit = True
    try:
        conn.execute("VACUUM (SKIP_LOCKED) team_durations")
    except psycopg.Error:
        # reads are only slower until autovacuum visits the table: never a failed sync (a
        # member who does not own the table gets a warning from PostgreSQL, not an error)
        pass
    finally:
        conn.autocommit = False


def start_background_sync(url: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start ``codex-route history sync --quiet`` detached, so the run that was just kept
    (spooled: the child writes it to SQLite first) ends without waiting on the network. The
    URL reaches the child in its environment, never in its argv (which other users of the
    machine can read)."""
    child_env = {**env, TEAM_URL_ENV: url}
    process = subprocess.Popen(
        [sys.executable, "-m", "codex_router", "history", "sync", "--quiet"],
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )
    # Kept referenced: the child outlives this call by design; dropping the handle would
    # warn (ResourceWarning) that a running process was forgotten.
    _BACKGROUND.append(process)
    return process


_BACKGROUND: list[subprocess.Popen[bytes]] = []


# ---------------------------------------------------------------- history --team


class TeamRun(NamedTuple):
    """One run of the team history: whose it was and what it recorded."""

    user: str
    host: str
    record: RunRecord

    def to_dict(self) -> dict[str, Any]:
        """The local ``history --json`` object plus ``user`` and ``host``."""
        return {**self.record.to_dict(), "user": self.user, "host": self.host}


def team_runs(url: str, flt: RunFilter, limit: int) -> Generator[TeamRun, None, None]:
    """``history --team``: every member's runs matching ``flt`` (the local filters), newest
    first, at most ``limit``; streamed through a server-side cursor. Every string is masked
    again as the local store masks it: the database may hold rows other tools wrote."""
    # lazy: the record's dataclasses and the filters only when the team history is listed
    from codex_router.history.query import MAX_LIMIT, alias_names, where_clause
    from codex_router.history.record import Feedback, RunRecord

    limit = max(0, min(limit, MAX_LIMIT))
    psycopg = _driver()
    with connect_team(url) as conn:
        try:
            with conn.transaction():
                if flt.alias is not None:
                    # NAME as the table shows it: the name itself when recorded, else codex-NAME
                    for name in alias_names(flt.alias):
                        found = conn.execute(
                            "SELECT 1 FROM runs WHERE alias = %s LIMIT 1", (name,)
                        ).fetchone()
                        if found:
                            flt = replace(flt, alias=name)
                            break
                where, params = where_clause(flt)
                # where_clause writes only ``?`` placeholders (every value is a parameter)
                where = where.replace("?", "%s")
                with conn.cursor(name="team_history") as cursor:
                    cursor.itersize = 500
                    cursor.execute(
                        "SELECT user_name, host, record, mark, mark_note, marked_at FROM runs "
                        f"{where} ORDER BY started_at DESC, id DESC LIMIT %s",
                        [*params, limit],
                    )
                    for user, host, document, mark, note, marked_at in cursor:
                        record = RunRecord.from_dict(redact_tree(document))
                        feedback = (
                            Feedback(str(mark), redact(note) if note else None, float(marked_at))
                            if mark
                            else None
                        )
                        yield TeamRun(
                            redact(str(user)), redact(str(host)), replace(record, feedback=feedback)
                        )
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None


# ---------------------------------------------------------------- stats


_NO_PERCENTILES = (None, None, None)
# The runs of a ``--since`` cut's own UTC day from the cut on (the rollup has the days after).
_CUT_DAY = f"started_at >= %s AND started_at < %s AND {_UTC_DAY} = %s"


def _sum(column: str) -> str:
    return f"coalesce(sum({column}), 0)::{'float8' if column in _FLOAT_SUMS else 'bigint'}"


_SUMS = ", ".join(_sum(c) for c in TOTALS_COLUMNS)
_ADAPTIVE_SUMS = ", ".join(_sum(c) for c in ADAPTIVE_COLUMNS)
_RULE_SUMS = "SELECT rule, sum(tokens)::bigint FROM ({rows}) AS r GROUP BY 1 ORDER BY 2 DESC, 1"
_MARKS_SQL = (
    "SELECT alias, complexity, count(*) FILTER (WHERE mark = 'good'), "
    "count(*) FILTER (WHERE mark = 'bad'), count(*) FILTER (WHERE outcome = 'success') "
    "FROM runs WHERE mark IS NOT NULL AND attempt_count > 0{since} GROUP BY 1, 2"
)


_LAUNCHED_AT = TOTALS_COLUMNS.index("launched")
_OVERHEAD_RUNS_AT = TOTALS_COLUMNS.index("overhead_runs")


def _percentiles(
    conn: psycopg.Connection[Any],
    sums: Sequence[Any],
    since: float | None,
    group: tuple[str, Any] | None,
    *,
    overhead: bool = False,
) -> tuple[int | None, int | None, int | None]:
    """Nearest-rank p50 and p95 of the launched runs' wall time (and with ``overhead`` the
    median Codex overhead) of one group: each a ``LIMIT 1 OFFSET k`` walk of an index of
    ``team_durations``, ``k`` from the group's counts in the rollup, as the local stats."""
    from codex_router.history.stats import PERCENTILES, nearest_rank_offset

    conditions, params = [], []
    if group is not None:
        conditions.append(f"{group[0]} = %s")  # a TEAM_GROUPINGS column, never user input
        params.append(group[1])
    if since is not None:
        conditions.append("started_at >= %s")
        params.append(since)

    def walk(column: str, count: int, percentile: float, *more: str) -> int | None:
        if count <= 0:
            return None
        where = " AND ".join((*conditions, *more)) or "true"
        row = conn.execute(
            f"SELECT {column} FROM team_durations WHERE {where} "
            f"ORDER BY {column} LIMIT 1 OFFSET %s",
            [*params, nearest_rank_offset(count, percentile)],
        ).fetchone()
        return None if row is None else int(row[0])

    launched = int(sums[_LAUNCHED_AT])
    p50, p95 = (walk("duration_ms", launched, p) for p in PERCENTILES)
    median = (
        walk("overhead", int(sums[_OVERHEAD_RUNS_AT]), 50, "overhead IS NOT NULL")
        if overhead
        else None
    )
    return p50, p95, median


def _rollup_source(since: float | None) -> tuple[str, str, list[Any]]:
    """The rows ``stats`` sums (``FROM`` text, its parameters) and the rule rows (text of a
    subquery, same parameters): the rollup; with ``since``, its days after the cut's own
    day plus the runs of that day from the cut on, summed the same way, so it is exact."""
    if since is None:
        return "team_totals", "SELECT rule, tokens FROM team_rule_totals", []
    cut = math.floor(since / 86_400)
    columns = ", ".join((*_ROLLUP_KEY, *ROLLUP_COLUMNS))
    totals = (
        f"(SELECT {columns} FROM team_totals WHERE utc_day > %s UNION ALL "
        f"SELECT {_ROLLUP_SELECT} FROM runs WHERE {_CUT_DAY} GROUP BY {_ROLLUP_GROUP}) AS totals"
    )
    rules = (
        "SELECT rule, tokens FROM team_rule_totals WHERE utc_day > %s UNION ALL "
        f"SELECT rule.key, rule.value::bigint {_RULES_OF.format(source='runs')} AND {_CUT_DAY}"
    )
    return totals, rules, [cut, since, (cut + 2) * 86_400, cut]


def compute_team_stats(
    url: str,
    *,
    since: float | None = None,
    by: str | None = None,
    daily: bool = False,
    percentiles: bool = True,
    details: bool = True,
) -> StatsReport:
    """``stats --team``: the aggregates of ``stats`` over every member's runs in ``url``;
    ``daily`` and ``percentiles`` as in the local ``compute_stats``. The sums come from the
    rollup the sync keeps (``team_totals``, ``team_rule_totals``), the percentiles and the
    marks from ``runs``. ``details=False`` leaves out the per-rule savings and the adaptive
    counts (empty), which a second grouping does not need."""
    # lazy: the local ``stats`` module (and its dataclasses) only when team stats are asked for
    from codex_router.history.stats import AdaptiveCounts, ClassStats, StatsReport, _group_stats

    if by is not None and by not in TEAM_GROUPINGS and by != TEAM_ALIAS_CLASS:
        raise ValueError(
            f"by must be one of {', '.join(TEAM_GROUPINGS)}, {TEAM_ALIAS_CLASS}, not {by!r}"
        )
    source, rule_rows, params = _rollup_source(since)
    since_params = [since] if since is not None else []
    and_since = " AND started_at >= %s" if since is not None else ""
    psycopg = _driver()
    with connect_team(url) as conn:
        try:
            with conn.transaction():
                total_row = conn.execute(f"SELECT {_SUMS} FROM {source}", params).fetchone()
                total_walks = (
                    _percentiles(conn, total_row, since, None, overhead=True)
                    if percentiles and total_row is not None
                    else _NO_PERCENTILES
                )
                grouped: list[tuple[Any, ...]] = []
                group_walks: dict[str, tuple[Any, ...]] = {}
                if by in TEAM_GROUPINGS:
                    column = TEAM_GROUPINGS[by]
                    grouped = conn.execute(
                        f"SELECT {column}, {_SUMS} FROM {source} GROUP BY 1", params
                    ).fetchall()
                    if percentiles:
                        group_walks = {
                            str(key): _percentiles(conn, sums, since, (column, key))
                            for key, *sums in grouped
                        }
                class_rows: list[tuple[Any, ...]] = []
                marks: dict[tuple[str, str], tuple[Any, ...]] = {}
                if by == TEAM_ALIAS_CLASS:
                    class_rows = conn.execute(
                        f"SELECT alias, complexity, sum(launched)::bigint, "
                        f"sum(succeeded)::bigint FROM {source} GROUP BY 1, 2 "
                        "HAVING sum(launched) > 0",
                        params,
                    ).fetchall()
                    marks = {
                        (str(alias), str(complexity)): tuple(counts)
                        for alias, complexity, *counts in conn.execute(
                            _MARKS_SQL.format(since=and_since), since_params
                        )
                    }
                day_rows = (
                    conn.execute(f"SELECT day, {_SUMS} FROM {source} GROUP BY 1", params).fetchall()
                    if daily
                    else []
                )
                adaptive = (
                    conn.execute(f"SELECT {_ADAPTIVE_SUMS} FROM {source}", params).fetchone()
                    if details
                    else (0, 0, 0, 0)
                )
                rules = (
                    conn.execute(_RULE_SUMS.format(rows=rule_rows), params).fetchall()
                    if details
                    else []
                )
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None

    def group(key: str | None, sums: tuple[Any, ...], walks: tuple[Any, ...]) -> Any:
        p50, p95, overhead = walks
        # as the local stats: the overhead median is the total's only
        median = None if overhead is None or key is not None else int(overhead)
        return _group_stats(key, sums, [p50, p95], median)

    assert total_row is not None and total_walks is not None  # an aggregate without GROUP BY
    total = group(None, tuple(total_row), tuple(total_walks))
    # sorted here, not by ORDER BY: the database's collation may order text unlike the local
    # store's byte order
    groups = tuple(
        sorted(
            (
                group(str(key), tuple(sums), group_walks.get(str(key), _NO_PERCENTILES))
                for key, *sums in grouped
            ),
            key=_by_key,
        )
    )
    classes = tuple(
        ClassStats(
            str(alias),
            str(complexity),
            int(launched),
            int(succeeded),
            *(int(n) for n in marks.get((str(alias), str(complexity)), (0, 0, 0))),
        )
        for alias, complexity, launched, succeeded in sorted(class_rows, key=lambda r: (r[0], r[1]))
    )
    days = tuple(
        sorted((group(str(k), tuple(sums), _NO_PERCENTILES) for k, *sums in day_rows), key=_by_key)
    )
    return StatsReport(
        since,
        by,
        total,
        groups,
        {str(k): int(v) for k, v in rules},
        classes,
        adaptive=AdaptiveCounts(*(int(v) for v in adaptive)),
        days=days,
    )


def _by_key(group: Any) -> str:
    return str(group.key)
