"""Rendering for ``proxy start|stop|status``: data on stdout, notes and warnings on stderr.

Nothing here ever receives a key: results carry variable names and file paths only.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from codex_router import ui


@contextmanager
def starting() -> Iterator[None]:
    """A spinner on stderr while the proxy starts (Rich animates it only on a terminal)."""
    if not sys.stderr.isatty():
        sys.stderr.write("starting LiteLLM on 127.0.0.1 (about 10 s)…\n")
        sys.stderr.flush()
        yield
        return
    with ui.err().status("starting LiteLLM on 127.0.0.1 (about 10 s)…", spinner="dots"):
        yield


def _skipped(result: Any) -> None:
    by_reason: dict[tuple[str, str], list[str]] = {}
    for s in result.skipped:
        by_reason.setdefault((s.reason, s.upstream), []).append(s.group)
    for (reason, upstream), groups in by_reason.items():
        ui.warn(f"{reason}: no {upstream} deployment for {', '.join(groups)}")
    by_source: dict[str, list[str]] = {}
    for group, source in result.record.served_by.items():
        by_source.setdefault(source, []).append(group)
    for source, groups in by_source.items():
        ui.warn(
            f"served by their fallback {source} (no deployment of their own): {', '.join(groups)}"
        )
    if result.record.unavailable:
        ui.warn(
            f"not served (no deployment left): {', '.join(result.record.unavailable)}; "
            "`codex-route proxy status` says why"
        )


def print_started(result: Any) -> None:
    rec = result.record
    for note in result.notes:
        ui.warn(note)
    if result.already_running:
        sys.stdout.write(f"LiteLLM proxy already running: PID {rec.pid}, {rec.base_url}\n")
        return
    _skipped(result)
    sys.stdout.write(
        f"LiteLLM {rec.litellm_version} ready in {result.ready_seconds:.1f} s:"
        f" PID {rec.pid}, {rec.base_url}\n"
        f"aliases: {', '.join(rec.aliases)}\n"
        f"log: {rec.log}\n"
        "run uses it on the litellm path; stop it with: codex-route proxy stop\n"
    )
    if result.gateway is not None:
        _gateway_lines(result.gateway)


def _gateway_lines(gateway: Any) -> None:
    """What a team gateway shares, and how each setting was chosen (never a key)."""
    for name in ("host", "port", "redis_url", "routing_strategy", "cooldown_seconds", "rpm"):
        resolved = gateway.values[name]
        value = resolved.value if resolved.value is not None else "none (state not shared)"
        where = resolved.origin if resolved.source in ("flag", "env") else resolved.source
        if resolved.source == "file":
            where = f"{os.path.basename(resolved.file)}:{resolved.line}"  # fits 80 columns
        sys.stdout.write(f"gateway {name}: {value} ({where})\n")
    sys.stdout.write(
        "members: set CODEX_ROUTE_LITELLM_BASE_URL to this gateway's URL and\n"
        "LITELLM_API_KEY to their key; no provider key on their machines\n"
    )


def print_stopped(result: Any) -> None:
    for note in result.notes:
        ui.warn(note)
    if result.stopped:
        sys.stdout.write(f"stopped the LiteLLM proxy (PID {result.pid}); session key deleted\n")
    else:
        sys.stdout.write("no LiteLLM proxy of codex-route was running\n")


def print_status_json(status: Any) -> None:
    ui.print_json(status.to_dict())


def print_status(status: Any) -> None:
    rec = status.record
    if rec is None:
        sys.stdout.write("LiteLLM proxy: not running (start it with: codex-route proxy start)\n")
        return
    if status.stale:
        sys.stdout.write(
            f"LiteLLM proxy: not running; {status.health_detail} "
            "(crashed?): `codex-route proxy stop` cleans up\n"
        )
        return
    health = "healthy" if status.healthy else f"NOT healthy ({status.health_detail})"
    aliases = status.models if status.models is not None else rec.aliases
    age = time.time() - rec.started_at
    lines = [
        f"LiteLLM proxy: running, {health}",
        f"  version   {rec.litellm_version}",
        f"  pid       {rec.pid} (up {age / 60:.0f} min)",
        f"  url       {rec.base_url}",
        f"  aliases   {', '.join(aliases) or '(none)'}",
    ]
    for alias, source in rec.served_by.items():
        lines.append(f"  fallback  {alias}: served by {source} (no deployment of its own)")
    for alias, why in rec.unavailable.items():
        lines.append(f"  missing   {alias}: {why}")
    lines += [
        f"  openai    {'never (avoid_openai)' if rec.avoid_openai else 'allowed'}",
        f"  config    {rec.config}",
        f"  log       {rec.log}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
