"""The adaptive health of a run's paths, from the history store.

Reads each path's newest ``adaptive_router.max_history`` attempts (a bounded, indexed read,
``history/attempts.py``) and hands them to the pure model (``routing/health.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from codex_router.dirs import AppDirs
from codex_router.history.attempts import RecordedAttempt, recent_attempts
from codex_router.policy.model import AdaptiveRouter
from codex_router.routing.health import HealthDecision, Observation, decide, outcome_kind

#: The user's mark as the model's quality signal.
MARK_QUALITY = {"good": 1.0, "bad": 0.0}


def observation(attempt: RecordedAttempt) -> Observation:
    return Observation(
        path=attempt.path,
        started_at=attempt.started_at,
        outcome=outcome_kind(attempt.outcome, attempt.error),
        exit_code=attempt.exit_code,
        duration_ms=attempt.duration_ms,
        ttft_ms=attempt.ttft_ms,
        tokens=attempt.total_tokens,
        cost_usd=attempt.cost_usd,
        quality=MARK_QUALITY.get(attempt.mark) if attempt.mark else None,
    )


def read_health(
    dirs: AppDirs, paths: Sequence[str], config: AdaptiveRouter, *, now: float
) -> HealthDecision:
    """The model's verdict on ``paths`` (first = the routed choice) from the recorded runs."""
    attempts = recent_attempts(dirs, paths, config.max_history)
    return decide(paths, [observation(a) for a in attempts], config, now=now)
