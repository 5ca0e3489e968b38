"""Rendering ``route eval``: a plain table per source (when there are several) and overall, or
the stable JSON (docs/reference/route-eval-json.md).

Hand-laid plain text from the report's ``to_dict()``, so the table shows nothing the JSON does
not have; every line fits 80 columns (the header wraps at spaces on a terminal).
"""

from __future__ import annotations

import sys
from typing import Any

from codex_router import ui
from codex_router.redact import redact_tree
from codex_router.views import layout
from codex_router.views.money import usd

#: Tiers always listed in the table; the others only when a task went there.
_MAIN_TIERS = ("light", "default", "deep")
#: Label columns that fit 80 columns; a longer scale merges its top labels into the last.
_MAX_LABEL_COLUMNS = 6


def print_route_eval_json(report: Any) -> None:
    ui.print_json(redact_tree(report.to_dict()))


def print_route_eval(report: Any) -> None:
    sys.stdout.write(render_route_eval(redact_tree(report.to_dict()), width=layout.width()))
    sys.stdout.flush()


def _auc(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _policy(entry: dict[str, Any]) -> str:
    if entry.get("value") is None:
        return "the built-in default"
    return layout.shorten_home(str(entry["value"])) + f" ({entry['source']})"


def _label_columns(labels: list[str]) -> list[tuple[str, list[str]]]:
    """(header, labels summed in that column); the top of a long scale shares the last."""
    if len(labels) <= _MAX_LABEL_COLUMNS:
        return [(f"label {k}", [k]) for k in labels]
    head = labels[: _MAX_LABEL_COLUMNS - 1]
    tail = labels[_MAX_LABEL_COLUMNS - 1 :]
    return [*((f"label {k}", [k]) for k in head), (f"label≥{tail[0]}", tail)]


def _block(title: str, score: dict[str, Any], deep_alias: str, width: int | None) -> list[str]:
    labels = score["labels"]
    counts = "/".join(str(v) for v in labels.values())
    lines = layout.wrap(title, width, indent=2)
    lines.append(f"  tasks              {score['tasks']:,}; labels {'/'.join(labels)}: {counts}")
    tier_auc, score_auc = score["auc"]["tier"], score["auc"]["score"]
    lines.append(
        f"  AUC by tier        ≥2 vs 0: {_auc(tier_auc['ge2_vs_0'])}"
        f"   ≥1 vs 0: {_auc(tier_auc['ge1_vs_0'])}   (0.5 = coin toss)"
    )
    if score_auc["ge2_vs_0"] is not None or score_auc["ge1_vs_0"] is not None:
        lines.append(
            f"  AUC by score       ≥2 vs 0: {_auc(score_auc['ge2_vs_0'])}"
            f"   ≥1 vs 0: {_auc(score_auc['ge1_vs_0'])}"
        )
    lines.append(
        f"  ≥2 sent to light   {_share(score['hard_to_light_share'])}"
        f" ({score['hard_to_light']:,} of {score['hard_tasks']:,})"
    )
    saving = score["estimated_saving_share"]
    versus = (
        "" if saving is None else f": {_share(abs(saving))} {'less' if saving >= 0 else 'more'}"
    )
    lines.append(
        f"  cost, estimated    {usd(score['estimated_cost_usd'])} vs "
        f"{usd(score['estimated_deep_cost_usd'])} always {deep_alias}{versus}"
    )
    if score["refused"]:
        lines.append(
            f"  refused            {score['refused']:,}: too big for any allowed context_window"
            " (a run stops)"
        )
    columns = _label_columns(list(labels))
    lines.append("")
    lines.append("  tier        share  tasks" + "".join(f"{header:>9}" for header, _ in columns))
    for tier, row in score["confusion"].items():
        tasks = sum(row.values())
        if tier not in _MAIN_TIERS and not tasks:
            continue
        cells = "".join(f"{sum(row[k] for k in keys):>9,}" for _, keys in columns)
        lines.append(f"  {tier:<9}{_share(score['tier_mix'][tier]):>8}{tasks:>7,}{cells}")
    return lines


def render_route_eval(data: dict[str, Any], *, width: int | None = None) -> str:
    """The table of a ``route eval`` report dict; ``width``: wrap the header there."""
    lines = layout.wrap(
        f"route eval {layout.shorten_home(data['file'])}: policy {_policy(data['policy'])}",
        width,
        indent=2,
    )
    lines.append("  routed in process as run --dry-run does, with every path assumed ready;")
    lines.append("  costs are estimates from the policy's prices and cost_model")
    deep = data["deep_alias"]
    sources = data["by_source"]
    if len(sources) > 1:
        for name, score in sources.items():
            lines.append("")
            lines.extend(_block(name, score, deep, width))
        lines.append("")
        lines.extend(_block("all sources", data["overall"], deep, width))
    else:
        lines.append("")
        lines.extend(_block(next(iter(sources), "all tasks"), data["overall"], deep, width))
    return "\n".join(lines) + "\n"
