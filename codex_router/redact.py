"""Masking of secrets in text that is stored or shown: URL credentials, secret query values.

The one helper for this: the history store passes every string it keeps through it, and the
views (plan, ``policy show``, ``doctor``) pass every URL they show through it, so a password in
``endpoints.litellm_base_url`` is shown as ``***`` while codex and LiteLLM still get the real URL.
The parsed-policy cache uses :func:`has_credentials` to keep such a policy out of the cache.
Only :mod:`re` is imported: a dry run's view loads this module.

May import: nothing
"""

from __future__ import annotations

import re
from typing import Any

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]+@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:[a-z0-9_\-]*(?:key|token|secret|password|passwd|sig|signature|auth)[a-z0-9_\-]*)=)"
    r"[^&#\s]*"
)


def redact(text: str) -> str:
    """``text`` with URL credentials and secret-looking query values replaced by ``***``."""
    if "://" not in text and "=" not in text:
        return text
    text = _URL_USERINFO.sub(r"\1***@", text)
    return _SECRET_QUERY.sub(r"\1***", text)


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
