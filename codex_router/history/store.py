"""The run history on disk: one SQLite file, ``<state_dir>/history.sqlite3``.

Safety rules, and why:

- **Concurrent writers lose nothing.** WAL mode lets readers and one writer work at once; every
  write is one ``BEGIN IMMEDIATE`` transaction (the write lock is taken up front, so two writers
  queue on ``busy_timeout`` instead of deadlocking on a lock upgrade).
- **Never destroy what is not ours.** A file that is not SQLite, another program's database, or a
  database from a newer codex-route is refused with a :class:`StateError` naming the file; it is
  never migrated, overwritten, truncated or deleted.
- **No prompt text, no secrets.** A :class:`RunRecord` has no field for the prompt; before
  storing, every string is passed through :func:`redact` (URL credentials, secret-looking query
  parameters) and any value of a key variable that slipped in is blanked.
- ``synchronous = NORMAL`` in WAL mode: a commit survives a crash of codex-route or codex; only
  a power loss may drop the last runs, which is the right price for a ≤ 5 ms record.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codex_router.dirs import AppDirs
from codex_router.errors import StateError, UsageError
from codex_router.history import HISTORY_FILE_NAME as HISTORY_FILE_NAME
from codex_router.history import migrations as schema
from codex_router.redact import redact as redact
from codex_router.redact import redact_tree

if TYPE_CHECKING:
    from codex_router.history.record import RunRecord

#: How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_SECONDS = 10.0

#: Variables whose values must never reach the store, even if a caller put one in a record.
SECRET_VARIABLES = (
    "HF_TOKEN",
    "LITELLM_API_KEY",
    "GEMINI_API_KEY",
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "ANTHROPIC_API_KEY",
    "LITELLM_MASTER_KEY",
)

_RUN_COLUMNS = (
    "run_id",
    "started_at",
    "day",
    "duration_ms",
    "outcome",
    "exit_code",
    "alias",
    "provider",
    "final_path",
    "attempt_count",
    "complexity",
    "long_context",
    "interactive",
    "dry_run",
    "tokens_raw",
    "tokens_clean",
    "estimated_cost_usd",
    "deep_cost_usd",
    "usage_input_tokens",
    "usage_cached_input_tokens",
    "usage_output_tokens",
    "usage_reasoning_output_tokens",
    "usage_total_tokens",
    "codex_version",
    "codex_route_version",
    "usage_cost_usd",
    "usage_deep_cost_usd",
)
_INSERT_RUN = (
    f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) VALUES ({', '.join('?' * len(_RUN_COLUMNS))})"
)


def history_path(dirs: AppDirs) -> Path:
    return dirs.state_dir / HISTORY_FILE_NAME


# ---------------------------------------------------------------- privacy


def _secret_values(env: Mapping[str, str]) -> list[str]:
    # Short values ("1", "yes") would blank innocent words; real keys are long.
    return [v for v in (env.get(name, "").strip() for name in SECRET_VARIABLES) if len(v) >= 8]


def _scrub(document: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret in document:
            document = document.replace(secret, "***")
    return document


# ---------------------------------------------------------------- rows


def local_day(started_at: float) -> str:
    """The calendar day (local time) a run started on: what ``stats --by day`` groups by."""
    return time.strftime("%Y-%m-%d", time.localtime(started_at))


def _run_row(record: RunRecord) -> tuple[Any, ...]:
    usage = record.usage
    final_path = record.attempts[-1].path if record.attempts else None
    return (
        record.run_id,
        float(record.started_at),
        local_day(record.started_at),
        int(record.duration_ms),
        record.outcome,
        int(record.exit_code),
        record.alias,
        record.provider,
        final_path,
        len(record.attempts),
        record.complexity,
        int(record.long_context),
        int(record.interactive),
        int(record.dry_run),
        int(record.tokens_raw),
        int(record.tokens_clean),
        float(record.estimated_cost_usd),
        float(record.deep_cost_usd),
        usage.input_tokens if usage else None,
        usage.cached_input_tokens if usage else None,
        usage.output_tokens if usage else None,
        usage.reasoning_output_tokens if usage else None,
        usage.total_tokens if usage else None,
        record.codex_version,
        record.codex_route_version,
        record.usage_cost_usd,
        record.usage_deep_cost_usd,
    )


def _sanitised(record: RunRecord, env: Mapping[str, str]) -> tuple[RunRecord, str]:
    """The record with every string redacted, and its JSON document (scrubbed of key values)."""
    # lazy: a reader (the plan's health read) does not build the record's dataclasses (~8 ms)
    from codex_router.history.record import RunRecord

    data = redact_tree(record.to_dict())
    clean = RunRecord.from_dict(data)
    document = json.dumps(clean.to_dict(), ensure_ascii=False, separators=(",", ":"))
    secrets = _secret_values(env)
    scrubbed = _scrub(document, secrets)
    if scrubbed != document:
        clean = RunRecord.from_dict(json.loads(scrubbed))
    return clean, scrubbed


# ---------------------------------------------------------------- opening


def _state_error(path: Path, exc: BaseException) -> StateError:
    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, sqlite3.OperationalError) and "locked" in lowered:
        return StateError(
            f"{path}: the history database stayed locked by another process for more than "
            f"{BUSY_TIMEOUT_SECONDS:g} s",
            hint="another codex-route may be stuck; retry when it has finished",
        )
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return StateError(
            f"{path}: cannot write the history database ({text}); is {path.parent} writable?",
            hint="make the state directory writable, or point CODEX_ROUTE_HOME elsewhere",
        )
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return StateError(
            f"{path}: not a usable codex-route history database ({text})",
            hint="move the file aside (codex-route never deletes it) and a new one is created",
        )
    return StateError(f"{path}: history database error: {text}")


def _check_identity(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version of an existing database of ours; refuse anything else."""
    # One statement, one snapshot: read separately, a migration committing in between shows
    # a header half old, half new (application_id 0 with a user_version) to a concurrent opener.
    application_id, version, tables = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if application_id == 0 and version == 0:
        if tables:
            raise StateError(
                f"{path}: this SQLite database belongs to another program, not codex-route",
                hint="move it aside (codex-route never deletes it) and a new history is created",
            )
        return 0
    if application_id != schema.APPLICATION_ID:
        raise StateError(
            f"{path}: this SQLite database belongs to another program "
            f"(application_id {application_id:#x}), not codex-route",
            hint="move it aside (codex-route never deletes it) and a new history is created",
        )
    if version > schema.SCHEMA_VERSION:
        raise StateError(
            f"{path}: the history was written by a newer codex-route (schema {version}; "
            f"this version knows up to {schema.SCHEMA_VERSION}); nothing was read or written",
            hint="upgrade codex-route",
        )
    return int(version)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE … COMMIT) below.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    return conn


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Make an opened database current: WAL, schema migrated. Refuses foreign or newer files."""
    version = _check_identity(conn, path)
    if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    if version < schema.SCHEMA_VERSION:
        with _write_transaction(conn):
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = _check_identity(conn, path)
            if version < schema.SCHEMA_VERSION:
                schema.apply_migrations(conn, version, schema.MIGRATIONS)


@contextmanager
def _write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _open_for_write(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(
            f"{path.parent}: cannot create the state directory ({exc.strerror})",
            hint="make it writable, or point CODEX_ROUTE_HOME elsewhere",
        ) from None
    if not path.exists() and not os.access(path.parent, os.W_OK):
        raise StateError(
            f"{path.parent}: the state directory is not writable, so the run cannot be recorded",
            hint="make it writable, or point CODEX_ROUTE_HOME elsewhere",
        )
    try:
        conn = _connect(path)
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    try:
        _prepare(conn, path)
    except StateError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise _state_error(path, exc) from None
    return conn


@contextmanager
def open_history(dirs: AppDirs, *, migrate: bool = True) -> Iterator[sqlite3.Connection | None]:
    """A connection for reading the history, or None when nothing was ever recorded.

    Reading never creates the state directory. Runs a team-mode run kept for the background
    sync (:func:`spool_run`) are written first, which may create the database (not with
    ``migrate=False``: a plan writes nothing, and may miss a run for the few hundred
    milliseconds its sync takes to write it). A database from an older
    codex-route is migrated first (that is a write, done once); with ``migrate=False`` (a plan,
    which must stay quick and write nothing) it raises :class:`StateError` instead, and the
    next command that records or lists runs migrates it. In a state directory that
    cannot be written, a current database is still read (SQLite's WAL would need a ``-shm``
    file there; with no ``-wal`` left behind, nothing can have changed it, so it is read as
    immutable).
    """
    if migrate:
        ingest_pending(dirs)  # runs a team-mode run kept for the background sync (spool_run)
    path = history_path(dirs)
    if not path.exists():
        yield None
        return
    read_only = (
        not os.access(path.parent, os.W_OK) and not path.with_name(path.name + "-wal").exists()
    )
    try:
        if read_only:
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        else:
            conn = _connect(path)
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    try:
        try:
            if not migrate and _check_identity(conn, path) < schema.SCHEMA_VERSION:
                raise StateError(
                    f"{path}: the history is from an older codex-route; the next run recorded"
                    " (or `codex-route history`) upgrades it",
                    hint="run `codex-route history` once to upgrade it now",
                )
            if not read_only:
                _prepare(conn, path)
            elif _check_identity(conn, path) < schema.SCHEMA_VERSION:
                raise StateError(
                    f"{path}: the history needs an upgrade to schema "
                    f"{schema.SCHEMA_VERSION}, but {path.parent} is not writable",
                    hint="make the state directory writable",
                )
        except sqlite3.Error as exc:
            raise _state_error(path, exc) from None
        yield conn
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    finally:
        conn.close()


def inspect_history(dirs: AppDirs) -> tuple[Path, int | None, int]:
    """``(path, schema version, runs)`` of the history without changing anything (``doctor``).

    Schema None: nothing recorded yet. Raises :class:`StateError` for a foreign, corrupt or
    newer file. An older schema is reported as is; the next run or ``history`` migrates it.
    """
    path = history_path(dirs)
    if not path.exists():
        return path, None, 0
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    try:
        version = _check_identity(conn, path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0] if "runs" in tables else 0
        return path, version, runs
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    finally:
        conn.close()


# ---------------------------------------------------------------- writing


_ADD_TO_TOTALS = (
    f"INSERT INTO run_totals SELECT {schema.TOTALS_KEY}, {schema.TOTALS_AGGREGATES} "
    "FROM runs WHERE id = ? GROUP BY 1, 2, 3, 4 "
    "ON CONFLICT (utc_day, day, alias, provider) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in schema.TOTALS_COLUMNS)
)


_ADD_TO_CLASS_TOTALS = (
    f"INSERT INTO run_class_totals SELECT {schema.CLASS_TOTALS_KEY}, "
    f"{schema.CLASS_TOTALS_AGGREGATES} FROM runs WHERE id = ? GROUP BY 1, 2, 3 "
    "ON CONFLICT (utc_day, alias, complexity) DO UPDATE SET "
    "launched = launched + excluded.launched, succeeded = succeeded + excluded.succeeded"
)


def _insert(conn: sqlite3.Connection, record: RunRecord, document: str) -> None:
    run = conn.execute(_INSERT_RUN, _run_row(record)).lastrowid
    assert run is not None  # an INSERT into a rowid table always sets it
    conn.execute("INSERT INTO run_details (run, record) VALUES (?, ?)", (run, document))
    conn.execute(_ADD_TO_TOTALS, (run,))  # the row just written, summed by the same SQL as stats
    attempts = schema.attempt_rows(run, record.to_dict())
    if attempts:
        conn.executemany(schema.INSERT_ATTEMPT, attempts)
    if record.attempts:
        conn.execute(_ADD_TO_CLASS_TOTALS, (run,))
    verdict = record.adaptive
    if verdict is not None and record.attempts and not record.dry_run:
        # counted by ``stats`` only for runs that launched: a dry run decides nothing
        conn.execute(
            schema.INSERT_ADAPTIVE,
            (
                run,
                float(record.started_at),
                int(verdict.would_switch),
                int(verdict.applied),
                int(verdict.blocked),
                verdict.suggested,
            ),
        )
        conn.execute(schema.ADD_TO_ADAPTIVE_TOTALS, (run,))
    # Per-rule savings count only what was kept out of a real launch (as ``stats`` defines
    # savings); a dry run's rules stay in its JSON.
    launched = bool(record.attempts)
    rules = [
        (run, float(record.started_at), name, int(tokens))
        for name, tokens in record.rules.items()
        if tokens and launched
    ]
    if rules:
        conn.executemany(
            "INSERT INTO run_rules (run, started_at, rule, tokens) VALUES (?, ?, ?, ?)", rules
        )


def record_run(dirs: AppDirs, record: RunRecord) -> None:
    """Append one run to the history (one transaction: all of it or nothing).

    Raises :class:`StateError` when the state directory or the database cannot be used; the
    existing file is then left exactly as it was.
    """
    clean, document = _sanitised(record, os.environ)
    path = history_path(dirs)
    conn = _open_for_write(path)
    try:
        with _write_transaction(conn):
            _insert(conn, clean, document)
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    finally:
        conn.close()


def import_runs(dirs: AppDirs, records: list[RunRecord], id_prefix: str) -> tuple[int, int]:
    """Add the records whose ``run_id`` the history does not hold yet, in one transaction.

    Returns ``(added, already present)``. Every imported id starts with ``id_prefix`` (never a
    uuid4 hex of codex-route's own runs), so one pass over the ids with that prefix finds what an
    earlier import added; it runs under the write lock, so two imports at once add each record
    once.
    """
    if not all(r.run_id.startswith(id_prefix) for r in records):
        raise ValueError(f"every imported run_id must start with {id_prefix!r}")
    path = history_path(dirs)
    prepared = [_sanitised(r, os.environ) for r in records]
    conn = _open_for_write(path)
    try:
        with _write_transaction(conn):
            present = {
                row[0]
                for row in conn.execute(
                    "SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ?",
                    (len(id_prefix), id_prefix),
                )
            }
            added = 0
            for clean, document in prepared:
                if clean.run_id in present:
                    continue
                _insert(conn, clean, document)
                present.add(clean.run_id)
                added += 1
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    finally:
        conn.close()
    return added, len(records) - added


def record_runs(dirs: AppDirs, records: list[RunRecord]) -> None:
    """Append many runs in one transaction (imports, tests and benchmarks)."""
    path = history_path(dirs)
    prepared = [_sanitised(r, os.environ) for r in records]
    conn = _open_for_write(path)
    try:
        with _write_transaction(conn):
            for clean, document in prepared:
                _insert(conn, clean, document)
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    finally:
        conn.close()


# ---------------------------------------------------------------- pending runs (team mode)

#: Runs kept for the history but not yet in SQLite (team mode; :func:`spool_run`).
PENDING_DIR_NAME = "pending"
_PENDING_SUFFIX = ".json"
_SAFE_RUN_ID = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.")


def pending_dir(dirs: AppDirs) -> Path:
    return dirs.state_dir / PENDING_DIR_NAME


def spool_run(dirs: AppDirs, record: RunRecord) -> Path:
    """Keep one run for the history without opening SQLite: its sanitised JSON document as
    ``<state>/pending/<run_id>.json``, written whole under another name and then renamed, so a
    reader never sees half a record.

    A team-mode run does this instead of :func:`record_run` and leaves the SQLite write to the
    background ``history sync`` it starts anyway: ~0.3 ms instead of ~6 ms (SQLite syncs a new
    WAL's header at the commit and checkpoints with two fsyncs when the last connection
    closes). Every reader writes pending runs first (:func:`ingest_pending`). Like a commit under
    ``synchronous = NORMAL``, only a power loss may drop it.
    """
    clean, document = _sanitised(record, os.environ)
    if not clean.run_id or not set(clean.run_id) <= _SAFE_RUN_ID or clean.run_id[0] == ".":
        raise ValueError(f"run_id {clean.run_id!r} cannot name a file")
    folder = pending_dir(dirs)
    final = folder / (clean.run_id + _PENDING_SUFFIX)
    partial = folder / f".{clean.run_id}.{os.getpid()}.part"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(document.encode("utf-8"))
        os.replace(partial, final)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise StateError(
            f"{folder}: cannot keep the run for the history ({exc.strerror or exc})",
            hint="make the state directory writable, or point CODEX_ROUTE_HOME elsewhere",
        ) from None
    return final


def pending_files(dirs: AppDirs) -> list[Path]:
    """The pending runs' files in the order they were kept (oldest first)."""
    folder = pending_dir(dirs)
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(_PENDING_SUFFIX)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    dated = []
    for entry in entries:
        try:
            dated.append((entry.stat().st_mtime_ns, entry.name))
        except FileNotFoundError:  # written into SQLite by another process meanwhile
            continue
    return [folder / name for _when, name in sorted(dated)]


def ingest_pending(dirs: AppDirs) -> int:
    """Write the runs :func:`spool_run` kept into the history, each once, then remove their
    files; returns how many were added. Quick when there are none (one directory listing).

    Two processes at once add each run once: the inserts run under the write lock and skip a
    run id the history holds. A file that does not parse is renamed ``*.rejected`` (kept for
    the user, never read again) so that it cannot hold the others back. A state directory
    that cannot be written is left as it is.
    """
    files = pending_files(dirs)
    if not files or not os.access(pending_dir(dirs), os.W_OK):
        return 0
    from codex_router.history.record import RunRecord  # lazy, as in _sanitised

    loaded: list[tuple[Path, RunRecord, str]] = []
    for file in files:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            record = RunRecord.from_dict(data)
        except FileNotFoundError:
            continue
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            file.replace(file.with_name(file.name + ".rejected"))
            continue
        clean, document = _sanitised(record, os.environ)  # what SQLite holds is always redacted
        loaded.append((file, clean, document))
    if not loaded:
        return 0
    path = history_path(dirs)
    conn = _open_for_write(path)
    added = 0
    try:
        with _write_transaction(conn):
            for _file, clean, document in loaded:
                held = conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (clean.run_id,))
                if held.fetchone() is None:
                    _insert(conn, clean, document)
                    added += 1
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    finally:
        conn.close()
    for file, _clean, _document in loaded:
        file.unlink(missing_ok=True)
    return added


# ---------------------------------------------------------------- marks

#: The shortest run-id prefix ``history mark`` accepts (as git's abbreviated hashes).
MIN_ID_PREFIX = 4
#: The longest note kept with a mark.
MAX_NOTE_CHARS = 500


def _prefix_range(prefix: str) -> tuple[str, str]:
    """Ids starting with ``prefix`` are those in ``[prefix, upper)``: a range on ``runs_run_id``."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def mark_run(
    dirs: AppDirs, id_prefix: str, mark: str, note: str | None, *, now: float
) -> tuple[str, str | None]:
    """Store the user's ``mark`` (good/bad) and ``note`` on the run whose id starts with
    ``id_prefix``; a second mark replaces the first. Returns the full run id and the note as
    stored.

    Raises :class:`UsageError` naming the id when no run or more than one matches, or when the
    run launched nothing (a dry run, a cost stop): there is no answer to judge. The note is
    redacted like every stored string.
    """
    from codex_router.history.record import MARKS  # lazy, as in _sanitised

    if mark not in MARKS:
        raise ValueError(f"mark must be one of {', '.join(MARKS)}, not {mark!r}")
    prefix = id_prefix.strip()
    if len(prefix) < MIN_ID_PREFIX:
        raise UsageError(
            f"RUN_ID {id_prefix!r}: give at least {MIN_ID_PREFIX} characters of the run id",
            hint="`codex-route history --json` shows each run's run_id",
        )
    if note is not None:
        note = _scrub(redact(note.strip()), _secret_values(os.environ))[:MAX_NOTE_CHARS] or None
    ingest_pending(dirs)  # the run to mark may still be pending (team mode)
    path = history_path(dirs)
    if not path.exists():
        raise UsageError(f"RUN_ID {prefix!r}: no run is recorded yet")
    conn = _open_for_write(path)
    try:
        with _write_transaction(conn):
            rows: list[tuple[int, str, int]] = []
            for candidate in dict.fromkeys((prefix, prefix.lower())):
                rows = conn.execute(
                    "SELECT id, run_id, attempt_count FROM runs "
                    "WHERE run_id >= ? AND run_id < ? LIMIT 3",
                    _prefix_range(candidate),
                ).fetchall()
                if rows:
                    break
            if not rows:
                raise UsageError(
                    f"RUN_ID {prefix!r}: no recorded run has an id starting with it",
                    hint="`codex-route history --json` shows each run's run_id",
                )
            if len(rows) > 1:
                shown = ", ".join(r[1] for r in rows[:2]) + (", …" if len(rows) > 2 else "")
                raise UsageError(
                    f"RUN_ID {prefix!r} is ambiguous: runs {shown} all start with it",
                    hint="give more characters of the run id",
                )
            run, run_id, attempts = rows[0]
            if not attempts:
                raise UsageError(
                    f"run {run_id} launched nothing (a dry run, a cost stop or an error before "
                    "codex started): there is no answer to mark"
                )
            conn.execute(
                "INSERT INTO run_marks (run, mark, note, marked_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (run) DO UPDATE SET mark = excluded.mark, note = excluded.note, "
                "marked_at = excluded.marked_at",
                (run, mark, note, now),
            )
    except sqlite3.Error as exc:
        raise _state_error(path, exc) from None
    finally:
        conn.close()
    return str(run_id), note
