"""Reading back Codex's reported usage per alias, for the calibrated cost estimate.

One bounded query per alias: the alias's newest :data:`SCAN_FACTOR` × ``window`` runs, an index
walk on ``runs_alias (alias, started_at)`` (schema 1), of which the newest ``window`` that
succeeded in one attempt with reported input tokens are kept. One attempt: a run that fell back
or escalated sums several attempts' usage (another alias's among them). The cost therefore does
not grow with the history, and a history full of dry runs or failures only finds fewer samples.
"""

from __future__ import annotations

from collections.abc import Sequence

from codex_router.dirs import AppDirs
from codex_router.history.store import open_history

#: How many of an alias's newest runs are looked at per sample wanted: room for failures,
#: fallbacks and recorded dry runs, while each looked-at row costs a table lookup (~2 µs).
SCAN_FACTOR = 4

_NEWEST_USAGE = """
    SELECT tokens_clean, usage_input_tokens, coalesce(usage_output_tokens, 0)
    FROM (
        SELECT tokens_clean, usage_input_tokens, usage_output_tokens, outcome, attempt_count,
               started_at
        FROM runs INDEXED BY runs_alias
        WHERE alias = ?
        ORDER BY started_at DESC
        LIMIT ?
    )
    WHERE outcome = 'success' AND attempt_count = 1 AND usage_input_tokens > 0
    ORDER BY started_at DESC
    LIMIT ?
"""


def recent_usage(
    dirs: AppDirs, aliases: Sequence[str], window: int
) -> dict[str, list[tuple[int, int, int]]]:
    """``(prompt tokens, reported input, reported output)`` of each alias's newest ``window``
    qualifying runs, newest first; nothing recorded yet: an empty dict (reading never creates
    the database). A history of an older schema raises StateError rather than being migrated."""
    found: dict[str, list[tuple[int, int, int]]] = {}
    with open_history(dirs, migrate=False) as conn:  # a plan reads: it never migrates
        if conn is None:
            return found
        for alias in dict.fromkeys(aliases):
            rows = conn.execute(_NEWEST_USAGE, (alias, window * SCAN_FACTOR, window))
            found[alias] = [(int(a), int(b), int(c)) for a, b, c in rows]
    return found
