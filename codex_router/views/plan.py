"""Rendering a :class:`~codex_router.run.plan.Plan`: a readable summary, or its stable JSON.

The summary is hand-laid plain text rather than Rich tables: the dry run is on the start-up
budget (≤ 1.5× ``codex --version``), and importing Rich alone costs ~30 ms. Colour is added
only on a terminal and never when ``NO_COLOR`` is set.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from codex_router import ui
from codex_router.redact import redact_tree
from codex_router.views import layout


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


def render_plan(
    data: dict[str, Any],
    *,
    color: bool = False,
    width: int | None = None,
    verbose: bool = False,
) -> str:
    """The human summary of a plan dict (everything in it is also in ``--json``).

    ``width``: wrap at spaces to that many columns (a terminal), never inside a word or an
    argument; ``None`` (a pipe): one line per entry. The settings table lists only values that
    are not defaults unless ``verbose``.
    """
    s = _Style(color)
    lines: list[str] = []
    add = lines.append

    def para(first: str, text: str | list[str], indent: int | None = None) -> None:
        """``first`` then ``text`` (or these words), wrapped under the text on a terminal."""
        words = text.split() if isinstance(text, str) else text
        hang = layout.visible(first) if indent is None else indent
        lines.extend(layout.wrap_words(words, width, first=first, indent=hang))

    tokens, cls = data["tokens"], data["classification"]
    add(s("codex-route plan", "1") + "  (dry run: nothing written, nothing launched)")
    add(f"  alias      {s(data['alias'], '1;36')}   provider {s(data['provider'], '1')}")
    task = cls["complexity"] + (", long context" if cls["long_context"] else "")
    if cls["intents"]:
        task += f", intents: {', '.join(cls['intents'])}"
    para("  task       ", task)
    for reason in cls["reasons"]:
        para("               ", reason["detail"])
    for reason in data["decision_reasons"]:
        para("  because    ", reason)
    saved = tokens["raw"] - tokens["clean"]
    pct = f" (-{saved / tokens['raw']:.0%})" if tokens["raw"] and saved > 0 else ""
    para(
        "  tokens     ",
        f"{tokens['raw']:,} raw → {tokens['clean']:,} clean{pct},"
        f" budget {tokens['budget']:,}" + (s("  truncated", "33") if tokens["truncated"] else ""),
    )
    removed = sorted(
        ((k, v) for k, v in data["compression"].items() if v and v > 0), key=lambda kv: -kv[1]
    )
    if removed:
        para("  saved by   ", ", ".join(f"{name} -{n:,}" for name, n in removed))
    masked = [(k, v) for k, v in data.get("secrets_masked", {}).items() if v]
    if masked:
        para("  masked     ", ", ".join(f"{name} {n:,}" for name, n in masked))
    limit = data["max_cost_usd"]
    add(
        f"  cost       ~${data['estimated_cost_usd']:.4f}"
        + (f" (limit ${limit:.4f})" if limit else " (no limit)")
    )
    basis = data.get("estimate_basis")
    if basis is not None:
        para("  estimate   ", basis["reason"])
    window = data.get("context_window")
    if window is not None:
        para("  window     ", _window_line(window))
    escalation = data.get("escalation")
    if escalation is not None and escalation["on"]:  # shown only when the user opted in
        kinds = ", ".join(escalation["on"])
        if escalation["alias"]:
            para("  escalate   ", f"on {kinds}: {escalation['reason']}, once")
        else:
            para("  escalate   ", f"on {kinds}: not this run ({escalation['reason']})")
    add("")
    add(s("Codex-facing paths, in fallback order", "1"))
    name_width = max(len(p["name"]) for p in data["paths"])
    for i, path in enumerate(data["paths"], 1):
        mark = s("ready", "32") if path["ready"] else s("skip ", "31")
        model = path["model"] or "(Codex default model)"
        if path["reasoning_effort"]:
            model += f" · {path['reasoning_effort']}"
        head = f"  {i}. {path['name']:<{name_width}}  {mark}  "
        para(head, [*model.split(), layout.GAP + "—", *path["reason"].split()])
    first = next((p for p in data["paths"] if p["ready"]), None)
    if first is None:
        code = (data.get("unready") or {}).get("exit_code", 6)
        add(s(f"  no path is ready: a run would fail (exit {code})", "31"))
    else:
        # one word per argument: a line break never falls inside a quoted argument
        argv = [shlex.quote(arg).replace(" ", layout.NBSP) for arg in first["codex_argv"]]
        para("  codex argv ", [*argv, layout.GAP + "(prompt" + layout.NBSP + "on", "stdin)"])
        codex = data["codex"]
        if codex["path"] is not None:
            by = codex["origin"]
            if codex["source"] in ("flag", "env"):
                by = f"{codex['source']} {by}"
            para("  codex bin  ", [codex["path"], layout.GAP + f"[{by}]"])
        change = first["config_change"]
        if change["writes"]:
            para(
                "  config     ",
                f"would set {', '.join(change['set'])} in {change['file']}"
                " for the run, then restore it",
            )
        else:
            para("  config     ", f"{change['file']} left as it is")
    add("")
    adaptive = data.get("adaptive_router")
    if adaptive is None:
        add(s("Path health", "1") + ": nothing recorded yet (read from the history)")
    elif adaptive["error"] is not None:
        para(s("Path health", "1") + ": ", f"the history could not be read: {adaptive['error']}")
    else:
        add(s("Path health", "1") + f" (adaptive router: {_adaptive_mode(adaptive)})")
        health = adaptive["health"]
        name_width = max(len(h["path"]) for h in health)
        for h in health:
            # one unbreakable word: the columns stay aligned; a quota note may wrap after it
            columns = (
                f"{h['state']:<10}  risk {h['risk']:.2f}  score {h['score']:.2f}  "
                f"{h['observations']:,} attempt{'' if h['observations'] == 1 else 's'}"
            ).replace(" ", layout.NBSP)
            quota = _quota_note(h["quota"]).split()
            if quota:
                quota[0] = layout.GAP + quota[0]
            para(f"  {h['path']:<{name_width}}  ", [columns, *quota])
        for label, text in _adaptive_verdict(adaptive):
            para(f"  {label:<11}", text)
    add("")
    entries = list(data["provenance"].items())
    shown = entries if verbose else [(k, e) for k, e in entries if e["source"] != "default"]
    if verbose:
        add(s("Settings and where they came from", "1"))
    elif shown:
        title = "Settings not at their defaults, and where they came from"
        add(s(title, "1") + " (all: --verbose)")
    else:
        add(s("Settings", "1") + ": all at their defaults (list them: --verbose)")
    key_width = max((len(name) for name, _ in shown), default=0)
    for name, entry in shown:
        value = (
            "(built-in only)"
            if name == "policy" and entry["value"] is None
            else _value(entry["value"])
        )
        source = layout.GAP + f"[{_source(entry)}]".replace(" ", layout.NBSP)
        para(f"  {name:<{key_width}}  ", [*value.split(" "), source])
    if data["blocked"]:
        add("")
        para(s("blocked", "1;31") + ": ", data["blocked"], indent=2)
    if window is not None and window["status"] == "refused":
        add("")
        para(s("refused", "1;31") + ": ", window["detail"], indent=2)
    return "\n".join(lines) + "\n"


def _adaptive_mode(adaptive: dict[str, Any]) -> str:
    if not adaptive["enabled"]:
        return "off, shown only"
    return "shadow mode, the order is kept" if adaptive["shadow_mode"] else "applied mode"


def _quota_note(quota: dict[str, Any]) -> str:
    """Quota memory in a few words: cooling down until HH:MM (local time), or probed again."""
    if quota["status"] == "cooldown":
        until = time.strftime("%H:%M", time.localtime(quota["until"]))
        return f"{quota['outcome']}: cooling down until {until}"
    if quota["status"] == "probe":
        return f"{quota['outcome']} cooldown over: probed again"
    return ""


def _adaptive_verdict(adaptive: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) rows: the suggested order, would it switch, the cost guard, applied."""
    order = ", ".join(adaptive["suggested_order"])
    delta = adaptive["confidence_delta"]
    if adaptive["would_switch"]:
        verdict = f"would switch to {adaptive['suggested']} ({delta:+.2f} adjusted score)"
    else:
        verdict = f"would not switch ({delta:+.2f} for {adaptive['suggested']})"
        if adaptive["suggested"] == adaptive["baseline"]:
            verdict = f"would not switch: {adaptive['baseline']} is best"
    rows = [("suggests", f"{order}: {verdict}")]
    if adaptive["cost_guard_blocked"]:
        rows.append(
            (
                "cost guard",
                f"blocked: {adaptive['cost_multiplier']:.2f}× {adaptive['baseline']}'s "
                "average cost",
            )
        )
    if adaptive["applied"]:
        applied = "yes: the paths above are in the suggested order"
    elif not adaptive["would_switch"]:
        applied = "no: nothing to switch"
    elif adaptive["cost_guard_blocked"]:
        applied = "no: the cost guard blocked it"
    elif adaptive["held"]:
        applied = f"no: {adaptive['held']}"
    elif not adaptive["enabled"]:
        applied = "no: adaptive_router.enabled is false"
    else:
        applied = "no: adaptive_router.shadow_mode is true"
    rows.append(("applied", applied))
    return rows


def _window_line(window: dict[str, Any]) -> str:
    """The context-window guard in one line: fits, switched, refused or not checked."""
    needed, size, alias = window["needed"], window["context_window"], window["alias"]
    if window["status"] == "unchecked":
        return f"{needed:,} tokens; {alias} sets no context_window: not checked"
    of = f"{needed:,} of {size:,} tokens" if size is not None else f"{needed:,} tokens"
    if window["status"] == "switched":
        before = window["switched_from_context_window"]
        return f"{of}: too big for {window['switched_from']} ({before:,}), so {alias}"
    if window["status"] == "refused":
        return f"{needed:,} tokens > {size:,} of {alias}: refused (exit 7)"
    return f"{of}: fits {alias}"


def print_plan(plan: Any, *, verbose: bool = False) -> None:
    data = redact_tree(plan.to_dict())  # URL passwords shown as ***
    width = layout.width()
    color = width is not None and "NO_COLOR" not in os.environ
    sys.stdout.write(render_plan(data, color=color, width=width, verbose=verbose))
    sys.stdout.flush()
    if data["codex"]["path"] is None:
        ui.warn("codex not found on PATH: install @openai/codex or pass --codex-bin")


#: The lines around the prompt that ``run --dry-run --show-prompt`` prints after the plan.
PROMPT_BEGIN = "----- prompt: {tokens} tokens, exactly as codex would get it -----"
PROMPT_END = "----- end of prompt -----"


def print_prompt(plan: Any) -> None:
    """``--show-prompt``: the cleaned, compressed text codex would get, between two marker
    lines, after the plan on stdout (secrets masked unless ``--keep-secrets``)."""
    text = plan.codex_input
    if not text.endswith("\n"):
        text += "\n"
    begin = PROMPT_BEGIN.format(tokens=plan.tokens.clean)
    sys.stdout.write(f"\n{begin}\n{text}{PROMPT_END}\n")
    sys.stdout.flush()


def print_plan_json_with_prompt(plan: Any) -> None:
    """``--json --show-prompt``: the plan's JSON plus ``prompt``, the text codex would get."""
    data = redact_tree(plan.to_dict())  # URL passwords shown as ***; the prompt as it is sent
    data["prompt"] = plan.codex_input
    ui.print_json(data)
