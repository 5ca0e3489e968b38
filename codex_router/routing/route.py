"""Pure routing decision: settings + task classification + readiness facts → alias and paths.

Order of the alias decision (first that applies wins, each recorded as a reason):

1. ``force_model`` (flag, env or policy);
2. the provider's own role (:mod:`codex_router.policy.roles`): ``gemini``/``no-openai`` →
   no-openai, ``qwen`` → local, ``huggingface`` → hf-cheap for simple tasks else hf-fast;
   with ``provider: auto`` the provider itself comes from ``avoid_openai``/``open_models_only``,
   then from intents in the prompt (avoid OpenAI, open models, local), then from the task rule;
3. the task rule's alias (``long_context`` when the input is long, else the complexity's), or
   when the rule names none, the alias of the kind's role (light, default, deep, long).

Roles are resolved through the policy (``roles:``), so a renamed alias routes like the original.

The Codex-facing paths are ``fallback_order`` restricted to what the provider can use, or just
``codex_provider`` when one is given. A path stays in the plan when it cannot be used, marked
``ready: false`` with the reason, so the user sees why it will be skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codex_router.errors import UsageError
from codex_router.policy.model import AliasSpec
from codex_router.policy.roles import TASK_ROLES, Role
from codex_router.policy.settings import Settings
from codex_router.routing.classify import Classification

OPEN_UPSTREAMS = frozenset({"huggingface", "qwen"})


@dataclass(frozen=True)
class ProviderRule:
    """What choosing a provider family means: its alias role (if it forces one) and usable paths."""

    paths: tuple[str, ...]
    role: Role | None = None


PROVIDER_RULES: dict[str, ProviderRule] = {
    "auto": ProviderRule(("standard", "litellm", "huggingface")),
    "openai": ProviderRule(("standard", "litellm")),
    "gemini": ProviderRule(("litellm",), Role.NO_OPENAI),
    "no-openai": ProviderRule(("litellm", "huggingface"), Role.NO_OPENAI),
    "huggingface": ProviderRule(("huggingface",)),  # role by complexity, see _provider_role
    "qwen": ProviderRule(("litellm",), Role.LOCAL),
}


@dataclass(frozen=True)
class ReadinessFacts:
    """What the outside world looks like, gathered by :mod:`codex_router.routing.readiness`."""

    env_present: frozenset[str] = frozenset()
    litellm_reachable: bool | None = None  # None: not probed
    litellm_detail: str = ""
    litellm_aliases: frozenset[str] | None = (
        None  # what codex-route's running proxy serves; None: unknown
    )


@dataclass(frozen=True)
class PathChoice:
    name: str
    ready: bool
    reason: str
    model: str | None  # what Codex is told to use; None = Codex's own default
    reasoning_effort: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ready": self.ready,
            "reason": self.reason,
            "model": self.model,
            "reasoning_effort": self.reasoning_effort,
        }


@dataclass(frozen=True)
class RouteDecision:
    alias: str
    provider: str
    paths: tuple[PathChoice, ...]
    reasons: tuple[str, ...] = field(default=())

    @property
    def ready_paths(self) -> tuple[PathChoice, ...]:
        return tuple(p for p in self.paths if p.ready)


def _describe(settings: Settings, name: str) -> str:
    r = settings.values[name]
    if r.source == "flag":
        return f"{r.origin}"
    if r.source == "env":
        return f"${r.origin}"
    return f"{r.source} policy" + (f" ({r.file}:{r.line})" if r.source == "file" else "")


def choose_provider(
    settings: Settings, task: Classification, facts: ReadinessFacts
) -> tuple[str, str]:
    """The provider family and why."""
    provider = settings["provider"]
    if provider != "auto":
        return provider, f"provider {provider} set by {_describe(settings, 'provider')}"
    if settings["open_models_only"]:
        pick = "huggingface" if "HF_TOKEN" in facts.env_present else "qwen"
        why = "" if pick == "huggingface" else " (HF_TOKEN not set, so local Qwen)"
        return pick, f"open_models_only set by {_describe(settings, 'open_models_only')}{why}"
    if settings["avoid_openai"]:
        return "no-openai", f"avoid_openai set by {_describe(settings, 'avoid_openai')}"
    if "avoid_openai" in task.intents:
        return "no-openai", "the prompt asks to avoid OpenAI"
    if "open_models" in task.intents:
        if "HF_TOKEN" in facts.env_present:
            return "huggingface", "the prompt asks for open models"
        return "qwen", "the prompt asks for open models (HF_TOKEN not set, so local Qwen)"
    if "local" in task.intents:
        return "qwen", "the prompt asks for a local model"
    kind = "long_context" if task.long_context else task.complexity
    rule = settings.policy.task_rules.get(kind)
    if rule is not None and rule.provider not in (None, "auto"):
        return rule.provider, f"task_provider_rules.{kind}.provider"
    return "auto", "provider auto: every path in fallback_order"


def _provider_role(provider: str, task: Classification) -> Role | None:
    if provider == "huggingface":
        simple = task.complexity == "simple" and not task.long_context
        return Role.HF_CHEAP if simple else Role.HF_FAST
    return PROVIDER_RULES[provider].role


def choose_alias(settings: Settings, provider: str, task: Classification) -> tuple[str, str]:
    policy = settings.policy
    forced = settings["force_model"]
    if forced is not None:
        return forced, f"force_model {forced} set by {_describe(settings, 'force_model')}"
    role = _provider_role(provider, task)
    if role is not None:
        by_provider = policy.alias_for(role)  # the policy checked that the alias exists
        return by_provider, f"provider {provider} uses {by_provider}"
    kind = "long_context" if task.long_context else task.complexity
    rule = policy.task_rules.get(kind)
    if rule is not None and rule.alias is not None:
        return rule.alias, f"{kind} task → task_provider_rules.{kind}.alias"
    role = TASK_ROLES[kind]
    return policy.alias_for(role), f"{kind} task → roles.{role}"


def _check_constraints(settings: Settings, alias: AliasSpec, name: str) -> None:
    """A forced alias that breaks avoid_openai/open_models_only is a contradiction to report."""
    upstreams = set(alias.upstreams)
    policy = settings.policy
    local = policy.alias_for(Role.LOCAL)
    if settings["avoid_openai"] and "openai" in upstreams:
        raise UsageError(
            f"alias {name} reaches OpenAI, but avoid_openai is set by "
            f"{_describe(settings, 'avoid_openai')}",
            hint=f"choose {policy.alias_for(Role.NO_OPENAI)}, a Hugging Face alias or {local}",
        )
    if settings["open_models_only"] and upstreams and not upstreams <= OPEN_UPSTREAMS:
        raise UsageError(
            f"alias {name} reaches closed models, but open_models_only is set by "
            f"{_describe(settings, 'open_models_only')}",
            hint=f"choose a Hugging Face alias or {local}",
        )


def _path_order(settings: Settings, provider: str) -> tuple[list[str], str]:
    allowed = PROVIDER_RULES[provider].paths
    pinned = settings["codex_provider"]
    if pinned != "auto":
        if pinned not in allowed:
            raise UsageError(
                f"codex provider {pinned} (set by {_describe(settings, 'codex_provider')}) "
                f"cannot serve provider {provider}; usable paths: {', '.join(allowed)}"
            )
        return [pinned], f"codex_provider {pinned} set by {_describe(settings, 'codex_provider')}"
    order = [p for p in settings["fallback_order"] if p in allowed]
    if not order:
        raise UsageError(
            f"fallback_order ({', '.join(settings['fallback_order'])}) has no path provider "
            f"{provider} can use ({', '.join(allowed)})"
        )
    return order, "fallback_order filtered for provider " + provider


def _path_choice(
    path: str, settings: Settings, alias_name: str, alias: AliasSpec, facts: ReadinessFacts
) -> PathChoice:
    upstreams = set(alias.upstreams)
    missing = [v for v in alias.requires_env if v not in facts.env_present]
    if path == "standard":
        model, effort = alias.openai_model, alias.reasoning_effort
        if settings["avoid_openai"]:
            return PathChoice(
                path, False, "avoid_openai: the standard path is OpenAI", model, effort
            )
        if settings["open_models_only"]:
            return PathChoice(
                path, False, "open_models_only: the standard path is OpenAI", model, effort
            )
        if upstreams and "openai" not in upstreams:
            return PathChoice(path, False, f"{alias_name} does not use OpenAI models", None)
        what = model or "Codex's own default model"
        return PathChoice(path, True, f"Codex as you configured it, model {what}", model, effort)
    if path == "litellm":
        if settings["disable_litellm"]:
            return PathChoice(
                path,
                False,
                f"LiteLLM disabled by {_describe(settings, 'disable_litellm')}",
                alias_name,
            )
        if missing:
            return PathChoice(
                path, False, f"{', '.join(missing)} not set (needed by {alias_name})", alias_name
            )
        if "LITELLM_API_KEY" not in facts.env_present:
            return PathChoice(
                path,
                False,
                "LITELLM_API_KEY not set and no codex-route proxy running "
                "(codex-route proxy start)",
                alias_name,
            )
        if facts.litellm_reachable is False:
            return PathChoice(
                path,
                False,
                f"LiteLLM proxy down: {facts.litellm_detail} (codex-route proxy start)",
                alias_name,
            )
        if facts.litellm_aliases is not None and alias_name not in facts.litellm_aliases:
            return PathChoice(
                path,
                False,
                f"the running codex-route proxy has no deployment for {alias_name} "
                "(a provider key was missing at proxy start; see codex-route proxy status)",
                alias_name,
            )
        return PathChoice(
            path, True, f"LiteLLM proxy at {settings['litellm_base_url']}", alias_name
        )
    # huggingface
    model = alias.huggingface_model
    if model is None:
        return PathChoice(path, False, f"{alias_name} has no huggingface_model", None)
    if "HF_TOKEN" not in facts.env_present:
        return PathChoice(path, False, "HF_TOKEN not set", model)
    return PathChoice(
        path, True, f"Hugging Face router at {settings['huggingface_base_url']}", model
    )


def decide_route(settings: Settings, task: Classification, facts: ReadinessFacts) -> RouteDecision:
    """Choose the alias, the provider family and the ordered Codex-facing paths."""
    provider, provider_reason = choose_provider(settings, task, facts)
    alias_name, alias_reason = choose_alias(settings, provider, task)
    spec = settings.policy.resolve_alias(alias_name)
    if settings["force_model"] is not None:
        _check_constraints(settings, spec, alias_name)
    order, order_reason = _path_order(settings, provider)
    paths = tuple(_path_choice(p, settings, alias_name, spec, facts) for p in order)
    return RouteDecision(alias_name, provider, paths, (provider_reason, alias_reason, order_reason))


def needs_litellm_probe(settings: Settings) -> bool:
    """Whether the LiteLLM path could appear at all (avoids a socket probe when it cannot)."""
    if settings["disable_litellm"]:
        return False
    return settings["codex_provider"] == "litellm" or "litellm" in settings["fallback_order"]
