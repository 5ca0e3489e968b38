"""Start-up: the cyclic garbage collector waits until the command starts its work.

Start-up makes ~33,000 objects that live as long as the process (modules, classes, Typer's
command model, typing's generics, the policy) and almost no garbage (~500 objects in cycles).
Left running, the collector walked them ~45 times during a dry run (~10 ms of it,
``benchmarks/bench_cli.py``). So :func:`pause_collection` stops it when the console script
starts, and :func:`resume_collection` (when the command starts, or when it ends without
starting) moves everything made so far out of its way with :func:`gc.freeze`, the
standard library's way to spare long-lived objects from every later collection, then turns it
back on: a long command (a run streaming Codex, ``replay``, the proxy) collects as usual.

May import: nothing
"""

from __future__ import annotations

import gc

_paused = False


def pause_collection() -> None:
    """Stop the collector for start-up, if it runs (a caller that turned it off keeps it off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume_collection() -> None:
    """Freeze what start-up made and turn the collector back on; only after a pause here."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
