"""Rendering for ``bench-local``: a progress bar on stderr, the summary on stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from codex_router import ui


@contextmanager
def progress(total: int) -> Iterator[Callable[[int, Any], None]]:
    """Yields ``advance(i, result)``; the bar is drawn on stderr, only on a terminal."""
    if not sys.stderr.isatty():
        yield lambda _i, _result: None
        return
    with Progress(
        TextColumn("bench-local"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=ui.err(),
        transient=True,
    ) as bar:
        task = bar.add_task("runs", total=total)
        yield lambda _i, _result: bar.advance(task)


def _fmt(value: float | None, unit: str, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} {unit}"


def print_report_json(report: Any) -> None:
    ui.print_json(report.to_dict())


def print_report(report: Any) -> None:
    data = report.to_dict()
    rows = [
        ("time to first token", data["ttft_seconds"], "s", 3),
        ("tokens/s (decode)", data["tokens_per_second"], "tok/s", 1),
        ("total per answer", data["total_seconds"], "s", 3),
        ("output tokens", data["output_tokens"], "tok", 0),
    ]
    lines = [
        f"bench-local: {data['model']} at {data['base_url']}, {data['runs']} runs",
        f"  {'':22} {'median':>14} {'p95':>14}",
    ]
    for label, stat, unit, digits in rows:
        lines.append(
            f"  {label:22} {_fmt(stat['median'], unit, digits):>14}"
            f" {_fmt(stat['p95'], unit, digits):>14}"
        )
    sys.stdout.write("\n".join(lines) + "\n")
