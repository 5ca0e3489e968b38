"""Reading back what each run decided, streamed, for ``replay``.

Only the facts a routing decision rests on and what the run cost: the classification
(complexity, long context, intents), the clean token count, the alias, Codex's reported usage,
the outcome. Rows are read from ``runs`` (the intents alone from the run's JSON, inside SQLite)
in batches, so a history of any size costs memory for one batch. Dry runs are never read: they
decided nothing that happened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from codex_router.dirs import AppDirs
from codex_router.history.store import open_history

#: Rows fetched from SQLite at a time.
BATCH_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """One recorded run, as much of it as a replay can use (never text from the prompt)."""

    started_at: float  # unix seconds
    outcome: str  # record.OUTCOMES
    launched: bool  # codex was started at least once
    alias: str
    complexity: str  # simple | medium | complex; "unknown" for some imported runs
    long_context: bool
    intents: tuple[str, ...]
    tokens_clean: int
    estimated_cost_usd: float
    # Codex's reported usage (None: none reported) and its cost at the prices of the time
    usage_input_tokens: int | None
    usage_cached_input_tokens: int | None
    usage_output_tokens: int | None
    usage_cost_usd: float | None


_SELECT = """
    SELECT r.started_at, r.outcome, r.attempt_count > 0, r.alias, r.complexity, r.long_context,
           json_extract(d.record, '$.intents'), r.tokens_clean, r.estimated_cost_usd,
           r.usage_input_tokens, r.usage_cached_input_tokens, r.usage_output_tokens,
           r.usage_cost_usd
    FROM runs AS r JOIN run_details AS d ON d.run = r.id
    WHERE NOT r.dry_run {since}
"""


def _since(since: float | None) -> tuple[str, tuple[float, ...]]:
    return ("AND r.started_at >= ?", (since,)) if since is not None else ("", ())


def count_decisions(dirs: AppDirs, since: float | None = None) -> int:
    """How many runs :func:`recorded_decisions` yields (for a progress bar)."""
    where, params = _since(since)
    with open_history(dirs) as conn:
        if conn is None:
            return 0
        row = conn.execute(f"SELECT count(*) FROM runs AS r WHERE NOT r.dry_run {where}", params)
        return int(row.fetchone()[0])


def _intents(document: str | None) -> tuple[str, ...]:
    if not document or document == "[]":  # most runs: no intent
        return ()
    value = json.loads(document)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def recorded_decisions(dirs: AppDirs, since: float | None = None) -> Iterator[RecordedDecision]:
    """Every recorded run that is not a dry run (started at ``since`` or later), in no
    particular order; nothing recorded yet: nothing yielded."""
    where, params = _since(since)
    with open_history(dirs) as conn:
        if conn is None:
            return
        cursor = conn.execute(_SELECT.format(since=where), params)
        while batch := cursor.fetchmany(BATCH_ROWS):
            for row in batch:
                yield RecordedDecision(
                    float(row[0]),
                    row[1],
                    bool(row[2]),
                    row[3],
                    row[4],
                    bool(row[5]),
                    _intents(row[6]),
                    int(row[7]),
                    float(row[8]),
                    row[9],
                    row[10],
                    row[11],
                    row[12],
                )
