"""Rendering for ``compress`` and ``tokens``."""

from __future__ import annotations

import sys
from typing import Any

from codex_router import ui


def print_compress_json(text: str, result: Any) -> None:
    ui.print_json({"text": text, **result.to_dict()})


def print_report(result: Any) -> None:
    """Per-rule report on stderr, biggest saving first."""
    data = result.to_dict()
    rules = [
        r
        for r in data["rules"]
        if not r.get("masked") and (r["lines_removed"] or r["tokens_removed"])
    ]
    rules.sort(key=lambda r: -(r["tokens_removed"] or 0))
    masked = [r for r in data["rules"] if r.get("masked")]
    before, after = data.get("tokens_before"), data.get("tokens_after")
    if before:
        pct = (before - after) / before if before else 0.0
        # (a masked short secret can make the text longer: the sign is shown either way)
        sys.stderr.write(f"tokens: {before:,} → {after:,} ({-pct:+.1%})\n")
    for r in rules:
        sys.stderr.write(
            f"  {r['name']:<22} -{r['tokens_removed']:>9,} tokens"
            f"  -{r['lines_removed']:>8,} lines\n"
        )
    for r in masked:  # a marker may hold more tokens than the secret it replaced: a sign
        tokens = -(r["tokens_removed"] or 0)
        sys.stderr.write(f"  {r['name']:<22} {tokens:>+10,} tokens  {r['masked']:>9,} masked\n")


def print_tokens(raw: int, chars: int, clean: int | None, *, json_out: bool) -> None:
    if json_out:
        data: dict[str, Any] = {"tokens": raw, "chars": chars, "encoding": "o200k_base"}
        if clean is not None:
            data["clean_tokens"] = clean
        ui.print_json(data)
        return
    sys.stdout.write(f"{raw}\n" if clean is None else f"{raw}\t{clean}\n")
