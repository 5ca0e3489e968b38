"""The adaptive health model: how healthy each path has been lately, and which order it suggests.

Pure: the input is a sequence of :class:`Observation` (one per recorded attempt; the history
store reads them, ``run/health.py`` hands them over) plus the policy's ``adaptive_router`` block
and the current time. The model is the earlier cost router's (docs/migrating-from-cost-router.md,
"Adaptive router"), kept formula by formula except where that page says it changed:

- each observation becomes a *pressure* in [0, 1] (TTFT, latency, token use, cost, the user's
  mark, failure), which biases one step of a five-state Markov chain (healthy, warming,
  overloaded, failing, cooldown); older observations weigh less (``decay``);
- the chain's end state gives a risk and a score; the score minus ``risk × overload_penalty``
  (minus ``cold_start_penalty`` for a path never seen that is not the first) is the path's
  reliability, blended with its observed performance (``performance_weight``) once it has
  ``min_performance_observations``;
- the best path is the suggestion; ``would_switch`` when it beats the first path by at least
  ``min_confidence_delta``; the cost guard blocks a switch to a path costing more than
  ``max_cost_multiplier`` × the first one unless the first one's risk is critical; the order is
  changed only when ``enabled`` and not ``shadow_mode``.

Quota memory is codex-route's own: a path whose latest attempt hit a usage limit or a 429 is
cooled down for ``quota_cooldown_seconds`` after that attempt ended, then probed (ranked as any
other path again); a success clears it.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

from codex_router.policy.model import AdaptiveRouter

STATES = ("healthy", "warming", "overloaded", "failing", "cooldown")

#: Chance of moving from one state (row) to the next (column) in one observation, before
#: pressure; the earlier router's matrix.
TRANSITIONS: dict[str, dict[str, float]] = {
    "healthy": {
        "healthy": 0.82,
        "warming": 0.14,
        "overloaded": 0.03,
        "failing": 0.01,
        "cooldown": 0.0,
    },
    "warming": {
        "healthy": 0.22,
        "warming": 0.50,
        "overloaded": 0.20,
        "failing": 0.05,
        "cooldown": 0.03,
    },
    "overloaded": {
        "healthy": 0.05,
        "warming": 0.20,
        "overloaded": 0.45,
        "failing": 0.22,
        "cooldown": 0.08,
    },
    "failing": {
        "healthy": 0.02,
        "warming": 0.08,
        "overloaded": 0.20,
        "failing": 0.50,
        "cooldown": 0.20,
    },
    "cooldown": {
        "healthy": 0.18,
        "warming": 0.25,
        "overloaded": 0.12,
        "failing": 0.05,
        "cooldown": 0.40,
    },
}

#: Where a path with no observations stands.
PRIOR: dict[str, float] = {
    "healthy": 0.72,
    "warming": 0.18,
    "overloaded": 0.06,
    "failing": 0.02,
    "cooldown": 0.02,
}

#: How much of one unit of pressure each state gains (healthy loses 55 % of its share).
_PRESSURE_BIAS = {"warming": 0.20, "overloaded": 0.45, "failing": 0.25, "cooldown": 0.10}
_HEALTHY_LOSS = 0.55

#: How much each state counts towards a path's risk.
RISK_WEIGHTS = {
    "healthy": 0.0,
    "warming": 0.35,
    "overloaded": 0.75,
    "failing": 1.0,
    "cooldown": 0.45,
}

# Pressure thresholds (below: no pressure, above: full), the earlier router's values.
TTFT_MS = (1_500, 6_000)
LATENCY_MS = (8_000, 45_000)
COST_USD = (0.01, 0.20)
# Codex reports usage summed over every turn of an attempt: an ordinary task stays under
# 200,000 tokens, 2,000,000 is a long agentic session that strains a quota. (The earlier router
# read a 0–1 "token_pressure" its records never held.)
TOKENS = (200_000, 2_000_000)
# Performance thresholds (below: perfect, above: worst), the earlier router's values.
PERF_TTFT_MS = (800, 6_000)
PERF_LATENCY_MS = (5_000, 45_000)
PERF_COST_USD = (0.005, 0.20)

#: Attempt outcomes that say nothing about the path: the user stopped it, codex did not start
#: or refused its own arguments, or the input did not fit the alias (the long-context alias is
#: the remedy, not another path).
NOT_PATH_SIGNALS = frozenset({"interrupted", "launch_error", "refused", "context_overflow"})
#: Attempt outcomes that put a path in quota cooldown.
QUOTA_OUTCOMES = frozenset({"usage_limit", "rate_limit"})


class Observation(NamedTuple):
    """One recorded attempt on one path, as the health model sees it."""

    path: str
    started_at: float  # unix seconds
    outcome: str  # ok, turn_failed, usage_limit, rate_limit, auth, timeout, … (or failed)
    exit_code: int | None
    duration_ms: int
    ttft_ms: int | None = None
    tokens: int | None = None  # total tokens Codex reported for the attempt
    cost_usd: float | None = None
    quality: float | None = None  # 1.0: the user marked the run good, 0.0: bad

    @property
    def failed(self) -> bool:
        return self.outcome != "ok" or self.exit_code not in (0, None)

    @property
    def ended_at(self) -> float:
        return self.started_at + self.duration_ms / 1000


def outcome_kind(outcome: str, error: str | None) -> str:
    """An attempt's outcome as the health model needs it, also for attempts recorded before
    Codex's outcomes were classified: those say ``failed`` and keep the rollout's error kind
    (``usage_limit_exceeded``, ``response_too_many_failed_attempts (http 429)``, …)."""
    if outcome != "failed" or not error:
        return outcome
    text = error.lower()
    if "usage_limit" in text or "insufficient_quota" in text:
        return "usage_limit"
    if "http 429" in text or "rate_limit" in text:
        return "rate_limit"
    if "http 401" in text or "http 403" in text:
        return "auth"
    if "context_window" in text or "context_length" in text:
        return "context_overflow"
    return outcome


def clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def metric_pressure(value: float | None, healthy: float, overloaded: float) -> float:
    """0 at or below ``healthy``, 1 at or above ``overloaded``, linear in between; 0 unknown."""
    if value is None:
        return 0.0
    if value <= healthy:
        return 0.0
    if value >= overloaded:
        return 1.0
    return (value - healthy) / (overloaded - healthy)


def observation_pressure(obs: Observation) -> float:
    """How much one attempt says the path is struggling, in [0, 1]."""
    quality_pressure = 0.0 if obs.quality is None else 1.0 - clamp01(obs.quality)
    return clamp01(
        0.22 * metric_pressure(obs.ttft_ms, *TTFT_MS)
        + 0.22 * metric_pressure(obs.duration_ms, *LATENCY_MS)
        + 0.16 * metric_pressure(obs.tokens, *TOKENS)
        + 0.12 * metric_pressure(obs.cost_usd, *COST_USD)
        + 0.14 * quality_pressure
        + 0.14 * (1.0 if obs.failed else 0.0)
    )


_STATE_INDEX = {state: i for i, state in enumerate(STATES)}
#: The chain's arithmetic on lists in STATES order (the inner loop of every health read, 600
#: steps per plan): TRANSITIONS by column (the chances of reaching each state, from each state in
#: turn) and the pressure bias as (state, bias).
_COLUMNS = tuple(tuple(TRANSITIONS[source][target] for source in STATES) for target in STATES)
_BIAS = tuple((_STATE_INDEX[state], bias) for state, bias in _PRESSURE_BIAS.items())
_HEALTHY = _STATE_INDEX["healthy"]


def _step(vector: Sequence[float], pressure: float) -> list[float]:
    stepped = [sum(map(operator.mul, vector, column)) for column in _COLUMNS]
    if pressure:
        stepped[_HEALTHY] *= 1.0 - _HEALTHY_LOSS * pressure
        for state, bias in _BIAS:
            stepped[state] += bias * pressure
    total = sum(stepped)
    return [share / total for share in stepped]


def markov_step(vector: dict[str, float], pressure: float) -> dict[str, float]:
    """One step of the chain, biased towards the troubled states by ``pressure``."""
    return dict(zip(STATES, _step([vector[s] for s in STATES], pressure), strict=True))


def decay_weights(count: int, decay: float) -> list[float]:
    """Weights of ``count`` observations, oldest first: the newest counts 1, each older one
    ``decay`` times the next newer one (an exponential decay of older observations)."""
    return [decay ** (count - 1 - i) for i in range(count)]


def chain_end(pressures: Sequence[float], decay: float) -> dict[str, float]:
    """The state probabilities after one step per observation (oldest first)."""
    vector = [PRIOR[s] for s in STATES]
    for pressure, weight in zip(pressures, decay_weights(len(pressures), decay), strict=True):
        vector = _step(vector, pressure * weight)
    return dict(zip(STATES, vector, strict=True))


def risk_of(vector: dict[str, float]) -> float:
    return clamp01(sum(vector[state] * RISK_WEIGHTS[state] for state in STATES))


def observation_performance(obs: Observation) -> float:
    """How well one attempt went, in [0, 1]: a weighted mean of the signals it has."""
    parts: list[tuple[float, float]] = []
    if obs.ttft_ms is not None:
        parts.append((1.0 - metric_pressure(obs.ttft_ms, *PERF_TTFT_MS), 0.24))
    parts.append((1.0 - metric_pressure(obs.duration_ms, *PERF_LATENCY_MS), 0.24))
    if obs.cost_usd is not None:
        parts.append((1.0 - metric_pressure(obs.cost_usd, *PERF_COST_USD), 0.18))
    if obs.quality is not None:
        parts.append((clamp01(obs.quality), 0.18))
    parts.append((0.0 if obs.failed else 1.0, 0.20))
    return clamp01(sum(s * w for s, w in parts) / sum(w for _, w in parts))


class QuotaMemory(NamedTuple):
    """Whether a path is cooling down after a usage limit or a 429.

    ``status``: ``clear`` (no quota hit since its last success), ``cooldown`` (until ``until``),
    ``probe`` (the cooldown is over and nothing has run on it since: the next run may try it).
    """

    status: str
    hit_outcome: str | None = None
    until: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "outcome": self.hit_outcome, "until": self.until}


#: No quota hit since the last success (the default of every path).
CLEAR = QuotaMemory("clear")


def quota_memory(observations: Sequence[Observation], now: float, seconds: int) -> QuotaMemory:
    """The quota state of one path from its observations (oldest first)."""
    if seconds <= 0:
        return CLEAR
    for obs in reversed(observations):
        if obs.outcome == "ok":
            return CLEAR
        if obs.outcome in QUOTA_OUTCOMES:
            until = obs.ended_at + seconds
            return QuotaMemory("cooldown" if now < until else "probe", obs.outcome, until)
    return CLEAR


class PathHealth(NamedTuple):
    """What the model knows of one path."""

    path: str
    state: str  # the most likely Markov state, or "cooldown" while quota memory holds it
    probabilities: dict[str, float]
    risk: float
    score: float  # 1 - risk
    observations: int
    failures: int
    performance_score: float  # 0.5 when unobserved
    performance_observations: int
    average_cost_usd: float | None
    cost_observations: int
    reliability_score: float
    adjusted_score: float
    cold_start: bool
    quota: QuotaMemory = CLEAR

    @property
    def error_rate(self) -> float | None:
        return self.failures / self.observations if self.observations else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "state": self.state,
            "probabilities": {s: round(p, 4) for s, p in self.probabilities.items()},
            "risk": round(self.risk, 4),
            "score": round(self.score, 4),
            "observations": self.observations,
            "failures": self.failures,
            "error_rate": None if self.error_rate is None else round(self.error_rate, 4),
            "performance_score": round(self.performance_score, 4),
            "performance_observations": self.performance_observations,
            "average_cost_usd": self.average_cost_usd,
            "cost_observations": self.cost_observations,
            "reliability_score": round(self.reliability_score, 4),
            "adjusted_score": round(self.adjusted_score, 4),
            "cold_start": self.cold_start,
            "quota": self.quota.to_dict(),
        }


class HealthDecision(NamedTuple):
    """The model's verdict on one fallback order."""

    enabled: bool
    shadow_mode: bool
    baseline: str  # the first path of the order as routed
    suggested: str  # the best path by the model
    suggested_order: tuple[str, ...]
    confidence_delta: float  # suggested's adjusted score - baseline's
    would_switch: bool
    cost_guard_blocked: bool
    cost_multiplier: float | None  # suggested's average cost / baseline's, when both known
    applied: bool  # the order was changed: enabled, not shadow, would switch, not blocked
    order: tuple[str, ...]  # the order the run walks
    health: tuple[PathHealth, ...]  # in the routed order

    def path(self, name: str) -> PathHealth:
        return next(h for h in self.health if h.path == name)

    @property
    def cooling(self) -> tuple[str, ...]:
        """Paths in quota cooldown, in the routed order."""
        return tuple(h.path for h in self.health if h.quota.status == "cooldown")

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "shadow_mode": self.shadow_mode,
            "baseline": self.baseline,
            "suggested": self.suggested,
            "suggested_order": list(self.suggested_order),
            "confidence_delta": round(self.confidence_delta, 4),
            "would_switch": self.would_switch,
            "cost_guard_blocked": self.cost_guard_blocked,
            "cost_multiplier": None
            if self.cost_multiplier is None
            else round(self.cost_multiplier, 4),
            "applied": self.applied,
            "order": list(self.order),
            "health": [h.to_dict() for h in self.health],
        }


def path_health(
    path: str,
    observations: Sequence[Observation],
    config: AdaptiveRouter,
    *,
    first: bool,
    now: float,
) -> PathHealth:
    """The health of one path from its observations (oldest first, already windowed)."""
    vector = chain_end([observation_pressure(o) for o in observations], config.decay)
    risk = risk_of(vector)
    score = clamp01(1.0 - risk)
    performances = [observation_performance(o) for o in observations]
    costs = [o.cost_usd for o in observations if o.cost_usd is not None and o.cost_usd >= 0]
    cold_start = not observations and not first
    reliability = clamp01(
        score - risk * config.overload_penalty - (config.cold_start_penalty if cold_start else 0.0)
    )
    performance = sum(performances) / len(performances) if performances else 0.5
    adjusted = reliability
    if len(performances) >= config.min_performance_observations:
        weight = config.performance_weight
        adjusted = reliability * (1.0 - weight) + performance * weight
    quota = quota_memory(observations, now, config.quota_cooldown_seconds)
    state = max(STATES, key=lambda s: vector[s])
    return PathHealth(
        path=path,
        state="cooldown" if quota.status == "cooldown" else state,
        probabilities=vector,
        risk=risk,
        score=score,
        observations=len(observations),
        failures=sum(1 for o in observations if o.failed),
        performance_score=clamp01(performance),
        performance_observations=len(performances),
        average_cost_usd=sum(costs) / len(costs) if costs else None,
        cost_observations=len(costs),
        reliability_score=reliability,
        adjusted_score=clamp01(adjusted),
        cold_start=cold_start,
        quota=quota,
    )


def window(observations: Sequence[Observation], path: str, max_history: int) -> list[Observation]:
    """The newest ``max_history`` observations of ``path`` that say something about it,
    oldest first."""
    mine = [o for o in observations if o.path == path and o.outcome not in NOT_PATH_SIGNALS]
    mine.sort(key=lambda o: o.started_at)
    return mine[-max_history:]


def decide(
    paths: Sequence[str],
    observations: Sequence[Observation],
    config: AdaptiveRouter,
    *,
    now: float,
) -> HealthDecision:
    """Score the paths of a fallback order (first = the routed choice) and suggest an order.

    A path in quota cooldown goes after every other path (it is not dropped: when nothing else
    is ready it is still tried); when the first path is cooling down, any other path is a
    switch, whatever the score gain, and the cost guard treats that as a critical risk.
    """
    if not paths:
        raise ValueError("decide needs at least one path")
    health = tuple(
        path_health(p, window(observations, p, config.max_history), config, first=i == 0, now=now)
        for i, p in enumerate(paths)
    )
    by_path = {h.path: h for h in health}
    baseline = paths[0]
    cooling = {h.path for h in health if h.quota.status == "cooldown"}
    ranked = sorted(
        paths,
        key=lambda p: (p in cooling, -by_path[p].adjusted_score, paths.index(p)),
    )
    suggested = ranked[0]
    delta = by_path[suggested].adjusted_score - by_path[baseline].adjusted_score
    baseline_cooling = baseline in cooling
    # 1e-12: a gain equal to the delta on paper must not miss it by a float rounding
    would_switch = suggested != baseline and (
        baseline_cooling or delta >= config.min_confidence_delta - 1e-12
    )
    base_cost = by_path[baseline].average_cost_usd
    new_cost = by_path[suggested].average_cost_usd
    multiplier = (
        new_cost / base_cost
        if would_switch and base_cost is not None and new_cost is not None and base_cost > 0
        else None
    )
    critical = baseline_cooling or by_path[baseline].risk >= config.critical_risk_threshold
    blocked = (
        config.cost_guard_enabled
        and multiplier is not None
        and multiplier > config.max_cost_multiplier
        and not critical
    )
    applied = config.enabled and not config.shadow_mode and would_switch and not blocked
    return HealthDecision(
        enabled=config.enabled,
        shadow_mode=config.shadow_mode,
        baseline=baseline,
        suggested=suggested,
        suggested_order=tuple(ranked),
        confidence_delta=delta,
        would_switch=would_switch,
        cost_guard_blocked=blocked,
        cost_multiplier=multiplier,
        applied=applied,
        order=tuple(ranked) if applied else tuple(paths),
        health=health,
    )


def reorder(paths: Sequence[str], order: Sequence[str]) -> tuple[str, ...]:
    """``paths`` (a route's whole order) with the slots of the paths in ``order`` (the ready
    ones the model ranked) refilled in that order; every other path keeps its place, so a
    path the route left out or marked unusable is never moved into play."""
    ranked = iter(order)
    moving = set(order)
    return tuple(next(ranked) if p in moving else p for p in paths)
