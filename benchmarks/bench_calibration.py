#!/usr/bin/env python3
"""The calibrated estimate's read over a big history (docs/development.md), side by side.

    read_calibrations (the plan's alias, window 100, in process)    goal ≤ 5 ms at 1,000,000 runs
    recent_usage alone (the SQL)                                    for comparison
    codex-route run --dry-run, calibrate_min_runs 0 vs 5           the calibration's share of the
                                                                    dry run (interleaved; median
                                                                    and range)

    .venv/bin/python benchmarks/bench_calibration.py [--runs 1000000] [--repeat 7] [--keep DIR]

Seeds the ``runs`` table directly (the only table this read touches; bench_history.py's full
records take ~1 ms each): aliases by the packaged mix, 85 % succeeded in one attempt with
usage, the rest failed, fell back or dry runs. ``--keep DIR`` reuses a seeded store
(bench_health.py's too).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import median_ms  # noqa: E402

from codex_router.dirs import app_dirs  # noqa: E402
from codex_router.history import store  # noqa: E402
from codex_router.history.usage import recent_usage  # noqa: E402
from codex_router.policy.settings import resolve_settings  # noqa: E402
from codex_router.run.calibration import read_calibrations  # noqa: E402

ALIASES = ("codex-light", "codex-default", "codex-deep", "codex-long", "codex-no-openai")


def seed_runs(home: Path, runs: int) -> None:
    """``runs`` rows of ``runs`` over the last two years, oldest first, in the real schema."""
    os.environ["CODEX_ROUTE_HOME"] = str(home)
    dirs = app_dirs()
    rng = random.Random(5)
    now = time.time()
    span = 2 * 365 * 86_400
    conn = store._open_for_write(store.history_path(dirs))
    columns = (
        "run_id, started_at, day, duration_ms, outcome, exit_code, alias, provider, "
        "attempt_count, complexity, long_context, interactive, dry_run, tokens_raw, "
        "tokens_clean, estimated_cost_usd, deep_cost_usd, usage_input_tokens, "
        "usage_output_tokens, codex_route_version"
    )
    insert = f"INSERT INTO runs ({columns}) VALUES ({', '.join('?' * 20)})"
    try:
        for first in range(0, runs, 100_000):
            rows = []
            for n in range(first, min(first + 100_000, runs)):
                kind = rng.random()
                clean = rng.randint(50, 20_000)
                attempts, outcome = (1, "success") if kind < 0.85 else (2, "success")
                if kind > 0.93:
                    attempts, outcome = (1, "failed") if kind < 0.97 else (0, "dry_run")
                used = clean + rng.randint(6_000, 30_000) if attempts else None
                rows.append(
                    (
                        f"{n:032x}",
                        now - span * (1 - n / runs),
                        "2026-01-01",
                        rng.randint(2_000, 90_000),
                        outcome,
                        0 if outcome != "failed" else 1,
                        rng.choice(ALIASES),
                        "openai",
                        attempts,
                        "medium",
                        0,
                        0,
                        int(outcome == "dry_run"),
                        clean * 2,
                        clean,
                        0.01,
                        0.05,
                        used,
                        used // 50 if used else None,
                        "0.1.0",
                    )
                )
            with store._write_transaction(conn):
                conn.executemany(insert, rows)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7, help="fresh dry runs per setting")
    parser.add_argument("--reads", type=int, default=50, help="in-process reads timed")
    parser.add_argument("--keep", type=Path, help="seed into (or reuse) this CODEX_ROUTE_HOME")
    args = parser.parse_args()
    route = str(Path(sys.executable).parent / "codex-route")
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp) / "route"
        if not (home / "state" / store.HISTORY_FILE_NAME).exists():
            seed_runs(home, args.runs)
        os.environ["CODEX_ROUTE_HOME"] = str(home)
        dirs = app_dirs()
        policy = resolve_settings({}, {}, dirs).policy
        aliases = [name for name, spec in policy.aliases.items() if spec.alias_of is None]
        found = read_calibrations(dirs, policy, aliases)  # warm the page cache
        # a plan reads its chosen alias only ("fix the typo": the light role's)
        one = ["codex-light"]
        read_ms = median_ms(lambda: read_calibrations(dirs, policy, one), args.reads)
        window = int(policy.get("cost_model.calibrate_window"))
        sql_ms = median_ms(lambda: recent_usage(dirs, one, window), args.reads)
        off = Path(tmp) / "off.yaml"
        off.write_text("cost_model:\n  calibrate_min_runs: 0\n")
        env = dict(os.environ, CODEX_ROUTE_HOME=str(home), HOME=tmp, CODEX_HOME=f"{tmp}/codex")
        argv = [route, "run", "--dry-run", "--json", "--no-stdin", "fix the typo"]
        variants = {"calibrate_min_runs 0": [*argv, "--policy", str(off)], "default (5)": argv}
        for command in variants.values():  # token index, version probe: once
            subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, command in variants.items():
                start = time.perf_counter()
                subprocess.run(
                    command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                samples[name].append((time.perf_counter() - start) * 1000)
    print(f"history: {args.runs:,} runs; {len(aliases)} priced aliases")
    for alias, calibration in found.items():
        if calibration.runs:
            print(f"  {alias:<22} {calibration.describe()}")
    print(f"read_calibrations (in process)   {read_ms:7.1f} ms   goal ≤ 5 ms")
    print(f"recent_usage (the SQL alone)     {sql_ms:7.1f} ms")
    for name, ms in samples.items():
        print(
            f"run --dry-run, {name:<20} {statistics.median(ms):7.0f} ms "
            f"(range {min(ms):.0f}–{max(ms):.0f})"
        )
    return 0 if read_ms <= 5 else 1


if __name__ == "__main__":
    sys.exit(main())
