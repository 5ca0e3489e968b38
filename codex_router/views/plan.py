"""Rendering a :class:`~codex_router.run.plan.Plan`: a readable summary, or its stable JSON.

The summary is hand-laid plain text rather than Rich tables: the dry run is on the start-up
budget (≤ 1.5× ``codex --version``), and importing Rich alone costs ~30 ms. Colour is added
only on a terminal and never when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

from codex_router import ui
from codex_router.redact import redact_tree


def print_plan_json(plan: Any) -> None:
    ui.print_json(redact_tree(plan.to_dict()))  # URL passwords shown as ***


class _Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def _source(entry: dict[str, Any]) -> str:
    source = entry["source"]
    if source in ("flag", "env"):
        return f"{source} {entry.get('origin', '')}".strip()
    if entry.get("file"):
        name = entry["file"] if source == "file" else Path(entry["file"]).name
        return f"{source} {name}:{entry['line']}"
    return str(source)


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)


def render_plan(data: dict[str, Any], *, color: bool = False) -> str:
    """The human summary of a plan dict (everything in it is also in ``--json``)."""
    s = _Style(color)
    lines: list[str] = []
    add = lines.append
    tokens, cls = data["tokens"], data["classification"]
    add(s("codex-route plan", "1") + "  (dry run: nothing written, nothing launched)")
    add(f"  alias      {s(data['alias'], '1;36')}   provider {s(data['provider'], '1')}")
    task = cls["complexity"] + (", long context" if cls["long_context"] else "")
    if cls["intents"]:
        task += f", intents: {', '.join(cls['intents'])}"
    add(f"  task       {task}")
    for reason in cls["reasons"]:
        add(f"               {reason['detail']}")
    for reason in data["decision_reasons"]:
        add(f"  because    {reason}")
    saved = tokens["raw"] - tokens["clean"]
    pct = f" (-{saved / tokens['raw']:.0%})" if tokens["raw"] and saved > 0 else ""
    add(
        f"  tokens     {tokens['raw']:,} raw → {tokens['clean']:,} clean{pct},"
        f" budget {tokens['budget']:,}" + (s("  truncated", "33") if tokens["truncated"] else "")
    )
    removed = sorted(
        ((k, v) for k, v in data["compression"].items() if v and v > 0), key=lambda kv: -kv[1]
    )
    if removed:
        add("  saved by   " + ", ".join(f"{name} -{n:,}" for name, n in removed))
    masked = [(k, v) for k, v in data.get("secrets_masked", {}).items() if v]
    if masked:
        add("  masked     " + ", ".join(f"{name} {n:,}" for name, n in masked))
    limit = data["max_cost_usd"]
    add(
        f"  cost       ~${data['estimated_cost_usd']:.4f}"
        + (f" (limit ${limit:.4f})" if limit else " (no limit)")
    )
    add("")
    add(s("Codex-facing paths, in fallback order", "1"))
    width = max(len(p["name"]) for p in data["paths"])
    for i, path in enumerate(data["paths"], 1):
        mark = s("ready", "32") if path["ready"] else s("skip ", "31")
        model = path["model"] or "(Codex default model)"
        if path["reasoning_effort"]:
            model += f" · {path['reasoning_effort']}"
        add(f"  {i}. {path['name']:<{width}}  {mark}  {model}  — {path['reason']}")
    first = next((p for p in data["paths"] if p["ready"]), None)
    if first is None:
        add(s("  no path is ready: a run would fail (exit 6)", "31"))
    else:
        add(f"  codex argv {shlex.join(first['codex_argv'])}   (prompt on stdin)")
        codex = data["codex"]
        if codex["path"] is not None:
            by = codex["origin"]
            if codex["source"] in ("flag", "env"):
                by = f"{codex['source']} {by}"
            add(f"  codex bin  {codex['path']}  [{by}]")
        change = first["config_change"]
        if change["writes"]:
            add(
                f"  config     would set {', '.join(change['set'])} in {change['file']}"
                " for the run, then restore it"
            )
        else:
            add(f"  config     {change['file']} left as it is")
    add("")
    add(s("Settings and where they came from", "1"))
    width = max(len(name) for name in data["provenance"])
    for name, entry in data["provenance"].items():
        shown = (
            "(built-in only)"
            if name == "policy" and entry["value"] is None
            else _value(entry["value"])
        )
        add(f"  {name:<{width}}  {shown}  [{_source(entry)}]")
    if data["blocked"]:
        add("")
        add(s("blocked", "1;31") + f": {data['blocked']}")
    return "\n".join(lines) + "\n"


def print_plan(plan: Any) -> None:
    data = redact_tree(plan.to_dict())  # URL passwords shown as ***
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    sys.stdout.write(render_plan(data, color=color))
    sys.stdout.flush()
    if data["codex"]["path"] is None:
        ui.warn("codex not found on PATH: install @openai/codex or pass --codex-bin")
