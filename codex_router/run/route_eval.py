"""``route eval``: route labelled tasks as ``run`` would, in process, and score the routing.

Each task takes the steps a ``run`` takes before launching — :func:`~codex_router.run.plan.
prepare_text` (clean, compress, budget, count), :func:`~codex_router.run.plan.classify_task`,
:func:`~codex_router.routing.route.decide_route` — with readiness facts that say everything is
ready (:data:`ALL_READY`): no probe, no network, no codex. What is scored is the policy's own
choice, not what today's machine could reach. Nothing is written and no task text is kept.

Input: JSON lines, one task each (docs/usage.md, "route eval"): the task text in
``problem_statement`` or ``prompt``, the label in ``difficulty_ordinal`` (an integer ≥ 0,
0 = quickest), optionally ``attachment`` (text piped with the task), ``source`` and ``id``.
Blank lines are skipped. Any bad line is an :class:`~codex_router.errors.InputError` naming
the file and line, raised before anything is routed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from codex_router import __version__
from codex_router.errors import InputError
from codex_router.policy.roles import Role
from codex_router.policy.settings import Settings
from codex_router.prompt.source import require_prompt
from codex_router.routing.cost import estimate_cost
from codex_router.routing.evaluate import (
    RoutedTask,
    RoutingScore,
    score_by_source,
    score_routing,
    tier_of,
)
from codex_router.routing.readiness import KEY_VARIABLES
from codex_router.routing.route import ReadinessFacts, decide_route
from codex_router.run.plan import Counter, RunRequest, classify_task, prepare_text

#: ``route eval --json`` layout version; fields are only ever added
#: (docs/reference/route-eval-json.md).
ROUTE_EVAL_SCHEMA_VERSION = 1

#: Every key set, the proxy up and serving every alias, Ollama up with every model: the
#: policy's own choice for each task, whatever this machine has running.
ALL_READY = ReadinessFacts(
    env_present=frozenset(KEY_VARIABLES),
    litellm_reachable=True,
    litellm_detail="assumed up (route eval)",
    ollama_reachable=True,
    ollama_detail="assumed up (route eval)",
)

TEXT_KEYS = ("problem_statement", "prompt")
LABEL_KEY = "difficulty_ordinal"


@dataclass(frozen=True)
class LabelledTask:
    line: int
    text: str
    ordinal: int
    attachment: str | None = None
    source: str | None = None
    id: str | None = None


def _bad(file: str, line: int, what: str) -> InputError:
    return InputError(
        f"{file}:{line}: {what}",
        hint=f"one JSON object per line, with {' or '.join(TEXT_KEYS)} (the task) and "
        f"{LABEL_KEY} (an integer >= 0); see docs/usage.md, route eval",
    )


def _optional_text(entry: dict[str, Any], key: str, file: str, line: int) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise _bad(file, line, f"{key} must be a string, got {type(value).__name__}")
    return value


def parse_task(raw: str, file: str, line: int) -> LabelledTask:
    """One JSON line as a task; :class:`InputError` naming ``file:line`` when it is not one."""
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _bad(file, line, f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(entry, dict):
        raise _bad(file, line, f"expected a JSON object, got {type(entry).__name__}")
    keys = [k for k in TEXT_KEYS if k in entry]
    if not keys:
        raise _bad(file, line, f"no task text: neither {' nor '.join(TEXT_KEYS)} is set")
    if len(keys) > 1:
        raise _bad(file, line, f"both {' and '.join(keys)} are set: give the task text once")
    text = entry[keys[0]]
    if not isinstance(text, str):
        raise _bad(file, line, f"{keys[0]} must be a string, got {type(text).__name__}")
    text = require_prompt(text, name=f"{file}:{line}: {keys[0]}")
    if LABEL_KEY not in entry:
        raise _bad(file, line, f"no label: {LABEL_KEY} is missing")
    ordinal = entry[LABEL_KEY]
    if isinstance(ordinal, bool) or not isinstance(ordinal, int) or ordinal < 0:
        raise _bad(file, line, f"{LABEL_KEY} must be an integer >= 0, got {json.dumps(ordinal)}")
    attachment = _optional_text(entry, "attachment", file, line)
    if attachment is not None and attachment.strip():  # blank: nothing piped, as in run
        attachment = require_prompt(attachment, name=f"{file}:{line}: attachment")
    task_id = entry.get("id")
    if task_id is not None and (isinstance(task_id, bool) or not isinstance(task_id, str | int)):
        raise _bad(file, line, f"id must be a string or an integer, got {type(task_id).__name__}")
    return LabelledTask(
        line,
        text,
        ordinal,
        attachment,
        _optional_text(entry, "source", file, line),
        None if task_id is None else str(task_id),
    )


def parse_tasks(lines: Iterable[str], file: str, *, limit: int | None = None) -> list[LabelledTask]:
    """The tasks of a JSON-lines file (the first ``limit`` when given); blank lines skipped."""
    tasks: list[LabelledTask] = []
    for number, raw in enumerate(lines, start=1):
        if limit is not None and len(tasks) >= limit:
            break
        if raw.strip():
            tasks.append(parse_task(raw, file, number))
    if not tasks:
        raise InputError(
            f"{file} holds no task", hint="one JSON object per line; see docs/usage.md, route eval"
        )
    return tasks


@dataclass(frozen=True)
class TaskRoute:
    """One task as routed: the scored figures and what explains them (never the text)."""

    task: LabelledTask
    routed: RoutedTask
    alias: str
    complexity: str
    long_context: bool
    tokens: int
    context_window: str | None  # the guard's status: fits, switched, refused, unchecked

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.task.line,
            "id": self.task.id,
            "source": self.task.source,
            "difficulty_ordinal": self.task.ordinal,
            "alias": self.alias,
            "tier": self.routed.tier,
            "complexity": self.complexity,
            "long_context": self.long_context,
            "tokens": self.tokens,
            "context_window": self.context_window,
            "score": None if self.routed.score is None else round(self.routed.score, 4),
            "estimated_cost_usd": round(self.routed.cost_usd, 6),
        }


def route_task(task: LabelledTask, settings: Settings, count: Counter) -> TaskRoute:
    """Route one task as ``run --dry-run`` would, with :data:`ALL_READY` facts."""
    attachment = None if task.attachment is None else task.attachment.splitlines(keepends=True)
    prompt_text, codex_input, counts, _ = prepare_text(
        RunRequest(task.text, attachment), settings, count
    )
    classification = classify_task(settings, prompt_text, counts, codex_input)
    decision = decide_route(settings, classification, ALL_READY, input_tokens=counts.clean)
    policy = settings.policy
    output_tokens = settings["max_output_tokens"]
    cost = estimate_cost(policy, decision.alias, counts.clean, output_tokens)
    deep = estimate_cost(policy, policy.alias_for(Role.DEEP), counts.clean, output_tokens)
    routed = RoutedTask(
        task.line,
        task.ordinal,
        tier_of(policy, decision.alias),
        cost.usd,
        deep.usd,
        task.source,
        score=classification.score,
        refused=decision.window is not None and decision.window.status == "refused",
    )
    return TaskRoute(
        task,
        routed,
        decision.alias,
        classification.complexity,
        classification.long_context,
        counts.clean,
        None if decision.window is None else decision.window.status,
    )


@dataclass(frozen=True)
class RouteEval:
    file: str
    settings: Settings
    routes: tuple[TaskRoute, ...]
    overall: RoutingScore
    by_source: dict[str, RoutingScore]

    @property
    def deep_alias(self) -> str:
        return self.settings.policy.alias_for(Role.DEEP)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": ROUTE_EVAL_SCHEMA_VERSION,
            "codex_route_version": __version__,
            "file": self.file,
            "policy": self.settings.policy_file.to_dict(),
            "deep_alias": self.deep_alias,
            "overall": self.overall.to_dict(),
            "by_source": {name: score.to_dict() for name, score in self.by_source.items()},
            "tasks": [route.to_dict() for route in self.routes],
        }


def evaluate_tasks(
    tasks: Iterable[LabelledTask],
    file: str,
    settings: Settings,
    count: Counter,
    *,
    advance: Callable[[], None] = lambda: None,
) -> RouteEval:
    """Route every task and score the routing; ``advance`` is called after each task."""
    routes = []
    for task in tasks:
        routes.append(route_task(task, settings, count))
        advance()
    routed = [r.routed for r in routes]
    return RouteEval(file, settings, tuple(routes), score_routing(routed), score_by_source(routed))
