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
    by_reason: dict[tuple[str, str, int], list[str]] = {}
    for s in result.skipped:
        by_reason.setdefault((s.reason, s.upstream, s.replica), []).append(s.group)
    for (reason, upstream, replica), groups in by_reason.items():
        what = f"{upstream} deployment" if replica == 1 else f"{upstream} replica {replica}"
        ui.warn(f"{reason}: no {what} for {', '.join(groups)}")
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
        sys.stdout.write(
            "".join(f"{line}\n" for line in _replica_lines(rec.replicas, "replica ", "  "))
        )
        _member_lines(getattr(result, "member_auth", None))


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


def _replica_lines(replicas: dict[str, list[dict[str, Any]]], label: str, indent: str) -> list[str]:
    """Each gateway.replica in the config, balanced with its upstream's own deployment."""
    lines = []
    for upstream, entries in replicas.items():
        for r in entries:
            limits = "".join(f", {k} {r[k]}" for k in ("rpm", "tpm") if k in r)
            count = len(r["aliases"])
            lines.append(
                f"{label}{upstream}/{r['replica']}: {r['key_var'] or 'no key'}{limits}, "
                f"{count} alias{'es' if count != 1 else ''}"
            )
            lines.append(f"{indent}at {r['api_base'] or f'the {upstream} api_base'}")
    return lines


def _member_lines(auth: Any) -> None:
    """Whether per-member keys are on (no key, no hash: the file and a count)."""
    if auth is None:
        sys.stdout.write("member keys: off (no members file; only the master key is accepted)\n")
        return
    sys.stdout.write(
        f"member keys: {auth.active} active; revoking one needs no restart\n"
        f"members file: {auth.members_file.path} ({auth.members_file.where})\n"
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
    lines += _replica_lines(rec.replicas, "  replica   ", " " * 12)
    lines += [
        f"  openai    {'never (avoid_openai)' if rec.avoid_openai else 'allowed'}",
        f"  config    {rec.config}",
        f"  log       {rec.log}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def print_keys_result(result: Any) -> None:
    """What `proxy keys add|rotate|revoke` did; the key itself is only ever in its file."""
    where = f"members file: {result.members_file.path} ({result.members_file.where})"
    if result.action == "revoked":
        sys.stdout.write(
            f"revoked {result.name}: gateways reading the members file refuse their key\n{where}\n"
        )
        return
    verb = "new key for" if result.action == "rotated" else "added"
    sys.stdout.write(
        f"{verb} {result.name}: key written to {result.key_file} (0600; hand it over\n"
        "privately, then delete it); the members file holds only its SHA-256\n"
        f"{where}\n"
    )


def print_keys_json(result: Any) -> None:
    ui.print_json(result.to_dict())


def print_keys_list(result: Any) -> None:
    members = result.members
    sys.stderr.write(f"members file: {result.members_file.path} ({result.members_file.where})\n")
    if not members:
        sys.stdout.write("no members (add one: codex-route proxy keys add NAME --out FILE)\n")
        return
    width = max(4, *(len(m.name) for m in members))
    lines = [f"{'name':<{width}}  {'created':<20}  revoked"]
    lines += [f"{m.name:<{width}}  {m.created:<20}  {m.revoked or '-'}" for m in members]
    sys.stdout.write("\n".join(lines) + "\n")
