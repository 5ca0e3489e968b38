"""Rendering of ``config status`` and the profile lists.

Plain text here; the JSON forms are documented in docs/usage.md."""

from __future__ import annotations

import sys
from pathlib import Path

from codex_router.codex.config_guard import GuardStatus
from codex_router.codex.profiles import ProfileState
from codex_router.ui import print_json


def print_profiles(states: list[ProfileState]) -> None:
    for s in states:
        detail = f" ({s.detail})" if s.detail else ""
        sys.stdout.write(f"{s.name:<16} {s.state:<9} {s.file}{detail}\n")


def print_status(home: Path, guard: GuardStatus, states: list[ProfileState]) -> None:
    out = sys.stdout.write
    out(f"config.toml      {guard.config}\n")
    if guard.active:
        pids = ", ".join(str(r["pid"]) for r in guard.live_runs)
        out(
            f"edited by        {len(guard.live_runs)} running codex-route run(s) (pid {pids}); "
            "restored when the last one ends\n"
        )
    elif guard.interrupted:
        out(
            "needs restore    an interrupted run left codex-route's keys in it: "
            "run `codex-route config restore`\n"
        )
    else:
        out("state            as you wrote it (no codex-route edit in place)\n")
    if guard.backup:
        out(f"backup           {guard.backup}\n")
    out("profiles:\n")
    print_profiles(states)


def print_status_json(home: Path, guard: GuardStatus, states: list[ProfileState]) -> None:
    print_json(
        {
            "codex_home": str(home),
            "guard": guard.to_dict(),
            "profiles": [s.to_dict() for s in states],
        }
    )
