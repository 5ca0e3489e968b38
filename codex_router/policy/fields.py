"""Value checkers shared by the policy file, environment variables and CLI flags.

Each checker takes the raw value and returns the clean one or raises ``ValueError`` with a
message that reads well after ``<where>: <key>:``. Text from an environment variable or a flag
goes through ``parse_text`` first, so ``"12"`` becomes ``12`` and ``"yes"`` becomes ``True``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from codex_router.errors import did_you_mean
from codex_router.redact import redact

#: Provider families, as the earlier cost-routing script named them (``local-small`` and ``phi``
#: are one provider: Phi-4-mini on Ollama). Case does not matter in flags, env or policy.
PROVIDERS = (
    "auto",
    "openai",
    "gemini",
    "huggingface",
    "local-small",
    "phi",
    "qwen",
    "claude",
    "no-openai",
)
CODEX_PATHS = ("standard", "litellm", "huggingface")
CODEX_PROVIDERS = ("auto", *CODEX_PATHS)
#: How one codex attempt can end (``attempts[].outcome_kind`` of the history; read from
#: ``codex exec --json`` by codex/events.py; docs/reference/attempt-outcomes.md).
OUTCOME_KINDS = (
    "ok",  # the turn completed with an answer
    "turn_failed",  # codex exited 0 but the turn gave no answer (or reported a failure)
    "usage_limit",  # the account's quota or plan limit: insufficient_quota, usage limit
    "rate_limit",  # 429 / rate_limit_exceeded
    "auth",  # 401, 403, the provider's key variable missing
    "context_overflow",  # the input does not fit the model's context window
    "upstream_error",  # 5xx, 404, a failed response, the upstream unreachable, anything else
    "stream_cut",  # the stream closed before response.completed, or went idle
    "timeout",  # codex-route's own wall-clock limit (--timeout)
    "interrupted",  # a stop signal (Ctrl-C, SIGTERM, SIGHUP)
    "launch_error",  # codex could not be started
    "refused",  # codex refused the run itself: its config, its arguments, the directory
)
COMPLEXITIES = ("simple", "medium", "complex")
TASK_KINDS = (*COMPLEXITIES, "long_context")
REASONING_EFFORTS = ("minimal", "low", "medium", "high", "xhigh")
UPSTREAMS = ("openai", "gemini", "huggingface", "qwen", "anthropic", "other")

#: The longest ``timeout_seconds`` accepted (7 days): far below what timers take
#: (``threading.TIMEOUT_MAX``), far above any real codex attempt.
MAX_TIMEOUT_SECONDS = 7 * 24 * 3600

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class Field(NamedTuple):
    """How to check one setting, and how to read it from text (env var, flag)."""

    check: Callable[[Any], Any]
    parse_text: Callable[[str], Any]
    describe: str


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true or false, got {value!r}")


def _bool_text(text: str) -> bool:
    low = text.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected one of 1/0, true/false, yes/no, on/off, got {text!r}")


class ChoiceError(ValueError):
    """A value that is not one of the options; ``hint`` suggests the closest one, if any."""

    def __init__(self, value: Any, options: Sequence[str]) -> None:
        super().__init__(f"{value!r} is not one of: {', '.join(options)}")
        self.hint = did_you_mean(value, tuple(options))


class HintedError(ValueError):
    """A message with a hint carried over (a nested value's error, prefixed with where it is)."""

    def __init__(self, message: str, hint: str | None) -> None:
        super().__init__(message)
        self.hint = hint


def choice(options: Sequence[str], *, nullable: bool = False, casefold: bool = False) -> Field:
    """One of ``options``; with ``casefold``, in any case (``OpenAI`` is ``openai``)."""

    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if isinstance(value, str) and casefold:
            value = value.casefold()
        if isinstance(value, str) and value in options:
            return value
        raise ChoiceError(value, options)

    def parse(text: str) -> Any:
        text = text.strip()
        return None if (nullable and text == "") else check(text)

    return Field(check, parse, "one of " + ", ".join(options))


def integer(*, minimum: int = 0, maximum: int | None = None) -> Field:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}, got {value}")
        return value

    def parse(text: str) -> int:
        try:
            return check(int(text.strip().replace("_", "")))
        except ValueError as exc:
            if "expected" in str(exc) or "must be" in str(exc):
                raise
            raise ValueError(f"expected a whole number, got {text!r}") from None

    return Field(check, parse, f"a whole number ≥ {minimum}")


def number(*, minimum: float = 0.0, maximum: float | None = None) -> Field:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum:g}, got {value:g}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum:g}, got {value:g}")
        return float(value)

    def parse(text: str) -> float:
        try:
            parsed = float(text.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
        return check(parsed)

    bounds = f"from {minimum:g} to {maximum:g}" if maximum is not None else f"≥ {minimum:g}"
    return Field(check, parse, f"a number {bounds}")


def text(*, nullable: bool = True, url: bool = False) -> Field:
    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected a non-empty string, got {value!r}")
        if url:
            check_url(value)
        return value

    def parse(raw: str) -> str | None:
        return None if (nullable and raw.strip() == "") else check(raw.strip())

    return Field(check, parse, "a URL" if url else "a string")


def postgres_url() -> Field:
    """A nullable ``postgresql://`` URL (the team history); messages never repeat its password."""

    def check(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected a postgresql:// URL, got {value!r}")
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"expected a postgresql:// URL, got {redact(value)!r}")
        return value

    def parse(raw: str) -> str | None:
        return None if raw.strip() == "" else check(raw.strip())

    return Field(check, parse, "a postgresql:// URL")


#: LiteLLM's routing strategies a team gateway may use (router_settings.routing_strategy).
ROUTING_STRATEGIES = (
    "simple-shuffle",
    "least-busy",
    "usage-based-routing-v2",
    "latency-based-routing",
)


def redis_url() -> Field:
    """A nullable ``redis://`` or ``rediss://`` URL with host and port and no password in it.

    The password never goes in a policy: the gateway reads it from ``REDIS_PASSWORD`` in its
    own environment (LiteLLM's variable), so ``policy show`` and the config file stay free of it.
    """

    def check(value: Any) -> str | None:
        from urllib.parse import urlsplit  # lazy: only a gateway setting pays

        if value is None:
            return None
        if not isinstance(value, str) or not value.startswith(("redis://", "rediss://")):
            shown = redact(value) if isinstance(value, str) else value
            raise ValueError(f"expected a redis:// or rediss:// URL, got {shown!r}")
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            raise ValueError(f"{redact(value)!r}: the port must be 1 to 65535") from None
        if parts.password is not None:
            raise ValueError(
                "the Redis URL must not hold a password: set REDIS_PASSWORD in the gateway's "
                "environment instead"
            )
        if not parts.hostname or not port:
            raise ValueError(f"{value!r}: write host and port, e.g. redis://10.0.0.7:6379")
        if parts.path.strip("/") not in ("", "0"):
            # LiteLLM's router keeps its state in database 0 (redis_db is deprecated there)
            raise ValueError(f"{value!r}: the gateway uses Redis database 0; drop the path")
        return value

    def parse(raw: str) -> str | None:
        return None if raw.strip() == "" else check(raw.strip())

    return Field(check, parse, "a redis:// URL")


#: ``gateway.allowed_fails_policy`` keys → LiteLLM's ``AllowedFailsPolicy`` fields: how many
#: failures of one error class a deployment may have (per cooldown window) before it cools down.
ALLOWED_FAILS_CLASSES = {
    "bad_request": "BadRequestErrorAllowedFails",
    "authentication": "AuthenticationErrorAllowedFails",
    "timeout": "TimeoutErrorAllowedFails",
    "rate_limit": "RateLimitErrorAllowedFails",
    "content_policy_violation": "ContentPolicyViolationErrorAllowedFails",
    "internal_server": "InternalServerErrorAllowedFails",
    "service_unavailable": "ServiceUnavailableErrorAllowedFails",
    "bad_gateway": "BadGatewayErrorAllowedFails",
    "not_found": "NotFoundErrorAllowedFails",
}


def allowed_fails_policy() -> Field:
    """A nullable mapping of error class → allowed failures (``rate_limit: 3``); in a variable
    or flag ``rate_limit=3,authentication=0``. A bad key is named, with the closest valid one."""
    classes = tuple(ALLOWED_FAILS_CLASSES)
    count = integer()

    def check(value: Any) -> dict[str, int] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping of error class to a number, got {value!r}")
        out: dict[str, int] = {}
        for key, fails in value.items():
            if key not in ALLOWED_FAILS_CLASSES:
                raise ChoiceError(key, classes)
            try:
                out[key] = count.check(fails)
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        return out or None

    def parse(raw: str) -> dict[str, int] | None:
        pairs: dict[str, Any] = {}
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            key, sep, number_text = part.partition("=")
            if not sep:
                raise ValueError(
                    f"{part!r}: write class=number, e.g. rate_limit=3,authentication=0"
                )
            try:
                pairs[key.strip()] = count.parse_text(number_text)
            except ValueError as exc:
                raise ValueError(f"{key.strip()}: {exc}") from None
        return check(pairs)

    return Field(check, parse, "a mapping of error class to allowed failures")


#: The upstream families ``gateway.replicas`` may give extra deployments, and those that take no
#: key (Ollama's qwen: a replica is another endpoint, so it needs ``api_base``).
REPLICA_UPSTREAMS = ("openai", "gemini", "huggingface", "qwen", "anthropic")
KEYLESS_UPSTREAMS = ("qwen",)
REPLICA_FIELDS = ("key_var", "api_base", "rpm", "tpm")
_VAR_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def is_env_var_name(text: object) -> bool:
    """Letters, digits and ``_``, not starting with a digit: a name a shell can export."""
    return (
        isinstance(text, str)
        and bool(text)
        and not text[0].isdigit()
        and not set(text) - _VAR_NAME_CHARS
    )


def _replica(upstream: str, entry: Any) -> dict[str, Any]:
    """One ``gateway.replicas`` entry, every field present (None: not given)."""
    if not isinstance(entry, dict):
        # the value is never repeated: it could be a key pasted where its variable belongs
        raise ValueError("expected a mapping with key_var (and api_base, rpm, tpm)")
    for name in entry:
        if name not in REPLICA_FIELDS:
            raise ChoiceError(name, REPLICA_FIELDS)
    var = entry.get("key_var")
    if var is None and upstream not in KEYLESS_UPSTREAMS:
        raise ValueError("key_var: missing: name the variable that holds this deployment's key")
    if var is not None and not is_env_var_name(var):
        raise ValueError(
            "key_var: not a variable name (letters, digits, _): name the variable that holds "
            "the key, never the key"
        )
    base = entry.get("api_base")
    if base is not None:
        if not isinstance(base, str):
            raise ValueError("api_base: expected an http:// or https:// URL")
        try:
            check_url(base)
        except ValueError as exc:
            raise ValueError(f"api_base: {exc}") from None
    elif upstream in KEYLESS_UPSTREAMS:
        raise ValueError(f"api_base: missing: a {upstream} replica is another endpoint")
    out = {"key_var": var, "api_base": base, "rpm": None, "tpm": None}
    for limit in ("rpm", "tpm"):
        if entry.get(limit) is not None:
            try:
                out[limit] = integer().check(entry[limit])
            except ValueError as exc:
                raise ValueError(f"{limit}: {exc}") from None
    return out


def replicas() -> Field:
    """``gateway.replicas``: upstream family → extra deployments of it (another key, another
    endpoint), balanced by the gateway's routing strategy. Only in the policy file: no variable
    or flag form (a list of mappings does not fit one line well)."""

    def check(value: Any) -> dict[str, list[dict[str, Any]]] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("expected a mapping of upstream to a list of deployments")
        out: dict[str, list[dict[str, Any]]] = {}
        for upstream, entries in value.items():
            if upstream not in REPLICA_UPSTREAMS:
                raise ChoiceError(upstream, REPLICA_UPSTREAMS)
            if not isinstance(entries, list):
                raise ValueError(f"{upstream}: expected a list of deployments")
            seen: dict[tuple[Any, Any], int] = {}
            checked = []
            for number, entry in enumerate(entries, 1):
                try:
                    replica = _replica(upstream, entry)
                except ValueError as exc:
                    raise HintedError(
                        f"{upstream} entry {number}: {exc}", getattr(exc, "hint", None)
                    ) from None
                same = (replica["key_var"], replica["api_base"])
                if same in seen:
                    raise ValueError(
                        f"{upstream} entry {number}: the same key_var and api_base as entry "
                        f"{seen[same]}"
                    )
                seen[same] = number
                checked.append(replica)
            if checked:
                out[upstream] = checked
        return out or None

    def parse(raw: str) -> Any:
        raise ValueError("set gateway.replicas in the policy file (it has no variable form)")

    return Field(check, parse, "a mapping of upstream to a list of deployments")


def check_url(value: str) -> None:
    """Raise ``ValueError`` unless ``value`` is an http(s) URL with a host and a usable port.

    IPv6 hosts are written in brackets (``http://[::1]:4000/v1``), as in any URL. The message
    never repeats a password written in the URL.
    """
    from urllib.parse import urlsplit  # lazy: only a policy or variable that sets a URL pays

    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {redact(value)!r}")
    shown = repr(redact(value))
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        # "Port out of range 0-65535", "Port could not be cast…", "Invalid IPv6 URL"
        host_port = value.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]
        if host_port.count(":") > 1 and not host_port.startswith("["):
            raise ValueError(
                f"{shown}: an IPv6 host must be in brackets, e.g. http://[::1]:4000/v1"
            ) from None
        if "IPv6" in str(exc):
            raise ValueError(f"{shown}: the [IPv6] host is not valid") from None
        raise ValueError(f"{shown}: the port must be a whole number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"{shown}: the URL has no host")
    if port == 0:
        raise ValueError(f"{shown}: the port must be a whole number from 1 to 65535")


def string_list(options: Sequence[str] | None = None, *, unique: bool = True) -> Field:
    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of strings, got {value!r}")
        if options is not None:
            bad = [v for v in value if v not in options]
            if bad:
                raise ChoiceError(bad[0], options)
        if unique and len(set(value)) != len(value):
            raise ValueError("entries must not repeat")
        return tuple(value)

    def parse(raw: str) -> tuple[str, ...]:
        return check([part.strip() for part in raw.split(",") if part.strip()])

    return Field(check, parse, "a list" + (f" of {', '.join(options)}" if options else ""))


BOOLEAN = Field(_bool, _bool_text, "true or false")


def _truthy(value: Any) -> bool:
    """The earlier cost-routing script's flags: a bool, 1/0, or 1/0, true/false, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        return _bool_text(value)
    raise ValueError(f"expected true or false, got {value!r}")


#: A flag as the earlier script accepted it (its ``adaptive_router`` keys): YAML true/false,
#: 1/0, or the words 1/0, true/false, yes/no, on/off in any case.
LENIENT_BOOLEAN = Field(_truthy, _bool_text, "true or false (or 1/0, yes/no, on/off)")
