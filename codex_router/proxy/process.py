"""Starting, stopping and inspecting codex-route's LiteLLM proxy (the side effects live here).

``start``: policy → config (no key inside) → checks (recorded proxy, litellm version, free port)
→ a fresh master key in a 0600 file → ``litellm --config … --host 127.0.0.1 --port N`` in its own
session, with the master key and the provider keys in its environment only → wait for
``/health/readiness``. Any failure or Ctrl-C on the way ends the process it started and deletes
the key and the record, so nothing is left running.

``stop``: ends only the recorded PID, after checking it is still our litellm (argv holds our
config path), and deletes the key and the record; after a crash it just cleans up.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from codex_router.dirs import AppDirs
from codex_router.errors import ProxyError, UsageError
from codex_router.fsutil import atomic_write_bytes
from codex_router.policy.gateway import GatewaySettings, resolve_gateway
from codex_router.policy.roles import Role
from codex_router.policy.settings import Resolved, Settings, resolve_settings
from codex_router.proxy import redis_check, state
from codex_router.proxy.config import (
    GatewayRouting,
    ProxyConfig,
    ProxyEndpoints,
    ProxyOptions,
    Replica,
    Skipped,
    build_proxy_config,
    required_keys,
)
from codex_router.proxy.gateway_auth import HOOK_NAME, MEMBERS_FILE_VAR
from codex_router.proxy.install import LiteLLMInstall, find_litellm
from codex_router.proxy.keys import MASTER_KEY_VAR, PROVIDER_SECRET_VARS
from codex_router.proxy.members import MembersFile, members_file, read_members
from codex_router.proxy.redis_check import RedisTarget
from codex_router.proxy.session import is_our_process, pid_alive
from codex_router.urls import is_loopback, show_host_port

HOST = "127.0.0.1"
DEFAULT_PORT = 4000
DEFAULT_START_TIMEOUT = 90.0  # ~7 s on an idle 2-core machine (litellm.md §3); CI is busier
STOP_GRACE_SECONDS = 10.0
#: How long to wait to reap a proxy this process started that is found dead (threads exiting).
_REAP_SECONDS = 2.0
POLL_SECONDS = 0.1
#: Gateway mode's master key: shared by every instance of one gateway, chosen by its operator.
GATEWAY_KEY_VAR = "CODEX_ROUTE_GATEWAY_MASTER_KEY"
GATEWAY_KEY_MIN_CHARS = 32
#: The per-member key check's module beside the generated config (LiteLLM's custom_auth).
AUTH_MODULE = "codex_route_gateway_auth"
#: Bind addresses meaning "every interface": readiness is probed on loopback then.
_ANY_HOSTS = frozenset({"0.0.0.0", "", "::"})
#: Bind addresses that only this machine can reach: a gateway there may use a session key.
_LOOPBACK_BINDS = frozenset({"127.0.0.1", "localhost", "::1"})
#: Never let a proxy start without authentication, whatever the user's environment says.
_UNSAFE_VARS = ("LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY",)

#: Proxies started by this process. They outlive the command on purpose; holding their Popen
#: keeps Python from warning that they still run, and lets ``stop`` in the same process reap them.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}

#: Asks for a missing key variable (name, aliases needing it); returns the value or None to skip.
KeyAsker = Callable[[str, tuple[str, ...]], "str | None"]


@dataclass(frozen=True)
class StartRequest:
    """What `proxy start` was asked for."""

    port: int | None = None
    litellm_bin: str | None = None
    policy_file: Path | None = None
    flags: Mapping[str, Any] = field(default_factory=dict)  # avoid_openai, open_models_only
    timeout: float = DEFAULT_START_TIMEOUT
    gateway: bool = False  # team gateway mode (docs/team.md)
    gateway_flags: Mapping[str, Any] = field(default_factory=dict)  # host, port, redis_url


@dataclass(frozen=True)
class StartResult:
    """How `proxy start` ended: the running proxy's record and what it skipped."""

    record: state.ProxyRecord
    already_running: bool
    skipped: tuple[Skipped, ...] = ()
    ready_seconds: float = 0.0
    notes: tuple[str, ...] = ()
    gateway: GatewaySettings | None = None
    member_auth: MemberAuth | None = None  # per-member keys on (docs/team.md, Members)


@dataclass(frozen=True)
class MemberAuth:
    """A gateway's per-member key check: its members file and how many keys are active."""

    members_file: MembersFile
    active: int


@dataclass(frozen=True)
class StopResult:
    """How `proxy stop` ended."""

    pid: int | None
    stopped: bool  # a live process of ours was ended
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProxyStatus:
    """What `proxy status` reports: running, healthy, and the proxy's record."""

    running: bool
    record: state.ProxyRecord | None
    healthy: bool | None = None
    health_detail: str = ""
    models: tuple[str, ...] | None = None  # what /v1/models lists (None: not asked or failed)
    stale: bool = False  # a record whose process is gone (crash) or is not ours any more
    files: state.ProxyFiles | None = None

    def to_dict(self) -> dict[str, Any]:
        rec = self.record
        out: dict[str, Any] = {
            "running": self.running,
            "healthy": self.healthy,
            "health_detail": self.health_detail,
            "stale_record": self.stale,
            "pid": rec.pid if rec else None,
            "host": rec.host if rec else None,
            "port": rec.port if rec else None,
            "base_url": rec.base_url if rec else None,
            "litellm_version": rec.litellm_version if rec else None,
            "litellm_bin": rec.litellm_bin if rec else None,
            "started_at": rec.started_at if rec else None,
            "aliases": list(
                self.models if self.models is not None else (rec.aliases if rec else ())
            ),
            "unavailable_aliases": dict(rec.unavailable) if rec else {},
            "served_by_fallback": dict(rec.served_by) if rec else {},
            # team gateway mode's settings with provenance (docs/reference/proxy-status-json.md)
            "gateway": rec.gateway if rec else None,
            # gateway.replicas in the config: upstream → [{replica, key_var, api_base, …}]
            "replicas": rec.replicas if rec else {},
            "avoid_openai": rec.avoid_openai if rec else None,
            "config_file": rec.config if rec else None,
            "log_file": rec.log if rec else (str(self.files.log) if self.files else None),
            "key_file": str(self.files.key) if self.files else None,
        }
        return out


# --- helpers -------------------------------------------------------------------------------


def default_port(base_url: str) -> int:
    """The port of ``litellm_base_url`` when it points at this machine, else 4000."""
    port = urlsplit(base_url).port
    return port if port and is_loopback(base_url) else DEFAULT_PORT


def _probe_host(host: str) -> str:
    """Where readiness is asked: the bound address, or loopback of its family for "every
    interface" (``::`` may be IPv6 only, so ``::1`` there)."""
    if host not in _ANY_HOSTS:
        return host
    return "::1" if host == "::" else HOST


def check_port_free(port: int, host: str = HOST) -> None:
    """Refuse a port something already listens on (checked as uvicorn will bind it)."""
    if not 1 <= port <= 65535:
        raise UsageError(f"--port: {port} is not a TCP port (1-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                why = (
                    "already in use"
                    if exc.errno == errno.EADDRINUSE
                    else "not allowed for this user"
                )
                raise ProxyError(
                    f"port {port} on {host} is {why}",
                    hint=f"pick a free port: codex-route proxy start --port {port + 100}, and "
                    f"export CODEX_ROUTE_LITELLM_BASE_URL=http://"
                    f"{show_host_port(host, port + 100)}/v1 so run finds it",
                ) from None
            where = show_host_port(host, port)
            raise ProxyError(f"cannot bind {where}: {exc.strerror or exc}") from None


def _http_get(
    host: str, port: int, path: str, *, key: str | None = None, timeout: float = 2.0
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def probe_readiness(host: str, port: int, timeout: float = 2.0) -> tuple[bool, str]:
    """``GET /health/readiness``: needs no key and calls no upstream (unlike ``/health``)."""
    try:
        status, body = _http_get(host, port, "/health/readiness", timeout=timeout)
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        return False, f"{show_host_port(host, port)}: {reason}"
    if status != 200:
        return False, f"/health/readiness answered {status}"
    try:
        detail = str(json.loads(body).get("status", "ok"))
    except (ValueError, AttributeError):
        detail = "ok"
    return True, detail


def list_models(host: str, port: int, key: str, timeout: float = 5.0) -> tuple[str, ...] | None:
    try:
        status, body = _http_get(host, port, "/v1/models", key=key, timeout=timeout)
        if status != 200:
            return None
        return tuple(sorted({str(m["id"]) for m in json.loads(body).get("data", [])}))
    except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError, AttributeError):
        return None


def _end_process_group(
    pid: int, grace: float = STOP_GRACE_SECONDS, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """SIGTERM the proxy's process group (it leads its own session), SIGKILL after ``grace``."""

    def send(sig: signal.Signals) -> None:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                return
        elif not pid_alive(pid):
            return
        time.sleep(0.05)
    send(signal.SIGKILL)
    if proc is not None:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _cleanup_stale(files: state.ProxyFiles) -> tuple[str, ...]:
    """Forget a recorded proxy whose process is gone (or is not ours); remove a stray key."""
    record = state.read_record(files)
    notes: list[str] = []
    if record is not None and not is_our_process(record):
        started = _STARTED.pop(record.pid, None)
        if started is not None:
            # Ours and unreaped, so its PID cannot have been reused: it is dead or dying. Wait,
            # not poll: a leader shows as a zombie while its other threads still exit, and
            # Linux lets it be reaped only after them (a poll there leaves it unreaped).
            try:
                started.wait(timeout=_REAP_SECONDS)
            except subprocess.TimeoutExpired:
                _STARTED[record.pid] = started
        if pid_alive(record.pid):
            notes.append(
                f"PID {record.pid} of the last recorded proxy now belongs to another "
                "program: left alone"
            )
        else:
            notes.append(
                f"the proxy recorded with PID {record.pid} is no longer running "
                "(crashed or killed): cleaned up its key and record"
            )
        state.remove_session(files)
    elif record is None and files.key.exists():
        state.remove_session(files)
        notes.append(f"removed a master key file left without a running proxy ({files.key})")
    return tuple(notes)


# --- start ---------------------------------------------------------------------------------


def _ask_missing_keys(
    needed: Mapping[str, tuple[str, ...]], env: Mapping[str, str], ask: KeyAsker | None
) -> tuple[dict[str, str], frozenset[str]]:
    """Values typed by the user (only for the proxy's environment) and the variables available."""
    provided: dict[str, str] = {}
    for var, aliases in needed.items():
        if env.get(var, "").strip() or ask is None:
            continue
        value = ask(var, aliases)
        if value is not None and value.strip():
            provided[var] = value.strip()
    available = frozenset(v for v in needed if env.get(v, "").strip()) | frozenset(provided)
    return provided, available


def prepare_config(
    settings: Settings,
    env: Mapping[str, str],
    ask: KeyAsker | None,
    replicas: Mapping[str, Sequence[Replica]] | None = None,
) -> tuple[ProxyConfig, dict[str, str], ProxyOptions]:
    """The config for these settings, asking for missing keys first (values stay in memory).

    ``replicas`` (gateway only): a replica whose variable is unset is skipped, never asked for:
    the upstream's own deployment still serves."""
    options = ProxyOptions(
        avoid_openai=bool(settings["avoid_openai"]),
        open_models_only=bool(settings["open_models_only"]),
    )
    endpoints = ProxyEndpoints(settings["huggingface_base_url"], settings["ollama_base_url"])
    needed = required_keys(settings.policy, options)
    provided, available = _ask_missing_keys(needed, env, ask)
    replica_vars = {r.key_var for rs in (replicas or {}).values() for r in rs if r.key_var}
    available |= frozenset(v for v in replica_vars if env.get(v, "").strip())
    config = build_proxy_config(settings.policy, endpoints, options, available, replicas)
    if not config.groups:
        reasons = "; ".join(f"{a}: {r}" for a, r in config.unavailable.items())
        local = settings.policy.alias_for(Role.LOCAL)
        raise ProxyError(
            f"the policy leaves the proxy no deployment at all ({reasons})",
            hint=f"set the provider keys it names, or give {local} a local_model",
        )
    return config, provided, options


def _child_env(
    env: Mapping[str, str],
    provided: Mapping[str, str],
    master_key: str,
    key_vars: frozenset[str],
) -> dict[str, str]:
    """The proxy's environment: the provider keys its deployments use (``key_vars``), no other.

    With ``avoid_openai`` no deployment uses ``OPENAI_API_KEY``, so the proxy never holds it.
    """
    child = {
        k: v
        for k, v in env.items()
        if k not in _UNSAFE_VARS and (k not in PROVIDER_SECRET_VARS or k in key_vars)
    }
    child.update(provided)
    child[MASTER_KEY_VAR] = master_key
    child["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no fetch of the cost map from GitHub
    child["DISABLE_ADMIN_UI"] = "True"
    child.setdefault("PYTHONUNBUFFERED", "1")  # the log shows what happened up to a crash
    return child


def _with_members_file(child: dict[str, str], members: MemberAuth | None) -> dict[str, str]:
    """The members file's path (never a key) for the key check; none without members."""
    child.pop(MEMBERS_FILE_VAR, None)
    if members is not None:
        child[MEMBERS_FILE_VAR] = str(members.members_file.path)
    return child


def _wait_ready(
    proc: subprocess.Popen[bytes],
    port: int,
    timeout: float,
    files: state.ProxyFiles,
    host: str = HOST,
) -> float:
    started = time.monotonic()
    while True:
        code = proc.poll()
        if code is not None:
            raise ProxyError(
                f"LiteLLM exited with code {code} while starting; its log: {files.log}",
                hint="read the end of the log; a port taken meanwhile, a bad policy model id or a "
                "broken install are the usual causes",
            )
        ready, _detail = probe_readiness(host, port, timeout=1.0)
        if ready:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise ProxyError(
                f"LiteLLM was not ready after {timeout:g} s; its log: {files.log}",
                hint="a busy machine may need more: codex-route proxy start --timeout 180",
            )
        time.sleep(POLL_SECONDS)


def gateway_master_key(env: Mapping[str, str], host: str) -> str | None:
    """The operator's master key for a gateway; required when it listens beyond loopback.

    None (loopback only, no key given): a fresh session key as for the local proxy.
    """
    key = env.get(GATEWAY_KEY_VAR, "").strip()
    if key:
        if len(key) < GATEWAY_KEY_MIN_CHARS:
            raise ProxyError(
                f"{GATEWAY_KEY_VAR} is shorter than {GATEWAY_KEY_MIN_CHARS} characters",
                hint="generate one: python3 -c \"import secrets; print('sk-' + "
                'secrets.token_urlsafe(32))"',
            )
        return key
    if host not in _LOOPBACK_BINDS:
        raise ProxyError(
            f"a gateway listening on {host} needs {GATEWAY_KEY_VAR}",
            hint=f"set {GATEWAY_KEY_VAR} (the operator's, the same on every instance; members "
            "get their own: codex-route proxy keys add) and put TLS in front: docs/team.md",
        )
    return None


def gateway_routing(gateway: GatewaySettings) -> GatewayRouting:
    redis = gateway.redis_host_port
    return GatewayRouting(
        redis_host=redis[0] if redis else None,
        redis_port=redis[1] if redis else 6379,
        routing_strategy=gateway["routing_strategy"],
        allowed_fails=gateway["allowed_fails"],
        cooldown_seconds=gateway["cooldown_seconds"],
        rpm=gateway["rpm"],
        tpm=gateway["tpm"],
        redis_tls=gateway.redis_tls,
        redis_ca_file=_redis_ca_file(gateway),
        allowed_fails_policy=tuple((gateway["allowed_fails_policy"] or {}).items()),
    )


def gateway_replicas(gateway: GatewaySettings) -> dict[str, tuple[Replica, ...]]:
    """``gateway.replicas`` as the config builder takes them (upstream → extra deployments)."""
    return {
        upstream: tuple(Replica.from_policy(entry) for entry in entries)
        for upstream, entries in (gateway["replicas"] or {}).items()
    }


def _where(resolved: Resolved) -> str:
    """Where a setting came from, for a message: the variable, flag or file:line."""
    return resolved.where() or "the default policy"


def gateway_in_effect(
    gateway: GatewaySettings, env: Mapping[str, str], operator_key: str | None
) -> dict[str, Any]:
    """What ``proxy status --json`` shows of a gateway: each setting with its provenance, and
    only whether the secrets were set (the Redis URL holds no password: ``fields.redis_url``)."""
    return {
        "settings": gateway.provenance(),
        "master_key": "set" if operator_key else "not set",
        "redis_password": "set" if env.get(redis_check.REDIS_PASSWORD_VAR) else "not set",
    }


def _redis_ca_file(gateway: GatewaySettings) -> str | None:
    """``gateway.redis_ca_file`` as an absolute path LiteLLM can open; it must exist."""
    resolved = gateway.values["redis_ca_file"]
    path = resolved.as_path()  # relative to the policy file that names it
    if path is None:
        return None
    if not path.is_file():
        raise ProxyError(
            f"gateway.redis_ca_file (from {_where(resolved)}): {path} is not a file",
            hint="give the PEM file of the CA that signed Redis's certificate",
        )
    return str(path.resolve())


def check_redis_reachable(
    gateway: GatewaySettings, env: Mapping[str, str], timeout: float = 3.0
) -> None:
    """Refuse to start a shared gateway whose Redis does not answer as LiteLLM will talk to it
    (TLS, the password of ``REDIS_PASSWORD``): each instance would keep its own cooldowns."""
    redis = gateway.redis_host_port
    if redis is None:
        return
    host, port = redis
    where = gateway.values["redis_url"]
    at = f"Redis at {show_host_port(host, port)} (gateway.redis_url, from {_where(where)})"
    target = RedisTarget(host, port, gateway.redis_tls, _redis_ca_file(gateway))
    try:
        problem = redis_check.ping(target, env, timeout)
    except OSError as exc:
        raise ProxyError(
            f"{at} does not answer: {exc.strerror or type(exc).__name__}",
            hint="start Redis first, or fix the URL; without it each instance would keep its "
            "own cooldowns",
        ) from None
    if problem is not None:
        raise ProxyError(f"{at}: {problem.message}", hint=problem.hint)


def member_auth(gateway: GatewaySettings, dirs: AppDirs) -> MemberAuth | None:
    """Per-member keys when the members file exists (None: only the master key, as before).

    The file is checked here, so a bad line stops the start naming file and line."""
    file = members_file(gateway, dirs)
    if not file.path.exists():
        return None
    active = sum(1 for m in read_members(file) if m.active)
    return MemberAuth(file, active)


def _write_auth_module(files: state.ProxyFiles) -> str:
    """Put the key check beside the config, where LiteLLM's ``custom_auth`` loads it from."""
    source = resources.files("codex_router.proxy").joinpath("gateway_auth.py").read_bytes()
    atomic_write_bytes(files.directory / f"{AUTH_MODULE}.py", source, mode=0o600)
    return f"{AUTH_MODULE}.{HOOK_NAME}"


def start_proxy(
    request: StartRequest,
    *,
    env: Mapping[str, str],
    dirs: AppDirs,
    ask: KeyAsker | None = None,
    waiting: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> StartResult:
    """Start the proxy (or report the one already running). See the module docstring.

    ``ask`` is called for each missing key before anything starts; ``waiting()`` wraps only the
    wait for readiness (the command shows its spinner there, never over a key prompt).
    """
    settings = resolve_settings(request.flags, env, dirs, policy_flag=request.policy_file)
    files = state.proxy_files(dirs)
    current = state.read_record(files)
    if current is not None and is_our_process(current):
        return StartResult(current, True)
    install = find_litellm(request.litellm_bin, env)  # reads files only; refuses bad versions
    with state.locked(files):
        return _start_locked(request, settings, env, files, install, ask, waiting, dirs)


def _start_locked(
    request: StartRequest,
    settings: Settings,
    env: Mapping[str, str],
    files: state.ProxyFiles,
    install: LiteLLMInstall,
    ask: KeyAsker | None,
    waiting: Callable[[], AbstractContextManager[Any]],
    dirs: AppDirs,
) -> StartResult:
    current = state.read_record(files)
    if current is not None and is_our_process(current):
        return StartResult(current, True)  # started meanwhile by another `proxy start`
    notes = list(_cleanup_stale(files))

    base_url = settings["litellm_base_url"]
    host, routing, gateway, operator_key, members = HOST, None, None, None, None
    if request.gateway:
        gateway = resolve_gateway(request.gateway_flags, env, settings.policy)
        host, port = gateway["host"], gateway["port"]
        operator_key = gateway_master_key(env, host)
        check_redis_reachable(gateway, env)
        routing = gateway_routing(gateway)
        members = member_auth(gateway, dirs)
        if gateway.redis_host_port is None:
            notes.append(
                "no gateway.redis_url: this instance keeps its cooldowns and usage to itself"
            )
    else:
        port = request.port if request.port is not None else default_port(base_url)
    check_port_free(port, host)
    if gateway is None and default_port(base_url) != port:
        notes.append(
            f"run reaches the proxy through litellm_base_url ({base_url}): export "
            f"CODEX_ROUTE_LITELLM_BASE_URL=http://{HOST}:{port}/v1"
        )

    replicas = gateway_replicas(gateway) if gateway is not None else None
    config, provided, options = prepare_config(settings, env, ask, replicas)
    source = settings.policy_file.value or "the built-in policy"
    state.ensure_dir(files)
    custom_auth = _write_auth_module(files) if members is not None else None
    config_text = config.to_yaml(source=source, gateway=routing, custom_auth=custom_auth)
    atomic_write_bytes(files.config, config_text.encode(), mode=0o600)
    master_key = operator_key or state.new_master_key()
    state.write_key(files, master_key)
    argv = [str(install.bin), "--config", str(files.config), "--host", host, "--port", str(port)]
    proc: subprocess.Popen[bytes] | None = None
    try:
        log_fd = os.open(files.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                env=_with_members_file(
                    _child_env(env, provided, master_key, config.key_vars), members
                ),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(log_fd)
        record = state.ProxyRecord(
            pid=proc.pid,
            host=host,
            port=port,
            config=str(files.config),
            log=str(files.log),
            litellm_bin=str(install.bin),
            litellm_version=install.version,
            started_at=time.time(),
            aliases=config.aliases,
            unavailable=dict(config.unavailable),
            avoid_openai=options.avoid_openai,
            served_by=dict(config.served_by),
            gateway=None if gateway is None else gateway_in_effect(gateway, env, operator_key),
            replicas=config.replicas_in_use(),
        )
        state.write_record(files, record)
        with waiting():
            probe_host = _probe_host(host)
            seconds = _wait_ready(proc, port, request.timeout, files, probe_host)
    except BaseException:
        # Failure, timeout or Ctrl-C: nothing of this start may stay behind, and a second
        # Ctrl-C must not cut the cleanup short.
        with _sigint_ignored():
            if proc is not None and proc.poll() is None:
                _end_process_group(proc.pid, grace=5.0, proc=proc)
            state.remove_session(files)
        raise
    _STARTED[proc.pid] = proc
    return StartResult(record, False, config.skipped, seconds, tuple(notes), gateway, members)


# --- stop and status -----------------------------------------------------------------------


def stop_proxy(dirs: AppDirs, *, grace: float = STOP_GRACE_SECONDS) -> StopResult:
    """End the recorded proxy if it is ours; always remove the key and the record."""
    files = state.proxy_files(dirs)
    if not files.directory.exists():
        return StopResult(None, False)
    with state.locked(files):
        return _stop_locked(files, grace)


def _stop_locked(files: state.ProxyFiles, grace: float) -> StopResult:
    record = state.read_record(files)
    if record is None:
        notes: tuple[str, ...] = ()
        if files.key.exists():
            state.remove_session(files)
            notes = (f"removed a leftover master key file ({files.key})",)
        return StopResult(None, False, notes)
    if is_our_process(record):
        _end_process_group(record.pid, grace=grace, proc=_STARTED.pop(record.pid, None))
        if pid_alive(record.pid):
            raise ProxyError(
                f"LiteLLM (PID {record.pid}) did not exit after SIGKILL",
                hint="check it with ps; the key file was kept so it can be stopped again",
            )
        state.remove_session(files)
        return StopResult(record.pid, True)
    notes = _cleanup_stale(files)
    return StopResult(record.pid, False, notes)


def proxy_status(dirs: AppDirs) -> ProxyStatus:
    files = state.proxy_files(dirs)
    record = state.read_record(files)
    if record is None:
        return ProxyStatus(False, None, files=files)
    if not is_our_process(record):
        return ProxyStatus(
            False,
            record,
            stale=True,
            files=files,
            health_detail=f"recorded PID {record.pid} is not running litellm any more",
        )
    healthy, detail = probe_readiness(record.host, record.port)
    key = state.read_key(files)
    models = list_models(record.host, record.port, key) if healthy and key else None
    return ProxyStatus(True, record, healthy, detail, models, files=files)
