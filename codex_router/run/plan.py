"""The whole routing decision of ``run`` as one :class:`Plan`: read, clean, compress, budget,
count tokens, classify, route, estimate the cost, build each path's argv.

``build_plan`` reads no file but the policy and, when one exists, the history (the paths'
health: a bounded query; applied mode re-orders the ready paths), writes nothing, and probes
only what readiness needs (a TCP connect to the local proxy). ``run --dry-run`` prints the
plan; ``run`` will execute it. The prompt text lives in ``Plan.codex_input`` only:
``to_dict`` never includes it, so a plan can be printed as JSON or recorded without leaking
the prompt.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from codex_router import __version__
from codex_router.codex.argv import build_argv, config_change
from codex_router.codex.binary import (
    CodexBinary,
    launch_target,
    locate_codex,
    probe_version_cached,
    require_codex,
)
from codex_router.codex.passthrough import check_provider_overrides, provider_overrides
from codex_router.codex.worktree import in_git_repository
from codex_router.dirs import AppDirs, codex_home
from codex_router.errors import (
    CodexConfigError,
    CodexRouteError,
    StateError,
    UsageError,
    WorkdirError,
)
from codex_router.history import HISTORY_FILE_NAME
from codex_router.policy.model import Policy
from codex_router.policy.settings import Settings, resolve_settings
from codex_router.prompt.budget import BudgetResult, fit_to_budget
from codex_router.prompt.compress import RuleReport, compress_stream, compress_text
from codex_router.prompt.secrets import RULES as SECRET_RULES
from codex_router.routing.calibration import Calibration
from codex_router.routing.classify import Classification, ClassifyThresholds, classify
from codex_router.routing.cost import CostEstimate, estimate_all
from codex_router.routing.readiness import gather_facts
from codex_router.routing.route import (
    EscalationRoute,
    OverflowRoute,
    PathChoice,
    RouteDecision,
    decide_route,
    escalation_route,
    needs_litellm_probe,
    needs_ollama_probe,
    overflow_route,
)

if TYPE_CHECKING:
    from codex_router.routing.health import HealthDecision

Counter = Callable[[str], int]

#: Plan JSON layout version; fields are only ever added (docs/reference/plan-json.md).
PLAN_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RunRequest:
    """What the user asked for; ``attachment`` streams the lines piped on stdin (if any)."""

    prompt: str
    attachment: Iterable[str] | None = None
    flags: Mapping[str, Any] = field(default_factory=dict)
    policy_file: Path | None = None
    codex_bin: str | None = None
    codex_args: Sequence[str] = ()
    interactive: bool = False
    local_answer: bool = False  # Ollama answers directly, without Codex (--local-answer)
    cwd: str | None = None  # where codex would run (None: the current directory)


class TokenCounts(NamedTuple):
    raw: int
    clean: int
    prompt: int
    attachment: int
    budget: int
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw": self.raw,
            "clean": self.clean,
            "prompt": self.prompt,
            "attachment": self.attachment,
            "budget": self.budget,
            "truncated": self.truncated,
            "encoding": "o200k_base",
        }


class PathPlan(NamedTuple):
    """One Codex-facing path with what would be run and written for it."""

    name: str
    ready: bool
    reason: str
    model: str | None
    reasoning_effort: str | None
    argv: list[str] | None
    config_change: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ready": self.ready,
            "reason": self.reason,
            "model": self.model,
            "reasoning_effort": self.reasoning_effort,
            "codex_argv": self.argv,
            "config_change": self.config_change,
        }


@dataclass(frozen=True)
class Plan:
    settings: Settings
    decision: RouteDecision
    classification: Classification
    tokens: TokenCounts
    rules: tuple[RuleReport, ...]
    costs: dict[str, CostEstimate]
    paths: tuple[PathPlan, ...]
    codex: CodexBinary
    blocked: str | None
    codex_input: str = field(repr=False)  # the text codex gets on stdin; never serialised
    codex_args: tuple[str, ...] = ()  # extra arguments for codex, after --
    interactive: bool = False
    #: Why no Codex path can run at all (codex missing or broken, config.toml that does not
    #: parse, a directory Codex refuses): the error a real run stops with, before any attempt.
    unready: CodexRouteError | None = None
    #: After Codex reports a context overflow on a path: the long-context alias there (its
    #: PathPlan by path name, ready ones only) and why, or why there is none.
    overflow: OverflowRoute | None = None
    overflow_paths: dict[str, PathPlan] = field(default_factory=dict)
    #: After an attempt fails with a kind in ``escalate_on``: the next tier's alias (its
    #: PathPlan by path name, ready ones only) and why, or why the run cannot escalate.
    escalation: EscalationRoute | None = None
    escalation_paths: dict[str, PathPlan] = field(default_factory=dict)
    #: The adaptive router's verdict on the ready paths, from the history (None: nothing
    #: recorded yet, no ready path, --local-answer), and why an applied switch was held back.
    health: HealthDecision | None = None
    health_held: str | None = None
    #: Why the history could not be read for the health (the plan goes on without it).
    health_error: str | None = None

    @property
    def estimated_cost_usd(self) -> float:
        # Legacy names (alias_of) are priced as the alias they stand for.
        return self.costs[self.settings.policy.resolve_alias(self.decision.alias).name].usd

    @property
    def refused(self) -> CodexRouteError | None:
        """The input fits no allowed alias's ``context_window``: the run stops before launch."""
        window = self.decision.window
        return None if window is None else window.error()

    def _estimate_basis(self) -> dict[str, Any] | None:
        """The chosen alias's overhead and output, and whether the user's runs gave them."""
        chosen = self.costs[self.settings.policy.resolve_alias(self.decision.alias).name]
        if chosen.basis is None:
            return None
        return {**chosen.basis.to_dict(), "reason": chosen.basis.describe()}

    @property
    def first_ready(self) -> PathPlan | None:
        return next((p for p in self.paths if p.ready), None)

    def to_dict(self) -> dict[str, Any]:
        # what would be run first: also when ``unready`` says no attempt could start
        first = next((p for p in self.paths if p.argv), None)
        return {
            "schema": PLAN_SCHEMA_VERSION,
            "codex_route_version": __version__,
            "alias": self.decision.alias,
            "provider": self.decision.provider,
            "paths": [p.to_dict() for p in self.paths],
            "codex_argv": first.argv if first else None,
            "tokens": self.tokens.to_dict(),
            "compression": {r.name: r.tokens_removed for r in self.rules},
            "compression_lines": {r.name: r.lines_removed for r in self.rules},
            "secrets_masked": {r.name: r.masked for r in self.rules if r.name in SECRET_RULES},
            "classification": self.classification.to_dict(),
            "estimated_cost_usd": round(self.estimated_cost_usd, 6),
            "estimate_basis": self._estimate_basis(),
            "cost_by_alias": {name: c.to_dict() for name, c in self.costs.items()},
            "max_cost_usd": self.settings["max_cost_usd"],
            "blocked": self.blocked,
            "context_window": None
            if self.decision.window is None
            else self.decision.window.to_dict(),
            "unready": None
            if self.unready is None
            else {
                "error": self.unready.message,
                "hint": self.unready.hint,
                "exit_code": int(self.unready.exit_code),
            },
            "decision_reasons": list(self.decision.reasons),
            "degraded": self.decision.degraded,
            "context_overflow": None if self.overflow is None else self.overflow.to_dict(),
            "escalation": None if self.escalation is None else self.escalation.to_dict(),
            "local_answer": self.decision.local_answer,
            "adaptive_router": self._adaptive_dict(),
            "provenance": self.settings.provenance(),
            "codex": self.codex.to_dict(),
        }

    def _adaptive_dict(self) -> dict[str, Any] | None:
        if self.health is None:
            return None if self.health_error is None else {"error": self.health_error}
        return {**self.health.to_dict(), "held": self.health_held, "error": None}


def _merge_rules(*reports: Iterable[RuleReport]) -> tuple[RuleReport, ...]:
    totals: dict[str, list[int]] = {}
    for report in reports:
        for rule in report:
            acc = totals.setdefault(rule.name, [0, 0, 0, 0])
            acc[0] += rule.lines_removed
            acc[1] += rule.tokens_removed
            acc[2] += rule.lines_changed
            acc[3] += rule.masked
    return tuple(RuleReport(name, *acc) for name, acc in totals.items())


def prepare_text(
    request: RunRequest, settings: Settings, count: Counter
) -> tuple[str, str, TokenCounts, tuple[RuleReport, ...]]:
    """Clean, compress and budget the prompt and attachment.

    Returns the prompt's text, what codex gets on stdin (prompt and attachment), the token
    counts and what each compression rule removed. ``route eval`` prepares each task with it.
    """
    mask = settings["mask_secrets"]
    prompt_result = compress_text(request.prompt, count=count, mask_secrets=mask)
    prompt_text = prompt_result.text.strip("\n")
    prompt_tokens = count(prompt_text)
    raw_tokens = prompt_result.tokens_before or 0
    rules = [prompt_result.rules]
    attachment_text = ""
    attachment_tokens = 0
    budget = settings["max_input_tokens"]
    truncated = False
    if request.attachment is not None:
        parts: list[str] = []
        # The stream counts the raw input itself (exactly, in pieces): no second pass over it.
        report = compress_stream(request.attachment, parts.append, count=count, mask_secrets=mask)
        attachment_text = "".join(parts).strip("\n")
        raw_tokens += report.tokens_before or 0
        rules.append(report.rules)
        room = max(budget - prompt_tokens, budget // 10)
        attachment_tokens = count(attachment_text) if attachment_text else 0
        if attachment_tokens > room:
            fitted: BudgetResult = fit_to_budget(attachment_text, room, count)
            attachment_text, truncated = fitted.text, fitted.truncated
            attachment_tokens = count(attachment_text)
    elif prompt_tokens > budget:
        fitted = fit_to_budget(prompt_text, budget, count)
        prompt_text, truncated = fitted.text, fitted.truncated
        prompt_tokens = count(prompt_text)
    if attachment_text:
        # The same framing Codex itself uses for piped input (codex exec "p" < file).
        codex_input = f"{prompt_text}\n\n<stdin>\n{attachment_text}\n</stdin>\n"
    else:
        codex_input = prompt_text
    clean_tokens = count(codex_input)
    counts = TokenCounts(
        raw_tokens, clean_tokens, prompt_tokens, attachment_tokens, budget, truncated
    )
    return prompt_text, codex_input, counts, _merge_rules(*rules)


def classify_task(
    settings: Settings, prompt_text: str, counts: TokenCounts, codex_input: str
) -> Classification:
    """The classification of prepared text, with the policy's ``classification.*`` thresholds.

    ``build_plan`` and ``route eval`` both call it, so a policy scored by ``route eval`` is the
    policy ``run`` applies.
    """
    policy = settings.policy
    thresholds = ClassifyThresholds(
        medium_tokens=policy.get("classification.medium_tokens"),
        complex_tokens=policy.get("classification.complex_tokens"),
        long_context_tokens=policy.get("classification.long_context_tokens"),
        short_instruction_words=policy.get("classification.short_instruction_words"),
        light_below=policy.get("classification.light_below"),
        deep_from=policy.get("classification.deep_from"),
    )
    return classify(
        prompt_text,
        tokens=counts.clean,
        attachment_tokens=counts.attachment,
        # codex_input is the instruction, then the framed attachment: the signals measure both.
        attachment=codex_input[len(prompt_text) :],
        thresholds=thresholds,
    )


#: Codex's own flag for running outside a git repository (``codex exec`` only).
SKIP_GIT_REPO_CHECK = "--skip-git-repo-check"


def _check_toml_syntax(data: bytes, file: str) -> None:
    """Refuse a config.toml that is not TOML, as Codex would, naming the true fault. Only the
    syntax: a file too deep for codex-route to edit is still fine for the standard path."""
    import tomllib

    from codex_router.codex.config_edit import decode, syntax_fault  # lazy: the edit's module

    text = decode(data, file)[0]
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CodexConfigError(
            f"{file} does not parse: {syntax_fault(text, str(exc))}",
            hint="fix the file: Codex refuses it too, on every path",
        ) from None
    except RecursionError:
        pass  # nested hundreds deep: the run's own checks name it


def _codex_unready(
    codex: CodexBinary,
    request: RunRequest,
    settings: Settings,
    env: Mapping[str, str],
    dirs: AppDirs,
) -> CodexRouteError | None:
    """Why no Codex attempt could run at all, checked as the real run would meet it: codex
    missing or not running ``--version`` (probed once per binary, then cached), config.toml that
    does not parse (its true line and fault), a directory outside git that ``codex exec`` refuses.
    """
    try:
        path = require_codex(codex)
        target = launch_target(path)
        # lazy: run/child_env is the walk's; the probe gets the same environment as there
        from codex_router.run.child_env import without_provider_secrets

        probe_version_cached(
            target.argv0, dirs.cache_dir, env={**without_provider_secrets(env), **target.env}
        )
        config = codex_home(env) / "config.toml"
        if os.path.lexists(config):
            # lazy: tomllib only when there is a config to check
            from codex_router.codex.config_file import read_config_file

            data = read_config_file(config)
            if data is not None:
                _check_toml_syntax(data, str(config))
    except CodexRouteError as exc:
        return exc
    if (
        not request.interactive  # the TUI asks the user itself whether to trust the directory
        and SKIP_GIT_REPO_CHECK not in request.codex_args
        and not settings["skip_git_repo_check"]
        and not in_git_repository(request.cwd)
    ):
        where = request.cwd or str(Path.cwd())
        return WorkdirError(
            f"{where} is not inside a git repository: codex exec refuses to run there "
            "(Not inside a trusted directory)",
            hint="run from a git repository, or set skip_git_repo_check: true in your policy "
            "(CODEX_ROUTE_SKIP_GIT_REPO_CHECK=1), or pass `-- --skip-git-repo-check`",
        )
    return None


def _calibrations(dirs: AppDirs, policy: Policy, alias: str) -> dict[str, Calibration]:
    """The chosen alias's overhead and output from the user's recorded runs (or the policy's).
    Only that alias's: one bounded read; the other aliases' estimates keep the policy's values."""
    # lazy: the history reader; it imports sqlite3 only when a history file exists
    from codex_router.run.calibration import read_calibrations

    return read_calibrations(dirs, policy, [policy.resolve_alias(alias).name])


def _ready_path_plans(
    choices: Sequence[PathChoice],
    codex: CodexBinary,
    settings: Settings,
    config_file: str,
    extra_args: tuple[str, ...],
) -> dict[str, PathPlan]:
    """The ready paths of an alias a run may switch to (after an overflow, on escalation), by
    path name, each with its argv and config change."""
    return {
        choice.name: PathPlan(
            choice.name,
            True,
            choice.reason,
            choice.model,
            choice.reasoning_effort,
            build_argv(codex.path or "codex", choice, extra_args=extra_args),
            config_change(choice.name, settings, config_file).to_dict(),
        )
        for choice in choices
        if choice.ready
    }


def _escalation(
    request: RunRequest,
    settings: Settings,
    decision: RouteDecision,
    task: Classification,
    facts: Any,
    counts: TokenCounts,
    costs: dict[str, CostEstimate],
    unready: CodexRouteError | None,
    codex: CodexBinary,
    extra_args: tuple[str, ...],
    config_file: str,
) -> tuple[EscalationRoute | None, dict[str, PathPlan]]:
    """The next tier a failed attempt may escalate to (``escalate_on``) and its path plans.
    None for the TUI and ``--local-answer`` (no walk); no alias above ``max_cost_usd``."""
    if request.interactive or decision.local_answer:
        return None, {}
    route = escalation_route(settings, decision, task, facts, input_tokens=counts.clean)
    limit = settings["max_cost_usd"]
    if route.alias is not None and limit:
        usd = costs[settings.policy.resolve_alias(route.alias).name].usd
        if usd > limit:
            over = f"{route.alias}'s estimate ${usd:.4f} is above max_cost_usd ${limit:.4f}"
            return route._replace(alias=None, reason=over, paths=()), {}
    if route.alias is None or unready is not None:
        return route, {}
    return route, _ready_path_plans(route.paths, codex, settings, config_file, extra_args)


class AdaptiveRead(NamedTuple):
    """The adaptive router's part of a plan: its verdict, and why it is held back or missing."""

    health: HealthDecision | None = None
    held: str | None = None  # why an applied switch was not made
    error: str | None = None  # the history could not be read


def read_adaptive(
    settings: Settings, decision: RouteDecision, dirs: AppDirs, *, now: float
) -> AdaptiveRead:
    """The paths' health from the history, decided over the route's ready paths.

    Reads nothing when no history exists (and never creates one), when no path is ready or
    Ollama answers directly. A history that cannot be read is reported, not raised: the
    plan does not depend on it.
    """
    ready = [p.name for p in decision.paths if p.ready]
    if decision.local_answer or not ready:
        return AdaptiveRead()
    if not (dirs.state_dir / HISTORY_FILE_NAME).exists():
        return AdaptiveRead()
    # lazy: the store and sqlite3 (~5 ms of start-up) only when there is a history to read
    from codex_router.run.health import read_health

    try:
        health = read_health(dirs, ready, settings.policy.adaptive_router, now=now)
    except StateError as exc:
        return AdaptiveRead(error=exc.message)
    chosen = settings["codex_provider"]
    if health.applied and chosen != "auto":
        # a forced codex provider is the user's choice of first path: the model may not move it
        held = f"codex_provider {chosen} is set ({settings.values['codex_provider'].source})"
        return AdaptiveRead(health._replace(applied=False, order=tuple(ready)), held)
    return AdaptiveRead(health)


def apply_health(decision: RouteDecision, health: HealthDecision) -> RouteDecision:
    """The route with its ready paths in the health's order (applied mode), the paths that are
    not ready left where they were, and why in the order's reason."""
    from codex_router.routing.health import reorder  # lazy: only with a history

    names = reorder([p.name for p in decision.paths], health.order)
    by_name = {p.name: p for p in decision.paths}
    baseline, suggested = health.baseline, health.suggested
    if baseline in health.cooling:
        why = f"{baseline} is cooling down after a {health.path(baseline).quota.hit_outcome}"
    else:
        why = (
            f"adjusted score {health.path(suggested).adjusted_score:.2f} vs "
            f"{health.path(baseline).adjusted_score:.2f} for {baseline}"
        )
    provider, alias_reason, order_reason = decision.reasons
    return decision._replace(
        paths=tuple(by_name[n] for n in names),
        reasons=(
            provider,
            alias_reason,
            f"{order_reason}; adaptive router (applied): {suggested} first, {why}",
        ),
    )


def build_plan(
    request: RunRequest,
    *,
    env: Mapping[str, str],
    dirs: AppDirs,
    count: Counter,
    gather: Callable[..., Any] = gather_facts,
) -> Plan:
    """Decide everything ``run`` would do, without side effects beyond readiness probes."""
    settings = resolve_settings(request.flags, env, dirs, policy_flag=request.policy_file)
    prompt_text, codex_input, counts, rules = prepare_text(request, settings, count)
    policy = settings.policy
    task = classify_task(settings, prompt_text, counts, codex_input)
    if request.local_answer and (request.interactive or request.codex_args):
        raise UsageError(
            "--local-answer asks Ollama directly, without Codex: it takes no "
            + ("--interactive" if request.interactive else "codex arguments"),
            hint="drop --local-answer to run Codex",
        )
    facts = gather(
        env,
        litellm_url=settings["litellm_base_url"] if needs_litellm_probe(settings) else None,
        # only when a local provider is in play: Ollama's model list (GET /api/tags)
        ollama_url=settings["ollama_base_url"] if needs_ollama_probe(settings, task) else None,
    )
    decision = decide_route(
        settings, task, facts, local_answer=request.local_answer, input_tokens=counts.clean
    )
    if settings["codex_provider"] == "standard" and provider_overrides(request.codex_args):
        # Codex with the user's own provider, chosen: the managed paths that would follow it
        # cannot take that override, so the walk is standard alone.
        provider, alias_reason, order_reason = decision.reasons
        decision = decision._replace(
            paths=tuple(p for p in decision.paths if p.name == "standard"),
            reasons=(
                provider,
                alias_reason,
                order_reason + "; standard only: the codex arguments choose your own provider",
            ),
        )
    adaptive = read_adaptive(settings, decision, dirs, now=time.time())
    if adaptive.health is not None and adaptive.health.applied:
        decision = apply_health(decision, adaptive.health)
    check_provider_overrides(request.codex_args, [c.name for c in decision.paths])
    costs = estimate_all(
        policy,
        counts.clean,
        settings["max_output_tokens"],
        _calibrations(dirs, policy, decision.alias),
    )
    codex = locate_codex(request.codex_bin, env)
    config_file = str(codex_home(env) / "config.toml")
    unready = _codex_unready(codex, request, settings, env, dirs)
    extra_args = tuple(request.codex_args)
    if (
        settings["skip_git_repo_check"]
        and not request.interactive
        and SKIP_GIT_REPO_CHECK not in extra_args
    ):
        extra_args += (SKIP_GIT_REPO_CHECK,)
    path_plans = []
    ready_left = len(decision.ready_paths)
    for choice in decision.paths:
        argv = None
        if choice.ready:
            ready_left -= 1
            # Fail fast on every managed path, and on the standard path when a fallback follows
            # (never after --interactive: the TUI is one attempt).
            fail_fast = choice.name != "standard" or (ready_left > 0 and not request.interactive)
            argv = build_argv(
                codex.path or "codex",
                choice,
                interactive=request.interactive,
                fail_fast=fail_fast,
                extra_args=extra_args,
            )
        path_plans.append(
            PathPlan(
                choice.name,
                choice.ready and unready is None,
                choice.reason if unready is None or not choice.ready else unready.message,
                choice.model,
                choice.reasoning_effort,
                argv,
                config_change(choice.name, settings, config_file).to_dict(),
            )
        )
    overflow, overflow_paths = None, {}
    if not request.interactive and not decision.local_answer:
        overflow = overflow_route(settings, decision, task, facts)
        if unready is None:
            overflow_paths = _ready_path_plans(
                overflow.paths, codex, settings, config_file, extra_args
            )
    escalation, escalation_paths = _escalation(
        request,
        settings,
        decision,
        task,
        facts,
        counts,
        costs,
        unready,
        codex,
        extra_args,
        config_file,
    )
    blocked = None
    limit = settings["max_cost_usd"]
    chosen_cost = costs[policy.resolve_alias(decision.alias).name].usd
    if limit and chosen_cost > limit:
        blocked = (
            f"estimated cost ${chosen_cost:.4f} for {decision.alias} is above "
            f"max_cost_usd ${limit:.4f}"
        )
    return Plan(
        settings,
        decision,
        task,
        counts,
        rules,
        costs,
        tuple(path_plans),
        codex,
        blocked,
        codex_input,
        tuple(request.codex_args),
        request.interactive,
        unready,
        overflow,
        overflow_paths,
        escalation,
        escalation_paths,
        health=adaptive.health,
        health_held=adaptive.held,
        health_error=adaptive.error,
    )
