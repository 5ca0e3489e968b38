"""Timing helpers the benchmarks share: medians of repeated calls and of fresh processes."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls of ``action`` in this process."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def median_ms(action: Callable[[], object], repeat: int) -> float:
    return median_seconds(action, repeat) * 1000


def command_seconds(argv: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall time of a fresh process; its output is dropped (a failure still raises)."""

    def once() -> None:
        subprocess.run(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )

    return median_seconds(once, repeat)
