"""What ``run`` needs from the proxy, cheaply: is codex-route's proxy up, and its session key.

Codex's managed ``cost-routing`` provider reads its key from ``LITELLM_API_KEY`` (``env_key``).
codex-route's proxy accepts only its per-session master key, so when ``run`` launches codex on
the ``litellm`` path it merges :func:`proxy_env_for_codex` into the child's environment. The key
goes from the 0600 file to that one environment; it is never printed, logged or recorded.

Stdlib only: ``run`` and ``readiness`` import this on every plan.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from codex_router.dirs import AppDirs
from codex_router.proxy.keys import CODEX_KEY_VAR
from codex_router.proxy.state import ProxyRecord, proxy_files, read_key, read_record
from codex_router.urls import LOOPBACK_HOSTS, host_port


def pid_alive(pid: int) -> bool:
    """Is there a live (not zombie) process with this PID?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and certainly not ours
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_args(pid: int) -> list[str] | None:
    """The command line of ``pid`` (None when it cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None  # Linux, and the process is gone
    except OSError:
        return None
    try:  # no /proc (macOS): ps gives one string; good enough for the checks below
        done = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return text.split() if done.returncode == 0 and text else None


def is_our_process(record: ProxyRecord) -> bool:
    """Is ``record.pid`` alive and still the litellm we started (same config file in argv)?

    Guards against PID reuse: after a crash and a reboot the recorded PID may belong to anything.
    """
    if not pid_alive(record.pid):
        return False
    args = process_args(record.pid)
    if not args:
        return False
    return record.config in args and any("litellm" in Path(a).name for a in args)


def running_proxy(dirs: AppDirs) -> ProxyRecord | None:
    """The record of codex-route's proxy if its process is alive and ours, else None."""
    record = read_record(proxy_files(dirs))
    if record is None or not is_our_process(record):
        return None
    return record


def _same_endpoint(record: ProxyRecord, base_url: str) -> bool:
    host, port = host_port(base_url, default_host="")
    return urlsplit(base_url).scheme == "http" and host in LOOPBACK_HOSTS and port == record.port


def proxy_env_for_codex(dirs: AppDirs, base_url: str | None = None) -> dict[str, str]:
    """``{"LITELLM_API_KEY": <session key>}`` for codex's environment, or ``{}``.

    Non-empty only when codex-route's proxy is running (recorded PID alive and ours) and, when
    ``base_url`` is given (the ``litellm_base_url`` setting), that URL points at it. Merge it
    over a copy of the environment *after* everything else, so a stale ``LITELLM_API_KEY`` of
    the user's cannot shadow the only key this proxy accepts.
    """
    record = running_proxy(dirs)
    if record is None or (base_url is not None and not _same_endpoint(record, base_url)):
        return {}
    key = read_key(proxy_files(dirs))
    return {CODEX_KEY_VAR: key} if key else {}


def proxy_aliases(dirs: AppDirs, base_url: str) -> frozenset[str] | None:
    """The aliases codex-route's running proxy at ``base_url`` serves (None: not our proxy)."""
    record = running_proxy(dirs)
    if record is None or not _same_endpoint(record, base_url):
        return None
    return frozenset(record.aliases)
