"""The ``gateway:`` settings of team gateway mode, resolved flag > env > policy > default.

Kept apart from :data:`codex_router.policy.settings.SETTING_SPECS` because only
``proxy start --gateway`` reads them: a plan never pays for them. Each value carries its
provenance (:class:`Resolved`) like every other setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from codex_router.policy.model import Policy
from codex_router.policy.settings import Resolved, SettingSpec, resolve_layers

GATEWAY_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("host", "gateway.host", "--host", ("CODEX_ROUTE_GATEWAY_HOST",)),
    SettingSpec("port", "gateway.port", "--port", ("CODEX_ROUTE_GATEWAY_PORT",)),
    SettingSpec(
        "redis_url", "gateway.redis_url", "--redis-url", ("CODEX_ROUTE_GATEWAY_REDIS_URL",)
    ),
    SettingSpec(
        "routing_strategy",
        "gateway.routing_strategy",
        None,
        ("CODEX_ROUTE_GATEWAY_ROUTING_STRATEGY",),
    ),
    SettingSpec(
        "allowed_fails", "gateway.allowed_fails", None, ("CODEX_ROUTE_GATEWAY_ALLOWED_FAILS",)
    ),
    SettingSpec(
        "cooldown_seconds",
        "gateway.cooldown_seconds",
        None,
        ("CODEX_ROUTE_GATEWAY_COOLDOWN_SECONDS",),
    ),
    SettingSpec("rpm", "gateway.rpm", None, ("CODEX_ROUTE_GATEWAY_RPM",)),
    SettingSpec("tpm", "gateway.tpm", None, ("CODEX_ROUTE_GATEWAY_TPM",)),
    SettingSpec(
        "members_file",
        "gateway.members_file",
        "--members-file",
        ("CODEX_ROUTE_GATEWAY_MEMBERS_FILE",),
    ),
    SettingSpec(
        "redis_ca_file", "gateway.redis_ca_file", None, ("CODEX_ROUTE_GATEWAY_REDIS_CA_FILE",)
    ),
    SettingSpec(
        "allowed_fails_policy",
        "gateway.allowed_fails_policy",
        None,
        ("CODEX_ROUTE_GATEWAY_ALLOWED_FAILS_POLICY",),
    ),
    # policy file only: a list of mappings per upstream has no one-line form
    SettingSpec("replicas", "gateway.replicas", None, ()),
)


@dataclass(frozen=True)
class GatewaySettings:
    """The effective gateway settings (``values``: name → value with its provenance)."""

    values: dict[str, Resolved]

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    @property
    def redis_host_port(self) -> tuple[str, int] | None:
        url = self.values["redis_url"].value
        if url is None:
            return None
        parts = urlsplit(url)
        return str(parts.hostname), int(parts.port or 6379)

    @property
    def redis_tls(self) -> bool:
        url = self.values["redis_url"].value
        return url is not None and urlsplit(url).scheme == "rediss"

    def provenance(self) -> dict[str, dict[str, Any]]:
        return {name: r.to_dict() for name, r in self.values.items()}


def resolve_gateway(
    flags: Mapping[str, Any], env: Mapping[str, str], policy: Policy
) -> GatewaySettings:
    """Resolve each ``gateway.*`` key; a bad flag names the flag, a bad variable its name."""
    values = resolve_layers(GATEWAY_SPECS, flags, env, policy)
    return GatewaySettings(values)
