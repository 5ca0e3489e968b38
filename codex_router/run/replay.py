"""``replay``: every recorded run re-decided under another policy, side by side with what
happened (alias mix, cost, moves towards aliases that failed before).

The history is streamed (:func:`~codex_router.history.decisions.recorded_decisions`) into a
:class:`~codex_router.routing.replay.ReplayTally`, so memory stays bounded at any history size.
Each run is re-decided by :mod:`codex_router.routing.replay` with :data:`~codex_router.run.
route_eval.ALL_READY`, as ``route eval`` routes: the policy's own choice, whatever this machine
has running. What cannot be replayed without the prompt's text is said in the report
(``classification``). ``ReplayReport.to_dict`` is the stable ``replay --json`` layout
(docs/reference/replay-json.md; fields are only ever added).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from codex_router import __version__
from codex_router.dirs import AppDirs
from codex_router.history.decisions import recorded_decisions
from codex_router.policy.model import Policy
from codex_router.policy.settings import Settings
from codex_router.routing.replay import (
    NOT_REPLAYED_SETTINGS,
    ReplayTally,
    SettingChange,
    not_replayed_changes,
    replay_runs,
)
from codex_router.run.route_eval import ALL_READY

#: ``replay --json`` layout version (docs/reference/replay-json.md).
REPLAY_SCHEMA_VERSION = 1

#: Why a recorded run is not replayed; always listed in ``skipped``.
SKIP_REASONS = ("complexity_unknown", "intents_unknown")


def _rate(failed: int, launched: int) -> float | None:
    return None if not launched else round(failed / launched, 4)


@dataclass(frozen=True)
class ReplayReport:
    settings: Settings
    since: float | None
    tally: ReplayTally
    not_replayed: tuple[SettingChange, ...]

    def _failures(self, alias: str) -> dict[str, Any]:
        launched, failed = self.tally.launched[alias], self.tally.failed[alias]
        return {"launched": launched, "failed": failed, "failure_rate": _rate(failed, launched)}

    def to_dict(self) -> dict[str, Any]:
        t = self.tally
        names = set(t.recorded_mix) | set(t.replayed_mix)
        aliases = sorted(names, key=lambda a: (-max(t.recorded_mix[a], t.replayed_mix[a]), a))
        moving_in: dict[str, int] = {}
        for (_, to), runs in t.moves.items():
            moving_in[to] = moving_in.get(to, 0) + runs
        since = None
        if self.since is not None:
            since = datetime.fromtimestamp(self.since, UTC).isoformat(timespec="seconds")
        return {
            "schema": REPLAY_SCHEMA_VERSION,
            "codex_route_version": __version__,
            "policy": self.settings.policy_file.to_dict(),
            "since": since,
            "runs": t.runs,
            "changed": t.changed,
            "skipped": {reason: t.skipped[reason] for reason in SKIP_REASONS},
            "classification": {
                "as_recorded": ["complexity", "intents"],
                "replayed": ["long_context"],
                "long_context_changed": t.long_context_changed,
                "over_input_budget": t.over_input_budget,
                "not_replayed_settings": list(NOT_REPLAYED_SETTINGS),
                "not_replayed_changes": [c.to_dict() for c in self.not_replayed],
            },
            "aliases": [
                {
                    "alias": alias,
                    "recorded_runs": t.recorded_mix[alias],
                    "replayed_runs": t.replayed_mix[alias],
                    **self._failures(alias),
                }
                for alias in aliases
            ],
            "moves": [
                {"from": old, "to": new, "runs": runs}
                for (old, new), runs in sorted(t.moves.items(), key=lambda m: (-m[1], m[0]))
            ],
            "failed_before": [
                {"alias": alias, "runs_moving_in": runs, **self._failures(alias)}
                for alias, runs in sorted(moving_in.items(), key=lambda m: (-m[1], m[0]))
            ],
            "stops": {
                "context_window": t.stops["context_window"],
                "max_cost_usd": t.stops["max_cost_usd"],
            },
            "cost": {
                "as_recorded_usd": round(t.as_recorded_usd, 6),
                "recorded_usd": round(t.recorded_usd, 6),
                "replayed_usd": round(t.replayed_usd, 6),
                "delta_usd": round(t.replayed_usd - t.recorded_usd, 6),
                "runs_from_usage": t.from_usage,
                "runs_from_estimate": t.runs - t.from_usage,
                "recorded_alias_unknown": t.recorded_alias_unknown,
            },
        }


def replay_history(
    dirs: AppDirs,
    settings: Settings,
    *,
    since: float | None = None,
    current: Policy | None = None,
    advance: Callable[[], None] = lambda: None,
) -> ReplayReport:
    """Replay every recorded run (not dry runs; since ``since`` when given) under ``settings``;
    ``current``: the user's own policy, to say which settings the replay could not apply."""
    tally = replay_runs(recorded_decisions(dirs, since), settings, ALL_READY, advance=advance)
    return ReplayReport(settings, since, tally, not_replayed_changes(settings.policy, current))
