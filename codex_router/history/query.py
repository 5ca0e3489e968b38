"""Selecting recorded runs: the filters of ``history`` and ``stats``, newest first.

``parse_since`` and ``where_clause`` are pure; ``recent_runs`` reads the store. Every filter
becomes an indexed condition (``started_at``, ``alias``, ``provider``, ``outcome`` each lead an
index ending in ``started_at``), so ``history --limit 20`` reads about 20 rows whatever the size
(``--path`` filters while walking the newest-first index).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from codex_router.dirs import AppDirs
from codex_router.history.record import (
    OUTCOME_LABELS,
    OUTCOMES,
    PATH_LABELS,
    Feedback,
    RunRecord,
)
from codex_router.history.store import open_history

#: Outcomes ``--failed`` selects: the run was launched or attempted and did not succeed.
FAILED_OUTCOMES = ("failed", "interrupted", "stopped_changes", "blocked", "error")

#: ``--limit`` above this reads everything anyway; clamping keeps it inside SQLite's integers.
MAX_LIMIT = 2**62

_RELATIVE = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


@dataclass(frozen=True)
class RunFilter:
    """Which runs to look at. ``since`` is unix seconds (inclusive)."""

    alias: str | None = None
    provider: str | None = None
    failed: bool = False
    since: float | None = None
    path: str | None = None  # the path of the last attempt (long or short name)
    outcome: str | None = None  # an outcome name or its table label (ok, ctrl-c, dry-run…)


#: The alias prefix the ``history`` table leaves out (``NAME`` stands for ``codex-NAME``).
ALIAS_PREFIX = "codex-"


def alias_names(text: str) -> list[str]:
    """The recorded alias names ``--alias text`` may mean, in order of preference: the name as
    given, then with the ``codex-`` prefix the table leaves out."""
    name = text.strip()
    if name.startswith(ALIAS_PREFIX):
        return [name]
    return [name, ALIAS_PREFIX + name]


def path_name(text: str) -> str:
    """``std``/``lite``/``hf`` (the table's chain labels) or a path's own name → the path."""
    name = text.strip().lower()
    short = {label: path for path, label in PATH_LABELS.items()}
    if name in short:
        return short[name]
    if name in PATH_LABELS:
        return name
    raise ValueError(
        f"{text!r} is not a path; expected one of "
        + ", ".join(f"{p} ({label})" for p, label in PATH_LABELS.items())
    )


def outcome_name(text: str) -> str:
    """An outcome (``success``, ``dry_run``…) or the label the table shows (``ok``,
    ``dry-run``…) → the recorded outcome."""
    name = text.strip().lower()
    labels = {label: outcome for outcome, label in OUTCOME_LABELS.items()}
    if name in labels:
        return labels[name]
    if name.replace("-", "_") in OUTCOMES:
        return name.replace("-", "_")
    raise ValueError(
        f"{text!r} is not an outcome; expected one of "
        + ", ".join(f"{label} ({o})" if label != o else o for o, label in OUTCOME_LABELS.items())
    )


def parse_since(text: str, *, now: float) -> float:
    """Unix seconds for ``7d``/``24h``/``30m``/``2w``/``90s`` ago, ``today``/``yesterday``
    (local midnight), or an ISO date or date-time (``2026-11-01``, ``2026-11-01T08:30``, with or
    without an offset; no offset = local time).

    Raises ``ValueError`` with a sentence the command shows next to the flag's name.
    """
    relative = _RELATIVE.match(text)
    if relative:
        return now - int(relative.group(1)) * _UNIT_SECONDS[relative.group(2).lower()]
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.timestamp() - (86_400 if word == "yesterday" else 0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration like 7d, 24h, 30m, 2w, nor today/yesterday, nor an "
            "ISO date like 2026-11-01 or 2026-11-01T08:30"
        ) from None
    return moment.timestamp()  # naive: local time, as the user reads their clock


def where_clause(flt: RunFilter) -> tuple[str, list[Any]]:
    """``WHERE …`` (or "") over table ``runs`` and its parameters."""
    terms: list[str] = []
    params: list[Any] = []
    if flt.since is not None:
        terms.append("started_at >= ?")
        params.append(flt.since)
    if flt.alias is not None:
        terms.append("alias = ?")
        params.append(flt.alias)
    if flt.path is not None:
        terms.append("final_path = ?")
        params.append(path_name(flt.path))
    if flt.outcome is not None:
        terms.append("outcome = ?")
        params.append(outcome_name(flt.outcome))
    if flt.provider is not None:
        terms.append("provider = ?")
        params.append(flt.provider)
    if flt.failed:
        terms.append(f"outcome IN ({', '.join('?' * len(FAILED_OUTCOMES))})")
        params.extend(FAILED_OUTCOMES)
    return (f"WHERE {' AND '.join(terms)}" if terms else ""), params


def recent_runs(
    dirs: AppDirs, flt: RunFilter, limit: int, *, offset: int = 0
) -> Generator[RunRecord, None, None]:
    """Recorded runs matching ``flt``, newest first, at most ``limit`` after skipping the newest
    ``offset`` (the dashboard's pages: skipped rows are index entries only, never parsed);
    streamed, so a huge limit costs memory for one row at a time. Nothing recorded yet: nothing
    yielded."""
    limit = max(0, min(limit, MAX_LIMIT))
    offset = max(0, min(offset, MAX_LIMIT))
    where, params = where_clause(flt)
    # The inner query walks an index newest-first and stops at ``limit``; only those rows
    # are joined to their JSON.

    def sql_for(where: str) -> str:
        return (
            f"SELECT d.record, m.mark, m.note, m.marked_at FROM (SELECT id, started_at FROM runs "
            f"{where} ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?) AS r "
            f"JOIN run_details AS d ON d.run = r.id LEFT JOIN run_marks AS m ON m.run = r.id "
            f"ORDER BY r.started_at DESC, r.id DESC"
        )

    sql = sql_for(where)
    with open_history(dirs) as conn:
        if conn is None:
            return
        if flt.alias is not None:
            # NAME as the table shows it: the name itself when recorded, else codex-NAME
            # (an index probe each)
            for name in alias_names(flt.alias):
                if conn.execute("SELECT 1 FROM runs WHERE alias = ? LIMIT 1", (name,)).fetchone():
                    where, params = where_clause(replace(flt, alias=name))
                    sql = sql_for(where)
                    break
        for document, mark, note, marked_at in conn.execute(sql, [*params, limit, offset]):
            # the mark comes from the marks table only: what the run recorded stays as it was
            feedback = Feedback(mark, note, marked_at) if mark else None
            yield replace(RunRecord.from_dict(json.loads(document)), feedback=feedback)
