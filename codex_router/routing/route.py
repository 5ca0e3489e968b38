"""Pure routing decision: settings + task classification + readiness facts → alias and paths.

Order of the alias decision (first that applies wins, each recorded as a reason):

1. ``force_model`` (flag, env or policy);
2. the provider's own role (:mod:`codex_router.policy.roles`): ``gemini``/``no-openai`` →
   no-openai, ``qwen`` → local, ``local-small``/``phi`` → small-local, ``claude`` → claude,
   ``huggingface`` → hf-cheap for simple tasks else hf-fast, ``openai`` → light for simple
   tasks else deep; with ``provider: auto`` the provider itself comes from
   ``avoid_openai``/``open_models_only``, then from intents in the prompt (avoid OpenAI, open
   models, local), then from the task rule;
3. the task rule's alias (``long_context`` when the input is long, else the complexity's), or
   when the rule names none, the alias of the kind's role (light, default, deep, long).

A provider whose prerequisite is missing (``HF_TOKEN``; Ollama up with the model pulled;
``ANTHROPIC_API_KEY`` and the proxy) *degrades* as the earlier cost-routing script did —
huggingface/qwen → default tier (a prompt's wish → the task's own tier), local-small/phi →
Qwen, then light tier, claude → deep tier — and the alias reason says what was missing. A request
that must not reach OpenAI (``avoid_openai``, ``open_models_only``, the providers ``no-openai``
and ``gemini``, a prompt asking to avoid OpenAI, an explicit ``--local-answer``) never degrades:
its paths stay not ready, each saying what to start or set.

Roles are resolved through the policy (``roles:``), so a renamed alias routes like the original.

The Codex-facing paths are ``fallback_order`` restricted to what the provider can use. A chosen
path (``codex_provider``) goes first, then the rest of ``fallback_order``, then ``standard``
unless the request must not reach OpenAI. A path stays in the plan when it cannot be used,
marked ``ready: false`` with the reason, so the user sees why it is skipped and the walk goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from codex_router.errors import UsageError
from codex_router.policy.model import AliasSpec
from codex_router.policy.roles import TASK_ROLES, Role
from codex_router.policy.settings import Settings
from codex_router.routing.classify import Classification

OPEN_UPSTREAMS = frozenset({"huggingface", "qwen"})
#: Providers answered by a model on the local Ollama.
LOCAL_PROVIDERS = frozenset({"qwen", "local-small", "phi"})
#: Providers that by definition never reach OpenAI: they never degrade to an OpenAI tier.
NO_OPENAI_PROVIDERS = frozenset({"no-openai", "gemini"})
_ALL_PATHS = ("standard", "litellm", "huggingface")


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
    "local-small": ProviderRule(("litellm",), Role.SMALL_LOCAL),
    "phi": ProviderRule(("litellm",), Role.SMALL_LOCAL),
    "claude": ProviderRule(("litellm",), Role.CLAUDE),
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
    ollama_reachable: bool | None = None  # None: not probed (no local provider in play)
    ollama_detail: str = ""
    ollama_models: frozenset[str] | None = None  # from /api/tags; None: unknown


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
    degraded: str | None = None  # what was missing when the provider's own alias was not used
    local_answer: bool = False  # Ollama answers directly, without Codex (--local-answer)

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


def _pick_provider(
    settings: Settings, task: Classification, facts: ReadinessFacts
) -> tuple[str, str, bool]:
    """The provider family, why, and whether it is only the prompt's wish (a soft choice)."""
    provider = settings["provider"]
    if provider != "auto":
        return provider, f"provider {provider} set by {_describe(settings, 'provider')}", False
    if settings["open_models_only"]:
        pick = "huggingface" if "HF_TOKEN" in facts.env_present else "qwen"
        why = "" if pick == "huggingface" else " (HF_TOKEN not set, so local Qwen)"
        setter = _describe(settings, "open_models_only")
        return pick, f"open_models_only set by {setter}{why}", False
    if settings["avoid_openai"]:
        return "no-openai", f"avoid_openai set by {_describe(settings, 'avoid_openai')}", False
    if "avoid_openai" in task.intents:
        return "no-openai", "the prompt asks to avoid OpenAI", False
    if "open_models" in task.intents:
        if "HF_TOKEN" in facts.env_present:
            return "huggingface", "the prompt asks for open models", True
        return "qwen", "the prompt asks for open models (HF_TOKEN not set, so local Qwen)", True
    if "local" in task.intents:
        return "qwen", "the prompt asks for a local model", True
    kind = "long_context" if task.long_context else task.complexity
    rule = settings.policy.task_rules.get(kind)
    if rule is not None and rule.provider not in (None, "auto"):
        return rule.provider, f"task_provider_rules.{kind}.provider", False
    return "auto", "provider auto: every path in fallback_order", False


def choose_provider(
    settings: Settings, task: Classification, facts: ReadinessFacts
) -> tuple[str, str]:
    """The provider family and why."""
    provider, reason, _soft = _pick_provider(settings, task, facts)
    return provider, reason


def _provider_role(provider: str, task: Classification) -> Role | None:
    if provider == "huggingface":
        simple = task.complexity == "simple" and not task.long_context
        return Role.HF_CHEAP if simple else Role.HF_FAST
    return PROVIDER_RULES[provider].role


@dataclass(frozen=True)
class Tier:
    """The role a provider's request gets with the facts at hand, and its usable paths."""

    role: Role | None  # None: the task's own alias (task rule, else the kind's role)
    paths: tuple[str, ...]
    missing: str | None = None  # the prerequisite that is missing, with how to fix it
    degraded: bool = False  # True: ``role`` is not the provider's own because of ``missing``


def _pulled(model: str, models: frozenset[str]) -> bool:
    bare = model.removesuffix(":latest")
    return model in models or bare in models or f"{bare}:latest" in models


def local_missing(settings: Settings, facts: ReadinessFacts, role: Role) -> str | None:
    """Why the Ollama model of ``role``'s alias cannot answer (None: it can, or not probed)."""
    return _ollama_missing(
        facts, settings.policy.resolve_alias(settings.policy.alias_for(role)).local_model
    )


def _ollama_missing(facts: ReadinessFacts, model: str | None) -> str | None:
    if facts.ollama_reachable is None:
        return None
    if not facts.ollama_reachable:
        return f"Ollama is not reachable ({facts.ollama_detail}; start it: ollama serve)"
    if model and facts.ollama_models is not None and not _pulled(model, facts.ollama_models):
        return f"{model} is not pulled in Ollama (ollama pull {model})"
    return None


def _claude_missing(settings: Settings, facts: ReadinessFacts) -> str | None:
    """Why Claude through the LiteLLM proxy cannot answer (None: it can, or not probed)."""
    alias = settings.policy.alias_for(Role.CLAUDE)
    served = facts.litellm_aliases
    if settings["disable_litellm"]:
        return f"LiteLLM disabled by {_describe(settings, 'disable_litellm')}"
    if "ANTHROPIC_API_KEY" not in facts.env_present:
        # As the old tool: the key in this environment (a proxy started without it may still
        # serve the alias, through its fallbacks: not Claude)
        return "ANTHROPIC_API_KEY not set (set it, then codex-route proxy start)"
    if facts.litellm_reachable is False:
        return f"LiteLLM proxy down: {facts.litellm_detail} (codex-route proxy start)"
    if facts.litellm_reachable and "LITELLM_API_KEY" not in facts.env_present:
        return "LITELLM_API_KEY not set and no codex-route proxy running (codex-route proxy start)"
    if served is not None and alias not in served:
        return (
            f"the running codex-route proxy does not serve {alias} "
            "(restart it with ANTHROPIC_API_KEY set)"
        )
    return None


def provider_tier(
    settings: Settings, provider: str, task: Classification, facts: ReadinessFacts, *, strict: bool
) -> Tier:
    """The provider's own role when its prerequisite is there, else what the old tool fell to.

    ``strict``: the request must not reach OpenAI (or asked for Ollama itself), so it keeps
    its own role and only records what is missing.
    """
    kind = "long_context" if task.long_context else task.complexity
    paths = PROVIDER_RULES[provider].paths
    if provider == "huggingface":
        simple = kind == "simple"
        own = Role.HF_CHEAP if simple else Role.HF_FAST
        if "HF_TOKEN" in facts.env_present:
            return Tier(own, paths)
        return _fall(own, paths, Role.DEFAULT, "HF_TOKEN not set", strict)
    if provider == "qwen":
        return _fall(
            Role.LOCAL, paths, Role.DEFAULT, local_missing(settings, facts, Role.LOCAL), strict
        )
    if provider in ("local-small", "phi"):
        missing = local_missing(settings, facts, Role.SMALL_LOCAL)
        if missing is None:
            return Tier(Role.SMALL_LOCAL, paths)
        qwen_missing = local_missing(settings, facts, Role.LOCAL)
        if qwen_missing is None:
            return Tier(Role.LOCAL, paths, f"{missing}, so the local Qwen", degraded=True)
        both = missing if qwen_missing == missing else f"{missing}; {qwen_missing}"
        return _fall(Role.SMALL_LOCAL, paths, Role.LIGHT, both, strict)
    if provider == "claude":
        return _fall(Role.CLAUDE, paths, Role.DEEP, _claude_missing(settings, facts), strict)
    if provider == "openai":
        rule = settings.policy.task_rules.get(kind)
        if rule is not None and rule.alias is not None:
            return Tier(None, paths)
        role = {"simple": Role.LIGHT, "long_context": Role.LONG}.get(kind, Role.DEEP)
        return Tier(role, paths)
    return Tier(PROVIDER_RULES[provider].role, paths)


def _fall(own: Role, paths: tuple[str, ...], tier: Role, missing: str | None, strict: bool) -> Tier:
    if missing is None:
        return Tier(own, paths)
    if strict:
        return Tier(own, paths, missing)
    return Tier(tier, _ALL_PATHS, missing, degraded=True)


def strict_reason(
    settings: Settings, provider: str, task: Classification, *, local_answer: bool = False
) -> str | None:
    """Why this request must not degrade to a tier that reaches OpenAI (None: it may)."""
    if settings["avoid_openai"]:
        return f"avoid_openai set by {_describe(settings, 'avoid_openai')}"
    if settings["open_models_only"]:
        return f"open_models_only set by {_describe(settings, 'open_models_only')}"
    if provider in NO_OPENAI_PROVIDERS:
        return f"provider {provider} never reaches OpenAI"
    if "avoid_openai" in task.intents:
        return "the prompt asks to avoid OpenAI"
    if local_answer:
        return "--local-answer asks Ollama itself"
    return None


def choose_alias(
    settings: Settings, provider: str, task: Classification, tier: Tier | None = None
) -> tuple[str, str]:
    policy = settings.policy
    forced = settings["force_model"]
    if forced is not None:
        return forced, f"force_model {forced} set by {_describe(settings, 'force_model')}"
    role = _provider_role(provider, task) if tier is None else tier.role
    if role is not None and not (tier is not None and tier.degraded):
        by_provider = policy.alias_for(role)  # the policy checked that the alias exists
        return by_provider, f"provider {provider} uses {by_provider}"
    if role is not None:
        alias = policy.alias_for(role)
        return alias, f"{role} tier {alias}"
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


def _path_order(
    settings: Settings, provider: str, allowed: tuple[str, ...], *, no_openai: bool
) -> tuple[list[str], str]:
    """The paths to walk: a chosen path first, then the rest of ``fallback_order``, then
    ``standard`` (unless the request must not reach OpenAI), de-duplicated and restricted to
    what the provider can use. Without a chosen path, ``fallback_order`` as the user wrote it.
    """
    chosen = settings["codex_provider"]
    fallback = list(settings["fallback_order"])
    if chosen == "auto":
        order = [p for p in fallback if p in allowed]
        if not order:
            raise UsageError(
                f"fallback_order ({', '.join(fallback)}) has no path provider "
                f"{provider} can use ({', '.join(allowed)})"
            )
        return order, "fallback_order filtered for provider " + provider
    if chosen not in allowed:
        raise UsageError(
            f"codex provider {chosen} (set by {_describe(settings, 'codex_provider')}) "
            f"cannot serve provider {provider}; usable paths: {', '.join(allowed)}"
        )
    tail = fallback if no_openai else [*fallback, "standard"]
    order = [p for p in dict.fromkeys([chosen, *tail]) if p in allowed]
    why = f"codex_provider {chosen} set by {_describe(settings, 'codex_provider')} goes first"
    if len(order) > 1:
        then = "fallback_order" if no_openai else "fallback_order, then standard"
        why += f", then {', '.join(order[1:])} ({then})"
    return order, why


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
        if model is None:
            reason = "Codex's own default model and your provider, from config.toml"
            return PathChoice(path, True, reason, None, effort)
        why = f"{alias_name}'s openai_model" + (f", effort {effort}" if effort else "")
        reason = f"model {model} ({why}), your provider from config.toml"
        return PathChoice(path, True, reason, model, effort)
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
        local = _ollama_missing(facts, alias.local_model) if _is_local(alias) else None
        if local is not None:
            return PathChoice(path, False, f"{alias_name}: {local}", alias_name)
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


def _is_local(alias: AliasSpec) -> bool:
    """An alias answered by a model on the local Ollama only."""
    return bool(alias.local_model) and set(alias.upstreams) <= {"qwen"}


def _local_notes(spec: AliasSpec, task: Classification, local_answer: bool) -> str:
    notes = []
    if spec.max_output_tokens:
        target = spec.target_tokens_per_second
        notes.append(
            f"answers capped at {spec.max_output_tokens} output tokens"
            + (f", target ≥ {target:g} tok/s" if target else "")
        )
    if local_answer:
        notes.append(
            "Ollama answers directly, without Codex (without --local-answer, Codex runs "
            "it through the LiteLLM proxy)"
        )
    elif task.complexity != "simple" or task.long_context:
        notes.append(
            "Codex runs it through the LiteLLM proxy (--local-answer: Ollama answers "
            "directly, without Codex)"
        )
    return "; ".join(notes)


def decide_route(
    settings: Settings,
    task: Classification,
    facts: ReadinessFacts,
    *,
    local_answer: bool = False,
) -> RouteDecision:
    """Choose the alias, the provider family and the ordered Codex-facing paths.

    ``local_answer``: the user asked Ollama to answer directly (``--local-answer``).
    """
    provider, provider_reason, soft = _pick_provider(settings, task, facts)
    if local_answer and provider not in LOCAL_PROVIDERS:
        raise UsageError(
            f"--local-answer: provider {provider} is not answered by Ollama",
            hint="add --provider qwen (or local-small / phi)",
        )
    strict = strict_reason(settings, provider, task, local_answer=local_answer)
    tier = provider_tier(settings, provider, task, facts, strict=strict is not None)
    if tier.degraded and soft:
        tier = Tier(None, _ALL_PATHS, tier.missing, degraded=True)  # the prompt's wish only
    alias_name, alias_reason = choose_alias(settings, provider, task, tier)
    spec = settings.policy.resolve_alias(alias_name)
    if tier.missing is not None:
        if tier.degraded:
            alias_reason = f"{tier.missing}: {alias_reason} instead"
        elif strict is not None:
            alias_reason += f"; {tier.missing} (no other tier: {strict})"
    if local_answer and not _is_local(spec):
        raise UsageError(
            f"--local-answer: {alias_name} is not a model on Ollama",
            hint="drop --force-model, or force a local alias",
        )
    if _is_local(spec):
        notes = _local_notes(spec, task, local_answer)
        alias_reason += f" ({notes})" if notes else ""
    if settings["force_model"] is not None:
        _check_constraints(settings, spec, alias_name)
    no_openai = strict_reason(settings, provider, task) is not None
    order, order_reason = _path_order(settings, provider, tier.paths, no_openai=no_openai)
    if tier.degraded and settings["codex_provider"] == "auto":
        order_reason = f"fallback_order as written: {alias_name} is not tied to provider {provider}"
    paths = tuple(_path_choice(p, settings, alias_name, spec, facts) for p in order)
    if _is_local(spec) and not local_answer and _ollama_missing(facts, spec.local_model) is None:
        # No Codex path for the local model is not a dead end: Ollama can answer by itself.
        paths = tuple(
            replace(p, reason=p.reason + "; or --local-answer: Ollama answers directly")
            if not p.ready and p.name == "litellm"
            else p
            for p in paths
        )
    return RouteDecision(
        alias_name,
        provider,
        paths,
        (provider_reason, alias_reason, order_reason),
        tier.missing if tier.degraded else None,
        local_answer,
    )


def needs_litellm_probe(settings: Settings) -> bool:
    """Whether the LiteLLM path could appear at all (avoids a socket probe when it cannot)."""
    if settings["disable_litellm"]:
        return False
    return (
        settings["codex_provider"] == "litellm"
        or "litellm" in settings["fallback_order"]
        or settings["provider"] == "claude"
    )


def needs_ollama_probe(settings: Settings, task: Classification) -> bool:
    """Whether a local provider is in play (avoids asking Ollama when none can be)."""
    provider = settings["provider"]
    if provider in LOCAL_PROVIDERS:
        return True
    if provider != "auto":
        return False
    if settings["open_models_only"] or task.intents & {"local", "open_models"}:
        return True
    kind = "long_context" if task.long_context else task.complexity
    rule = settings.policy.task_rules.get(kind)
    return rule is not None and rule.provider in LOCAL_PROVIDERS
