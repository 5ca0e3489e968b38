"""Building RunRecords for the history tests (plain data; no codex involved)."""

from __future__ import annotations

import itertools
from typing import Any

from codex_router.history.record import Attempt, RunRecord, TokenUsage

_counter = itertools.count()


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
