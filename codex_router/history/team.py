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
"""

from __future__ import annotations

import getpass
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from codex_router.dirs import AppDirs
from codex_router.errors import StateError, UsageError
from codex_router.history.store import _RUN_COLUMNS as RUN_COLUMNS
from codex_router.history.store import history_path, open_history
from codex_router.redact import redact

if TYPE_CHECKING:
    import psycopg

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


#: Ordered: index ``i`` upgrades schema version ``i`` to ``i + 1`` (as the local store).
MIGRATIONS = (_v1_runs,)
SCHEMA_VERSION = len(MIGRATIONS)
#: Serialises concurrent migrations (any constant: the key of a transaction advisory lock).
_MIGRATION_LOCK = 0x636F_6465_7872


class SyncResult(NamedTuple):
    target: str  # the database URL, password masked
    pushed: int  # runs PostgreSQL did not hold before
    sent: int  # runs sent (a run sent twice is counted once in pushed)
    pending: int  # local runs still after the watermark (0 after a full sync)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "pushed": self.pushed,
            "sent": self.sent,
            "pending": self.pending,
        }


def member_names(env: Mapping[str, str]) -> tuple[str, str]:
    """``(user, host)`` the runs of this machine are tagged with."""
    user = env.get("LOGNAME") or env.get("USER") or getpass.getuser()
    return user, socket.gethostname()


def _target(url: str) -> str:
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
        f"{_target(url)}: the team history database is not reachable ({reason}); "
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
            _migrate(conn)
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None
        yield conn
    finally:
        conn.close()


def _migrate(conn: psycopg.Connection[Any]) -> None:
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
    return conn


def _watermark(dirs: AppDirs, target: str) -> int:
    if not _sync_state_path(dirs).exists():
        return 0
    with closing(_open_sync_state(dirs)) as conn:
        row = conn.execute("SELECT last_run FROM synced WHERE target = ?", (target,)).fetchone()
    return int(row[0]) if row else 0


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


def pending_runs(dirs: AppDirs, url: str) -> int:
    """Local runs not yet pushed to the team database ``url``."""
    after = _watermark(dirs, _sync_key(url))
    with open_history(dirs) as conn:
        if conn is None:
            return 0
        return int(conn.execute("SELECT count(*) FROM runs WHERE id > ?", (after,)).fetchone()[0])


_TEAM_COLUMNS = f"user_name, host, {', '.join(RUN_COLUMNS)}, record"
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS staged_runs "
    "(LIKE runs INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
_COPY = f"COPY staged_runs ({_TEAM_COLUMNS}) FROM STDIN"
_INSERT_STAGED = (
    f"INSERT INTO runs ({_TEAM_COLUMNS}) SELECT {_TEAM_COLUMNS} FROM staged_runs "
    "ORDER BY id ON CONFLICT (user_name, host, run_id) DO NOTHING"
)


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
    target = _target(url)
    key = _sync_key(url)
    user, host = member_names(env)
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
                    pushed += max(cur.rowcount, 0)
                sent += len(rows)
                after = int(rows[-1][0])
                _advance(dirs, key, after)
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None
        pending = int(
            local.execute("SELECT count(*) FROM runs WHERE id > ?", (after,)).fetchone()[0]
        )
    return SyncResult(target, pushed, sent, pending)


def start_background_sync(url: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start ``codex-route history sync --quiet`` detached, so the run that was just recorded
    ends without waiting on the network. The URL reaches the child in its environment,
    never in its argv (which other users of the machine can read)."""
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


# ---------------------------------------------------------------- stats


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
TEAM_AGGREGATES = ", ".join(
    (
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
        _total(
            "abs(usage_input_tokens - tokens_clean)::float8 / usage_input_tokens", _USAGE, "float8"
        ),
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
)
# Nearest-rank percentiles: percentile_disc(p) is the first value whose rank reaches p·n.
_PERCENTILES_SQL = (
    "percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE attempt_count > 0), "
    "percentile_disc(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE attempt_count > 0), "
    "percentile_disc(0.5) WITHIN GROUP (ORDER BY usage_input_tokens - tokens_clean) "
    f"FILTER (WHERE {_OVERHEAD})"
)
_ADAPTIVE_SQL = (
    "SELECT count(*), "
    "count(*) FILTER (WHERE (record->'adaptive'->>'would_switch')::boolean), "
    "count(*) FILTER (WHERE (record->'adaptive'->>'applied')::boolean), "
    "count(*) FILTER (WHERE (record->'adaptive'->>'blocked')::boolean) "
    "FROM runs WHERE jsonb_typeof(record->'adaptive') = 'object' AND attempt_count > 0 "
    "AND dry_run = 0{since}"
)
_RULES_SQL = (
    "SELECT rule.key, sum(rule.value::bigint)::bigint FROM runs, "
    "jsonb_each_text(coalesce(record->'rules', '{{}}'::jsonb)) AS rule "
    "WHERE attempt_count > 0 AND rule.value::bigint > 0{since} GROUP BY 1 ORDER BY 2 DESC, 1"
)


def compute_team_stats(
    url: str, *, since: float | None = None, by: str | None = None
) -> StatsReport:
    """``stats --team``: the aggregates of ``stats`` over every member's runs in ``url``."""
    # lazy: the local ``stats`` module (and its dataclasses) only when team stats are asked for
    from codex_router.history.stats import AdaptiveCounts, StatsReport, _group_stats

    if by is not None and by not in TEAM_GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(TEAM_GROUPINGS)}, not {by!r}")
    where, params = ("WHERE started_at >= %s", [since]) if since is not None else ("", [])
    and_since = " AND started_at >= %s" if since is not None else ""
    psycopg = _driver()
    with connect_team(url) as conn:
        try:
            with conn.transaction():
                total_row = conn.execute(
                    f"SELECT {TEAM_AGGREGATES}, {_PERCENTILES_SQL} FROM runs {where}", params
                ).fetchone()
                grouped = []
                if by is not None:
                    column = TEAM_GROUPINGS[by]
                    grouped = conn.execute(
                        f"SELECT {column}, {TEAM_AGGREGATES}, {_PERCENTILES_SQL} FROM runs "
                        f"{where} GROUP BY 1 ORDER BY 1",
                        params,
                    ).fetchall()
                adaptive = conn.execute(_ADAPTIVE_SQL.format(since=and_since), params).fetchone()
                rules = conn.execute(_RULES_SQL.format(since=and_since), params).fetchall()
        except psycopg.Error as exc:
            raise _unreachable(url, exc) from None

    def group(key: str | None, row: tuple[Any, ...]) -> Any:
        *sums, p50, p95, overhead = row
        # as the local stats: the overhead median is the total's only
        median = None if overhead is None or key is not None else int(overhead)
        return _group_stats(key, sums, [p50, p95], median)

    total = group(None, tuple(total_row))
    groups = tuple(group(str(r[0]), tuple(r[1:])) for r in grouped)
    return StatsReport(
        since,
        by,
        total,
        groups,
        {str(k): int(v) for k, v in rules},
        adaptive=AdaptiveCounts(*(int(v) for v in adaptive)),
    )
