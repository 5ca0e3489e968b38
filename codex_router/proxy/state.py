"""The proxy's files in ``<state_dir>/proxy/`` (a 0700 directory). Light: stdlib only.

=================== ======================================================================
``proxy.json``      what ``start`` recorded: PID, host, port, config and log paths, version,
                    aliases. No key.
``master.key``      the per-session master key, mode 0600, created exclusively; ``stop``
                    deletes it. The only place the key is ever written.
``litellm.yaml``    the generated LiteLLM config (no key: it names variables)
``proxy.log``       the proxy's stdout and stderr
=================== ======================================================================
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codex_router.dirs import AppDirs
from codex_router.errors import StateError
from codex_router.fsutil import atomic_write_bytes
from codex_router.urls import show_host_port


@dataclass(frozen=True)
class ProxyFiles:
    """The files of codex-route's proxy (record, config, log) in one directory."""

    directory: Path

    @property
    def record(self) -> Path:
        return self.directory / "proxy.json"

    @property
    def key(self) -> Path:
        return self.directory / "master.key"

    @property
    def config(self) -> Path:
        return self.directory / "litellm.yaml"

    @property
    def log(self) -> Path:
        return self.directory / "proxy.log"

    @property
    def lock(self) -> Path:
        return self.directory / ".lock"


def proxy_files(dirs: AppDirs) -> ProxyFiles:
    return ProxyFiles(dirs.state_dir / "proxy")


@dataclass(frozen=True)
class ProxyRecord:
    """What ``proxy start`` wrote about the process it started."""

    pid: int
    host: str
    port: int
    config: str
    log: str
    litellm_bin: str
    litellm_version: str
    started_at: float
    aliases: tuple[str, ...] = ()
    unavailable: dict[str, str] = field(default_factory=dict)
    avoid_openai: bool = False
    #: alias → the fallback group serving it (no deployment of its own could run)
    served_by: dict[str, str] = field(default_factory=dict)
    #: team gateway mode: each ``gateway.*`` setting in effect with its provenance, and whether
    #: the operator key and REDIS_PASSWORD were set (never their values); None: the local proxy
    gateway: dict[str, Any] | None = None
    #: team gateway mode: upstream → its gateway.replicas in the config (key variable names,
    #: api_base, limits, the aliases served; never a key); empty for the local proxy
    replicas: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{show_host_port(self.host, self.port)}/v1"  # [::1]:4000 for IPv6

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["aliases"] = list(self.aliases)
        return data


def ensure_dir(files: ProxyFiles) -> None:
    try:
        files.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(files.directory, 0o700)
    except OSError as exc:
        raise StateError(f"cannot create {files.directory}: {exc.strerror or exc}") from None


@contextmanager
def locked(files: ProxyFiles) -> Iterator[None]:
    """Serialise ``start`` and ``stop``: a second ``start`` waits, then finds the first running."""
    ensure_dir(files)
    fd = os.open(files.lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_record(files: ProxyFiles, record: ProxyRecord) -> None:
    data = json.dumps(record.to_dict(), indent=2).encode() + b"\n"
    try:
        atomic_write_bytes(files.record, data, mode=0o600)
    except OSError as exc:
        raise StateError(f"cannot write {files.record}: {exc.strerror or exc}") from None


def read_record(files: ProxyFiles) -> ProxyRecord | None:
    """The recorded proxy, or None when there is none (a damaged record counts as none)."""
    try:
        raw = json.loads(files.record.read_text("utf-8"))
        return ProxyRecord(
            pid=int(raw["pid"]),
            host=str(raw["host"]),
            port=int(raw["port"]),
            config=str(raw["config"]),
            log=str(raw["log"]),
            litellm_bin=str(raw["litellm_bin"]),
            litellm_version=str(raw["litellm_version"]),
            started_at=float(raw["started_at"]),
            aliases=tuple(str(a) for a in raw.get("aliases", ())),
            unavailable={str(k): str(v) for k, v in (raw.get("unavailable") or {}).items()},
            avoid_openai=bool(raw.get("avoid_openai", False)),
            served_by={str(k): str(v) for k, v in (raw.get("served_by") or {}).items()},
            gateway=raw["gateway"] if isinstance(raw.get("gateway"), dict) else None,
            replicas={
                str(k): [dict(r) for r in v if isinstance(r, dict)]
                for k, v in (raw.get("replicas") or {}).items()
                if isinstance(v, list)
            },
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def new_master_key() -> str:
    """A long random key. LiteLLM refuses to start without one (and refuses its docs' sample)."""
    return "sk-" + secrets.token_urlsafe(32)


def write_key(files: ProxyFiles, key: str) -> None:
    """Create the key file 0600 from the start (never a moment with wider permissions)."""
    try:
        files.key.unlink(missing_ok=True)
        fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise StateError(f"cannot create {files.key}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_key(files: ProxyFiles) -> str | None:
    try:
        key = files.key.read_text("utf-8").strip()
    except OSError:
        return None
    return key or None


def remove_session(files: ProxyFiles) -> list[Path]:
    """Delete the key and the record; returns what was removed. Config and log stay."""
    removed = []
    for path in (files.key, files.record):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StateError(f"cannot remove {path}: {exc.strerror or exc}") from None
    return removed
