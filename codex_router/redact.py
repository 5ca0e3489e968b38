"""Masking of secrets in text that is stored or shown: URL credentials, secret query values.

The one helper for this: the history store passes every string it keeps through it, and the
views (plan, ``policy show``, ``doctor``) pass every URL they show through it, so a password in
``endpoints.litellm_base_url`` is shown as ``***`` while codex and LiteLLM still get the real URL.
The parsed-policy cache uses :func:`has_credentials` to keep such a policy out of the cache.
The prompt's secret masking (:mod:`codex_router.prompt.secrets`) finds URL credentials with the
same pattern, :func:`url_userinfo_re`. Only :mod:`re` and :mod:`functools` are imported and the
patterns are compiled at first use: a dry run's view and ``codex-route compress`` load this module.

May import: nothing
"""

from __future__ import annotations

import re
from functools import cache

# typing stays unloaded (``codex-route compress`` must not pay for it); type checkers read this.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@cache
def url_userinfo_re() -> re.Pattern[str]:
    """``scheme://userinfo@``: group 1 the scheme with ``://``, group 2 the userinfo
    (``user`` or ``user:password``)."""
    return re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/\s@?#]+)@")


@cache
def _secret_query_re() -> re.Pattern[str]:
    return re.compile(
        r"(?i)([?&](?:[a-z0-9_\-]*(?:key|token|secret|password|passwd|sig|signature|auth)"
        r"[a-z0-9_\-]*)=)[^&#\s]*"
    )


def redact(text: str) -> str:
    """``text`` with URL credentials and secret-looking query values replaced by ``***``."""
    if "://" not in text and "=" not in text:
        return text
    if "://" in text:
        text = url_userinfo_re().sub(r"\1***@", text)
    return _secret_query_re().sub(r"\1***", text) if "=" in text else text


def has_credentials(text: str) -> bool:
    """Whether :func:`redact` would mask something in ``text``."""
    return redact(text) != text


def redact_tree(value: Any) -> Any:
    """A copy of a JSON-like tree with :func:`redact` applied to every string (keys too)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(str(k)): redact_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_tree(v) for v in value]
    return value
