"""The adaptive health model (codex_router/routing/health.py) against hand-computed values.

The scenarios marked "ported" are the earlier cost router's adaptive-router tests
(Tibo2403/Scripting, scripts/python/tests/test_codex_cost_router.py) in our observation terms;
their verdicts (switch, applied, blocked) are the same, and the numbers are this model's.
"""

from __future__ import annotations

import pytest

from codex_router.routing import health
from codex_router.routing.health import Observation as Obs

from helpers.history import ADAPTIVE_DEFAULTS

DEFAULTS = ADAPTIVE_DEFAULTS
APPLIED = DEFAULTS._replace(enabled=True, shadow_mode=False, min_confidence_delta=0.05)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 0.0), (1_000, 0.0), (1_500, 0.0), (3_750, 0.5), (6_000, 1.0), (9_000, 1.0)],
)
def test_metric_pressure_is_linear_between_the_thresholds(
    value: float | None, expected: float
) -> None:
    assert health.metric_pressure(value, 1_500, 6_000) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        # nothing slow, nothing failed
        (Obs("standard", 0, "ok", 0, 1_000), 0.0),
        # a failure alone: its 0.14
        (Obs("standard", 0, "failed", 1, 1_000), 0.14),
        # every signal at half pressure (ttft 3,750 of 1,500–6,000; latency 26,500 of
        # 8,000–45,000; tokens 1.1M of 0.2M–2M; cost 0.105 of 0.01–0.20; quality 0.5), failed:
        # 0.5 × (0.22 + 0.22 + 0.16 + 0.12 + 0.14) + 0.14 = 0.57
        (
            Obs("standard", 0, "turn_failed", 0, 26_500, 3_750, 1_100_000, 0.105, 0.5),
            0.57,
        ),
        # everything past its worst threshold, marked bad: all weights add up to 1
        (Obs("standard", 0, "rate_limit", 1, 90_000, 9_000, 5_000_000, 1.0, 0.0), 1.0),
    ],
)
def test_observation_pressure(obs: Obs, expected: float) -> None:
    assert health.observation_pressure(obs) == pytest.approx(expected)


def test_one_markov_step_from_the_prior() -> None:
    # healthy: 0.72×0.82 + 0.18×0.22 + 0.06×0.05 + 0.02×0.02 + 0.02×0.18 = 0.637, …
    step = health.markov_step(health.PRIOR, 0.0)
    expected = {
        "healthy": 0.637,
        "warming": 0.2094,
        "overloaded": 0.091,
        "failing": 0.0404,
        "cooldown": 0.0222,
    }
    assert step == pytest.approx(expected)
    # risk: 0.2094×0.35 + 0.091×0.75 + 0.0404 + 0.0222×0.45 = 0.19193
    assert health.risk_of(step) == pytest.approx(0.19193)
    # full pressure: healthy × 0.45, the others + 0.20/0.45/0.25/0.10, then normalised
    pressed = health.markov_step(health.PRIOR, 1.0)
    total = 0.637 * 0.45 + 0.4094 + 0.541 + 0.2904 + 0.1222
    assert pressed["healthy"] == pytest.approx(0.637 * 0.45 / total)
    assert pressed["overloaded"] == pytest.approx(0.541 / total)


def test_decay_weighs_older_observations_less() -> None:
    assert health.decay_weights(3, 0.5) == [0.25, 0.5, 1.0]
    # One observation counts in full, whatever the decay (the earlier router multiplied it
    # by 2 - decay: 0.14 became 0.189 at decay 0.65).
    for decay in (0.05, 0.65, 0.95):
        assert health.chain_end([0.14], decay) == pytest.approx(
            health.markov_step(health.PRIOR, 0.14)
        )
    # An older observation's pressure is scaled by decay per step back.
    two = health.chain_end([0.8, 0.0], 0.65)
    assert two == pytest.approx(
        health.markov_step(health.markov_step(health.PRIOR, 0.8 * 0.65), 0.0)
    )
    # So the same failure hurts more when it is recent.
    failures_old = [0.6, 0.0, 0.0, 0.0]
    failures_new = [0.0, 0.0, 0.0, 0.6]
    old_risk = health.risk_of(health.chain_end(failures_old, 0.65))
    new_risk = health.risk_of(health.chain_end(failures_new, 0.65))
    assert new_risk > old_risk


@pytest.mark.parametrize(
    ("obs", "expected"),
    [
        (Obs("standard", 0, "ok", 0, 5_000, 800, None, 0.005, 1.0), 1.0),
        (Obs("standard", 0, "failed", 1, 45_000), 0.0),
        # (0.5×0.24 + 0.5×0.24 + 1×0.20) / (0.24 + 0.24 + 0.20) = 0.44 / 0.68
        (Obs("standard", 0, "ok", 0, 25_000, 3_400), 0.44 / 0.68),
    ],
)
def test_observation_performance(obs: Obs, expected: float) -> None:
    assert health.observation_performance(obs) == pytest.approx(expected)


def test_a_path_never_seen_pays_the_cold_start_penalty_unless_it_is_first() -> None:
    # The prior's risk: 0.18×0.35 + 0.06×0.75 + 0.02 + 0.02×0.45 = 0.137
    first = health.path_health("standard", [], DEFAULTS, first=True, now=0)
    other = health.path_health("litellm", [], DEFAULTS, first=False, now=0)
    assert first.risk == pytest.approx(0.137)
    assert first.reliability_score == pytest.approx(0.863 - 0.137 * 0.35)
    assert other.reliability_score == pytest.approx(0.863 - 0.137 * 0.35 - 0.5)
    assert (first.cold_start, other.cold_start) == (False, True)
    assert first.performance_score == 0.5 and first.error_rate is None


def test_performance_blends_in_only_from_min_performance_observations() -> None:
    one = [Obs("standard", 1, "ok", 0, 1_000)]
    single = health.path_health("standard", one, DEFAULTS, first=True, now=9)
    assert single.adjusted_score == pytest.approx(single.reliability_score)
    two = [*one, Obs("standard", 2, "ok", 0, 1_000)]
    both = health.path_health("standard", two, DEFAULTS, first=True, now=9)
    assert both.adjusted_score == pytest.approx(both.reliability_score * 0.65 + 1.0 * 0.35)


# ---------------------------------------------------------------- ported decisions

FAILING_LITELLM = [
    Obs("litellm", 1, "failed", 1, 60_000, 9_000),
    Obs("litellm", 2, "failed", 1, 0),
    Obs("standard", 3, "ok", 0, 3_000, 500),
]


def test_ported_shadow_mode_keeps_the_order_but_says_it_would_switch() -> None:
    config = DEFAULTS._replace(enabled=True, shadow_mode=True, min_confidence_delta=0.05)
    decision = health.decide(["litellm", "standard"], FAILING_LITELLM, config, now=10)
    assert decision.order == ("litellm", "standard")
    assert decision.suggested == "standard"
    assert (decision.would_switch, decision.applied) == (True, False)
    assert decision.confidence_delta == pytest.approx(0.3609, abs=1e-4)
    assert decision.path("litellm").adjusted_score == pytest.approx(0.3800, abs=1e-4)
    assert decision.path("standard").adjusted_score == pytest.approx(0.7409, abs=1e-4)
    assert decision.path("litellm").error_rate == 1.0


def test_ported_applied_mode_reorders() -> None:
    decision = health.decide(["litellm", "standard"], FAILING_LITELLM, APPLIED, now=10)
    assert decision.order == ("standard", "litellm")
    assert decision.applied


@pytest.mark.parametrize(
    ("enabled", "shadow", "applied"),
    [(False, True, False), (False, False, False), (True, True, False), (True, False, True)],
)
def test_only_enabled_and_not_shadow_applies(enabled: bool, shadow: bool, applied: bool) -> None:
    config = APPLIED._replace(enabled=enabled, shadow_mode=shadow)
    decision = health.decide(["litellm", "standard"], FAILING_LITELLM, config, now=10)
    assert decision.would_switch
    assert decision.applied is applied
    assert decision.order[0] == ("standard" if applied else "litellm")


def test_ported_performance_score_drives_the_gain() -> None:
    history = [
        Obs("litellm", 1, "ok", 0, 35_000, 4_500, None, 0.16, 0.82),
        Obs("litellm", 2, "ok", 0, 32_000, 4_200, None, 0.15, 0.84),
        Obs("standard", 3, "ok", 0, 4_000, 700, None, 0.03, 0.91),
        Obs("standard", 4, "ok", 0, 4_300, 800, None, 0.035, 0.9),
    ]
    config = APPLIED._replace(performance_weight=0.6)
    decision = health.decide(["litellm", "standard"], history, config, now=10)
    assert decision.order[0] == "standard" and decision.applied
    assert decision.path("standard").performance_score == pytest.approx(0.9591, abs=1e-4)
    assert decision.path("litellm").performance_score == pytest.approx(0.5155, abs=1e-4)


CHEAP_LITELLM = [
    Obs("litellm", 1, "ok", 0, 16_000, 2_800, None, 0.018, 0.89),
    Obs("litellm", 2, "ok", 0, 15_000, 2_700, None, 0.018, 0.9),
    Obs("standard", 3, "ok", 0, 5_200, 700, None, 0.095, 0.9),
    Obs("standard", 4, "ok", 0, 5_000, 750, None, 0.095, 0.91),
]


def test_ported_cost_guard_blocks_an_expensive_switch_from_a_healthy_path() -> None:
    config = APPLIED._replace(performance_weight=0.6)
    decision = health.decide(["litellm", "standard"], CHEAP_LITELLM, config, now=10)
    assert decision.suggested == "standard" and decision.would_switch
    assert decision.cost_guard_blocked and not decision.applied
    assert decision.order == ("litellm", "standard")
    assert decision.cost_multiplier == pytest.approx(0.095 / 0.018)  # 5.28 > 2.0


@pytest.mark.parametrize(
    ("change", "blocked"),
    [
        ({}, True),
        ({"cost_guard_enabled": False}, False),
        ({"max_cost_multiplier": 6.0}, False),
        ({"critical_risk_threshold": 0.0}, False),  # the baseline's risk counts as critical
    ],
)
def test_cost_guard_settings(change: dict[str, object], blocked: bool) -> None:
    config = APPLIED._replace(performance_weight=0.6, **change)  # type: ignore[arg-type]
    decision = health.decide(["litellm", "standard"], CHEAP_LITELLM, config, now=10)
    assert decision.cost_guard_blocked is blocked
    assert decision.applied is not blocked


def test_the_cost_guard_is_reported_in_shadow_mode_too() -> None:
    config = DEFAULTS._replace(min_confidence_delta=0.05, performance_weight=0.6)
    decision = health.decide(["litellm", "standard"], CHEAP_LITELLM, config, now=10)
    assert decision.would_switch and decision.cost_guard_blocked and not decision.applied


def test_a_small_gain_is_no_switch() -> None:
    config = APPLIED._replace(min_confidence_delta=0.5)
    decision = health.decide(["litellm", "standard"], FAILING_LITELLM, config, now=10)
    assert decision.suggested == "standard"
    assert not decision.would_switch and decision.order == ("litellm", "standard")


def test_ties_keep_the_routed_order() -> None:
    decision = health.decide(["litellm", "standard"], [], APPLIED, now=0)
    # litellm is first (no cold start), standard is cold: litellm stays
    assert decision.suggested_order == ("litellm", "standard")
    assert decision.confidence_delta == 0.0 and not decision.would_switch


def test_the_window_keeps_the_newest_max_history_path_signals() -> None:
    history = [
        Obs("standard", 5, "ok", 0, 1),
        Obs("standard", 1, "failed", 1, 1),
        Obs("standard", 3, "interrupted", 130, 1),  # the user's Ctrl-C says nothing of it
        Obs("standard", 4, "context_overflow", 1, 1),  # nor does a too-big input
        Obs("standard", 4.5, "refused", 1, 1),  # nor codex refusing its own arguments
        Obs("litellm", 6, "failed", 1, 1),
        Obs("standard", 2, "ok", 0, 1),
    ]
    got = health.window(history, "standard", 2)
    assert [o.started_at for o in got] == [2, 5]
    decision = health.decide(["standard"], history, DEFAULTS._replace(max_history=2), now=9)
    assert decision.path("standard").observations == 2
    assert decision.path("standard").failures == 0


# ---------------------------------------------------------------- quota memory


def _quota(outcomes: list[str], now: float, seconds: int = 600) -> health.QuotaMemory:
    # one attempt every 100 s, each 10 s long: the n-th ends at 100 n + 10
    obs = [Obs("litellm", 100.0 * n, o, 1, 10_000) for n, o in enumerate(outcomes)]
    return health.quota_memory(obs, now, seconds)


@pytest.mark.parametrize(
    ("outcomes", "now", "seconds", "status", "until"),
    [
        (["ok"], 1_000, 600, "clear", None),
        (["rate_limit"], 500, 600, "cooldown", 610.0),
        (["rate_limit"], 609, 600, "cooldown", 610.0),
        (["rate_limit"], 610, 600, "probe", 610.0),  # the next run may try it again
        (["usage_limit", "ok"], 500, 600, "clear", None),  # a success clears it
        (["usage_limit", "timeout"], 500, 600, "cooldown", 610.0),  # still not cleared
        (["usage_limit", "rate_limit"], 650, 600, "cooldown", 710.0),  # a new hit restarts it
        (["rate_limit"], 500, 0, "clear", None),  # 0 turns quota memory off
    ],
)
def test_quota_memory(
    outcomes: list[str], now: float, seconds: int, status: str, until: float | None
) -> None:
    got = _quota(outcomes, now, seconds)
    assert (got.status, got.until) == (status, until)


def test_a_cooling_first_path_is_switched_away_from_whatever_the_scores() -> None:
    history = [
        Obs("litellm", 100, "ok", 0, 1_000, cost_usd=0.01),
        Obs("litellm", 200, "usage_limit", 1, 1_000),
        Obs("standard", 150, "ok", 0, 1_000, cost_usd=0.5),  # 50 × dearer: no guard here
    ]
    decision = health.decide(["litellm", "standard"], history, APPLIED, now=300)
    litellm = decision.path("litellm")
    assert litellm.state == "cooldown" and litellm.quota.until == 801.0
    assert decision.cooling == ("litellm",)
    assert decision.would_switch and decision.applied and not decision.cost_guard_blocked
    assert decision.order == ("standard", "litellm")  # still tried last
    # After the cooldown it is probed: ranked on its scores again.
    later = health.decide(["litellm", "standard"], history, APPLIED, now=900)
    assert later.path("litellm").quota.status == "probe"
    assert later.path("litellm").state != "cooldown" and later.cooling == ()


def test_a_cooling_later_path_goes_last() -> None:
    history = [Obs("litellm", 100, "rate_limit", 1, 1_000)]
    decision = health.decide(["standard", "litellm", "huggingface"], history, APPLIED, now=200)
    assert decision.suggested_order == ("standard", "huggingface", "litellm")
    assert decision.suggested == "standard" and not decision.would_switch


@pytest.mark.parametrize(
    ("outcome", "error", "kind"),
    [
        ("ok", None, "ok"),
        ("failed", None, "failed"),
        ("failed", "usage_limit_exceeded", "usage_limit"),
        ("failed", "response_too_many_failed_attempts (http 429)", "rate_limit"),
        ("failed", "http_connection_failed (http 401)", "auth"),
        ("failed", "context_window_exceeded", "context_overflow"),
        ("failed", "internal_server_error", "failed"),
        ("timeout", "timeout after 30 s", "timeout"),
        ("rate_limit", None, "rate_limit"),  # already classified: kept
    ],
)
def test_outcome_kind_of_older_records(outcome: str, error: str | None, kind: str) -> None:
    assert health.outcome_kind(outcome, error) == kind


def test_to_dict_is_json_ready() -> None:
    decision = health.decide(["litellm", "standard"], FAILING_LITELLM, APPLIED, now=10)
    data = decision.to_dict()
    assert data["order"] == ["standard", "litellm"]
    assert data["health"][0]["path"] == "litellm"
    assert data["health"][0]["quota"] == {"status": "clear", "outcome": None, "until": None}
    assert data["confidence_delta"] == 0.3609
