#!/usr/bin/env python3
"""Time of one ``classify`` call (signals, keyword table, learned score, reasons) by input size.

Budget (issue 14): at most 5 ms for a typical prompt of a few KB, and linear in size. The input
is an issue-like text (headings, a reproducer, a code block, a traceback, links, English and
French prose) repeated to 1 KB, 10 KB and 100 KB, given half as the instruction and half as the
piped attachment, as ``run`` passes them. Prints the median per call and the time per KB (flat
per-KB figures mean linear).

    .venv/bin/python benchmarks/bench_classify.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from codex_router.routing.classify import classify

UNIT = (
    "## Description\nSaving a `BinnedTimeSeries` to ECSV then reading it fails since 5.0.1; "
    "see https://github.com/example/project/issues/12 and src/io/ecsv.py.\n"
    "### Steps to reproduce\n1. run the script\n2. read the file\n"
    "```python\nfrom pkg import load\nload('x.ecsv')\n```\n"
    'Traceback (most recent call last):\n  File "x.py", line 2, in <module>\nValueError: bad\n'
    "Expected behavior: it reads. Le résultat attendu est la lecture ; il suffit de "
    "changer la vérification de type. Would it be nice to add support for a new option?\n"
)


def text_of(size: int) -> str:
    return (UNIT * (size // len(UNIT) + 1))[:size]


def median_ms(size: int, repeat: int) -> float:
    half = text_of(size // 2)
    classify(half, tokens=size // 4, attachment=half, attachment_tokens=size // 8)  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        classify(half, tokens=size // 4, attachment=half, attachment_tokens=size // 8)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50, help="calls per size (default 50)")
    args = parser.parse_args()
    print(f"{'input':>8}  {'median ms/call':>14}  {'ms per KB':>9}")
    for size in (1_000, 10_000, 100_000):
        ms = median_ms(size, args.repeat if size < 100_000 else max(5, args.repeat // 5))
        print(f"{size // 1000:>6} KB  {ms:>14.3f}  {ms / (size / 1000):>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
