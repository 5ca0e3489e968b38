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

The context-window guard (:func:`check_window`, given the input's token count): the turn —
input + ``cost_model.codex_overhead_input_tokens`` + output (``max_output_tokens``, else
``cost_model.expected_output_tokens``) — must fit the alias's ``context_window``. If not, the
alias gives way to the long-context alias (or, for a provider's own alias, to that provider's
larger one: Phi → Qwen, hf-cheap → hf-fast) when it fits and the run's constraints allow it;
a forced alias never gives way. When nothing fits, the decision says ``refused`` with the
numbers and the run stops before launch (exit 7). An alias without ``context_window`` is not
checked.

The Codex-facing paths are ``fallback_order`` restricted to what the provider can use. A chosen
path (``codex_provider``) goes first, then the rest of ``fallback_order``, then ``standard``
unless the request must not reach OpenAI. A path stays in the plan when it cannot be used,
marked ``ready: false`` with the reason, so the user sees why it is skipped and the walk goes on.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from codex_router.errors import ContextWindowError, UsageError
from codex_router.policy.model import MIN_INPUT_BUDGET, AliasSpec
from codex_router.policy.roles import TASK_ROLES, Role
from codex_router.policy.settings import Settings
from codex_router.routing.classify import Classification

OPEN_UPSTREAMS = frozenset({"huggingface", "qwen"})
#: Providers answered by a model on the local Ollama.
LOCAL_PROVIDERS = frozenset({"qwen", "local-small", "phi"})
#: Providers that by definition never reach OpenAI: they never degrade to an OpenAI tier.
NO_OPENAI_PROVIDERS = frozenset({"no-openai", "gemini"})
_ALL_PATHS = ("standard", "litellm", "huggingface")


class ProviderRule(NamedTuple):
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


class ReadinessFacts(NamedTuple):
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


class PathChoice(NamedTuple):
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


class RouteDecision(NamedTuple):
    alias: str
    provider: str
    paths: tuple[PathChoice, ...]
    reasons: tuple[str, ...] = ()
    degraded: str | None = None  # what was missing when the provider's own alias was not used
    local_answer: bool = False  # Ollama answers directly, without Codex (--local-answer)
    window: WindowCheck | None = None  # the context-window guard; None: no token count given

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


class Tier(NamedTuple):
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


#: The ``<stdin>`` tags around a piped attachment (about 7 tokens), which ``max_input_tokens``
#: trimming does not count: the trimming a refusal suggests leaves room for them.
_FRAMING_TOKENS = 16
#: Providers whose alias is the task's tier (light, deep, long…), not one of their own.
_TASK_TIER_PROVIDERS = frozenset({"auto", "openai"})
#: Providers whose own alias may give way to another of theirs when the input is too big for it.
_WIDER_ROLES: dict[str, tuple[Role, ...]] = {
    "local-small": (Role.LOCAL,),  # Phi-4-mini → the local Qwen, as when Phi is not pulled
    "phi": (Role.LOCAL,),
    "huggingface": (Role.HF_FAST,),
}


class WindowNeed(NamedTuple):
    """The tokens one turn would hold in the model's context window."""

    input_tokens: int  # what the model gets: the prompt and attachment after trimming
    overhead_tokens: int  # Codex's system prompt and tool schemas (0: Ollama answers directly)
    output_tokens: int  # the answer: max_output_tokens when set, else the expected length

    @property
    def total(self) -> int:
        return self.input_tokens + self.overhead_tokens + self.output_tokens

    def terms(self) -> str:
        """``42,000 + 9,000 overhead + 2,000 output``"""
        text = f"{self.input_tokens:,}"
        if self.overhead_tokens:
            text += f" + {self.overhead_tokens:,} overhead"
        return text + f" + {self.output_tokens:,} output"


def window_need(
    settings: Settings, spec: AliasSpec, input_tokens: int, *, local_answer: bool = False
) -> WindowNeed:
    """What a turn on ``spec`` needs: ``input + codex_overhead_input_tokens + output``.

    The output is ``max_output_tokens`` when set, else ``cost_model.expected_output_tokens``
    (as the cost estimate); when Ollama answers directly there is no Codex overhead and the
    alias's own ``max_output_tokens`` caps the answer too.
    """
    policy = settings.policy
    asked = int(settings["max_output_tokens"] or 0)
    caps = [asked, (spec.max_output_tokens or 0) if local_answer else 0]
    output = min((c for c in caps if c), default=policy.get("cost_model.expected_output_tokens"))
    overhead = 0 if local_answer else policy.get("cost_model.codex_overhead_input_tokens")
    return WindowNeed(input_tokens, overhead, output)


class WindowCheck(NamedTuple):
    """Whether the turn fits the ``context_window`` of the alias it goes to.

    ``status``: ``fits``; ``switched`` (the alias first chosen did not fit, ``alias`` does);
    ``refused`` (``alias`` does not fit and no allowed alias does: the run stops, exit 7);
    ``unchecked`` (``alias`` sets no ``context_window``).
    """

    status: str
    alias: str
    window: int | None
    need: WindowNeed
    switched_from: str | None = None
    switched_from_window: int | None = None
    detail: str = ""  # switched: why; refused: the numbers
    hint: str | None = None

    def error(self) -> ContextWindowError | None:
        """The refusal a run stops with (None unless ``refused``)."""
        if self.status != "refused":
            return None
        return ContextWindowError(self.detail, hint=self.hint)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "alias": self.alias,
            "context_window": self.window,
            "needed": self.need.total,
            "input_tokens": self.need.input_tokens,
            "overhead_tokens": self.need.overhead_tokens,
            "output_tokens": self.need.output_tokens,
            "switched_from": self.switched_from,
            "switched_from_context_window": self.switched_from_window,
            "detail": self.detail or None,
            "hint": self.hint,
        }


def _fits(spec: AliasSpec, need: WindowNeed) -> bool:
    return spec.context_window is None or need.total <= spec.context_window


def _not_allowed(
    settings: Settings, spec: AliasSpec, *, no_openai: str | None, local_answer: bool
) -> str | None:
    """Why the run's constraints forbid ``spec`` (None: they allow it)."""
    upstreams = set(spec.upstreams)
    if no_openai is not None and "openai" in upstreams:
        return f"reaches OpenAI ({no_openai})"
    if settings["open_models_only"] and upstreams and not upstreams <= OPEN_UPSTREAMS:
        setter = _describe(settings, "open_models_only")
        return f"reaches closed models (open_models_only set by {setter})"
    if local_answer and not _is_local(spec):
        return "is not a model on Ollama (--local-answer)"
    return None


def long_context_alias(settings: Settings) -> str:
    """The alias a long input goes to: ``task_provider_rules.long_context.alias``, else the
    ``long`` role's."""
    rule = settings.policy.task_rules.get("long_context")
    if rule is not None and rule.alias is not None:
        return rule.alias
    return settings.policy.alias_for(Role.LONG)


def wider_aliases(settings: Settings, provider: str, *, own_alias: bool) -> tuple[str, ...]:
    """The aliases a too-big input may move to, in order: the long-context alias, unless the
    provider chose the alias itself (``own_alias``); then only the provider's own larger one
    (local-small/phi → the local Qwen, huggingface → hf-fast), if any. A no-OpenAI provider asks
    only that OpenAI is not reached: the long-context alias when it reaches none."""
    if not own_alias or provider in NO_OPENAI_PROVIDERS:
        return (long_context_alias(settings),)
    return tuple(settings.policy.alias_for(role) for role in _WIDER_ROLES.get(provider, ()))


def check_window(
    settings: Settings,
    alias: str,
    input_tokens: int,
    *,
    candidates: tuple[str, ...] = (),
    forced_by: str | None = None,
    no_openai: str | None = None,
    local_answer: bool = False,
    provider: str = "auto",
) -> WindowCheck:
    """The context-window guard: does the turn fit ``alias``? Else the first of ``candidates``
    that fits and that the run's constraints allow, else a refusal with the numbers.

    ``forced_by``: who forced the alias (``force_model``): a forced alias is never replaced.
    ``no_openai``: why the run must not reach OpenAI (None: it may). ``provider`` names the
    provider in a refusal.
    """
    policy = settings.policy
    spec = policy.resolve_alias(alias)
    need = window_need(settings, spec, input_tokens, local_answer=local_answer)
    if spec.context_window is None:
        return WindowCheck("unchecked", alias, None, need)
    if _fits(spec, need):
        return WindowCheck("fits", alias, spec.context_window, need)
    over = f"{need.terms()} > {spec.context_window:,} context_window of {alias}"
    refusal = WindowCheck(
        "refused",
        alias,
        spec.context_window,
        need,
        hint=_refusal_hint(settings, need, spec.context_window, no_openai, local_answer),
    )
    if forced_by is not None:
        return refusal._replace(detail=f"the input does not fit: {over}, forced by {forced_by}")
    tried: list[str] = []
    for name in dict.fromkeys(candidates):
        other = policy.resolve_alias(name)
        if other.name == spec.name:
            continue
        why_not = _not_allowed(settings, other, no_openai=no_openai, local_answer=local_answer)
        if why_not is not None:
            tried.append(f"{name} {why_not}")
            continue
        other_need = window_need(settings, other, input_tokens, local_answer=local_answer)
        if _fits(other, other_need):
            return WindowCheck(
                "switched",
                name,
                other.context_window,
                other_need,
                alias,
                spec.context_window,
                f"{over} → {name}",
            )
        assert other.context_window is not None  # _fits: an alias without one always fits
        tried.append(f"{name}'s is {other.context_window:,}")
    if not tried:
        tried.append(f"provider {provider} has no other alias for it")
    return refusal._replace(detail=f"the input does not fit: {over}; {'; '.join(tried)}")


def _refusal_hint(
    settings: Settings,
    need: WindowNeed,
    window: int,
    no_openai: str | None,
    local_answer: bool,
) -> str:
    hints = ["pipe less"]
    room = window - need.overhead_tokens - need.output_tokens - _FRAMING_TOKENS
    budget = settings["max_input_tokens"]
    if MIN_INPUT_BUDGET <= room < budget:
        hints.append(f"lower max_input_tokens (now {budget:,}) to {room:,} to trim the input")
    long_alias = settings.policy.resolve_alias(long_context_alias(settings)).name
    larger = sorted(
        # the long-context alias first, then the smallest that fits
        (name != long_alias, spec.context_window, name)
        for name, spec in settings.policy.aliases.items()
        if spec.alias_of is None
        and spec.context_window is not None
        and _fits(spec, window_need(settings, spec, need.input_tokens, local_answer=local_answer))
        and _not_allowed(settings, spec, no_openai=no_openai, local_answer=local_answer) is None
    )
    if larger:
        _, size, name = larger[0]
        hints.append(f"use an alias with a larger context_window (--force-model {name}: {size:,})")
    else:
        hints.append("give an alias a larger context_window in your policy")
    return ", or ".join(hints)


def decide_route(
    settings: Settings,
    task: Classification,
    facts: ReadinessFacts,
    *,
    local_answer: bool = False,
    input_tokens: int | None = None,
) -> RouteDecision:
    """Choose the alias, the provider family and the ordered Codex-facing paths.

    ``local_answer``: the user asked Ollama to answer directly (``--local-answer``).
    ``input_tokens``: what the model would get (the plan's ``tokens.clean``): the alias must
    fit its ``context_window`` (:func:`check_window`); None skips the guard.
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
    window = None
    if input_tokens is not None:
        forced = settings["force_model"] is not None
        # the provider's own alias (not a degraded tier, not only the prompt's wish) gives way
        # only to the provider's own larger alias; any other to the long-context alias
        own = (
            tier.role is not None
            and not tier.degraded
            and not soft
            and provider not in _TASK_TIER_PROVIDERS
        )
        window = check_window(
            settings,
            alias_name,
            input_tokens,
            candidates=wider_aliases(settings, provider, own_alias=own),
            forced_by=_describe(settings, "force_model") if forced else None,
            no_openai=strict_reason(settings, provider, task),
            local_answer=local_answer,
            provider=provider,
        )
        if window.status == "switched":
            alias_name, alias_reason = window.alias, f"{alias_reason}; {window.detail}"
            spec = settings.policy.resolve_alias(alias_name)
            if soft and not tier.degraded:
                # the prompt's wish gave the provider's paths; the long alias is not tied to them
                tier = Tier(None, _ALL_PATHS, tier.missing, degraded=True)
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
            p._replace(reason=p.reason + "; or --local-answer: Ollama answers directly")
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
        window,
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


class OverflowRoute(NamedTuple):
    """Where a run goes on the same path after Codex said the input overflowed the alias's
    context window (the estimate said it fit): the long-context alias, when it helps."""

    alias: str | None  # None: no such alias; the walk goes on to the next path
    reason: str
    paths: tuple[PathChoice, ...] = ()  # the alias on each path of the walk

    def to_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "reason": self.reason,
            "paths": [p.name for p in self.paths if p.ready],
        }


def overflow_route(
    settings: Settings,
    decision: RouteDecision,
    task: Classification,
    facts: ReadinessFacts,
) -> OverflowRoute:
    """The long-context alias (``long_context_alias``) on the decision's paths, if it is another
    alias with a larger ``context_window`` that the run's constraints allow and no alias is
    forced; else why not."""
    policy = settings.policy
    alias = decision.alias
    long_name = long_context_alias(settings)
    spec, long_spec = policy.resolve_alias(alias), policy.resolve_alias(long_name)
    if settings["force_model"] is not None:
        return OverflowRoute(None, f"{alias} forced by {_describe(settings, 'force_model')}")
    if long_spec.name == spec.name:
        return OverflowRoute(None, f"{alias} is the long-context alias")
    wider = long_spec.context_window
    if wider is None or (spec.context_window is not None and wider <= spec.context_window):
        return OverflowRoute(
            None,
            f"{long_name}'s context_window ({wider or 'unset'}) is not larger than "
            f"{alias}'s ({spec.context_window or 'unset'})",
        )
    no_openai = strict_reason(settings, decision.provider, task)
    why_not = _not_allowed(
        settings, long_spec, no_openai=no_openai, local_answer=decision.local_answer
    )
    if why_not is not None:
        return OverflowRoute(None, f"{long_name} {why_not}")
    narrower = f"{spec.context_window:,}" if spec.context_window else "unset"
    paths = tuple(
        _path_choice(p.name, settings, long_name, long_spec, facts) for p in decision.paths
    )
    return OverflowRoute(
        long_name, f"{long_name}: context_window {wider:,} > {alias}'s {narrower}", paths
    )


#: Escalation's tiers, by role: a failed light run goes up to default, a default one to deep.
NEXT_TIER: dict[Role, Role] = {Role.LIGHT: Role.DEFAULT, Role.DEFAULT: Role.DEEP}


class EscalationRoute(NamedTuple):
    """Where a failed attempt goes up a tier (``escalate_on``): the next tier's alias on each
    path, or why the run cannot escalate."""

    alias: str | None  # None: no escalation for this run
    reason: str
    on: tuple[str, ...] = ()  # the outcome kinds that escalate (``escalate_on``)
    paths: tuple[PathChoice, ...] = ()  # the alias on each path of the walk

    def to_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "reason": self.reason,
            "on": list(self.on),
            "paths": [p.name for p in self.paths if p.ready],
        }


def escalation_route(
    settings: Settings,
    decision: RouteDecision,
    task: Classification,
    facts: ReadinessFacts,
    *,
    input_tokens: int | None = None,
) -> EscalationRoute:
    """The next tier's alias (:data:`NEXT_TIER`, through ``roles:``) for a run whose alias plays
    the light or default role, when ``escalate_on`` lists a kind, no alias is forced, the run's
    constraints allow it and the input fits its ``context_window``; else why not."""
    on = tuple(settings["escalate_on"])
    if not on:
        return EscalationRoute(None, "escalate_on is empty")
    policy = settings.policy
    if settings["force_model"] is not None:
        forced = f"{decision.alias} forced by {_describe(settings, 'force_model')}"
        return EscalationRoute(None, forced, on)
    name = policy.resolve_alias(decision.alias).name
    role = next(
        (r for r in NEXT_TIER if policy.resolve_alias(policy.alias_for(r)).name == name), None
    )
    if role is None:
        return EscalationRoute(None, f"{decision.alias} plays neither the light nor default role")
    higher = policy.alias_for(NEXT_TIER[role])
    spec = policy.resolve_alias(higher)
    why_not = _not_allowed(
        settings,
        spec,
        no_openai=strict_reason(settings, decision.provider, task),
        local_answer=decision.local_answer,
    )
    if why_not is not None:
        return EscalationRoute(None, f"{higher} {why_not}", on)
    if input_tokens is not None and not _fits(spec, window_need(settings, spec, input_tokens)):
        return EscalationRoute(None, f"the input does not fit {higher}'s context_window", on)
    paths = tuple(_path_choice(p.name, settings, higher, spec, facts) for p in decision.paths)
    reason = f"{decision.alias} ({role} role) → {higher} ({NEXT_TIER[role]} role)"
    return EscalationRoute(higher, reason, on, paths)
