"""Per-member keys of a team gateway: the members file and LiteLLM's ``custom_auth`` hook.

Self-contained on purpose: ``proxy start --gateway`` copies this very file next to the
generated ``litellm.yaml`` and names :func:`user_api_key_auth` in
``general_settings.custom_auth``; LiteLLM loads it from there (its ``get_instance_fn``), in a
virtualenv where codex_router is not installed. So it imports only the standard library at
module level, and LiteLLM's own types inside the hook. codex-route itself uses the same parser
and decision (:mod:`codex_router.proxy.members`), so the two can never disagree.

The members file holds no secret: one line per member with the SHA-256 of their key (keys are
256 random bits from :mod:`secrets`, so a plain hash suffices), when the key was made, and when
it was revoked (``-``: never)::

    # name  sha256  created  revoked
    alice  3f2a…(64 hex)  2026-12-01T21:40:00Z  -

The hook re-reads the file when it changes (mtime, size or inode: ``keys revoke`` replaces it
atomically), so a revoked key is refused by a running gateway without a restart. A file that
is missing or does not parse admits no member (the operator's master key still works): a
broken edit must never bring back a revoked key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

#: The variable carrying the members file's path to the gateway (a path, never a key).
MEMBERS_FILE_VAR = "CODEX_ROUTE_GATEWAY_MEMBERS_FILE"
#: LiteLLM's master key variable (the operator's key).
MASTER_KEY_VAR = "LITELLM_MASTER_KEY"
#: The hook's name as ``general_settings.custom_auth`` names it (module.function).
HOOK_NAME = "user_api_key_auth"

FIELDS = ("name", "sha256", "created", "revoked")
HEADER = (
    "# codex-route gateway members (docs/team.md). No key is stored here: only the SHA-256 of\n"
    "# each member's key. Written by `codex-route proxy keys`; every gateway instance reads it.\n"
    "# name  sha256  created  revoked\n"
)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
NOT_REVOKED = "-"

OPERATOR = "operator"
MEMBER = "member"
REJECTED = "rejected"


class Member(NamedTuple):
    """One member: a name, their key's SHA-256 (hex), when it was made, when revoked (or None)."""

    name: str
    sha256: str
    created: str
    revoked: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def to_line(self) -> str:
        return f"{self.name}  {self.sha256}  {self.created}  {self.revoked or NOT_REVOKED}"


class MembersFileError(ValueError):
    """A members file line that cannot be used; ``line`` and ``field`` say where."""

    def __init__(self, line: int, field: str | None, message: str) -> None:
        where = f"line {line}" + (f", field {field}" if field else "")
        super().__init__(f"{where}: {message}")
        self.line = line
        self.field = field
        self.reason = message


class Decision(NamedTuple):
    """Who a key is: ``kind`` operator, member or rejected; ``name`` the member's."""

    kind: str
    name: str | None = None


def key_sha256(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def valid_name(name: str) -> bool:
    return NAME_PATTERN.match(name) is not None


def _check_time(value: str, line: int, field: str) -> str:
    try:
        datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        raise MembersFileError(
            line, field, f"{value!r} is not a UTC time like 2026-12-01T21:40:00Z"
        ) from None
    return value


def parse_members(text: str) -> tuple[Member, ...]:
    """The members of a file's text; blank lines and ``#`` comments are skipped.

    Raises :class:`MembersFileError` naming the line and field of the first problem.
    """
    members: list[Member] = []
    names: dict[str, int] = {}
    hashes: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != len(FIELDS):
            raise MembersFileError(
                number, None, f"{len(parts)} fields, expected 4: {' '.join(FIELDS)}"
            )
        name, digest, created, revoked = parts
        if not valid_name(name):
            raise MembersFileError(
                number, "name", f"{name!r}: letters, digits, '.', '_', '@', '-' (at most 64)"
            )
        if name in names:
            raise MembersFileError(
                number, "name", f"{name!r} is already the member of line {names[name]}"
            )
        if not _SHA256.match(digest):
            raise MembersFileError(number, "sha256", "not 64 lowercase hex digits")
        if digest in hashes:
            raise MembersFileError(
                number, "sha256", f"the same key as the member of line {hashes[digest]}"
            )
        _check_time(created, number, "created")
        revoked_at = None if revoked == NOT_REVOKED else _check_time(revoked, number, "revoked")
        names[name], hashes[digest] = number, number
        members.append(Member(name, digest, created, revoked_at))
    return tuple(members)


def render_members(members: Sequence[Member]) -> str:
    return HEADER + "".join(m.to_line() + "\n" for m in members)


def decide(key: str, master_key: str | None, members: Sequence[Member]) -> Decision:
    """Operator (the master key), an active member (their key), or rejected.

    Compares SHA-256 digests with :func:`hmac.compare_digest` (constant time, equal lengths),
    against every active member without stopping early.
    """
    if not key:
        return Decision(REJECTED)
    presented = key_sha256(key)
    if master_key and hmac.compare_digest(presented, key_sha256(master_key)):
        return Decision(OPERATOR)
    found: str | None = None
    for member in members:
        if member.active and hmac.compare_digest(presented, member.sha256):
            found = member.name
    return Decision(MEMBER, found) if found is not None else Decision(REJECTED)


class MembersCache:
    """The members of one file, re-read when the file changes (mtime, size or inode)."""

    def __init__(self) -> None:
        self._path: str | None = None
        self._signature: tuple[int, int, int] | None = None
        self._members: tuple[Member, ...] = ()

    def members(self, path: str | None) -> tuple[Member, ...]:
        if not path:
            return ()
        try:
            st = os.stat(path)
        except OSError as exc:
            if self._path != path or self._signature is not None:
                _log(f"members file {path}: {exc.strerror or exc}; no member key is accepted")
            self._path, self._signature, self._members = path, None, ()
            return ()
        signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        if path == self._path and signature == self._signature:
            return self._members
        try:
            with open(path, encoding="utf-8") as handle:
                members = parse_members(handle.read())
        except (OSError, UnicodeDecodeError, MembersFileError) as exc:
            _log(f"members file {path}: {exc}; no member key is accepted until it is fixed")
            members = ()
        self._path, self._signature, self._members = path, signature, members
        return members


def _log(message: str) -> None:
    # LiteLLM's stdout/stderr is the gateway's log file; the file holds no key to leak.
    sys.stderr.write(f"codex-route gateway auth: {message}\n")
    sys.stderr.flush()


_CACHE = MembersCache()


def _bearer(api_key: str | None) -> str:
    key = (api_key or "").strip()
    return key[7:].strip() if key[:7].lower() == "bearer " else key


async def user_api_key_auth(request: Any, api_key: str) -> Any:
    """LiteLLM's ``custom_auth`` hook: the operator, an active member, or 401.

    A member gets LiteLLM's model routes only (403 elsewhere: no admin route), with
    ``user_id`` = their name so LiteLLM attributes their requests; the operator is the proxy
    admin as with LiteLLM's own master-key check. ``api_key`` given to LiteLLM is the key's
    SHA-256, never the key.
    """
    # LiteLLM's venv only: this module must stay importable without it (module docstring)
    from litellm.constants import LITELLM_PROXY_ADMIN_NAME
    from litellm.proxy._types import (
        LitellmUserRoles,
        ProxyErrorTypes,
        ProxyException,
        UserAPIKeyAuth,
    )
    from litellm.proxy.auth.auth_utils import get_request_route
    from litellm.proxy.auth.route_checks import RouteChecks

    key = _bearer(api_key)
    members = _CACHE.members(os.environ.get(MEMBERS_FILE_VAR))
    decision = decide(key, os.environ.get(MASTER_KEY_VAR), members)
    if decision.kind == OPERATOR:
        return UserAPIKeyAuth(
            api_key=key_sha256(key),
            user_role=LitellmUserRoles.PROXY_ADMIN,
            user_id=LITELLM_PROXY_ADMIN_NAME,
        )
    if decision.kind == MEMBER:
        route = get_request_route(request)
        if not RouteChecks.is_llm_api_route(route):
            raise ProxyException(
                message=f"a member key may call the model routes only, not {route}",
                type=ProxyErrorTypes.auth_error,
                param="api_key",
                code=403,
            )
        return UserAPIKeyAuth(
            api_key=key_sha256(key),
            user_id=decision.name,
            key_alias=decision.name,
            user_role=LitellmUserRoles.INTERNAL_USER,
        )
    raise ProxyException(
        message="Authentication Error: unknown or revoked key",
        type=ProxyErrorTypes.auth_error,
        param="api_key",
        code=401,
    )
