"""Selecting recorded runs: the filters of ``history`` and ``stats``, newest first.

``parse_since`` and ``where_clause`` are pure; ``recent_runs`` reads the store. Every filter
becomes an indexed condition (``started_at``, ``alias``, ``provider``, ``outcome`` each lead an
index ending in ``started_at``), so ``history --limit 20`` reads about 20 rows whatever the size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from codex_router.dirs import AppDirs
from codex_router.history.record import RunRecord
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
    if flt.provider is not None:
        terms.append("provider = ?")
        params.append(flt.provider)
    if flt.failed:
        terms.append(f"outcome IN ({', '.join('?' * len(FAILED_OUTCOMES))})")
        params.extend(FAILED_OUTCOMES)
    return (f"WHERE {' AND '.join(terms)}" if terms else ""), params


def recent_runs(dirs: AppDirs, flt: RunFilter, limit: int) -> Generator[RunRecord, None, None]:
    """Recorded runs matching ``flt``, newest first, at most ``limit``; streamed, so a huge
    limit costs memory for one row at a time. Nothing recorded yet: nothing yielded."""
    limit = max(0, min(limit, MAX_LIMIT))
    where, params = where_clause(flt)
    # The inner query walks an index newest-first and stops at ``limit``; only those rows
    # are joined to their JSON.
    sql = (
        f"SELECT d.record FROM (SELECT id, started_at FROM runs {where} "
        f"ORDER BY started_at DESC, id DESC LIMIT ?) AS r "
        f"JOIN run_details AS d ON d.run = r.id ORDER BY r.started_at DESC, r.id DESC"
    )
    with open_history(dirs) as conn:
        if conn is None:
            return
        for (document,) in conn.execute(sql, [*params, limit]):
            yield RunRecord.from_dict(json.loads(document))
