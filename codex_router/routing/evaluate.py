"""How well a routing matches human difficulty labels: AUC, confusion table, tier mix, cost. Pure.

``codex-route route eval`` routes every labelled task as ``run`` would, then scores the result
here. A label is an ordinal (0 = quickest); scales differ between sources, so every figure is
given per source as well as overall.

Figures
    *Tier*: the role of the alias a task was sent to — light, default, long, deep, or other (an
    alias that plays none of those roles, e.g. a provider's own). For the AUC the tiers are
    ranked light < default = other < long < deep: the router's own "how hard" answer.
    *AUC* (Mann–Whitney): the chance that a task of the higher label class gets a higher rank
    than one of label 0, ties counting half (0.5: no better than a coin toss). Two contrasts:
    ordinal ≥ 2 vs 0 and ordinal ≥ 1 vs 0; ``None`` when a class has no task. The same is
    given for the classifier's numeric score when it has one.
    *Hard to light*: the share of ordinal ≥ 2 tasks sent to the light tier.
    *Cost*: the estimate of each task at its alias's prices against the same task at the deep
    role's alias (the policy's prices and ``cost_model``, as a dry run estimates).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from codex_router.policy.model import Policy
from codex_router.policy.roles import Role

LIGHT, DEFAULT, LONG, DEEP, OTHER = "light", "default", "long", "deep", "other"
#: Every tier, in the order tables list them.
TIERS: tuple[str, ...] = (LIGHT, DEFAULT, LONG, DEEP, OTHER)
#: A tier's rank for the AUC: how hard the router judged the task.
TIER_RANK: dict[str, int] = {LIGHT: 0, DEFAULT: 1, OTHER: 1, LONG: 2, DEEP: 3}
#: The roles that are tiers, first match wins when one alias plays several.
_TIER_ROLES = (Role.LIGHT, Role.DEFAULT, Role.LONG, Role.DEEP)
#: Where tasks without a ``source`` are grouped.
NO_SOURCE = "(no source)"


def tier_of(policy: Policy, alias: str) -> str:
    """The tier of ``alias`` in ``policy``: the first of light/default/long/deep it plays."""
    name = policy.resolve_alias(alias).name
    for role in _TIER_ROLES:
        if policy.resolve_alias(policy.alias_for(role)).name == name:
            return role.value
    return OTHER


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(a positive scores above a negative), ties counting half; None when a class is empty.

    The Mann–Whitney rank formula: rank all scores together (tied scores share their mean
    rank), then ``(rank sum of positives − n₊(n₊+1)/2) / (n₊ n₋)``. O(n log n).
    """
    if not positives or not negatives:
        return None
    pooled = sorted([(s, True) for s in positives] + [(s, False) for s in negatives])
    rank_sum = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j < len(pooled) and pooled[j][0] == pooled[i][0]:
            j += 1
        mean_rank = (i + 1 + j) / 2  # ranks i+1 .. j share their mean
        rank_sum += mean_rank * sum(1 for _, positive in pooled[i:j] if positive)
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def label_auc(pairs: Iterable[tuple[float, int]], at_least: int) -> float | None:
    """AUC of ``(score, ordinal)`` pairs: ordinal ≥ ``at_least`` against ordinal 0."""
    positives, negatives = [], []
    for score, ordinal in pairs:
        if ordinal == 0:
            negatives.append(score)
        elif ordinal >= at_least:
            positives.append(score)
    return auc(positives, negatives)


@dataclass(frozen=True)
class RoutedTask:
    """One labelled task as the policy routed it (no text: nothing of the prompt is kept)."""

    line: int  # in the input file
    ordinal: int  # the human label, 0 = quickest
    tier: str
    cost_usd: float  # estimate at the chosen alias's prices
    deep_cost_usd: float  # the same task at the deep role's alias
    source: str | None = None
    score: float | None = None  # the classifier's numeric score, when it gives one
    refused: bool = False  # too big for any allowed alias's context_window: a run would stop

    def __post_init__(self) -> None:
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}, got {self.tier!r}")
        if self.ordinal < 0:
            raise ValueError(f"ordinal must be >= 0, got {self.ordinal}")


@dataclass(frozen=True)
class RoutingScore:
    """The figures of one group of tasks (a source, or all of them)."""

    tasks: int
    labels: dict[int, int]  # ordinal → tasks, every ordinal from 0 to the highest
    tier_auc_hard: float | None  # ordinal ≥ 2 vs 0, by tier rank
    tier_auc_any: float | None  # ordinal ≥ 1 vs 0, by tier rank
    score_auc_hard: float | None  # the same by the classifier's score (None: no score)
    score_auc_any: float | None
    confusion: dict[str, dict[int, int]]  # tier → ordinal → tasks, every tier and ordinal
    mix: dict[str, float]  # tier → share of the tasks
    hard_tasks: int  # ordinal ≥ 2
    hard_to_light: int
    cost_usd: float
    deep_cost_usd: float
    refused: int = 0  # tasks a run would refuse (context window), still counted in their tier

    @property
    def hard_to_light_share(self) -> float | None:
        return self.hard_to_light / self.hard_tasks if self.hard_tasks else None

    @property
    def saving_share(self) -> float | None:
        """How much less than always-deep the routing is estimated to cost (negative: more)."""
        return 1 - self.cost_usd / self.deep_cost_usd if self.deep_cost_usd else None

    def to_dict(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "tasks": self.tasks,
            "labels": {str(k): v for k, v in self.labels.items()},
            "auc": {
                "tier": {"ge2_vs_0": r(self.tier_auc_hard), "ge1_vs_0": r(self.tier_auc_any)},
                "score": {"ge2_vs_0": r(self.score_auc_hard), "ge1_vs_0": r(self.score_auc_any)},
            },
            "confusion": {
                tier: {str(k): v for k, v in row.items()} for tier, row in self.confusion.items()
            },
            "tier_mix": {tier: r(share) for tier, share in self.mix.items()},
            "hard_tasks": self.hard_tasks,
            "hard_to_light": self.hard_to_light,
            "hard_to_light_share": r(self.hard_to_light_share),
            "estimated_cost_usd": round(self.cost_usd, 6),
            "estimated_deep_cost_usd": round(self.deep_cost_usd, 6),
            "estimated_saving_share": r(self.saving_share),
            "refused": self.refused,
        }


def score_routing(tasks: Sequence[RoutedTask]) -> RoutingScore:
    """The figures of ``tasks`` (at least one)."""
    if not tasks:
        raise ValueError("no task to score")
    top = max(t.ordinal for t in tasks)
    labels = dict.fromkeys(range(top + 1), 0)
    confusion = {tier: dict.fromkeys(range(top + 1), 0) for tier in TIERS}
    for t in tasks:
        labels[t.ordinal] += 1
        confusion[t.tier][t.ordinal] += 1
    ranks = [(float(TIER_RANK[t.tier]), t.ordinal) for t in tasks]
    scores = [(t.score, t.ordinal) for t in tasks if t.score is not None]
    scored = len(scores) == len(tasks)  # a score for some tasks only would compare unlike sets
    hard = [t for t in tasks if t.ordinal >= 2]
    return RoutingScore(
        tasks=len(tasks),
        labels=labels,
        tier_auc_hard=label_auc(ranks, 2),
        tier_auc_any=label_auc(ranks, 1),
        score_auc_hard=label_auc(scores, 2) if scored else None,
        score_auc_any=label_auc(scores, 1) if scored else None,
        confusion=confusion,
        mix={tier: sum(row.values()) / len(tasks) for tier, row in confusion.items()},
        hard_tasks=len(hard),
        hard_to_light=sum(1 for t in hard if t.tier == LIGHT),
        cost_usd=sum(t.cost_usd for t in tasks),
        deep_cost_usd=sum(t.deep_cost_usd for t in tasks),
        refused=sum(1 for t in tasks if t.refused),
    )


def score_by_source(tasks: Sequence[RoutedTask]) -> dict[str, RoutingScore]:
    """:func:`score_routing` per source, in order of first appearance; empty when no task
    names a source (tasks without one are grouped under :data:`NO_SOURCE`)."""
    if all(t.source is None for t in tasks):
        return {}
    groups: dict[str, list[RoutedTask]] = {}
    for t in tasks:
        groups.setdefault(NO_SOURCE if t.source is None else t.source, []).append(t)
    return {source: score_routing(group) for source, group in groups.items()}
