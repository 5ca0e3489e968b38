#!/usr/bin/env python3
"""Team history (docs/team.md) against a real throwaway PostgreSQL (initdb + pg_ctl on 127.0.0.1).

flush throughput     `history sync` of N local runs into an empty team database, records/s
                     (in process; two sizes, to see it stays linear)
recording a run      record_run alone vs record_run + the background sync's start, as a run
                     with a team URL does it (in process, median): goal ≤ 5 ms per run
the whole command    `codex-route run --dry-run --record` without / with a team URL
                     (fresh process, median wall time)

.venv/bin/python benchmarks/bench_team_history.py [--runs 20000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from codex_router.dirs import app_dirs  # noqa: E402
from codex_router.history.store import record_run, record_runs  # noqa: E402
from codex_router.history.team import start_background_sync, sync_team_history  # noqa: E402

from helpers.history import make_attempt, make_record  # noqa: E402
from helpers.postgres import PostgresServer, find_pg_bin  # noqa: E402

GOAL_RECORD_MS = 5.0


def _home(root: Path, name: str) -> Path:
    home = root / name
    (home / ".codex").mkdir(parents=True)
    os.environ.update(
        HOME=str(home), CODEX_HOME=str(home / ".codex"), CODEX_ROUTE_HOME=str(home / "cr")
    )
    return home


def _records(count: int) -> list:  # type: ignore[type-arg]
    out = []
    for i in range(count):
        failed = i % 4 == 1
        record = make_record(
            duration_ms=900 + i % 700,
            attempts=(make_attempt(outcome="failed", exit_code=1),) if failed else None,
        )
        if not failed:
            record = replace(record, attempts=(make_attempt(duration_ms=800),))
        out.append(replace(record, started_at=1_750_000_000.0 + i * 60))
    return out


def flush(pg: PostgresServer, root: Path, runs: int) -> float:
    _home(root, f"flush-{runs}")
    dirs = app_dirs()
    record_runs(dirs, _records(runs))
    url = pg.create_database()
    t0 = time.perf_counter()
    result = sync_team_history(dirs, url, os.environ)
    elapsed = time.perf_counter() - t0
    assert result.pushed == runs, result
    return runs / elapsed


def record_cost(url: str, root: Path, repeat: int) -> tuple[float, float, float]:
    """Medians (ms) of record_run, of the sync's start, and of both as one run does them; the
    local-only and team homes alternate, so load changes hit both alike."""
    _home(root, "record")
    dirs = app_dirs()
    record_run(dirs, make_record())  # the database exists: measure appends, not creation
    recording, starting, both = [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        record_run(dirs, make_record())
        t1 = time.perf_counter()
        child = start_background_sync(url, os.environ)
        t2 = time.perf_counter()
        recording.append((t1 - t0) * 1000)
        starting.append((t2 - t1) * 1000)
        both.append((t2 - t0) * 1000)
        child.wait(timeout=60)  # not timed: the run does not wait for it
    return statistics.median(recording), statistics.median(starting), statistics.median(both)


def cli_run(url: str | None, root: Path, repeat: int, name: str) -> float:
    home = _home(root, name)
    env = {**os.environ, "CODEX_ROUTE_HISTORY_URL": url or ""}
    argv = [str(REPO / ".venv/bin/codex-route"), "run", "--dry-run", "--record", "fix the test"]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, cwd=home, capture_output=True, check=True)
        times.append((time.perf_counter() - t0) * 1000)
        time.sleep(1.5)  # let the background sync finish outside the measured time
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    bin_dir = find_pg_bin()
    if bin_dir is None:
        print("no initdb/pg_ctl: install postgresql", file=sys.stderr)
        return 2
    pg = PostgresServer(bin_dir)
    pg.init()
    pg.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
            root = Path(tmp)
            print(f"load: {os.getloadavg()[0]:.2f}")
            for runs in (args.runs // 4, args.runs):
                print(f"flush {runs:>7,} runs: {flush(pg, root, runs):>9,.0f} records/s")
            url = pg.create_database()
            recording, starting, both = record_cost(url, root, args.repeat)
            verdict = "ok" if both <= GOAL_RECORD_MS else "OVER"
            print(f"record_run (local SQLite):       {recording:6.2f} ms (median)")
            print(f"start of the background sync:    {starting:6.2f} ms (median)")
            print(
                f"recording with a team URL:       {both:6.2f} ms "
                f"(goal ≤ {GOAL_RECORD_MS:g} ms: {verdict})"
            )
            repeat = max(5, args.repeat // 3)
            plain = cli_run(None, root, repeat, "cli-local")
            with_team = cli_run(url, root, repeat, "cli-team")
            print(f"run --dry-run --record, local only: {plain:6.1f} ms (median)")
            print(f"run --dry-run --record, team URL:   {with_team:6.1f} ms (median)")
    finally:
        pg.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
