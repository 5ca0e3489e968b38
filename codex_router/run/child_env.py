"""The environment each codex child gets: only the provider keys its path uses. Pure.

Codex copies its environment into ``$CODEX_HOME/shell_snapshots/*.sh``, so every key it gets
lands on disk. Each path therefore gets only its own keys:

- ``standard``: ``OPENAI_API_KEY``, ``CODEX_API_KEY`` and every variable the user's own Codex
  config names for a provider (``env_key``, the values of ``env_http_headers``) in config.toml,
  the ``-p`` profile files and ``-c`` overrides; codex-route's own tables (``cost-routing``,
  ``cost-routing-hf``) do not count.
- ``litellm``: ``LITELLM_API_KEY`` (codex-route's proxy session key, merged in by ``execute``).
- ``huggingface``: ``HF_TOKEN``.

Every other provider secret (:data:`~codex_router.proxy.keys.PROVIDER_SECRET_VARS`, plus the
variables the user's config names) is left out; everything else (``PATH``, ``HOME``,
``CODEX_HOME``, proxies, locale, ``TERM``, …) passes unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from codex_router.codex.argv import MANAGED_PROVIDER_IDS
from codex_router.codex.passthrough import config_overrides
from codex_router.proxy.keys import CODEX_KEY_VAR, PROVIDER_SECRET_VARS

#: The key variables each path's codex reads (managed paths: the ``env_key`` of their table).
PATH_KEY_VARS: dict[str, frozenset[str]] = {
    "standard": frozenset({"OPENAI_API_KEY", "CODEX_API_KEY"}),
    "litellm": frozenset({CODEX_KEY_VAR}),
    "huggingface": frozenset({"HF_TOKEN"}),
}
#: Never dropped, even when a provider table names one as its key variable.
NEVER_DROPPED = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TERM", "LANG", "CODEX_HOME"}
)
_ENV_KEY_LINE = re.compile(r"""(?m)^\s*env_key\s*=\s*["']([^"'\n]+)["']""")


def _table_key_vars(table: Any) -> set[str]:
    if not isinstance(table, dict):
        return set()
    found = set()
    if isinstance(table.get("env_key"), str):
        found.add(table["env_key"])
    headers = table.get("env_http_headers")
    if isinstance(headers, dict):
        found |= {v for v in headers.values() if isinstance(v, str)}
    return found


def config_key_vars(config: bytes | None) -> frozenset[str]:
    """Variables a Codex config file names as provider keys, except in codex-route's tables.

    A file that is not valid TOML is scanned for ``env_key = "…"`` lines instead: codex will
    refuse it anyway, and the user's key is kept rather than guessed away.
    """
    if not config:
        return frozenset()
    # lazy: tomllib costs ~10 ms; a plan needs only without_provider_secrets from this module
    import tomllib

    try:
        data = tomllib.loads(config.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return frozenset(_ENV_KEY_LINE.findall(config.decode("utf-8", "replace")))
    providers = data.get("model_providers")
    if not isinstance(providers, dict):
        return frozenset()
    managed = set(MANAGED_PROVIDER_IDS.values())
    found: set[str] = set()
    for name, table in providers.items():
        if name not in managed:
            found |= _table_key_vars(table)
    return frozenset(found)


def override_key_vars(codex_args: Sequence[str]) -> frozenset[str]:
    """Variables ``-c model_providers.X.env_key=VAR`` (and ``env_http_headers``) name."""
    import tomllib  # lazy: as in config_key_vars

    found = set()
    for _flag, key, value in config_overrides(codex_args):
        parts = key.split(".")
        if parts[0] != "model_providers" or len(parts) < 2:
            continue
        if len(parts) == 2:  # a whole table: model_providers.X={env_key = "…", …}
            try:
                table = tomllib.loads(f"v = {value}")["v"]
            except (tomllib.TOMLDecodeError, RecursionError):
                continue
            found |= _table_key_vars(table)
        elif parts[2] in ("env_key", "env_http_headers"):
            found.add(value.strip().strip("\"'"))
    return frozenset(v for v in found if v)


def path_env(
    parent: Mapping[str, str], path: str, user_key_vars: Iterable[str] = ()
) -> dict[str, str]:
    """``parent`` without the provider secrets ``path`` does not use.

    ``user_key_vars``: the variables the user's own Codex config names as provider keys
    (:func:`config_key_vars`, :func:`override_key_vars`); kept on ``standard``, left out on the
    managed paths.
    """
    user = frozenset(user_key_vars)
    keep = PATH_KEY_VARS[path] | (user if path == "standard" else frozenset())
    secrets = (frozenset(PROVIDER_SECRET_VARS) | user) - NEVER_DROPPED
    return {k: v for k, v in parent.items() if k in keep or k not in secrets}


def without_provider_secrets(parent: Mapping[str, str]) -> dict[str, str]:
    """``parent`` without any provider secret codex-route knows (for ``codex --version``)."""
    secrets = frozenset(PROVIDER_SECRET_VARS)
    return {k: v for k, v in parent.items() if k not in secrets}
