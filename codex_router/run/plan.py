"""The whole routing decision of ``run`` as one :class:`Plan`: read, clean, compress, budget,
count tokens, classify, route, estimate the cost, build each path's argv.

``build_plan`` reads no file but the policy, writes nothing, and probes only what readiness
needs (a TCP connect to the local proxy). ``run --dry-run`` prints the plan; ``run`` will
execute it. The prompt text lives in ``Plan.codex_input`` only: ``to_dict`` never includes it,
so a plan can be printed as JSON or recorded without leaking the prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codex_router import __version__
from codex_router.codex.argv import build_argv, config_change
from codex_router.codex.binary import CodexBinary, locate_codex
from codex_router.codex.passthrough import check_provider_overrides, provider_overrides
from codex_router.dirs import AppDirs, codex_home
from codex_router.errors import UsageError
from codex_router.policy.settings import Settings, resolve_settings
from codex_router.prompt.budget import BudgetResult, fit_to_budget
from codex_router.prompt.compress import RuleReport, compress_stream, compress_text
from codex_router.prompt.secrets import RULES as SECRET_RULES
from codex_router.routing.classify import Classification, ClassifyThresholds, classify
from codex_router.routing.cost import CostEstimate, estimate_all
from codex_router.routing.readiness import gather_facts
from codex_router.routing.route import (
    RouteDecision,
    decide_route,
    needs_litellm_probe,
    needs_ollama_probe,
)

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


@dataclass(frozen=True)
class TokenCounts:
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


@dataclass(frozen=True)
class PathPlan:
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

    @property
    def estimated_cost_usd(self) -> float:
        # Legacy names (alias_of) are priced as the alias they stand for.
        return self.costs[self.settings.policy.resolve_alias(self.decision.alias).name].usd

    @property
    def first_ready(self) -> PathPlan | None:
        return next((p for p in self.paths if p.ready), None)

    def to_dict(self) -> dict[str, Any]:
        first = self.first_ready
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
            "cost_by_alias": {name: c.to_dict() for name, c in self.costs.items()},
            "max_cost_usd": self.settings["max_cost_usd"],
            "blocked": self.blocked,
            "decision_reasons": list(self.decision.reasons),
            "degraded": self.decision.degraded,
            "local_answer": self.decision.local_answer,
            "provenance": self.settings.provenance(),
            "codex": self.codex.to_dict(),
        }


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


def _prepare_text(
    request: RunRequest, settings: Settings, count: Counter
) -> tuple[str, str, TokenCounts, tuple[RuleReport, ...]]:
    """Clean, compress and budget the prompt and attachment.

    Returns the prompt's text, what codex gets on stdin (prompt and attachment), the token
    counts and what each compression rule removed.
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
    prompt_text, codex_input, counts, rules = _prepare_text(request, settings, count)
    policy = settings.policy
    thresholds = ClassifyThresholds(
        medium_tokens=policy.get("classification.medium_tokens"),
        complex_tokens=policy.get("classification.complex_tokens"),
        long_context_tokens=policy.get("classification.long_context_tokens"),
    )
    task = classify(
        prompt_text, tokens=counts.clean, attachment_tokens=counts.attachment, thresholds=thresholds
    )
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
    decision = decide_route(settings, task, facts, local_answer=request.local_answer)
    if settings["codex_provider"] == "standard" and provider_overrides(request.codex_args):
        # Codex with the user's own provider, chosen: the managed paths that would follow it
        # cannot take that override, so the walk is standard alone.
        provider, alias_reason, order_reason = decision.reasons
        decision = replace(
            decision,
            paths=tuple(p for p in decision.paths if p.name == "standard"),
            reasons=(
                provider,
                alias_reason,
                order_reason + "; standard only: the codex arguments choose your own provider",
            ),
        )
    check_provider_overrides(request.codex_args, [c.name for c in decision.paths])
    costs = estimate_all(policy, counts.clean, settings["max_output_tokens"])
    codex = locate_codex(request.codex_bin, env)
    config_file = str(codex_home(env) / "config.toml")
    path_plans = []
    ready_left = len(decision.ready_paths)
    for choice in decision.paths:
        argv = None
        if choice.ready:
            ready_left -= 1
            # Fail fast on every managed path, and on the standard path when a fallback follows.
            fail_fast = choice.name != "standard" or ready_left > 0
            argv = build_argv(
                codex.path or "codex",
                choice,
                interactive=request.interactive,
                fail_fast=fail_fast,
                extra_args=request.codex_args,
            )
        path_plans.append(
            PathPlan(
                choice.name,
                choice.ready,
                choice.reason,
                choice.model,
                choice.reasoning_effort,
                argv,
                config_change(choice.name, settings, config_file).to_dict(),
            )
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
    )
