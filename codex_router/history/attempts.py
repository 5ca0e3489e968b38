"""Reading recorded attempts back per path, for the adaptive health model.

One bounded query per path: the newest ``limit`` rows of ``run_attempts`` for that path, an
index walk on ``(path, started_at)`` (``migrations``, version 4), so the cost does not grow with
the history. Dry runs have no attempt rows. The user's mark on the run (``history mark``) rides
along on the run's last attempt, the one whose answer the user judged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from codex_router.dirs import AppDirs
from codex_router.history.store import open_history


class RecordedAttempt(NamedTuple):
    """One attempt as the history holds it."""

    path: str
    started_at: float  # unix seconds
    outcome: str  # the attempt's outcome kind (ok, rate_limit, …); older runs: ok, failed, …
    error: str | None  # the recorded error kind
    exit_code: int | None
    duration_ms: int
    ttft_ms: int | None
    total_tokens: int | None
    cost_usd: float | None
    mark: str | None  # good | bad, on the run's last attempt only


_NEWEST_OF_PATH = """
    SELECT a.path, a.started_at, a.outcome, a.error, a.exit_code, a.duration_ms, a.ttft_ms,
           a.total_tokens, a.cost_usd,
           CASE WHEN a.seq = r.attempt_count - 1 THEN m.mark END
    FROM (SELECT * FROM run_attempts WHERE path = ? ORDER BY started_at DESC LIMIT ?) AS a
    JOIN runs AS r ON r.id = a.run
    LEFT JOIN run_marks AS m ON m.run = a.run
    ORDER BY a.started_at
"""


def recent_attempts(dirs: AppDirs, paths: Sequence[str], limit: int) -> list[RecordedAttempt]:
    """The newest ``limit`` attempts of each path, oldest first per path; nothing recorded
    yet: an empty list (reading never creates the database). A history of an older schema
    raises :class:`StateError` rather than being migrated here."""
    found: list[RecordedAttempt] = []
    with open_history(dirs, migrate=False) as conn:  # a plan reads: it never migrates
        if conn is None:
            return found
        for path in dict.fromkeys(paths):
            found.extend(
                RecordedAttempt(*row) for row in conn.execute(_NEWEST_OF_PATH, (path, limit))
            )
    return found
