"""Rendering of ``codex-route status``: the managed profiles on or off, config.toml's state, and
the last recorded run (alias, path, estimated cost, reasons) — what the earlier cost-routing
script's ``status`` showed. Plain text; ``--json`` is :func:`status_dict` (docs/usage.md)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from codex_router.codex.config_guard import GuardStatus
from codex_router.codex.profiles import ProfileState
from codex_router.history.record import RunRecord
from codex_router.ui import print_json


def profiles_switch(states: list[ProfileState]) -> str:
    """``on`` when every managed profile is codex-route's current one, ``off`` when none is
    there, ``partly`` otherwise (outdated, foreign or only some written)."""
    if states and all(s.state == "enabled" for s in states):
        return "on"
    if all(s.state in ("absent", "foreign") for s in states):
        return "off"
    return "partly"


def _config_state(guard: GuardStatus) -> str:
    if guard.active:
        return "edited"
    return "needs_restore" if guard.interrupted else "as_written"


def last_run_dict(record: RunRecord) -> dict[str, Any]:
    """The last run as ``status --json`` shows it; ``path`` is the path of its last attempt
    (the one that answered, on success), None when nothing was launched."""
    return {
        "run_id": record.run_id,
        "started_at": record.started_at,
        "outcome": record.outcome,
        "exit_code": record.exit_code,
        "dry_run": record.dry_run,
        "alias": record.alias,
        "provider": record.provider,
        "path": record.attempts[-1].path if record.attempts else None,
        "paths_tried": [a.path for a in record.attempts],
        "path_order": list(record.path_order),
        "estimated_cost_usd": record.estimated_cost_usd,
        "reasons": list(record.reasons),
    }


def status_dict(
    home: Path, states: list[ProfileState], guard: GuardStatus, last: RunRecord | None
) -> dict[str, Any]:
    return {
        "codex_home": str(home),
        "profiles": profiles_switch(states),
        "profile_states": [s.to_dict() for s in states],
        "config": {"state": _config_state(guard), **guard.to_dict()},
        "last_run": last_run_dict(last) if last is not None else None,
    }


def _path_text(run: dict[str, Any]) -> str:
    if run["path"] is None:
        if run["dry_run"] or run["outcome"] == "dry_run":
            return "none (dry run)"
        if run["outcome"] == "blocked":
            return "none (stopped by max_cost_usd before launch)"
        return "none (nothing was launched)"
    tried = run["paths_tried"]
    return str(run["path"]) + (f"  (tried {' › '.join(tried)})" if len(tried) > 1 else "")


def render_status(data: dict[str, Any]) -> str:
    lines: list[str] = []
    add = lines.append
    add("codex-route status")
    switch = data["profiles"]
    names = ", ".join(f"codex -p {s['name']}" for s in data["profile_states"])
    if switch == "on":
        add(f"  profiles     on ({names})")
    elif switch == "off":
        add("  profiles     off (`codex-route config enable` writes them)")
    else:
        states = ", ".join(f"{s['name']} {s['state']}" for s in data["profile_states"])
        add(f"  profiles     partly: {states} (`codex-route config enable` updates them)")
    config = data["config"]
    add(
        "  config.toml  "
        + {
            "edited": "edited by a running codex-route run (restored when it ends)",
            "needs_restore": "an interrupted run left codex-route's keys in it: "
            "run `codex-route config restore`",
            "as_written": "as you wrote it",
        }[config["state"]]
    )
    run = data["last_run"]
    if run is None:
        add("  last run     none recorded yet")
        return "\n".join(lines) + "\n"
    moment = time.strftime("%Y-%m-%d %H:%M", time.localtime(run["started_at"]))
    add(f"  last run     {moment}  {run['outcome']} (exit {run['exit_code']})")
    add(f"  alias        {run['alias']}   provider {run['provider']}")
    add(f"  path         {_path_text(run)}")
    add(f"  est. cost    ${run['estimated_cost_usd']:.6f}")
    reasons = run["reasons"] or ["(none recorded)"]
    add(f"  reason       {reasons[0]}")
    lines.extend(f"               {reason}" for reason in reasons[1:])
    return "\n".join(lines) + "\n"


def print_status(data: dict[str, Any]) -> None:
    sys.stdout.write(render_status(data))


def print_status_json(data: dict[str, Any]) -> None:
    print_json(data)
