"""What ``run`` prints of its own, on stderr (stdout is codex's): intro, attempts, notices."""

from __future__ import annotations

import sys

from codex_router.run.plan import Plan

PREFIX = "codex-route: "


def notifier(message: str) -> None:
    if message:
        sys.stderr.write(PREFIX + message + "\n")
        sys.stderr.flush()


def quiet_notifier(message: str) -> None:
    # Quiet keeps what changes the user's files or the outcome: config merges and warnings.
    if message.startswith(("warning:", "every path failed")) or "changed" in message:
        notifier(message)


def print_intro(plan: Plan) -> None:
    first = plan.first_ready
    where = f"{first.name} ({first.model or 'codex default model'})" if first else "no ready path"
    tokens = plan.tokens
    saved = (
        f"{tokens.raw:,} → {tokens.clean:,} tokens"
        if tokens.raw != tokens.clean
        else f"{tokens.clean:,} tokens"
    )
    notifier(f"{plan.decision.alias} via {where}; {saved}; est. ${plan.estimated_cost_usd:.4f}")
