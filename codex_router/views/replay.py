"""Rendering ``replay``: plain text from the report's ``to_dict()`` (so it shows nothing the
JSON does not have), or the stable JSON (docs/reference/replay-json.md).

Tables are laid out to fit 80 columns; sentences wrap at the terminal's width (one line each
in a pipe).
"""

from __future__ import annotations

import sys
from typing import Any

from codex_router import ui
from codex_router.redact import redact_tree
from codex_router.views import layout
from codex_router.views.money import usd

#: Alias rows and moves shown; the JSON has them all.
_MAX_ROWS = 12
_ALIAS_WIDTH = 24


def print_replay_json(report: Any) -> None:
    ui.print_json(redact_tree(report.to_dict()))


def print_replay(report: Any) -> None:
    sys.stdout.write(render_replay(redact_tree(report.to_dict()), width=layout.width()))
    sys.stdout.flush()


def _rate(entry: dict[str, Any]) -> str:
    if not entry["launched"]:
        return "never run"
    return f"{entry['failed']:,} of {entry['launched']:,} ({entry['failure_rate'] * 100:.0f}%)"


def _name(alias: str) -> str:
    return alias if len(alias) <= _ALIAS_WIDTH else alias[: _ALIAS_WIDTH - 1] + "…"


def _policy(entry: dict[str, Any]) -> str:
    if entry.get("value") is None:
        return "the built-in default policy"
    return layout.shorten_home(str(entry["value"]))


def render_replay(data: dict[str, Any], *, width: int | None = None) -> str:
    """The text of a ``replay`` report dict; ``width``: wrap sentences there."""
    lines: list[str] = []

    def say(text: str, indent: int = 2) -> None:
        lines.extend(layout.wrap(text, width, first=" " * indent, indent=indent + 2))

    since = f" since {data['since']}" if data["since"] else ""
    say(f"replay of {data['runs']:,} recorded runs{since} under {_policy(data['policy'])}", 0)
    say(
        "routing re-decided with every path assumed ready; complexity and intents are as "
        "recorded (the prompt is never stored), long context re-derived from the recorded "
        "token count"
    )
    skipped = sum(data["skipped"].values())
    if skipped:
        say(f"{skipped:,} runs not replayed: their recorded class is unknown (imported runs)")
    if not data["runs"]:
        return "\n".join(lines) + "\n"

    lines.append("")
    lines.append(
        f"  {'alias':<{_ALIAS_WIDTH}} {'recorded':>9} {'replayed':>9}  failed before (launched)"
    )
    for entry in data["aliases"][:_MAX_ROWS]:
        lines.append(
            f"  {_name(entry['alias']):<{_ALIAS_WIDTH}} {entry['recorded_runs']:>9,}"
            f" {entry['replayed_runs']:>9,}  {_rate(entry)}"
        )
    if len(data["aliases"]) > _MAX_ROWS:
        lines.append(f"  … {len(data['aliases']) - _MAX_ROWS} more aliases (--json has them)")
    changed = data["changed"]
    share = changed / data["runs"] * 100
    lines.append("")
    say(f"{changed:,} runs ({share:.1f}%) would go to another alias")
    for move in data["moves"][:_MAX_ROWS]:
        lines.append(f"  {move['runs']:>9,}  {_name(move['from'])} → {_name(move['to'])}")
    if len(data["moves"]) > _MAX_ROWS:
        lines.append(f"  … {len(data['moves']) - _MAX_ROWS} more moves (--json has them)")

    cost = data["cost"]
    recorded, replayed = cost["recorded_usd"], cost["replayed_usd"]
    delta = ""
    if recorded:
        delta = f" ({(replayed - recorded) / recorded * 100:+.1f}%)"
    lines.append("")
    say(
        f"cost at this policy's prices: recorded aliases {usd(recorded)}, replayed "
        f"{usd(replayed)}{delta}; as recorded at the prices of the time "
        f"{usd(cost['as_recorded_usd'])}"
    )
    say(
        f"priced from Codex's reported usage for {cost['runs_from_usage']:,} runs, from the "
        f"estimate for {cost['runs_from_estimate']:,}"
        + (
            f"; {cost['recorded_alias_unknown']:,} recorded on aliases this policy does not"
            " define keep their recorded cost"
            if cost["recorded_alias_unknown"]
            else ""
        )
    )

    if data["failed_before"]:
        lines.append("")
        say("where the moved runs would go, and how each alias did before:")
        for entry in data["failed_before"]:
            if entry["launched"]:
                say(
                    f"{entry['runs_moving_in']:,} runs would move to {entry['alias']}, which "
                    f"failed {entry['failure_rate'] * 100:.0f}% of its {entry['launched']:,} "
                    "recorded runs",
                    4,
                )
            else:
                say(
                    f"{entry['runs_moving_in']:,} runs would move to {entry['alias']}, which "
                    "has no recorded run",
                    4,
                )

    stops = data["stops"]
    if stops["context_window"] or stops["max_cost_usd"]:
        lines.append("")
        say(
            f"would stop before launch: {stops['context_window']:,} too big for any allowed "
            f"context_window, {stops['max_cost_usd']:,} above max_cost_usd (priced as if run)"
        )
    classification = data["classification"]
    notes = []
    if classification["long_context_changed"]:
        notes.append(
            f"{classification['long_context_changed']:,} runs change long context under "
            "this policy's classification.long_context_tokens"
        )
    if classification["over_input_budget"]:
        notes.append(
            f"{classification['over_input_budget']:,} runs are above this policy's "
            "max_input_tokens: it would trim them; replayed with their recorded count"
        )
    for change in classification["not_replayed_changes"]:
        notes.append(
            f"not replayed: {change['key']} {change['current']} → {change['replay']} "
            "(needs the prompt's text)"
        )
    if notes:
        lines.append("")
        for note in notes:
            say(note)
    return "\n".join(lines) + "\n"
