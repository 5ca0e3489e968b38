"""The LiteLLM proxy config, generated from the policy. Pure: reads no file and no environment.

Every alias becomes a model group (the model name Codex sends). Its deployments follow the
alias's ``upstreams`` in order, each with ``order: n`` so LiteLLM tries them one after the other
instead of load-balancing between them:

========== ===================================== ==========================================
upstream   deployment                            how it is reached
========== ===================================== ==========================================
openai     ``openai/<openai_model>``             native Responses API, ``OPENAI_API_KEY``
gemini     ``gemini/<gemini_model>``             bridged Responses → Gemini, ``GEMINI_API_KEY``
huggingface ``openai/<huggingface_model>``       HF router's chat completions, ``HF_TOKEN``
qwen       ``openai/<local_model>``              Ollama's ``/v1/chat/completions``, no key
anthropic  ``anthropic/<anthropic_model>``       bridged Responses → Claude, ``ANTHROPIC_API_KEY``
========== ===================================== ==========================================

Chat-only upstreams carry ``use_chat_completions_api: true``: without it LiteLLM forwards Codex's
Responses request to ``{api_base}/responses`` and the upstream answers 404 (litellm.md §4). They
also drop the parameters only Codex sends (``web_search_options``, ``prompt_cache_key``), which
strict OpenAI-compatible servers reject.

After its own deployments a group falls back to the groups in the alias's ``fallbacks``, then
always to the alias of the ``local`` role. Two rules keep the OpenAI quota saver honest: with
``avoid_openai`` (or ``open_models_only``) no OpenAI deployment is generated at all, and a group
that reaches no OpenAI model (the ``no-openai`` role's above all) never falls back to one that
does. Both roles are resolved through the policy (:mod:`codex_router.policy.roles`).

In team gateway mode an upstream may have replicas (``gateway.replicas``: another key, another
endpoint): every deployment of that upstream gets them as siblings with the same ``order``, so
the gateway's ``routing_strategy`` balances between them (LiteLLM applies it only among
deployments of one order) while the alias's upstreams keep their fallback order.

Keys never appear here: deployments name the variable (``os.environ/GEMINI_API_KEY``) and the
proxy resolves it from its own environment. A deployment whose key is not available is left out
and reported in :attr:`ProxyConfig.skipped`. A group left with no deployment of its own is still
served by its fallbacks (it takes the first one's deployments, :attr:`ProxyConfig.served_by`):
the quota saver's group is Gemini with ``GEMINI_API_KEY`` and the local Qwen without it. Only a
group whose fallbacks cannot run either is left out (:attr:`ProxyConfig.unavailable`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from codex_router.policy.fields import ALLOWED_FAILS_CLASSES
from codex_router.policy.model import AliasSpec, Policy
from codex_router.policy.roles import Role
from codex_router.proxy.keys import MASTER_KEY_VAR, UPSTREAM_KEY_VARS

#: Parameters Codex puts in every Responses request that chat-completions upstreams do not know.
CODEX_ONLY_PARAMS = ("web_search_options", "prompt_cache_key")

#: The alias property naming each upstream's model.
UPSTREAM_MODEL_FIELDS = {
    "openai": "openai_model",
    "gemini": "gemini_model",
    "huggingface": "huggingface_model",
    "qwen": "local_model",
    "anthropic": "anthropic_model",
}
#: Router behaviour: Codex retries failed streams itself, so LiteLLM moves on at once; a
#: deployment that failed twice in a minute sits out 30 s (litellm.md §2, §6).
ROUTER_SETTINGS = {"num_retries": 0, "allowed_fails": 1, "cooldown_time": 30}


@dataclass(frozen=True)
class GatewayRouting:
    """Team gateway mode: the router state its instances share through Redis (docs/team.md).

    With ``redis_host`` set, LiteLLM keeps deployment cooldowns and rpm/tpm usage in that Redis,
    so every instance of the gateway skips a deployment any one of them cooled down. The
    password is never here: LiteLLM reads ``REDIS_PASSWORD`` from the gateway's environment.
    ``rpm``/``tpm`` of 0 set no limit.
    """

    redis_host: str | None
    redis_port: int
    routing_strategy: str
    allowed_fails: int
    cooldown_seconds: int
    rpm: int = 0
    tpm: int = 0
    #: ``rediss://``: LiteLLM's Redis client speaks TLS, verifying against ``redis_ca_file``
    #: (None: the system's CAs) and the host name
    redis_tls: bool = False
    redis_ca_file: str | None = None
    #: error class (``fields.ALLOWED_FAILS_CLASSES`` key) → failures allowed before cooldown
    allowed_fails_policy: tuple[tuple[str, int], ...] = ()

    def router_settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "num_retries": 0,  # Codex retries itself (as ROUTER_SETTINGS)
            "routing_strategy": self.routing_strategy,
            "allowed_fails": self.allowed_fails,
            "cooldown_time": self.cooldown_seconds,
        }
        if self.redis_host is not None:
            # Router state only: no response cache unless the operator asks LiteLLM for one.
            out.update(
                {
                    "redis_host": self.redis_host,
                    "redis_port": self.redis_port,
                    "cache_responses": False,
                }
            )
            if self.redis_tls:
                # host/port + ssl rather than redis_url: LiteLLM drops ssl_ca_certs from a URL
                # config (only the plain Connection's arguments pass there; _redis.py)
                tls: dict[str, Any] = {"ssl": True}
                if self.redis_ca_file is not None:
                    tls["ssl_ca_certs"] = self.redis_ca_file
                out["cache_kwargs"] = tls
        if self.allowed_fails_policy:
            out["allowed_fails_policy"] = {
                ALLOWED_FAILS_CLASSES[name]: fails for name, fails in self.allowed_fails_policy
            }
        return out

    def deployment_limits(self) -> dict[str, int]:
        return {k: v for k, v in (("rpm", self.rpm), ("tpm", self.tpm)) if v > 0}


@dataclass(frozen=True)
class ProxyEndpoints:
    """Where the chat-completions upstreams live (from the policy's ``endpoints``)."""

    huggingface_base_url: str
    ollama_base_url: str


@dataclass(frozen=True)
class ProxyOptions:
    """What the generated config must respect."""

    avoid_openai: bool = False
    open_models_only: bool = False


@dataclass(frozen=True)
class Replica:
    """Another deployment of one upstream (``gateway.replicas``): its own key variable (never
    the key), endpoint (None: the upstream's) and limits (None: ``gateway.rpm``/``tpm``; 0:
    none)."""

    key_var: str | None
    api_base: str | None = None
    rpm: int | None = None
    tpm: int | None = None

    @classmethod
    def from_policy(cls, entry: Mapping[str, Any]) -> Replica:
        return cls(entry["key_var"], entry["api_base"], entry["rpm"], entry["tpm"])

    def limits(self) -> dict[str, int]:
        return {k: v for k, v in (("rpm", self.rpm), ("tpm", self.tpm)) if v is not None}

    def describe(self) -> str:
        """``OPENAI_API_KEY_EU, https://eu.example.com/v1, rpm 500`` (names and URLs only)."""
        parts = [self.key_var or "no key", self.api_base or "the upstream's api_base"]
        parts += [f"{k} {v}" for k, v in self.limits().items()]
        return ", ".join(parts)


@dataclass(frozen=True)
class Deployment:
    """One deployment of a model group."""

    group: str
    upstream: str
    model: str  # the upstream's own model id, as the policy names it
    key_var: str | None
    order: int
    params: dict[str, Any] = field(compare=False)
    #: 1: the upstream's own deployment; 2, 3…: its ``gateway.replicas``, at the same order
    replica: int = 1
    #: a replica's own rpm/tpm, over the gateway's (0: no limit)
    limits: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def deployment_id(self) -> str:
        # No ':' inside: LiteLLM's usage-based routing cuts ids at the first ':' and then finds
        # no deployment at all (every request 429s).
        base = f"{self.group}/{self.order}/{self.upstream}"
        return base if self.replica == 1 else f"{base}/{self.replica}"

    def to_entry(self, gateway_limits: Mapping[str, int] | None = None) -> dict[str, Any]:
        limits = {**(gateway_limits or {}), **self.limits}
        return {
            "model_name": self.group,
            "litellm_params": {
                **self.params,
                "order": self.order,
                **{k: v for k, v in limits.items() if v > 0},
            },
            "model_info": {"id": self.deployment_id},
        }


@dataclass(frozen=True)
class Skipped:
    """A deployment the policy asks for that the config leaves out, and why."""

    group: str
    upstream: str
    reason: str
    key_var: str | None = None  # set when the only reason is a missing key
    replica: int = 1  # 2, 3…: one of the upstream's gateway.replicas

    def to_dict(self) -> dict[str, Any]:
        out = {"alias": self.group, "upstream": self.upstream, "reason": self.reason}
        return out if self.replica == 1 else {**out, "replica": self.replica}


@dataclass(frozen=True)
class ProxyConfig:
    """The generated config, and what it had to leave out."""

    groups: dict[str, tuple[Deployment, ...]]
    fallbacks: dict[str, tuple[str, ...]]
    skipped: tuple[Skipped, ...]
    unavailable: dict[str, str]  # alias → why it has no group
    #: alias → the fallback group whose deployments it serves, for a group none of whose own
    #: deployments can run (e.g. the no-openai role's without GEMINI_API_KEY → the local Qwen)
    served_by: dict[str, str] = field(default_factory=dict)
    #: upstream → its gateway.replicas in this config (the ones whose key is set), in order
    replicas: dict[str, tuple[Replica, ...]] = field(default_factory=dict)

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(self.groups)

    def replicas_in_use(self) -> dict[str, list[dict[str, Any]]]:
        """Upstream → each replica some deployment got: its id suffix, key variable (never the
        key), api_base, limits and the aliases it serves (``proxy start``/``status``)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for upstream, replicas in self.replicas.items():
            for number, replica in enumerate(replicas, 2):
                aliases = [
                    g
                    for g, ds in self.groups.items()
                    if any(d.upstream == upstream and d.replica == number for d in ds)
                ]
                if aliases:
                    out.setdefault(upstream, []).append(
                        {
                            "replica": number,
                            "key_var": replica.key_var,
                            "api_base": replica.api_base,
                            **replica.limits(),
                            "aliases": aliases,
                        }
                    )
        return out

    @property
    def key_vars(self) -> frozenset[str]:
        """The key variables the proxy's environment must hold."""
        return frozenset(d.key_var for ds in self.groups.values() for d in ds if d.key_var)

    def reaches_openai(self, group: str) -> bool:
        return any(d.upstream == "openai" for d in self.groups.get(group, ()))

    def to_data(
        self, gateway: GatewayRouting | None = None, custom_auth: str | None = None
    ) -> dict[str, Any]:
        """The YAML tree LiteLLM reads (``gateway``: team gateway mode's shared router;
        ``custom_auth``: ``module.function`` of the per-member key check beside the config)."""
        limits = gateway.deployment_limits() if gateway is not None else {}
        model_list = [d.to_entry(limits) for ds in self.groups.values() for d in ds]
        fallbacks = [{group: list(chain)} for group, chain in self.fallbacks.items() if chain]
        router = ROUTER_SETTINGS if gateway is None else gateway.router_settings()
        return {
            "model_list": model_list,
            "router_settings": {**router, "fallbacks": fallbacks},
            "litellm_settings": {"drop_params": True},
            "general_settings": {
                "master_key": f"os.environ/{MASTER_KEY_VAR}",
                **({"custom_auth": custom_auth} if custom_auth else {}),
            },
        }

    def to_yaml(
        self,
        *,
        source: str = "the built-in policy",
        gateway: GatewayRouting | None = None,
        custom_auth: str | None = None,
    ) -> str:
        header = (
            f"# LiteLLM proxy config generated by codex-route from {source}.\n"
            "# It holds no key: deployments name variables (os.environ/NAME) that only the\n"
            "# proxy's environment carries. Regenerated by every `codex-route proxy start`.\n"
        )
        data = self.to_data(gateway, custom_auth)
        return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _params(upstream: str, model: str, endpoints: ProxyEndpoints) -> dict[str, Any]:
    if upstream == "openai":
        # Native Responses passthrough: OpenAI speaks the API Codex speaks.
        return {"model": f"openai/{model}", "api_key": "os.environ/OPENAI_API_KEY"}
    if upstream == "gemini":
        return {
            "model": f"gemini/{model}",
            "api_key": "os.environ/GEMINI_API_KEY",
            "additional_drop_params": list(CODEX_ONLY_PARAMS),
        }
    if upstream == "huggingface":
        return {
            "model": f"openai/{model}",
            "api_base": endpoints.huggingface_base_url,
            "api_key": "os.environ/HF_TOKEN",
            "use_chat_completions_api": True,
            "additional_drop_params": list(CODEX_ONLY_PARAMS),
        }
    if upstream == "qwen":
        # Ollama ignores the key but the OpenAI client wants one; a small coder model has no
        # reasoning effort to set.
        return {
            "model": f"openai/{model}",
            "api_base": endpoints.ollama_base_url,
            "api_key": "ollama",
            "use_chat_completions_api": True,
            "additional_drop_params": [*CODEX_ONLY_PARAMS, "reasoning_effort"],
        }
    if upstream == "anthropic":
        # Bridged Responses → Anthropic Messages (the claude role's alias by default).
        return {
            "model": f"anthropic/{model}",
            "api_key": "os.environ/ANTHROPIC_API_KEY",
            "additional_drop_params": list(CODEX_ONLY_PARAMS),
        }
    raise ValueError(f"no deployment recipe for upstream {upstream!r}")


def _replica_params(
    upstream: str, model: str, endpoints: ProxyEndpoints, replica: Replica
) -> dict[str, Any]:
    """The upstream's recipe with the replica's own key variable and endpoint."""
    params = _params(upstream, model, endpoints)
    if replica.key_var is not None:
        params["api_key"] = f"os.environ/{replica.key_var}"
    if replica.api_base is not None:
        params["api_base"] = replica.api_base
    return params


def _exclusion(name: str, upstream: str, options: ProxyOptions, no_openai: str) -> str | None:
    """Why a policy rule keeps this upstream out of the group (None: it may stay).

    ``no_openai`` is the quota saver's alias (the ``no-openai`` role): its group never reaches
    OpenAI, whatever the policy says.
    """
    if upstream not in UPSTREAM_KEY_VARS:
        return f"codex-route has no LiteLLM deployment recipe for upstream {upstream}"
    if upstream == "openai":
        if name == no_openai:
            return f"{no_openai} never reaches OpenAI"
        if options.avoid_openai:
            return "avoid_openai: no OpenAI deployment"
        if options.open_models_only:
            return "open_models_only: no OpenAI deployment"
    if upstream == "gemini" and options.open_models_only:
        return "open_models_only: no Gemini deployment"
    if upstream == "anthropic" and options.open_models_only:
        return "open_models_only: no Anthropic deployment"
    return None


def planned_deployments(
    policy: Policy, options: ProxyOptions
) -> list[tuple[str, str, str, str | None]]:
    """``(alias, upstream, model, key variable)`` for every deployment the policy asks for."""
    planned = []
    no_openai = policy.alias_for(Role.NO_OPENAI)
    for name, spec in policy.aliases.items():
        if spec.alias_of is not None:
            continue
        for upstream in spec.upstreams:
            if _exclusion(name, upstream, options, no_openai) is not None:
                continue
            model = getattr(spec, UPSTREAM_MODEL_FIELDS[upstream])
            if model is not None:
                planned.append((name, upstream, model, UPSTREAM_KEY_VARS[upstream]))
    return planned


def required_keys(policy: Policy, options: ProxyOptions) -> dict[str, tuple[str, ...]]:
    """Key variable → the aliases that need it, for the deployments the policy asks for."""
    needed: dict[str, list[str]] = {}
    for alias, _upstream, _model, key_var in planned_deployments(policy, options):
        if key_var is not None and alias not in needed.setdefault(key_var, []):
            needed[key_var].append(alias)
    return {var: tuple(aliases) for var, aliases in needed.items()}


def _group(
    name: str,
    spec: AliasSpec,
    endpoints: ProxyEndpoints,
    options: ProxyOptions,
    available: frozenset[str],
    skipped: list[Skipped],
    no_openai: str,
    replicas: Mapping[str, Sequence[Replica]],
) -> tuple[Deployment, ...]:
    deployments: list[Deployment] = []
    order = 0  # one per upstream that keeps a deployment: its replicas share it
    for upstream in spec.upstreams:
        excluded = _exclusion(name, upstream, options, no_openai)
        if excluded is not None:
            skipped.append(Skipped(name, upstream, excluded))
            continue
        model = getattr(spec, UPSTREAM_MODEL_FIELDS[upstream])
        if model is None:
            continue  # e.g. qwen listed for a main alias: served by the local role's fallback
        siblings: list[Deployment] = []
        key_var = UPSTREAM_KEY_VARS[upstream]
        if key_var is not None and key_var not in available:
            skipped.append(Skipped(name, upstream, f"{key_var} not set", key_var))
        else:
            siblings.append(
                Deployment(
                    name, upstream, model, key_var, order + 1, _params(upstream, model, endpoints)
                )
            )
        for number, replica in enumerate(replicas.get(upstream, ()), 2):
            var = replica.key_var
            if var is not None and var not in available:
                skipped.append(Skipped(name, upstream, f"{var} not set", var, number))
                continue
            params = _replica_params(upstream, model, endpoints, replica)
            siblings.append(
                Deployment(name, upstream, model, var, order + 1, params, number, replica.limits())
            )
        if siblings:
            order += 1
            deployments += siblings
    return tuple(deployments)


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def build_proxy_config(
    policy: Policy,
    endpoints: ProxyEndpoints,
    options: ProxyOptions,
    available_keys: frozenset[str],
    replicas: Mapping[str, Sequence[Replica]] | None = None,
) -> ProxyConfig:
    """Turn the policy's aliases into LiteLLM model groups with ordered deployments and fallbacks.

    ``available_keys`` names the key variables the proxy's environment will hold (never values);
    ``replicas`` (team gateway mode only) the extra deployments of each upstream.
    """
    replicas = dict(replicas or {})
    skipped: list[Skipped] = []
    groups: dict[str, tuple[Deployment, ...]] = {}
    unavailable: dict[str, str] = {}
    local, no_openai = policy.alias_for(Role.LOCAL), policy.alias_for(Role.NO_OPENAI)
    for name, spec in policy.aliases.items():
        if spec.alias_of is not None:
            continue
        deployments = _group(
            name, spec, endpoints, options, available_keys, skipped, no_openai, replicas
        )
        if deployments:
            groups[name] = deployments
        else:
            reasons = [s.reason for s in skipped if s.group == name]
            unavailable[name] = "; ".join(reasons) if reasons else "no upstream model in the policy"
    # Legacy names (alias_of) get their target's deployments under their own name.
    for name, spec in policy.aliases.items():
        if spec.alias_of is None:
            continue
        target = groups.get(spec.alias_of)
        if target is None:
            unavailable[name] = f"legacy name of {spec.alias_of}, which is unavailable"
            continue
        groups[name] = tuple(dataclasses.replace(d, group=name) for d in target)

    openai_groups = {g for g, ds in groups.items() if any(d.upstream == "openai" for d in ds)}
    own = frozenset(groups)  # the groups with deployments of their own (or their target's)

    def chain_of(name: str) -> tuple[str, ...]:
        """The groups ``name`` falls back to: its policy list, then the local role's alias.

        A group without OpenAI never falls back to one with it."""
        spec = policy.resolve_alias(name)
        chain = [f for f in spec.fallbacks if f in own and f != name]
        if name != local and spec.name != local and local in own:
            chain = [f for f in chain if f != local] + [local]
        if name not in openai_groups:
            chain = [f for f in chain if f not in openai_groups]
        return _dedupe(chain)

    # A group none of whose own deployments can run is still served by its fallbacks: it takes
    # the deployments of the first one in its chain and keeps the rest of the chain. Only a
    # group whose chain is empty too is left out (old configs named such groups and let them
    # fail at call time; a model name LiteLLM does not know never reaches any fallback).
    served_by: dict[str, str] = {}
    fallbacks: dict[str, tuple[str, ...]] = {}
    for name in policy.aliases:
        chain = chain_of(name) if name in own or name in unavailable else ()
        if name not in own and chain:
            source = chain[0]
            groups[name] = tuple(dataclasses.replace(d, group=name) for d in groups[source])
            served_by[name] = source
            chain = chain[1:]
            del unavailable[name]
        if name in groups:
            fallbacks[name] = chain
    order = list(policy.aliases)
    groups = dict(sorted(groups.items(), key=lambda item: order.index(item[0])))
    fallbacks = {name: fallbacks[name] for name in groups}
    return ProxyConfig(
        groups,
        fallbacks,
        tuple(skipped),
        unavailable,
        served_by,
        {u: tuple(r) for u, r in replicas.items()},
    )
