"""Per-member gateway keys: ``proxy keys add|list|revoke|rotate`` and the members file.

The file format, its parser and the key decision live in :mod:`codex_router.proxy.gateway_auth`
(the module the gateway itself loads); this module adds the pure edits (:func:`with_added`,
:func:`with_revoked`, :func:`with_rotated`, table-tested) and the side effects: the members
file (replaced atomically under a lock, 0644: it holds hashes only) and each new key's file
(created 0600, never over an existing file). A key is written to that file and nowhere else:
never printed, logged or kept in memory longer than the write.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codex_router.dirs import AppDirs
from codex_router.errors import PolicyError, StateError, UsageError
from codex_router.fsutil import atomic_write_bytes
from codex_router.policy.gateway import GatewaySettings, resolve_gateway
from codex_router.policy.settings import Resolved, choose_policy_file, load_policy
from codex_router.proxy.gateway_auth import (
    NAME_PATTERN,
    TIME_FORMAT,
    Member,
    MembersFileError,
    key_sha256,
    parse_members,
    render_members,
    valid_name,
)

DEFAULT_MEMBERS_FILE = "gateway-members.txt"
MEMBERS_FILE_MODE = 0o644  # hashes only: every instance (and its operator) may read it
KEY_FILE_MODE = 0o600


@dataclass(frozen=True)
class MembersFile:
    """Where the members file is and which setting layer chose it."""

    path: Path
    resolved: Resolved

    @property
    def where(self) -> str:
        return self.resolved.where() or "default"


@dataclass(frozen=True)
class KeysResult:
    """What a ``proxy keys`` command did (no key: the key is in ``key_file`` only)."""

    action: str  # added | revoked | rotated | list
    members_file: MembersFile
    members: tuple[Member, ...]
    name: str | None = None
    key_file: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "members_file": str(self.members_file.path),
            "members": [
                {"name": m.name, "created": m.created, "revoked": m.revoked} for m in self.members
            ],
        }


def members_file(gateway: GatewaySettings, dirs: AppDirs) -> MembersFile:
    """The members file's path: the setting, else ``gateway-members.txt`` in the config dir.

    A relative path from a policy file is relative to that file's directory; from a flag or a
    variable, to the working directory.
    """
    resolved = gateway.values["members_file"]
    path = resolved.as_path()
    if path is None:
        return MembersFile(dirs.config_dir / DEFAULT_MEMBERS_FILE, resolved)
    return MembersFile(path.absolute(), resolved)


def now_utc() -> str:
    return time.strftime(TIME_FORMAT, time.gmtime())


def new_member_key() -> str:
    """256 random bits; ``sk-`` so LiteLLM hashes it wherever it would log a key."""
    return "sk-" + secrets.token_urlsafe(32)


# --- pure edits ---------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not valid_name(name):
        raise UsageError(
            f"NAME {name!r}: use letters, digits, '.', '_', '@', '-' (at most 64, starting "
            "with a letter or digit)",
            hint=f"e.g. alice or ci-runner-1 (pattern {NAME_PATTERN.pattern})",
        )


def _find(members: Sequence[Member], name: str) -> int:
    for index, member in enumerate(members):
        if member.name == name:
            return index
    known = ", ".join(m.name for m in members) or "none yet"
    raise UsageError(
        f"NAME {name!r}: no such member (members: {known})",
        hint="codex-route proxy keys list",
    )


def with_added(members: Sequence[Member], name: str, digest: str, now: str) -> tuple[Member, ...]:
    _check_name(name)
    if any(m.name == name for m in members):
        raise UsageError(
            f"NAME {name!r}: already a member",
            hint=f"give them a new key with: codex-route proxy keys rotate {name} --out FILE",
        )
    return (*members, Member(name, digest, now, None))


def with_revoked(members: Sequence[Member], name: str, now: str) -> tuple[Member, ...]:
    _check_name(name)
    index = _find(members, name)
    if not members[index].active:
        raise UsageError(
            f"NAME {name!r}: already revoked ({members[index].revoked})",
            hint=f"a new key for them: codex-route proxy keys rotate {name} --out FILE",
        )
    out = list(members)
    out[index] = members[index]._replace(revoked=now)
    return tuple(out)


def with_rotated(members: Sequence[Member], name: str, digest: str, now: str) -> tuple[Member, ...]:
    """A new key for ``name`` (the old one stops working); a revoked member is active again."""
    _check_name(name)
    index = _find(members, name)
    out = list(members)
    out[index] = Member(name, digest, now, None)
    return tuple(out)


# --- side effects -------------------------------------------------------------------------


def read_members(file: MembersFile) -> tuple[Member, ...]:
    """The members of the file; a missing file has none; a bad line is a policy error."""
    try:
        text = file.path.read_text("utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(
            f"cannot read the members file {file.path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    try:
        return parse_members(text)
    except MembersFileError as exc:
        raise PolicyError(
            f"members file: {exc.reason}" + (f" (field {exc.field})" if exc.field else ""),
            file=str(file.path),
            line=exc.line,
            hint="fix or remove that line; `codex-route proxy keys` writes this file",
        ) from None


@contextmanager
def _locked(file: MembersFile) -> Iterator[None]:
    """Serialise edits of one members file (two `keys add` at once must not lose one)."""
    try:
        file.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(file.path.parent / f".{file.path.name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StateError(
            f"cannot lock the members file {file.path}: {exc.strerror or exc}"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _save(file: MembersFile, members: Sequence[Member]) -> None:
    try:
        atomic_write_bytes(file.path, render_members(members).encode(), mode=MEMBERS_FILE_MODE)
    except OSError as exc:
        raise StateError(
            f"cannot write the members file {file.path}: {exc.strerror or exc}"
        ) from None


def _write_key_file(out: Path) -> str:
    """Make a key, write it to a new 0600 ``out``, return its SHA-256 (never the key)."""
    key = new_member_key()
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise UsageError(
            f"--out {out}: the file exists; a key is never written over a file",
            hint="name a new file (and delete the old one when it is no longer needed)",
        ) from None
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create it: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return key_sha256(key)


#: An edit that gives a member a new key: (members, the key's SHA-256) → the new members.
KeyEdit = Callable[[Sequence[Member], str], tuple[Member, ...]]


def _with_new_key(
    file: MembersFile, out: Path, edit: KeyEdit, members: Sequence[Member]
) -> tuple[Member, ...]:
    """Write the key file, then apply the edit and save the members file; a bad name or a
    failed save removes the key file again, so bad input changes nothing."""
    digest = _write_key_file(out)
    try:
        updated = edit(members, digest)
        _save(file, updated)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return updated


def add_member(file: MembersFile, name: str, out: Path, now: str) -> KeysResult:
    with _locked(file):
        members = read_members(file)
        updated = _with_new_key(
            file, out, lambda ms, digest: with_added(ms, name, digest, now), members
        )
    return KeysResult("added", file, updated, name, out)


def rotate_member(file: MembersFile, name: str, out: Path, now: str) -> KeysResult:
    with _locked(file):
        members = read_members(file)
        updated = _with_new_key(
            file, out, lambda ms, digest: with_rotated(ms, name, digest, now), members
        )
    return KeysResult("rotated", file, updated, name, out)


def revoke_member(file: MembersFile, name: str, now: str) -> KeysResult:
    with _locked(file):
        updated = with_revoked(read_members(file), name, now)
        _save(file, updated)
    return KeysResult("revoked", file, updated, name)


def list_members(file: MembersFile) -> KeysResult:
    return KeysResult("list", file, read_members(file))


def resolve_members_file(
    flags: Mapping[str, Any], env: Mapping[str, str], dirs: AppDirs, policy_file: Path | None
) -> MembersFile:
    """The members file as ``proxy keys`` sees it: the gateway settings' own resolution."""
    policy = load_policy(choose_policy_file(policy_file, env, dirs), dirs.cache_dir)
    return members_file(resolve_gateway(flags, env, policy), dirs)
