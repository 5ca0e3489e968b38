"""Layered settings: CLI flag > environment variable > policy file > built-in default.

Every effective value carries the layer that set it and, for policy values, the file and line,
so a plan can say *why* it did what it did. The policy file itself is chosen the same way:
``--policy`` > ``CODEX_ROUTE_POLICY`` > the user's policy in the config dir (if it exists) >
the packaged ``policies/default.yaml``. A user policy is merged over the packaged default,
so it only needs the keys it changes.

Environment variable names: the project's own ``CODEX_ROUTE_*`` first, then the
``CODEX_ROUTER_*`` names of the earlier cost-routing scripts, kept for compatibility.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from codex_router.dirs import AppDirs
from codex_router.errors import PolicyError, UsageError, did_you_mean
from codex_router.policy import fields as f
from codex_router.policy.load import merge_trees, read_policy_file
from codex_router.policy.model import SETTINGS_SCHEMA, Policy, build_policy

DEFAULT_POLICY_FILE = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"

#: ``CODEX_ROUTER_OPENAI_MODE``, trimmed and lower-cased: True avoids OpenAI, False allows it,
#: None follows the policy (the earlier scripts' ``auto``/``normal``/``on`` and empty).
_OPENAI_MODE: dict[str, bool | None] = {
    "avoid": True,
    "off": True,
    "depleted": True,
    "quota": True,
    "no-openai": True,
    "no_openai": True,
    "allow": False,
    "default": False,
    "auto": None,
    "normal": None,
    "on": None,
    "": None,
}

#: The variable of ``compression.mask_secrets``; ``compress`` and ``tokens`` read it too.
MASK_SECRETS_ENV = "CODEX_ROUTE_MASK_SECRETS"


class SettingSpec(NamedTuple):
    """A setting that flags and environment variables may override."""

    name: str
    policy_key: str
    flag: str | None = None
    env: tuple[str, ...] = ()


SETTING_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "provider",
        "default_provider",
        "--provider",
        ("CODEX_ROUTE_PROVIDER", "CODEX_ROUTER_PROVIDER"),
    ),
    SettingSpec(
        "codex_provider",
        "default_codex_provider",
        "--codex-provider",
        ("CODEX_ROUTE_CODEX_PROVIDER", "CODEX_ROUTER_CODEX_PROVIDER"),
    ),
    SettingSpec("force_model", "force_model", "--force-model", ("CODEX_ROUTE_FORCE_MODEL",)),
    SettingSpec(
        "open_models_only",
        "open_models_only",
        "--open-models-only",
        ("CODEX_ROUTE_OPEN_MODELS_ONLY",),
    ),
    SettingSpec(
        "avoid_openai",
        "avoid_openai",
        "--avoid-openai",
        ("CODEX_ROUTE_AVOID_OPENAI", "CODEX_ROUTER_OPENAI_MODE"),
    ),
    SettingSpec(
        "disable_litellm",
        "disable_litellm",
        "--no-litellm",
        ("CODEX_ROUTE_DISABLE_LITELLM", "CODEX_ROUTER_DISABLE_LITELLM"),
    ),
    SettingSpec("max_cost_usd", "max_cost_usd", "--max-cost-usd", ("CODEX_ROUTE_MAX_COST_USD",)),
    SettingSpec(
        "max_input_tokens",
        "max_input_tokens",
        "--max-input-tokens",
        ("CODEX_ROUTE_MAX_INPUT_TOKENS",),
    ),
    SettingSpec(
        "max_output_tokens",
        "max_output_tokens",
        "--max-output-tokens",
        ("CODEX_ROUTE_MAX_OUTPUT_TOKENS",),
    ),
    SettingSpec("timeout_seconds", "timeout_seconds", "--timeout", ("CODEX_ROUTE_TIMEOUT",)),
    SettingSpec(
        "skip_git_repo_check",
        "skip_git_repo_check",
        None,
        ("CODEX_ROUTE_SKIP_GIT_REPO_CHECK",),
    ),
    SettingSpec("fallback_order", "fallback_order", None, ("CODEX_ROUTE_FALLBACK_ORDER",)),
    SettingSpec("never_retry_on", "never_retry_on", None, ("CODEX_ROUTE_NEVER_RETRY_ON",)),
    SettingSpec("escalate_on", "escalate_on", None, ("CODEX_ROUTE_ESCALATE_ON",)),
    SettingSpec(
        "litellm_base_url", "endpoints.litellm_base_url", None, ("CODEX_ROUTE_LITELLM_BASE_URL",)
    ),
    SettingSpec(
        "huggingface_base_url", "endpoints.huggingface_base_url", None, ("CODEX_ROUTE_HF_BASE_URL",)
    ),
    SettingSpec(
        "ollama_base_url", "endpoints.ollama_base_url", None, ("CODEX_ROUTE_OLLAMA_BASE_URL",)
    ),
    SettingSpec("mask_secrets", "compression.mask_secrets", "--keep-secrets", (MASK_SECRETS_ENV,)),
    SettingSpec("history_team_url", "history.team_url", None, ("CODEX_ROUTE_HISTORY_URL",)),
)

#: Every environment variable codex-route reads for settings (documented in the env-var reference).
SETTING_ENV_VARS = tuple(name for spec in SETTING_SPECS for name in spec.env)


class Resolved(NamedTuple):
    """An effective value and the layer that set it."""

    value: Any
    source: str  # "flag" | "env" | "file" | "default"
    origin: str | None = None  # the flag or environment variable name
    file: str | None = None
    line: int | None = None

    def where(self) -> str | None:
        """Where the value was set, for a message: the flag or variable, or ``file:line``;
        None for a default (each message words that its own way)."""
        if self.source in ("flag", "env"):
            return str(self.origin)
        if self.source == "file":
            return f"{self.file}:{self.line}"
        return None

    def as_path(self) -> Path | None:
        """The value as a path (``~`` expanded): relative to the policy file's directory when a
        policy file set it, to the working directory from a flag or a variable; None if unset."""
        if self.value is None:
            return None
        path = Path(str(self.value)).expanduser()
        if not path.is_absolute() and self.source == "file" and self.file:
            path = Path(self.file).parent / path
        return path

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": list(self.value) if isinstance(self.value, tuple) else self.value,
            "source": self.source,
        }
        if self.origin:
            out["origin"] = self.origin
        if self.file:
            out["file"] = self.file
            out["line"] = self.line
        return out


@dataclass(frozen=True)
class Settings:
    """Effective settings, the validated policy they were drawn from, and which policy file."""

    values: dict[str, Resolved]
    policy: Policy
    policy_file: Resolved

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    def provenance(self) -> dict[str, dict[str, Any]]:
        out = {"policy": self.policy_file.to_dict()}
        out.update({name: r.to_dict() for name, r in self.values.items()})
        return out


def choose_policy_file(flag: Path | None, env: Mapping[str, str], dirs: AppDirs) -> Resolved:
    """Which policy file applies, and why (``value`` is None for the built-in default only)."""
    if flag is not None:
        return Resolved(str(flag), "flag", "--policy")
    from_env = env.get("CODEX_ROUTE_POLICY", "").strip()
    if from_env:
        return Resolved(str(Path(from_env).expanduser()), "env", "CODEX_ROUTE_POLICY")
    if dirs.user_policy.is_file():
        return Resolved(str(dirs.user_policy), "file", "user policy")
    return Resolved(None, "default")


def load_policy(policy_file: Resolved, cache_dir: Path | None = None) -> Policy:
    """Load the default policy and overlay the chosen file (if any), then validate."""
    tree = read_policy_file(DEFAULT_POLICY_FILE, cache_dir)
    if policy_file.value is not None:
        tree = merge_trees(tree, read_policy_file(Path(policy_file.value), cache_dir))
    return build_policy(tree, default_file=str(DEFAULT_POLICY_FILE))


def _from_env(spec: SettingSpec, env: Mapping[str, str], fld: f.Field) -> Resolved | None:
    for var in spec.env:
        raw = env.get(var)
        if raw is None:
            continue
        if var == "CODEX_ROUTER_OPENAI_MODE":
            mode = raw.strip().lower()
            if mode not in _OPENAI_MODE:
                raise PolicyError(
                    f"expected 'avoid' or 'allow', got {raw!r}",
                    key=var,
                    hint="avoid (also off, depleted, quota, no-openai, no_openai) never reaches "
                    "OpenAI; allow does; auto, normal, on or empty follow the policy",
                )
            avoid = _OPENAI_MODE[mode]
            if avoid is None:
                continue
            return Resolved(avoid, "env", var)
        if raw.strip() == "" and (
            fld.parse_text is not f.BOOLEAN.parse_text or var == MASK_SECRETS_ENV
        ):
            # An empty variable is "not set", as shells often leave them (an empty boolean
            # is false, but an empty CODEX_ROUTE_MASK_SECRETS must not turn masking off).
            continue
        try:
            return Resolved(fld.parse_text(raw), "env", var)
        except ValueError as exc:
            close = getattr(exc, "hint", None)
            hint = f"{close} Or unset {var}" if close else f"fix or unset {var}"
            raise PolicyError(str(exc), key=var, hint=hint) from None
    return None


def resolve_layers(
    specs: Iterable[SettingSpec],
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    policy: Policy,
) -> dict[str, Resolved]:
    """Each spec's value from the first layer that gives one: flag > env > policy file >
    default, validated where it enters (a bad flag is a usage error naming the flag)."""
    values: dict[str, Resolved] = {}
    for spec in specs:
        fld = SETTINGS_SCHEMA[spec.policy_key]
        given = flags.get(spec.name)
        if given is not None:
            try:
                value = fld.parse_text(given) if isinstance(given, str) else fld.check(given)
            except ValueError as exc:
                raise UsageError(f"{spec.flag}: {exc}", hint=getattr(exc, "hint", None)) from None
            values[spec.name] = Resolved(value, "flag", spec.flag)
            continue
        from_env = _from_env(spec, env, fld)
        if from_env is not None:
            values[spec.name] = from_env
            continue
        origin = policy.origins[spec.policy_key]
        values[spec.name] = Resolved(
            policy.get(spec.policy_key), origin.layer, spec.policy_key, origin.file, origin.line
        )
    return values


def resolve_settings(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    dirs: AppDirs,
    *,
    policy_flag: Path | None = None,
) -> Settings:
    """Resolve every setting through the four layers, validating each value where it enters.

    ``flags`` maps setting names to values given on the command line; ``None`` means "not given".
    A bad flag is a usage error naming the flag; a bad environment value a policy error naming
    the variable; a bad policy value a policy error naming file, line and key.
    """
    policy_file = choose_policy_file(policy_flag, env, dirs)
    policy = load_policy(policy_file, dirs.cache_dir)
    values = resolve_layers(SETTING_SPECS, flags, env, policy)
    forced = values["force_model"]
    if forced.value is not None and forced.value not in policy.aliases:
        message = f"unknown alias {forced.value!r} (valid: {', '.join(sorted(policy.aliases))})"
        close = did_you_mean(forced.value, tuple(policy.aliases))
        if forced.source == "flag":
            raise UsageError(f"--force-model: {message}", hint=close)
        raise PolicyError(
            message, key=forced.origin, file=forced.file, line=forced.line, hint=close
        )
    return Settings(values, policy, policy_file)
