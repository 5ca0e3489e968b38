#!/usr/bin/env python3
"""Start-up budgets of SPEC §10, measured side by side in one run (median of N, fresh processes).

    codex --version                       the reference
    codex-route --help                    goal ≤ 1.0× the reference
    codex-route run --dry-run "<short>"   goal ≤ 1.5× the reference

Run it after ./scripts/test.sh (which installs the pinned codex under tools/):
    .venv/bin/python benchmarks/bench_cli.py [--runs 15]
State goes to a temporary CODEX_ROUTE_HOME/CODEX_HOME; the token index is built once before timing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _time(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    route = str(bindir / "codex-route")
    codex = shutil.which(
        "codex", path=f"{REPO / 'tools/node_modules/.bin'}:{os.environ.get('PATH', '')}"
    )
    if codex is None:
        print("codex not found: run ./scripts/test.sh first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(
            os.environ,
            CODEX_ROUTE_HOME=f"{tmp}/route",
            CODEX_HOME=f"{tmp}/codex",
            HOME=tmp,
            PATH=f"{Path(codex).parent}:{os.environ.get('PATH', '')}",
        )
        # Users' installs have compiled bytecode; measure that, not per-run source compilation.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        Path(env["CODEX_HOME"]).mkdir()
        dry = [route, "run", "--dry-run", "--no-stdin", "fix the typo in README.md"]
        subprocess.run(
            dry, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True
        )
        rows = [
            ("codex --version", [codex, "--version"]),
            ("python -c pass", [sys.executable, "-c", "pass"]),
            ("codex-route --help", [route, "--help"]),
            ("codex-route run --dry-run (short)", dry),
            ("codex-route run --dry-run --json", [*dry[:3], "--json", *dry[3:]]),
        ]
        results = {name: _time(argv, env, args.runs) for name, argv in rows}
    ref = results["codex --version"]
    goals = {"codex-route --help": 1.0, "codex-route run --dry-run (short)": 1.5}
    print(f"{'command':<36} {'median ms':>10} {'× codex':>8}  goal")
    for name, value in results.items():
        goal = f"≤ {goals[name]:.2f}×" if name in goals else ""
        print(f"{name:<36} {value * 1000:>10.1f} {value / ref:>8.2f}  {goal}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
