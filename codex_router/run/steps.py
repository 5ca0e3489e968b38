"""What the walk does after one attempt, from how it ended (its outcome kind). Pure.

- ``ok``: done.
- ``interrupted`` (a stop signal): stop, always; Ctrl-C never falls back.
- a kind in the policy's ``never_retry_on``: stop (by default ``refused``: codex refused the run
  itself, which every path would repeat).
- ``context_overflow``: the long-context alias on the same path, once, when the plan has one
  there (a larger ``context_window``); else the next path.
- ``usage_limit`` / ``rate_limit``: the next path (another provider); the history keeps the kind,
  which is what the health model's quota memory reads.
- ``auth``: that path is not retried (not even with the long-context alias); the next path.
- ``turn_failed`` (exit 0 without an answer), and every other failure: the next path.
- a kind in the policy's ``escalate_on`` (empty by default: escalation is opt-in), on a run
  whose alias has a next tier (light -> default -> deep) and has not escalated yet: the next
  tier's alias on the same path, once, before any further path (the remedy for a model too weak
  for the task is a stronger model, not the same model elsewhere). ``never_retry_on`` wins
  over it; ``interrupted`` and ``refused`` never escalate.

The working-tree guard (an attempt that changed the git tree stops the walk) is the caller's:
it needs git, and it applies to every further attempt alike.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

#: What a kind is called in the reasons shown and recorded.
_SAID = {
    "turn_failed": "the turn gave no answer (exit 0)",
    "usage_limit": "usage limit",
    "rate_limit": "rate limit (429)",
    "auth": "authentication failed",
    "context_overflow": "context window overflow",
    "upstream_error": "upstream error",
    "stream_cut": "the stream was cut",
    "timeout": "timeout",
    "launch_error": "codex could not start",
    "refused": "codex refused the run",
}


#: Kinds a stronger model would not fix: a stop signal, codex refusing the run itself.
_NEVER_ESCALATE = frozenset({"ok", "interrupted", "refused"})


@dataclass(frozen=True)
class Step:
    """The walk's next move after an attempt, and why (shown and recorded)."""

    action: str  # done | stop | long_alias | escalate | next_path | last
    cause: str  # what happened: "rate limit (429) on standard"
    then: str = ""  # what follows from it: "litellm next"

    @property
    def reason(self) -> str:
        return f"{self.cause}: {self.then}" if self.then else self.cause


def next_step(
    kind: str | None,
    path: str,
    *,
    never_retry_on: Collection[str],
    next_path: str | None,
    long_alias: str | None = None,
    escalate_on: Collection[str] = (),
    escalate_alias: str | None = None,
) -> Step:
    """The step after an attempt on ``path`` that ended as ``kind`` (None: a failure whose kind
    codex-route cannot see, the TUI's).

    ``next_path``: the walk's next path, if any. ``long_alias``: the long-context alias the plan
    has on this path (None: none, or this attempt already ran it). ``escalate_alias``: the next
    tier's alias on this path (None: no next tier, forced alias, already escalated, not ready).
    """
    if kind == "ok":
        return Step("done", "ok")
    if kind == "interrupted":
        return Step("stop", "interrupted", "a stop signal never falls back")
    cause = f"{_SAID.get(kind or '', kind or 'failed')} on {path}"
    longer = long_alias if kind == "context_overflow" else None
    higher = (
        escalate_alias
        if kind is not None and kind in escalate_on and kind not in _NEVER_ESCALATE
        else None
    )
    if next_path is None and longer is None and higher is None:
        return Step("last", cause, "no path left")
    if kind is not None and kind in never_retry_on:
        return Step("stop", cause, f"{kind} is in never_retry_on")
    if longer is not None:
        return Step("long_alias", cause, f"the same path with {longer}")
    if higher is not None:
        return Step("escalate", cause, f"escalating to {higher} on the same path")
    if kind == "auth":
        return Step("next_path", cause, f"not retried there; {next_path} next")
    return Step("next_path", cause, f"{next_path} next")
