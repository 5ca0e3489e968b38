#!/usr/bin/env python3
"""The adaptive health read over a big history (docs/development.md), side by side.

    read_health (3 paths, max_history 200, in process)   goal ≤ 20 ms over 1,000,000 runs
    recent_attempts alone (the SQL)                       for comparison
    codex-route stats --by alias-class                    goal ≤ 1 s (fresh process, median)
    codex-route history mark RUN_ID good                  goal ≤ 1 s (fresh process, median)
    codex-route run --dry-run, no history vs this history  the health's share of the dry run
                                                          (interleaved; median and range)
    codex --version, in the same rounds                   the dry run's budget: ≤ 1.5× it
    --migration: schema 3 → 4 on the same store (copies attempts out of the JSON, once)

    .venv/bin/python benchmarks/bench_health.py [--runs 1000000] [--repeat 5] [--keep DIR]

Seeds with bench_history.py's records (mostly one attempt, some fallbacks over standard,
litellm and huggingface, 10 % failing with a 429); ``--keep DIR`` reuses a seeded store.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: median, lowest, highest (ms)
Sample = tuple[float, float, float]

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO / "tests"))

from _timing import command_seconds, median_ms  # noqa: E402
from bench_history import seed  # noqa: E402

from codex_router.dirs import app_dirs  # noqa: E402
from codex_router.history import store  # noqa: E402
from codex_router.history.attempts import recent_attempts  # noqa: E402
from codex_router.run.health import read_health  # noqa: E402

from helpers.history import ADAPTIVE_DEFAULTS  # noqa: E402

PATHS = ("standard", "litellm", "huggingface")
# the adaptive router's defaults, scoring on (the health tests use the same values)
CONFIG = ADAPTIVE_DEFAULTS._replace(enabled=True)


def _migration_seconds(home: Path, tmp: str) -> float:
    """Copy the store, take it back to schema 3, time the upgrade to 4."""
    copy = Path(tmp) / "migrate"
    shutil.copytree(home / "state", copy / "state")
    path = copy / "state" / store.HISTORY_FILE_NAME
    conn = sqlite3.connect(path)
    for statement in (
        "DROP TABLE run_attempts",
        "DROP TABLE run_marks",
        "DROP INDEX runs_run_id",
        "DROP TABLE run_class_totals",
        "DROP TABLE IF EXISTS run_adaptive",  # schema 5's: built again after 4
        "DROP TABLE IF EXISTS adaptive_totals",
        "PRAGMA user_version = 3",
    ):
        conn.execute(statement)
    conn.commit()
    conn.close()
    os.environ["CODEX_ROUTE_HOME"] = str(copy)
    start = time.perf_counter()
    with store.open_history(app_dirs()):
        pass
    return time.perf_counter() - start


def _interleaved(commands: list[tuple[list[str], dict[str, str]]], repeat: int) -> list[Sample]:
    """Each command once per round (so load changes touch each alike): the median, lowest and
    highest ms of each."""
    for argv, env in commands:  # the token index and the version probe, built once per home
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for (argv, env), mine in zip(commands, samples, strict=True):
            start = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            mine.append((time.perf_counter() - start) * 1000)
    return [(statistics.median(m), min(m), max(m)) for m in samples]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per command")
    parser.add_argument("--reads", type=int, default=50, help="in-process health reads timed")
    parser.add_argument("--keep", type=Path, help="seed into (or reuse) this CODEX_ROUTE_HOME")
    parser.add_argument("--migration", action="store_true", help="also time schema 3 → 4")
    args = parser.parse_args()
    route = str(Path(sys.executable).parent / "codex-route")
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp) / "route"
        if not (home / "state" / store.HISTORY_FILE_NAME).exists():
            seed(home, args.runs)
        os.environ["CODEX_ROUTE_HOME"] = str(home)
        dirs = app_dirs()
        now = time.time()
        read_health(dirs, PATHS, CONFIG, now=now)  # warm the page cache, as a second run would
        health_ms = median_ms(lambda: read_health(dirs, PATHS, CONFIG, now=now), args.reads)
        sql_ms = median_ms(lambda: recent_attempts(dirs, PATHS, 200), args.reads)
        decision = read_health(dirs, PATHS, CONFIG, now=now)
        env = dict(os.environ, CODEX_ROUTE_HOME=str(home), HOME=tmp, CODEX_HOME=f"{tmp}/codex")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([route, "--version"], env=env, stdout=subprocess.DEVNULL, check=True)
        with store.open_history(dirs) as conn:  # a launched run from the middle of the store
            assert conn is not None
            (run_id,) = conn.execute(
                "SELECT run_id FROM runs WHERE id >= ? AND attempt_count > 0 LIMIT 1",
                (args.runs // 2,),
            ).fetchone()
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("codex-route stats (reference)", [route, "stats"], 1.0),
            ("codex-route stats --by alias-class", [route, "stats", "--by", "alias-class"], 1.0),
            (
                "codex-route history mark RUN_ID good",
                [route, "history", "mark", run_id, "good"],
                1.0,
            ),
        ]
        results = [
            (name, command_seconds(argv, env, args.repeat), goal) for name, argv, goal in rows
        ]
        # two ready paths (standard, huggingface: a placeholder token) for the health to score
        dry_env = dict(env, HF_TOKEN="hf_" + "0" * 30)
        empty = dict(dry_env, CODEX_ROUTE_HOME=f"{tmp}/empty-route")
        dry = [route, "run", "--dry-run", "--json", "--no-stdin", "fix the typo"]
        codex = shutil.which(
            "codex", path=f"{REPO / 'tools/node_modules/.bin'}:{os.environ.get('PATH', '')}"
        )
        # codex --version beside them: the dry run's budget is 1.5x it (benchmarks/bench_cli.py)
        dry_runs = _interleaved(
            [(dry, empty), (dry, dry_env)] + ([([codex, "--version"], env)] if codex else []),
            max(args.repeat, 11),
        )
        migration = _migration_seconds(home, tmp) if args.migration else None
        size = store.history_path(dirs).stat().st_size
    print(f"store: {args.runs:,} runs, {size / 2**20:,.0f} MiB")
    print(f"{'measure':<48} {'median':>10}  goal")
    print(f"{'read_health (3 paths × 200, in process)':<48} {health_ms:>8.2f} ms  ≤ 20 ms")
    print(f"{'recent_attempts (the SQL alone)':<48} {sql_ms:>8.2f} ms")
    for name, value, goal in results:
        print(f"{name:<48} {value * 1000:>8.0f} ms  {f'≤ {goal * 1000:.0f} ms' if goal else ''}")
    names = ("run --dry-run --json, no history", "run --dry-run --json, this history")
    for name, (median, low, high) in zip((*names, "codex --version"), dry_runs, strict=False):
        print(f"{name:<48} {median:>8.0f} ms  range {low:.0f}–{high:.0f} ms")
    if len(dry_runs) == 3:
        ratio = dry_runs[1][0] / dry_runs[2][0]
        verdict = "within" if ratio <= 1.5 else "OVER"
        print(f"the dry run with this history: {ratio:.2f}x codex --version, {verdict} 1.5x")
    if migration is not None:
        print(f"{'migration 3 → 4 (once)':<48} {migration:>8.1f} s")
    print(
        "health: "
        + ", ".join(f"{h.path} {h.state} {h.adjusted_score:.3f}" for h in decision.health)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
