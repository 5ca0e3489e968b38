"""The shape of one recorded run, shared by ``run`` (writer) and ``history``/``stats``.

Pure data. Nothing here holds prompt text, environment values or keys: only decisions, counts,
durations and names. ``to_dict`` is the stable JSON layout of ``history --json`` (fields are only
ever added; docs/reference/history-json.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Outcome of a whole run.
OUTCOMES = (
    "success",  # an attempt exited 0
    "failed",  # the last attempt failed and no further path was ready
    "interrupted",  # Ctrl-C: exit 130, no fallback
    "stopped_changes",  # an attempt changed the git working tree; fallback refused
    "blocked",  # max_cost_usd stop before launch
    "dry_run",  # run --dry-run --record
    "error",  # codex-route error before or between attempts (config, codex missing…)
    "imported",  # from the earlier cost router's log, written before its launch: result unknown
)

#: Outcome of one attempt.
ATTEMPT_OUTCOMES = ("ok", "failed", "timeout", "interrupted", "launch_error")


#: What the ``history`` table shows for each outcome (and what ``--outcome`` accepts besides
#: the names above).
OUTCOME_LABELS = {
    "success": "ok",
    "failed": "failed",
    "interrupted": "ctrl-c",
    "stopped_changes": "changes",
    "blocked": "blocked",
    "dry_run": "dry-run",
    "error": "error",
    "imported": "unknown",
}

#: Short path names of the ``history`` table (fallback chains such as ``std›lite``).
PATH_LABELS = {"standard": "std", "litellm": "lite", "huggingface": "hf"}


def shell_exit_code(exit_code: int | None, outcome: str) -> int | None:
    """An attempt's exit status as the user's shell reports it: 124 for a timeout (as GNU
    ``timeout``), 128 + N for a process killed by signal N (Python reports it as -N)."""
    if outcome == "timeout":
        return 124
    if exit_code is not None and exit_code < 0:
        return 128 - exit_code
    return exit_code


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class TokenUsage:
    """Token usage Codex reported for one attempt (its rollout's last ``token_count``)."""

    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_output_tokens: int = 0
    total_tokens: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenUsage:
        return cls(**{k: int(data.get(k) or 0) for k in _field_names(cls)})


@dataclass(frozen=True)
class Attempt:
    """One codex attempt of a run, as stored in the history."""

    path: str  # standard | litellm | huggingface
    model: str | None  # what Codex was told to use (None: Codex's default)
    exit_code: int | None  # None when codex could not be started
    duration_ms: int
    outcome: str  # one of ATTEMPT_OUTCOMES
    error: str | None = (
        None  # short kind, e.g. "http 429", "timeout after 30 s"; never text from the prompt
    )
    session_id: str | None = None  # Codex thread id, to find its rollout under $CODEX_HOME/sessions
    usage: TokenUsage | None = None
    # Read from `codex exec --json` (None in runs recorded before): the finer outcome (one of
    # policy/fields.py OUTCOME_KINDS), launch → first item, Codex's failure text (short, masked).
    outcome_kind: str | None = None
    ttft_ms: int | None = None
    error_message: str | None = None
    alias: str | None = None  # the alias this attempt ran (None: the run's alias, older runs)
    # What the walk did after this attempt, and why: next_path, long_alias, stop, done.
    next_step: str | None = None
    next_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "model": self.model,
            "exit_code": self.exit_code,
            "duration_ms": self.duration_ms,
            "outcome": self.outcome,
            "error": self.error,
            "session_id": self.session_id,
            "usage": self.usage.to_dict() if self.usage else None,
            "outcome_kind": self.outcome_kind,
            "ttft_ms": self.ttft_ms,
            "error_message": self.error_message,
            "alias": self.alias,
            "next_step": self.next_step,
            "next_reason": self.next_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        names = _field_names(cls)  # once, not once per key
        known = {k: v for k, v in data.items() if k in names}
        usage = known.pop("usage", None)
        return cls(**known, usage=TokenUsage.from_dict(usage) if usage else None)


#: The user's verdicts on a run (``history mark``).
MARKS = ("good", "bad")


@dataclass(frozen=True)
class Feedback:
    """The user's mark on a run, given after it (``history mark``); kept apart from the run's
    own outcome, which stays as recorded."""

    mark: str  # one of MARKS
    note: str | None
    marked_at: float  # unix seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Feedback:
        return cls(str(data["mark"]), data.get("note"), float(data["marked_at"]))


@dataclass(frozen=True)
class AdaptiveVerdict:
    """What the adaptive router made of a run's paths (``adaptive_router``), as ``stats``
    counts it: whether the suggested path beat the first one, whether the order was changed,
    whether the cost guard blocked the switch."""

    baseline: str  # the first ready path as routed
    suggested: str
    would_switch: bool
    applied: bool
    blocked: bool  # by the cost guard

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdaptiveVerdict:
        return cls(
            str(data["baseline"]),
            str(data["suggested"]),
            bool(data["would_switch"]),
            bool(data["applied"]),
            bool(data["blocked"]),
        )


@dataclass(frozen=True)
class RunRecord:
    """One run as stored in the history: decision, attempts, outcome; never the prompt."""

    run_id: str  # uuid4 hex
    started_at: float  # unix seconds, UTC
    duration_ms: int
    outcome: str  # one of OUTCOMES
    exit_code: int
    alias: str
    provider: str
    path_order: tuple[str, ...]  # every path of the plan, in order
    skipped: dict[str, str]  # path → why it was not ready
    attempts: tuple[Attempt, ...]
    complexity: str
    long_context: bool
    intents: tuple[str, ...]
    reasons: tuple[str, ...]  # classification + decision reasons (rule names and sizes only)
    tokens_raw: int
    tokens_clean: int
    rules: dict[str, int]  # compression rule → tokens removed
    estimated_cost_usd: float
    deep_cost_usd: float  # what the same tokens would cost on the alias of roles.deep
    provenance: dict[str, str]  # setting → layer that set it (flag/env/policy/default)
    codex_version: str | None
    codex_route_version: str
    interactive: bool = False
    dry_run: bool = False
    usage: TokenUsage | None = None  # summed over attempts, when Codex reported any
    extra: dict[str, Any] = field(default_factory=dict)
    # ``usage`` priced on the alias / on the deep role's alias (None: no usage reported)
    usage_cost_usd: float | None = None
    usage_deep_cost_usd: float | None = None
    # the user's mark, read from the store's marks (never part of what a run records)
    feedback: Feedback | None = None
    # the adaptive router's verdict (None: no health was read: nothing recorded yet, no path)
    adaptive: AdaptiveVerdict | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _field_names(type(self))}
        data["feedback"] = self.feedback.to_dict() if self.feedback else None
        data["adaptive"] = self.adaptive.to_dict() if self.adaptive else None
        data["path_order"] = list(self.path_order)
        data["intents"] = list(self.intents)
        data["reasons"] = list(self.reasons)
        data["attempts"] = [a.to_dict() for a in self.attempts]
        data["usage"] = self.usage.to_dict() if self.usage else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """The inverse of :meth:`to_dict`; keys it does not know (a newer layout) are ignored,
        fields an older layout lacks take their defaults."""
        names = _field_names(cls)  # once, not once per key
        known = {k: v for k, v in data.items() if k in names}
        for name in ("path_order", "intents", "reasons"):
            if name in known:
                known[name] = tuple(known[name])
        if "attempts" in known:
            known["attempts"] = tuple(Attempt.from_dict(a) for a in known["attempts"])
        usage = known.pop("usage", None)
        feedback = known.pop("feedback", None)
        adaptive = known.pop("adaptive", None)
        return cls(
            **known,
            usage=TokenUsage.from_dict(usage) if usage else None,
            feedback=Feedback.from_dict(feedback) if feedback else None,
            adaptive=AdaptiveVerdict.from_dict(adaptive) if adaptive else None,
        )
