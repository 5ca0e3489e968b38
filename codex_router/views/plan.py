"""Rendering a :class:`~codex_router.plan.Plan`: a readable summary, or its stable JSON."""

from __future__ import annotations

import shlex
from typing import Any

from codex_router import ui


def print_plan_json(plan: Any) -> None:
    ui.print_json(plan.to_dict())


def _where(entry: dict[str, Any]) -> str:
    source = entry["source"]
    if source in ("flag", "env"):
        return f"{source} {entry.get('origin', '')}".strip()
    if entry.get("file"):
        return f"{source} {entry['file']}:{entry['line']}"
    return source


def print_plan(plan: Any) -> None:
    """A human summary on stdout; everything in it is also in ``--json``."""
    from rich.table import Table

    data = plan.to_dict()
    console = ui.out()
    esc = ui.escape
    tokens = data["tokens"]
    cls = data["classification"]
    console.print(f"[bold]codex-route plan[/bold] (dry run: nothing written, nothing launched)")
    console.print(f"  alias     [bold cyan]{data['alias']}[/]   provider [bold]{data['provider']}[/]")
    console.print(f"  task      {cls['complexity']}"
                  + (", long context" if cls["long_context"] else "")
                  + (f", intents: {', '.join(cls['intents'])}" if cls["intents"] else ""))
    for reason in cls["reasons"]:
        console.print(f"            - {esc(reason['detail'])}")
    for reason in data["decision_reasons"]:
        console.print(f"  decided   {esc(reason)}")
    saved = tokens["raw"] - tokens["clean"]
    pct = f" (-{saved / tokens['raw']:.0%})" if tokens["raw"] and saved > 0 else ""
    console.print(f"  tokens    {tokens['raw']:,} raw → {tokens['clean']:,} clean{pct}, "
                  f"budget {tokens['budget']:,}" + (" [yellow](truncated)[/]" if tokens["truncated"] else ""))
    removed = {k: v for k, v in data["compression"].items() if v}
    if removed:
        rules = ", ".join(f"{name} -{n:,}" for name, n in sorted(removed.items(), key=lambda kv: -kv[1]))
        console.print(f"  saved by  {esc(rules)}")
    cost = data["estimated_cost_usd"]
    limit = data["max_cost_usd"]
    console.print(f"  cost      ~${cost:.4f}" + (f" (limit ${limit:.4f})" if limit else " (no limit)"))

    table = Table(title="Codex-facing paths, in fallback order", title_justify="left", expand=False)
    for col in ("#", "path", "ready", "model", "why"):
        table.add_column(col, overflow="fold")
    for i, path in enumerate(data["paths"], 1):
        ready = "[green]yes[/]" if path["ready"] else "[red]no[/]"
        model = path["model"] or "(Codex default)"
        if path["reasoning_effort"]:
            model += f" · {path['reasoning_effort']}"
        table.add_row(str(i), path["name"], ready, esc(model), esc(path["reason"]))
    console.print(table)
    first = next((p for p in data["paths"] if p["ready"]), None)
    if first is None:
        console.print("[red]no path is ready[/]: a run would fail (exit 6)")
    else:
        console.print(f"  codex argv  {esc(shlex.join(first['codex_argv']))}   (prompt on stdin)")
        change = first["config_change"]
        if change["writes"]:
            keys = ", ".join(change["set"])
            console.print(f"  config      would set {esc(keys)} in {esc(change['file'])} for the run, then restore it")
        else:
            console.print(f"  config      {esc(change['file'])} left as it is")
    if data["codex"]["path"] is None:
        ui.warn("codex not found on PATH: install @openai/codex or pass --codex-bin")

    prov = Table(title="Settings and where they came from", title_justify="left", expand=False)
    prov.add_column("setting")
    prov.add_column("value", overflow="fold")
    prov.add_column("source", overflow="fold")
    for name, entry in data["provenance"].items():
        value = entry["value"]
        shown = ", ".join(value) if isinstance(value, list) else ("(built-in)" if value is None and name == "policy" else str(value))
        prov.add_row(name, esc(shown), esc(_where(entry)))
    console.print(prov)
    if data["blocked"]:
        console.print(f"[red]blocked[/]: {esc(data['blocked'])}")
