"""The policy schema and the typed, validated :class:`Policy` built from a located tree.

Scalar settings are kept flat under their dotted key (``classification.medium_tokens``), each
with its :class:`Origin`, so precedence and ``policy show`` treat every value the same way.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, NamedTuple

from codex_router.errors import PolicyError, did_you_mean
from codex_router.policy import fields as f
from codex_router.policy.load import Located, Tree
from codex_router.policy.roles import Role

#: The smallest ``max_input_tokens`` a policy, variable or flag may set.
MIN_INPUT_BUDGET = 1000

#: Scalar settings of a policy, by dotted key. ``task_provider_rules``, ``roles`` and ``aliases``
#: have their own shapes below.
SETTINGS_SCHEMA: dict[str, f.Field] = {
    "version": f.integer(minimum=1, maximum=1),
    "default_provider": f.choice(f.PROVIDERS, casefold=True),
    "default_codex_provider": f.choice(f.CODEX_PROVIDERS, casefold=True),
    "force_model": f.text(),
    "open_models_only": f.BOOLEAN,
    "avoid_openai": f.BOOLEAN,
    "disable_litellm": f.BOOLEAN,
    "max_cost_usd": f.number(),
    "max_input_tokens": f.integer(minimum=MIN_INPUT_BUDGET),
    "max_output_tokens": f.integer(),
    "timeout_seconds": f.integer(minimum=1, maximum=f.MAX_TIMEOUT_SECONDS),
    "skip_git_repo_check": f.BOOLEAN,
    "fallback_order": f.string_list(f.CODEX_PATHS),
    "never_retry_on": f.string_list(f.OUTCOME_KINDS),
    "escalate_on": f.string_list(f.OUTCOME_KINDS),
    "classification.medium_tokens": f.integer(),
    "classification.complex_tokens": f.integer(),
    "classification.long_context_tokens": f.integer(),
    # Tier cut-points on the learned task score (codex_router/routing/weights.py).
    "classification.short_instruction_words": f.integer(minimum=0),
    "classification.light_below": f.number(minimum=-10.0, maximum=10.0),
    "classification.deep_from": f.number(minimum=-10.0, maximum=10.0),
    "cost_model.codex_overhead_input_tokens": f.integer(),
    "cost_model.expected_output_tokens": f.integer(),
    "cost_model.calibrate_min_runs": f.integer(minimum=0),
    "cost_model.calibrate_window": f.integer(minimum=1, maximum=10_000),
    "endpoints.litellm_base_url": f.text(nullable=False, url=True),
    "endpoints.huggingface_base_url": f.text(nullable=False, url=True),
    "endpoints.ollama_base_url": f.text(nullable=False, url=True),
    "compression.mask_secrets": f.BOOLEAN,
    # The team history (docs/team.md): a PostgreSQL URL; null keeps the history local only.
    "history.team_url": f.postgres_url(),
    # Team gateway mode (`proxy start --gateway`, docs/team.md): where it listens, the Redis its
    # instances share router state through, LiteLLM's routing and cooldown, per-deployment limits
    # (0: none).
    "gateway.host": f.text(nullable=False),
    "gateway.port": f.integer(minimum=1, maximum=65535),
    "gateway.redis_url": f.redis_url(),
    "gateway.routing_strategy": f.choice(f.ROUTING_STRATEGIES),
    "gateway.allowed_fails": f.integer(),
    "gateway.cooldown_seconds": f.integer(minimum=1),
    "gateway.rpm": f.integer(),
    "gateway.tpm": f.integer(),
    # Per-member gateway keys (docs/team.md "Members"): the members file (hashes only); null:
    # gateway-members.txt in codex-route's config dir.
    "gateway.members_file": f.text(),
    # rediss:// only: the CA that signed Redis's certificate (null: the system's CAs)
    "gateway.redis_ca_file": f.text(),
    # per error class, the failures a deployment may have before it cools down (null: none)
    "gateway.allowed_fails_policy": f.allowed_fails_policy(),
    # upstream → extra deployments of it (another key or endpoint), balanced at the same order
    "gateway.replicas": f.replicas(),
    # The earlier cost-routing script's adaptive router, validated and kept; the health model
    # of every plan reads it (routing/health.py). Ranges are the ones that script clamped to.
    "adaptive_router.enabled": f.LENIENT_BOOLEAN,
    "adaptive_router.shadow_mode": f.LENIENT_BOOLEAN,
    "adaptive_router.min_confidence_delta": f.number(),
    "adaptive_router.overload_penalty": f.number(),
    "adaptive_router.cold_start_penalty": f.number(),
    "adaptive_router.performance_weight": f.number(maximum=1.0),
    "adaptive_router.min_performance_observations": f.integer(minimum=1),
    "adaptive_router.cost_guard_enabled": f.LENIENT_BOOLEAN,
    "adaptive_router.max_cost_multiplier": f.number(minimum=1.0),
    "adaptive_router.critical_risk_threshold": f.number(maximum=1.0),
    "adaptive_router.decay": f.number(minimum=0.05, maximum=0.95),
    "adaptive_router.max_history": f.integer(minimum=1),
    # codex-route's own: how long a path that hit a usage limit or a 429 is cooled down
    "adaptive_router.quota_cooldown_seconds": f.integer(minimum=0),
}

ALIAS_SCHEMA: dict[str, f.Field] = {
    "description": f.text(),
    "alias_of": f.text(),
    "openai_model": f.text(),
    "reasoning_effort": f.choice(f.REASONING_EFFORTS, nullable=True),
    "huggingface_model": f.text(),
    "gemini_model": f.text(),
    "local_model": f.text(),
    "anthropic_model": f.text(),
    "max_output_tokens": f.integer(minimum=1),
    "target_tokens_per_second": f.number(),
    "input_usd_per_mtok": f.number(),
    "output_usd_per_mtok": f.number(),
    "cached_input_usd_per_mtok": f.number(),
    "context_window": f.integer(minimum=1),
    "upstreams": f.string_list(f.UPSTREAMS),
    "requires_env": f.string_list(),
    "fallbacks": f.string_list(),
}

TASK_RULE_SCHEMA: dict[str, f.Field] = {
    "alias": f.text(),
    "provider": f.choice(f.PROVIDERS, nullable=True, casefold=True),
}

#: Each role (``roles.<role>``) names one alias.
ROLES_SCHEMA: dict[str, f.Field] = {role.value: f.text(nullable=False) for role in Role}

_SECTIONS = (
    "classification",
    "cost_model",
    "endpoints",
    "compression",
    "adaptive_router",
    "history",
    "gateway",
)
_OWN_SHAPES = ("task_provider_rules", "roles", "aliases")
#: Settings whose value is a mapping (of scalars): checked as one value, located at its entry.
_MAPPING_SETTINGS = frozenset({"gateway.allowed_fails_policy", "gateway.replicas"})
_ALIAS_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Origin(NamedTuple):
    """Where a policy value came from: the built-in default policy or a policy file."""

    layer: str  # "default" | "file"
    file: str
    line: int


class AliasSpec(NamedTuple):
    """One alias of the policy: its models per path, prices, limits and upstreams."""

    name: str
    description: str | None = None
    alias_of: str | None = None
    openai_model: str | None = None
    reasoning_effort: str | None = None
    huggingface_model: str | None = None
    gemini_model: str | None = None  # the LiteLLM proxy's Gemini deployment (AI Studio model id)
    local_model: str | None = None
    anthropic_model: str | None = None  # the LiteLLM proxy's Anthropic deployment
    max_output_tokens: int | None = None  # a cap on every answer (the Phi tier: 64)
    target_tokens_per_second: float | None = None  # reported against, when answered locally
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    cached_input_usd_per_mtok: float | None = None  # input served from cache (None: input price)
    context_window: int | None = None
    upstreams: tuple[str, ...] = ()
    requires_env: tuple[str, ...] = ()
    fallbacks: tuple[str, ...] = ()  # LiteLLM fallback groups, tried in order after this one


class AdaptiveRouter(NamedTuple):
    """The ``adaptive_router`` block (the earlier script's keys and defaults), kept as written."""

    enabled: bool
    shadow_mode: bool
    min_confidence_delta: float
    overload_penalty: float
    cold_start_penalty: float
    performance_weight: float
    min_performance_observations: int
    cost_guard_enabled: bool
    max_cost_multiplier: float
    critical_risk_threshold: float
    decay: float
    max_history: int
    quota_cooldown_seconds: int = 600  # not in the earlier script: its policies load without it


class TaskRule(NamedTuple):
    """The alias and provider a policy gives one kind of task (`task_provider_rules`)."""

    alias: str | None
    provider: str | None


class Policy(NamedTuple):
    """A validated policy: every value with its origin."""

    values: dict[str, Any]
    origins: dict[str, Origin]
    aliases: dict[str, AliasSpec]
    task_rules: dict[str, TaskRule]
    roles: dict[Role, str]
    files: tuple[str, ...] = ()

    def get(self, key: str) -> Any:
        return self.values[key]

    def resolve_alias(self, name: str) -> AliasSpec:
        """Follow ``alias_of`` (legacy names) to the alias that holds models and prices."""
        spec = self.aliases[name]
        return self.aliases[spec.alias_of] if spec.alias_of else spec

    @property
    def adaptive_router(self) -> AdaptiveRouter:
        """The validated ``adaptive_router`` block, for the paths' health (``routing/health``)."""
        prefix = "adaptive_router."
        return AdaptiveRouter(
            **{k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}
        )

    def alias_for(self, role: Role) -> str:
        """The name of the alias that plays ``role`` in this policy (``roles.<role>``)."""
        return self.roles[role]


def _origin(loc: Located, default_file: str) -> Origin:
    return Origin("default" if loc.file == default_file else "file", loc.file, loc.line)


def _unknown(key: str, known: list[str], loc_file: str | None, line: int | None) -> PolicyError:
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else None
    return PolicyError(
        f"unknown key (valid keys: {', '.join(sorted(known))})",
        file=loc_file,
        line=line,
        key=key,
        hint=hint,
    )


def _first_line(tree: Tree) -> tuple[str | None, int | None]:
    for value in tree.values():
        if isinstance(value, Located):
            return value.file, value.line
        if isinstance(value, dict):
            found = _first_line(value)
            if found[0]:
                return found
    return None, None


def _check(fld: f.Field, loc: Located, key: str) -> Any:
    try:
        return fld.check(loc.value)
    except ValueError as exc:
        raise PolicyError(
            str(exc), file=loc.file, line=loc.line, key=key, hint=getattr(exc, "hint", None)
        ) from None


def _expect_mapping(value: Any, key: str) -> Tree:
    if isinstance(value, dict):
        return value
    raise PolicyError(
        "expected a mapping of keys to values", file=value.file, line=value.line, key=key
    )


def _flatten(tree: Tree) -> dict[str, Located]:
    flat: dict[str, Located] = {}
    top_known = [k for k in SETTINGS_SCHEMA if "." not in k]
    for key, value in tree.items():
        if key in _OWN_SHAPES:
            continue
        if key in _SECTIONS:
            for sub, sub_value in _expect_mapping(value, key).items():
                dotted = f"{key}.{sub}"
                if dotted not in SETTINGS_SCHEMA:
                    known = [k.split(".", 1)[1] for k in SETTINGS_SCHEMA if k.startswith(key + ".")]
                    file, line = _locate(sub_value)
                    raise _unknown(dotted, known, file, line)
                if isinstance(sub_value, dict) and dotted in _MAPPING_SETTINGS:
                    sub_value = _as_one_value(sub_value, value, dotted)
                if isinstance(sub_value, dict):
                    raise PolicyError(
                        "expected a single value",
                        file=_locate(sub_value)[0],
                        line=_locate(sub_value)[1],
                        key=dotted,
                    )
                flat[dotted] = sub_value
        elif key in SETTINGS_SCHEMA:
            if isinstance(value, dict):
                file, line = _locate(value)
                raise PolicyError(
                    "expected a single value, not a mapping", file=file, line=line, key=key
                )
            flat[key] = value
        else:
            file, line = _locate(value)
            raise _unknown(key, [*top_known, *_SECTIONS, *_OWN_SHAPES], file, line)
    return flat


def _as_one_value(mapping: Tree, section: Tree, key: str) -> Located:
    """A mapping setting as one located value (its first entry's place, or its section's)."""
    plain: dict[str, Any] = {}
    for name, entry in mapping.items():
        if not isinstance(entry, Located):
            file, line = _locate(entry)
            raise PolicyError(
                f"not a mapping here ({key} is {SETTINGS_SCHEMA[key].describe})",
                file=file,
                line=line,
                key=f"{key}.{name}",
            )
        plain[name] = entry.value
        # each entry alone first, so an error names that entry's own line
        _check(SETTINGS_SCHEMA[key], Located({name: entry.value}, entry.file, entry.line), key)
    file, line = _locate(mapping) if mapping else _locate(section)
    return Located(plain, file or "", line or 0)


def _locate(value: Any) -> tuple[str | None, int | None]:
    if isinstance(value, Located):
        return value.file, value.line
    return _first_line(value)


def _check_props(
    tree: Tree, schema: dict[str, f.Field], key: str, default_file: str, origins: dict[str, Origin]
) -> dict[str, Any]:
    """Check each property of a mapping against ``schema``, recording where it came from."""
    props: dict[str, Any] = {}
    for prop, loc in tree.items():
        pkey = f"{key}.{prop}"
        if prop not in schema or isinstance(loc, dict):
            file, line = _locate(loc)
            raise _unknown(pkey, list(schema), file, line)
        props[prop] = _check(schema[prop], loc, pkey)
        origins[pkey] = _origin(loc, default_file)
    return props


def build_policy(tree: Tree, *, default_file: str) -> Policy:
    """Validate a merged located tree and build the typed :class:`Policy`."""
    values: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    for key, loc in _flatten(tree).items():
        values[key] = _check(SETTINGS_SCHEMA[key], loc, key)
        origins[key] = _origin(loc, default_file)
    missing = [k for k in SETTINGS_SCHEMA if k not in values]
    if missing:
        raise PolicyError(f"missing keys: {', '.join(missing)}", file=default_file)

    aliases: dict[str, AliasSpec] = {}
    for name, body in _expect_mapping(tree.get("aliases", {}), "aliases").items():
        key = f"aliases.{name}"
        body_tree = _expect_mapping(body, key)
        if not _ALIAS_NAME.match(name):
            file, line = _locate(body_tree)
            raise PolicyError(
                "alias names use a-z, 0-9, '.', '_' and '-'", file=file, line=line, key=key
            )
        kwargs = _check_props(body_tree, ALIAS_SCHEMA, key, default_file, origins)
        bad = [v for v in kwargs.get("requires_env", ()) if not f.is_env_var_name(v)]
        if bad:
            loc = body_tree["requires_env"]
            raise PolicyError(
                f"{bad[0]!r} is not an environment variable name",
                file=loc.file,
                line=loc.line,
                key=f"{key}.requires_env",
            )
        aliases[name] = AliasSpec(name=name, **{k: v for k, v in kwargs.items() if v is not None})

    task_rules: dict[str, TaskRule] = {}
    rules_tree = _expect_mapping(tree.get("task_provider_rules", {}), "task_provider_rules")
    for kind, body in rules_tree.items():
        key = f"task_provider_rules.{kind}"
        if kind not in f.TASK_KINDS:
            file, line = _locate(body)
            raise _unknown(key, list(f.TASK_KINDS), file, line)
        if isinstance(body, Located) and isinstance(body.value, str):
            # Shorthand kept from the earlier cost-routing scripts: `simple: qwen` names a provider.
            body = {"provider": body}
        rule_tree = _expect_mapping(body, key)
        props = {
            "alias": None,
            "provider": None,
            **_check_props(rule_tree, TASK_RULE_SCHEMA, key, default_file, origins),
        }
        task_rules[kind] = TaskRule(**props)

    roles_tree = _expect_mapping(tree.get("roles", {}), "roles")
    props = _check_props(roles_tree, ROLES_SCHEMA, "roles", default_file, origins)
    missing = [role.value for role in Role if role.value not in props]
    if missing:
        raise PolicyError(f"missing keys: {', '.join(missing)}", file=default_file, key="roles")
    roles = {role: props[role.value] for role in Role}

    policy = Policy(values, origins, aliases, task_rules, roles)
    _cross_check(policy)
    return policy


def _cross_check(policy: Policy) -> None:
    """References between sections: every alias named must exist."""
    names = sorted(policy.aliases)

    def fail(key: str, message: str, hint: str | None = None) -> PolicyError:
        origin = policy.origins.get(key)
        return PolicyError(
            message,
            file=origin.file if origin else None,
            line=origin.line if origin else None,
            key=key,
            hint=hint,
        )

    def unknown_alias(key: str, name: str) -> PolicyError:
        valid = f"unknown alias {name!r} (valid: {', '.join(names)})"
        return fail(key, valid, hint=did_you_mean(name, names))

    def user_set(key: str) -> bool:
        origin = policy.origins.get(key)
        return origin is not None and origin.layer == "file"

    def at(key: str) -> str:
        origin = policy.origins.get(key)
        return f"{key} ({origin.file}:{origin.line})" if origin else key

    for name, spec in policy.aliases.items():
        if spec.alias_of is not None:
            target = policy.aliases.get(spec.alias_of)
            if target is None:
                raise unknown_alias(f"aliases.{name}.alias_of", spec.alias_of)
            if target.alias_of is not None:
                # blame the layer that made the chain: a user file, not the built-in default
                own, theirs = f"aliases.{name}.alias_of", f"aliases.{spec.alias_of}.alias_of"
                if user_set(theirs) and not user_set(own):
                    raise fail(
                        theirs,
                        f"{spec.alias_of} is the target of {at(own)}, "
                        "so it cannot itself be an alias_of",
                        hint=f"give {spec.alias_of} its own models instead of alias_of",
                    )
                raise fail(own, "must name an alias that is not itself an alias_of")
        for target_name in spec.fallbacks:
            if target_name not in policy.aliases:
                raise unknown_alias(f"aliases.{name}.fallbacks", target_name)
            if target_name == name:
                raise fail(f"aliases.{name}.fallbacks", "an alias cannot fall back to itself")
    for kind, rule in policy.task_rules.items():
        if rule.alias is not None and rule.alias not in policy.aliases:
            raise unknown_alias(f"task_provider_rules.{kind}.alias", rule.alias)
    for role, name in policy.roles.items():
        player = policy.aliases.get(name)
        if player is None:
            raise unknown_alias(f"roles.{role}", name)
        if player.alias_of is not None:
            legacy = f"aliases.{name}.alias_of"
            if user_set(legacy) and not user_set(f"roles.{role}"):
                raise fail(
                    legacy,
                    f"{name} plays the role {role} in {at(f'roles.{role}')}, "
                    "so it cannot be an alias_of",
                    hint=f"give {name} its own models, or point roles.{role} at {player.alias_of}",
                )
            raise fail(
                f"roles.{role}",
                f"{name} is a legacy name of {player.alias_of}: name {player.alias_of} itself",
            )
    forced = policy.values.get("force_model")
    if forced is not None and forced not in policy.aliases:
        raise unknown_alias("force_model", forced)
    c = policy.values
    light, deep = "classification.light_below", "classification.deep_from"
    if not (c[light] <= c[deep]):
        if user_set(light) and not user_set(deep):
            raise fail(
                light,
                f"{c[light]:g} is above {at(deep)} = {c[deep]:g}; must be at most that",
                hint=f"lower {light}, or raise {deep} in the same file",
            )
        raise fail(deep, f"must be at least {at(light)} = {c[light]:g}")
    medium, complex_ = "classification.medium_tokens", "classification.complex_tokens"
    if not (c[medium] <= c[complex_]):
        if user_set(medium) and not user_set(complex_):
            raise fail(
                medium,
                f"{c[medium]} is above {at(complex_)} = {c[complex_]}; must be at most that",
                hint=f"lower {medium}, or raise {complex_} in the same file",
            )
        raise fail(complex_, f"must be at least {at(medium)} = {c[medium]}")
