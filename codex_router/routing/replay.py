"""``replay``: re-decide recorded runs under another policy and tally them against what
happened. Pure: runs in, a :class:`ReplayTally` out.

What can be replayed. The prompt text is never stored, so the classifier cannot run again:
each run's *complexity* and *intents* are taken as recorded, and the thresholds that decide
complexity (``classification.medium_tokens``, ``complex_tokens``, ``short_instruction_words``,
``light_below``, ``deep_from``) have no effect on a replay. *Long context* is replayed: the
classifier's rule is ``tokens > classification.long_context_tokens`` on the clean token count,
and the record holds that count. The routing itself — provider, task rules, roles,
``force_model``, the context-window guard — is :func:`~codex_router.routing.route.decide_route`,
called with the readiness facts the caller gives (``replay`` assumes every path ready, as
``route eval`` does). The input budget (``max_input_tokens``) is not replayed either: a run
whose recorded count is above the new budget is counted (``over_input_budget``) and replayed
with its recorded count.

Cost, both sides at the replay policy's prices: Codex's reported usage when the run has it
(:func:`~codex_router.routing.cost.usage_cost_usd`), else the estimate for the recorded clean
token count (:func:`~codex_router.routing.cost.estimate_cost`). A recorded alias the policy
does not define keeps the cost recorded with it (``recorded_alias_unknown``).

Failure rates come from the same runs: per recorded alias, launched runs and those that did not
succeed (the complement of ``stats``' success rate).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from codex_router.policy.model import Policy
from codex_router.policy.settings import Settings
from codex_router.routing.classify import INTENTS, LEVELS, Classification
from codex_router.routing.cost import estimate_cost, usage_cost_usd
from codex_router.routing.route import ReadinessFacts, decide_route

#: The classifier's thresholds a replay cannot apply (they need the prompt's text).
NOT_REPLAYED_SETTINGS = (
    "classification.medium_tokens",
    "classification.complex_tokens",
    "classification.short_instruction_words",
    "classification.light_below",
    "classification.deep_from",
    "max_input_tokens",
)


class RecordedRun(Protocol):
    """What a replay reads from a recorded run (``history.decisions.RecordedDecision``)."""

    @property
    def outcome(self) -> str: ...
    @property
    def launched(self) -> bool: ...
    @property
    def alias(self) -> str: ...
    @property
    def complexity(self) -> str: ...
    @property
    def long_context(self) -> bool: ...
    @property
    def intents(self) -> tuple[str, ...]: ...
    @property
    def tokens_clean(self) -> int: ...
    @property
    def estimated_cost_usd(self) -> float: ...
    @property
    def usage_input_tokens(self) -> int | None: ...
    @property
    def usage_cached_input_tokens(self) -> int | None: ...
    @property
    def usage_output_tokens(self) -> int | None: ...
    @property
    def usage_cost_usd(self) -> float | None: ...


@dataclass(frozen=True)
class Replayed:
    """One run re-decided: the alias and whether the run would stop before launch."""

    alias: str
    stop: str | None  # context_window | max_cost_usd | None
    recorded_usd: float  # the recorded alias at the replay policy's prices
    replayed_usd: float
    from_usage: bool


@dataclass
class ReplayTally:
    """Running sums over replayed runs: a few counters per alias, whatever the run count."""

    runs: int = 0
    changed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    recorded_mix: Counter[str] = field(default_factory=Counter)
    replayed_mix: Counter[str] = field(default_factory=Counter)
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)
    launched: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    stops: Counter[str] = field(default_factory=Counter)
    long_context_changed: int = 0
    over_input_budget: int = 0
    from_usage: int = 0
    recorded_alias_unknown: int = 0
    as_recorded_usd: float = 0.0
    recorded_usd: float = 0.0
    replayed_usd: float = 0.0


@dataclass(frozen=True)
class SettingChange:
    """A setting the replay cannot apply, whose value differs from the current policy's."""

    key: str
    current: Any
    replay: Any

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "current": self.current, "replay": self.replay}


def _priced(policy: Policy, alias: str, run: RecordedRun, output_tokens: int) -> float:
    if run.usage_input_tokens is not None:
        return usage_cost_usd(
            policy,
            alias,
            run.usage_input_tokens,
            run.usage_cached_input_tokens or 0,
            run.usage_output_tokens or 0,
        )
    return estimate_cost(policy, alias, run.tokens_clean, output_tokens).usd


def _as_recorded(run: RecordedRun) -> float:
    return run.estimated_cost_usd if run.usage_cost_usd is None else run.usage_cost_usd


#: A replayed decision: the alias and why the run would stop before launch (None: it runs).
Decision = tuple[str, str | None]
#: What a replayed decision rests on besides the token count.
ClassKey = tuple[str, bool, frozenset[str]]


@dataclass
class TokenIntervals:
    """The decisions of one task class, as token intervals ``[low, high]`` each with one
    decision, sorted and disjoint.

    Why intervals are exact: for a fixed class, the token count reaches the decision only
    through the context-window guard, where each alias fits while ``tokens + overhead + output
    <= context_window``, a bound that only falls as tokens grow. The guard takes the first
    alias that fits, so as tokens grow the decision moves on and never comes back: each
    decision holds on one contiguous range. Two probes with the same decision cover the tokens
    between them; a class holds at most one interval per decision, whatever the run count.
    """

    lows: list[int] = field(default_factory=list)
    highs: list[int] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def find(self, tokens: int) -> tuple[int, Decision | None]:
        """The decision covering ``tokens`` (None: not known) and the index of the first
        interval starting above it."""
        index = bisect_right(self.lows, tokens)
        if index and tokens <= self.highs[index - 1]:
            return index, self.decisions[index - 1]
        return index, None

    def learn(self, index: int, tokens: int, decision: Decision) -> None:
        """Record a probe of ``tokens`` that falls between intervals ``index - 1`` and
        ``index``: it widens the neighbour with the same decision, else opens an interval."""
        if index and self.decisions[index - 1] == decision:
            self.highs[index - 1] = tokens
            if index < len(self.lows) and self.decisions[index] == decision:
                self.highs[index - 1] = self.highs.pop(index)  # the gap was closed: merge
                self.lows.pop(index)
                self.decisions.pop(index)
        elif index < len(self.lows) and self.decisions[index] == decision:
            self.lows[index] = tokens
        else:
            self.lows.insert(index, tokens)
            self.highs.insert(index, tokens)
            self.decisions.insert(index, decision)


class Replayer:
    """Re-decides runs under ``settings`` with ``facts``: :func:`decide_route` on a
    classification rebuilt from the record, remembered per task class as
    :class:`TokenIntervals` (a million runs take a few hundred routing decisions)."""

    def __init__(self, settings: Settings, facts: ReadinessFacts) -> None:
        self.settings = settings
        self.facts = facts
        policy = settings.policy
        self.long_context_tokens = int(policy.get("classification.long_context_tokens"))
        self.max_input_tokens = int(settings["max_input_tokens"])
        self.output_tokens = int(settings["max_output_tokens"] or 0)
        self.max_cost = float(settings["max_cost_usd"] or 0)
        self.intervals: dict[ClassKey, TokenIntervals] = {}
        self.decided = 0  # calls of decide_route, for the benchmark

    def route(self, task: ClassKey, tokens: int) -> Decision:
        """The replayed decision for a task of this class and size (what ``decide_route``
        returns for it, remembered)."""
        known = self.intervals.setdefault(task, TokenIntervals())
        index, decision = known.find(tokens)
        if decision is not None:
            return decision
        complexity, long_context, intents = task
        self.decided += 1
        routed = decide_route(
            self.settings,
            Classification(complexity, long_context, intents, ()),
            self.facts,
            input_tokens=tokens,
        )
        window = routed.window
        refused = window is not None and window.status == "refused"
        decision = (routed.alias, "context_window" if refused else None)
        known.learn(index, tokens, decision)
        return decision

    def replayable(self, run: RecordedRun) -> str | None:
        """Why ``run`` cannot be replayed (None: it can)."""
        if run.complexity not in LEVELS:
            return "complexity_unknown"  # runs imported from the earlier router's log
        if not set(run.intents) <= set(INTENTS):
            return "intents_unknown"
        return None

    def replay(self, run: RecordedRun) -> Replayed:
        long_context = run.tokens_clean > self.long_context_tokens
        alias, stop = self.route(
            (run.complexity, long_context, frozenset(run.intents)), run.tokens_clean
        )
        policy = self.settings.policy
        replayed = _priced(policy, alias, run, self.output_tokens)
        if stop is None and self.max_cost:
            estimate = estimate_cost(policy, alias, run.tokens_clean, self.output_tokens).usd
            if estimate > self.max_cost:  # as the plan's max_cost_usd stop
                stop = "max_cost_usd"
        if run.alias in policy.aliases:
            recorded = _priced(policy, run.alias, run, self.output_tokens)
        else:
            recorded = _as_recorded(run)
        return Replayed(alias, stop, recorded, replayed, run.usage_input_tokens is not None)

    def _same_alias(self, recorded: str, replayed: str) -> bool:
        """A legacy name (``alias_of``) is the alias it stands for."""
        if recorded == replayed:
            return True
        aliases = self.settings.policy.aliases
        spec = aliases.get(recorded)
        return spec is not None and spec.alias_of == replayed

    def add(self, tally: ReplayTally, run: RecordedRun) -> None:
        """Replay ``run`` into ``tally`` (or count why it was skipped)."""
        if run.launched and run.outcome != "imported":
            tally.launched[run.alias] += 1
            if run.outcome != "success":
                tally.failed[run.alias] += 1
        why_not = self.replayable(run)
        if why_not is not None:
            tally.skipped[why_not] += 1
            return
        result = self.replay(run)
        tally.runs += 1
        tally.recorded_mix[run.alias] += 1
        tally.replayed_mix[result.alias] += 1
        if not self._same_alias(run.alias, result.alias):
            tally.changed += 1
            tally.moves[(run.alias, result.alias)] += 1
        if result.stop is not None:
            tally.stops[result.stop] += 1
        if (run.tokens_clean > self.long_context_tokens) != run.long_context:
            tally.long_context_changed += 1
        if run.tokens_clean > self.max_input_tokens:
            tally.over_input_budget += 1
        tally.from_usage += result.from_usage
        tally.recorded_alias_unknown += run.alias not in self.settings.policy.aliases
        tally.as_recorded_usd += _as_recorded(run)
        tally.recorded_usd += result.recorded_usd
        tally.replayed_usd += result.replayed_usd


def not_replayed_changes(replay: Policy, current: Policy | None) -> tuple[SettingChange, ...]:
    """The settings of :data:`NOT_REPLAYED_SETTINGS` the replay policy sets otherwise than the
    current one (None: the current policy did not load: nothing to compare)."""
    if current is None:
        return ()
    return tuple(
        SettingChange(key, current.get(key), replay.get(key))
        for key in NOT_REPLAYED_SETTINGS
        if current.get(key) != replay.get(key)
    )


def replay_runs(
    runs: Iterable[RecordedRun],
    settings: Settings,
    facts: ReadinessFacts,
    *,
    advance: Callable[[], None] = lambda: None,
) -> ReplayTally:
    """Replay every run into one tally; ``advance`` is called after each run."""
    replayer = Replayer(settings, facts)
    tally = ReplayTally()
    for run in runs:
        replayer.add(tally, run)
        advance()
    return tally
