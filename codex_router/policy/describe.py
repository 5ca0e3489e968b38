"""``policy show``: every effective value with the layer (and file:line) that set it. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from codex_router.policy.settings import SETTING_SPECS, Settings


@dataclass(frozen=True)
class ShownValue:
    """One setting as `policy show` prints it: value, source and origin."""

    key: str
    value: Any
    source: str  # flag | env | file | default
    origin: str | None
    file: str | None
    line: int | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if isinstance(self.value, tuple):
            data["value"] = list(self.value)
        return data


def describe_policy(settings: Settings) -> list[ShownValue]:
    """Settings (after flags and env), then task rules, roles and aliases, in policy order."""
    policy = settings.policy
    overridable = {spec.policy_key: spec.name for spec in SETTING_SPECS}
    shown: list[ShownValue] = []
    for key, value in policy.values.items():
        if key in overridable:
            resolved = settings.values[overridable[key]]
            shown.append(
                ShownValue(
                    key,
                    resolved.value,
                    resolved.source,
                    resolved.origin if resolved.source in ("flag", "env") else None,
                    resolved.file,
                    resolved.line,
                )
            )
            continue
        origin = policy.origins[key]
        shown.append(ShownValue(key, value, origin.layer, None, origin.file, origin.line))
    for kind, rule in policy.task_rules.items():
        for prop in ("alias", "provider"):
            key = f"task_provider_rules.{kind}.{prop}"
            if key in policy.origins:
                origin = policy.origins[key]
                shown.append(
                    ShownValue(
                        key, getattr(rule, prop), origin.layer, None, origin.file, origin.line
                    )
                )
    for role, alias in policy.roles.items():
        origin = policy.origins[f"roles.{role}"]
        shown.append(
            ShownValue(f"roles.{role}", alias, origin.layer, None, origin.file, origin.line)
        )
    for name in policy.aliases:
        for key in (k for k in policy.origins if k.startswith(f"aliases.{name}.")):
            origin = policy.origins[key]
            prop = key.rsplit(".", 1)[1]
            shown.append(
                ShownValue(
                    key,
                    getattr(policy.aliases[name], prop),
                    origin.layer,
                    None,
                    origin.file,
                    origin.line,
                )
            )
    return shown
