"""What each page of the dashboard shows: plain dicts for the templates, computed by the same
functions the commands use (``status``, the codex probe of ``run``, ``proxy status``,
``history``, the adaptive router's health read). Reads (the codex version probe is remembered in
the cache dir, as for ``run``); never a prompt (the history holds none) and never a key's value
(only the names of the variables that are set).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import closing
from typing import Any

from codex_router.codex import profiles
from codex_router.codex.binary import locate_codex, probe_version_cached
from codex_router.codex.config_guard import ConfigGuard
from codex_router.dirs import AppDirs, codex_home
from codex_router.errors import CodexRouteError
from codex_router.history.query import RunFilter, outcome_name, parse_since, recent_runs
from codex_router.history.record import OUTCOME_LABELS, RunRecord
from codex_router.history.store import history_path
from codex_router.policy.settings import resolve_settings
from codex_router.proxy.process import proxy_status
from codex_router.run.health import read_health
from codex_router.views.history import path_label, short_alias, short_duration, when
from codex_router.views.status import status_dict

#: Runs per History page; the Overview shows the newest :data:`OVERVIEW_RUNS`.
PAGE_SIZE = 50
OVERVIEW_RUNS = 10
#: The paths whose health the Paths page shows, in the default fallback order.
PATHS = ("standard", "litellm", "huggingface")
#: What to do when codex is missing (``doctor`` says the same).
CODEX_INSTALL = "npm install -g @openai/codex, or set CODEX_ROUTE_CODEX_BIN"


def run_row(record: RunRecord, *, now: float) -> dict[str, Any]:
    """One run as the tables show it (the ``history`` table's labels)."""
    usage = sum(a.usage.total_tokens for a in record.attempts if a.usage is not None)
    return {
        "run_id": record.run_id[:8],
        "when": when(record.started_at, now=now),
        "alias": short_alias(record.alias),
        "provider": record.provider,
        "path": path_label(record),
        "result": OUTCOME_LABELS.get(record.outcome, record.outcome),
        "ok": record.outcome == "success",
        "time": short_duration(record.duration_ms),
        "tokens": usage or record.tokens_clean,
        "cost": f"{record.estimated_cost_usd:.4f}",
        "mark": record.feedback.mark if record.feedback is not None else "",
    }


def codex_found(dirs: AppDirs, env: Mapping[str, str]) -> dict[str, Any]:
    """Which codex a run would use and its version, as ``run`` probes it: remembered per binary
    (``codex --version`` takes ~0.5 s, too long for every Overview; an upgrade re-probes)."""
    try:
        binary = locate_codex(None, env)
    except CodexRouteError as exc:
        return {"ok": False, "summary": exc.message, "fix": exc.hint}
    if binary.path is None:
        return {"ok": False, "summary": "codex is not on PATH", "fix": CODEX_INSTALL}
    try:
        version = probe_version_cached(binary.path, dirs.cache_dir, env)
    except CodexRouteError as exc:
        return {
            "ok": False,
            "summary": f"{binary.path} does not run: {exc.message}",
            "fix": exc.hint,
        }
    return {"ok": True, "summary": f"{version} at {binary.path}", "fix": None}


def overview(dirs: AppDirs, env: Mapping[str, str], *, now: float) -> dict[str, Any]:
    """Profiles and config.toml (``status``), codex (``doctor``'s check), the proxy (``proxy
    status``) and the last runs (``history``)."""
    home = codex_home(env)
    out: dict[str, Any] = {"problems": []}
    try:
        settings = resolve_settings({}, env, dirs)
        states = profiles.states(home, settings)
        guard = ConfigGuard(home / "config.toml", dirs.state_dir).status()
        out["status"] = status_dict(home, states, guard, None)
    except CodexRouteError as exc:
        out["status"] = None
        out["problems"].append(exc.message)
    out["codex"] = codex_found(dirs, env)
    out["proxy"] = proxy_status(dirs).to_dict()
    with closing(recent_runs(dirs, RunFilter(), OVERVIEW_RUNS)) as runs:
        out["runs"] = [run_row(r, now=now) for r in runs]
    return out


def history_page(dirs: AppDirs, params: Mapping[str, str], *, now: float) -> dict[str, Any]:
    """The History page: the runs matching the filters (alias, outcome, since), one page of
    :data:`PAGE_SIZE`, newest first. A bad filter is named in ``error`` and shows no runs."""
    alias = params.get("alias", "").strip() or None
    outcome = params.get("outcome", "").strip() or None
    since_text = params.get("since", "").strip() or None
    try:
        page = max(1, int(params.get("page", "1") or 1))
    except ValueError:
        page = 1
    out: dict[str, Any] = {
        "alias": alias or "",
        "outcome": outcome or "",
        "since": since_text or "",
        "page": page,
        "outcomes": sorted(OUTCOME_LABELS.values()),
        "error": None,
        "runs": [],
        "has_next": False,
    }
    try:
        if outcome is not None:
            outcome_name(outcome)
        since = parse_since(since_text, now=now) if since_text is not None else None
    except ValueError as exc:
        out["error"] = str(exc)
        return out
    flt = RunFilter(alias=alias, since=since, outcome=outcome)
    skip = (page - 1) * PAGE_SIZE
    # one row more than the page says whether there is a next one
    with closing(recent_runs(dirs, flt, PAGE_SIZE + 1, offset=skip)) as runs:
        rows = [run_row(r, now=now) for r in runs]
    out["runs"] = rows[:PAGE_SIZE]
    out["has_next"] = len(rows) > PAGE_SIZE
    return out


def paths_page(dirs: AppDirs, env: Mapping[str, str], *, now: float) -> dict[str, Any]:
    """The adaptive router's health of each path, from the recorded attempts; ``recorded`` is
    False (and nothing is computed) while there is no history."""
    if not history_path(dirs).exists():
        return {"recorded": False, "problem": None}
    try:
        config = resolve_settings({}, env, dirs).policy.adaptive_router
    except CodexRouteError as exc:
        return {"recorded": True, "problem": exc.message}
    decision = read_health(dirs, PATHS, config, now=now)
    rows = [
        {
            "path": h.path,
            "state": h.state,
            "score": f"{h.adjusted_score:.2f}",
            "risk": f"{h.risk:.2f}",
            "observations": h.observations,
            "failures": h.failures,
            "performance": f"{h.performance_score:.2f}",
            "cost": "-" if h.average_cost_usd is None else f"{h.average_cost_usd:.4f}",
            "cold_start": h.cold_start,
        }
        for h in decision.health
    ]
    return {
        "recorded": True,
        "problem": None,
        "enabled": decision.enabled,
        "shadow_mode": decision.shadow_mode,
        "suggested": decision.suggested,
        "order": list(decision.suggested_order),
        "rows": rows,
    }


def keys_page(given: tuple[str, ...], in_environment: tuple[str, ...]) -> dict[str, Any]:
    """Which key variables are set (names only) and the proxy's state."""
    return {"given": list(given), "in_environment": list(in_environment)}


def now() -> float:
    return time.time()
