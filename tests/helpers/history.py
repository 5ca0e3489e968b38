"""Building RunRecords for the history tests (plain data; no codex involved)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from codex_router.history.record import Attempt, RunRecord, TokenUsage
from codex_router.policy.model import AdaptiveRouter

#: The adaptive router's defaults (the earlier router's, plus quota_cooldown_seconds), written
#: out so that the health tests' hand-computed numbers do not follow a change of default.yaml.
ADAPTIVE_DEFAULTS = AdaptiveRouter(
    enabled=False,
    shadow_mode=True,
    min_confidence_delta=0.15,
    overload_penalty=0.35,
    cold_start_penalty=0.5,
    performance_weight=0.35,
    min_performance_observations=2,
    cost_guard_enabled=True,
    max_cost_multiplier=2.0,
    critical_risk_threshold=0.65,
    decay=0.65,
    max_history=200,
    quota_cooldown_seconds=600,
)

_counter = itertools.count()


def yesterday_noon() -> float:
    """Local noon of the day before today, as a timestamp: always in the past, never near a
    day's edge (a DST change moves it by an hour at most)."""
    return (
        datetime.combine(date.today() - timedelta(days=1), datetime.min.time())
        .replace(hour=12)
        .timestamp()
    )


def make_attempt(
    path: str = "standard",
    *,
    exit_code: int | None = 0,
    duration_ms: int = 1000,
    outcome: str = "ok",
    usage: TokenUsage | None = None,
    **extra: Any,
) -> Attempt:
    return Attempt(
        path=path,
        model=extra.pop("model", "gpt-5.4-mini"),
        exit_code=exit_code,
        duration_ms=duration_ms,
        outcome=outcome,
        usage=usage,
        **extra,
    )


def make_record(**overrides: Any) -> RunRecord:
    n = next(_counter)
    values: dict[str, Any] = dict(
        run_id=f"{n:032x}",
        started_at=1_750_000_000.0 + n,
        duration_ms=1200,
        outcome="success",
        exit_code=0,
        alias="codex-default",
        provider="openai",
        path_order=("standard", "litellm"),
        skipped={"litellm": "127.0.0.1:4000 connection refused"},
        attempts=(make_attempt(duration_ms=1100),),
        complexity="medium",
        long_context=False,
        intents=(),
        reasons=("medium: 42 words",),
        tokens_raw=1000,
        tokens_clean=600,
        rules={"ansi": 100, "repeated_lines": 300},
        estimated_cost_usd=0.002,
        deep_cost_usd=0.02,
        provenance={"provider": "default", "max_cost_usd": "policy"},
        codex_version="0.169.0",
        codex_route_version="0.1.0",
    )
    values.update(overrides)
    return RunRecord(**values)
