#!/usr/bin/env python3
"""Team history (docs/team.md) against a real throwaway PostgreSQL (initdb + pg_ctl on 127.0.0.1).

flush throughput     `history sync` of N local runs into an empty team database, records/s
                     (in process; two sizes, to see it stays linear)
recording a run      record_run (no team URL) beside what a team-mode run does: spool the
                     record + start the background sync that writes it to SQLite, then
                     PostgreSQL (in process, median): goal ≤ 5 ms per run
the whole command    `codex-route run --dry-run --record` without / with a team URL
                     (fresh process, median wall time)
the team's reads     over --read-runs runs in PostgreSQL (in process, median of 5): `history
                     --team --limit 20`, `stats --team --by alias-class`, `stats --team --html`'s
                     rendering; the sync of --marks marks made after their runs were pushed
                     (once), and of one new mark (median of 5)
stats at scale       `stats --team`, `--by user`, `--by alias-class`, `--since` (median of 3)
                     over --stats-runs runs (default 1,000,000: --members members, each the
                     same local history synced under another user name through the real sync
                     path); goal ≤ 1 s, the local `stats` budget (docs/development.md)

.venv/bin/python benchmarks/bench_team_history.py [--runs 20000] [--repeat 30]
                                                  [--read-runs 100000] [--marks 1000]
                                                  [--stats-runs 1000000] [--members 10]
                                                  [--only-stats]
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
from codex_router.history.store import pending_dir, record_run, record_runs  # noqa: E402
from codex_router.history.team import start_background_sync, sync_team_history  # noqa: E402
from codex_router.run.execute import keep_run  # noqa: E402

from helpers.history import make_attempt, make_record  # noqa: E402
from helpers.postgres import PostgresServer, find_pg_bin  # noqa: E402

GOAL_RECORD_MS = 5.0
GOAL_STATS_MS = 1000.0


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


def record_cost(url: str, root: Path, repeat: int) -> tuple[float, float, float, float]:
    """Medians (ms) of: record_run (what a run without a team URL does), the spool of a team-mode
    run (``keep_run``), the background sync's start, and spool + start as one team-mode run does
    them. Each child is waited for (untimed: the run does not wait) and must have written the
    run into SQLite, or the figure would not be a recording."""
    _home(root, "record")
    dirs = app_dirs()
    record_run(dirs, make_record())  # the database exists: measure appends, not creation
    local, spooling, starting, both = [], [], [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        record_run(dirs, make_record())
        t1 = time.perf_counter()
        keep_run(dirs, make_record(), url)
        t2 = time.perf_counter()
        child = start_background_sync(url, os.environ)
        t3 = time.perf_counter()
        local.append((t1 - t0) * 1000)
        spooling.append((t2 - t1) * 1000)
        starting.append((t3 - t2) * 1000)
        both.append((t3 - t1) * 1000)
        child.wait(timeout=60)
        if any(pending_dir(dirs).glob("*.json")):
            raise SystemExit("the background sync left a run pending: the pipeline is broken")
    return (
        statistics.median(local),
        statistics.median(spooling),
        statistics.median(starting),
        statistics.median(both),
    )


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


def _median_ms(action: object, times: int = 5) -> float:
    samples = []
    for _ in range(times):
        t0 = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def reads(pg: PostgresServer, root: Path, runs: int, marks: int) -> dict[str, float]:
    """The team's read commands over ``runs`` runs, and pushing ``marks`` marks afterwards."""
    from contextlib import closing

    from codex_router.dashboard.report import render_team_report
    from codex_router.history.query import RunFilter
    from codex_router.history.store import mark_run
    from codex_router.history.team import compute_team_stats, team_runs

    _home(root, f"reads-{runs}")
    dirs = app_dirs()
    records = _records(runs)
    record_runs(dirs, records)
    url = pg.create_database()
    sync_team_history(dirs, url, os.environ)
    for n, record in enumerate(records[-marks:] if marks else []):
        mark_run(dirs, record.run_id, "good" if n % 3 else "bad", None, now=1_760_000_000.0 + n)
    t0 = time.perf_counter()
    pushed = sync_team_history(dirs, url, os.environ).marks_pushed
    marks_s = time.perf_counter() - t0
    assert pushed == marks, pushed

    marked = iter(records[: 5 * 2])

    def one_mark() -> None:
        mark_run(dirs, next(marked).run_id, "bad", None, now=time.time())
        assert sync_team_history(dirs, url, os.environ).marks_pushed == 1

    def history_20() -> None:
        with closing(team_runs(url, RunFilter(), 20)) as rows:
            assert len(list(rows)) == 20

    return {
        "history --team --limit 20": _median_ms(history_20),
        "stats --team --by alias-class": _median_ms(
            lambda: compute_team_stats(url, by="alias-class")
        ),
        "stats --team --html (render)": _median_ms(lambda: render_team_report(url, None)),
        f"history sync of {marks:,} new marks (once)": marks_s * 1000,
        "history sync of 1 new mark": _median_ms(lambda: one_mark()),
    }


def _varied(count: int) -> list:  # type: ignore[type-arg]
    """Runs as a team records them: three aliases on two providers, a quarter failed, one in
    eight dry or stopped by the cost guard, usage on half, adaptive verdicts on a third, a run
    every 5 minutes (so the history spans days)."""
    from codex_router.history.record import AdaptiveVerdict, TokenUsage

    aliases = (("codex-default", "openai"), ("codex-deep", "openai"), ("codex-cheap", "local"))
    out = []
    for i in range(count):
        alias, provider = aliases[i % 3]
        started = 1_750_000_000.0 + i * 300
        if i % 8 == 7:
            out.append(
                make_record(
                    alias=alias, provider=provider, started_at=started, attempts=(),
                    outcome="blocked", exit_code=3, duration_ms=0,
                )
            )  # fmt: skip
            continue
        failed = i % 4 == 1
        usage = TokenUsage(input_tokens=5_000 + i % 900, total_tokens=6_000) if i % 2 else None
        attempt = make_attempt(
            outcome="failed" if failed else "ok",
            exit_code=1 if failed else 0,
            duration_ms=700 + i % 5_000,
            usage=usage,
        )
        verdict = (
            AdaptiveVerdict("standard", "litellm", i % 2 == 0, i % 5 == 0, i % 7 == 0)
            if i % 3 == 0
            else None
        )
        out.append(
            make_record(
                alias=alias,
                provider=provider,
                started_at=started,
                duration_ms=900 + (i * 37) % 9_000,
                outcome="failed" if failed else "success",
                exit_code=1 if failed else 0,
                attempts=(attempt,),
                rules={"ansi": i % 50, "repeated_lines": 300, f"rule{i % 4}": 10 + i % 20},
                adaptive=verdict,
                usage=usage,
                usage_cost_usd=0.004 if usage else None,
            )
        )
    return out


def seed_team(pg: PostgresServer, root: Path, runs: int, members: int) -> tuple[str, float]:
    """A team database holding ``runs`` runs of ``members`` members, pushed by the real sync;
    returns its URL and the sync's records/s."""
    from codex_router.history.team import SYNC_STATE_FILE_NAME

    _home(root, f"team-{runs}")
    dirs = app_dirs()
    per_member = runs // members
    record_runs(dirs, _varied(per_member))
    url = pg.create_database()
    elapsed = 0.0
    for n in range(members):
        # the same local runs, pushed again as another member: a fresh watermark each time
        (dirs.state_dir / SYNC_STATE_FILE_NAME).unlink(missing_ok=True)
        env = {**os.environ, "USER": f"member{n:02d}", "LOGNAME": f"member{n:02d}"}
        t0 = time.perf_counter()
        assert sync_team_history(dirs, url, env).pushed == per_member
        elapsed += time.perf_counter() - t0
    return url, per_member * members / elapsed


def team_stats(url: str) -> dict[str, float]:
    from codex_router.history.team import compute_team_stats

    since = 1_750_000_000.0 + 200 * 86_400 + 3_600  # a cut inside a day
    return {
        "stats --team": _median_ms(lambda: compute_team_stats(url), 3),
        "stats --team --by user": _median_ms(lambda: compute_team_stats(url, by="user"), 3),
        "stats --team --by alias-class": _median_ms(
            lambda: compute_team_stats(url, by="alias-class"), 3
        ),
        "stats --team --since (mid-day cut)": _median_ms(
            lambda: compute_team_stats(url, since=since), 3
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--read-runs", type=int, default=100_000)
    parser.add_argument("--marks", type=int, default=1_000)
    parser.add_argument("--stats-runs", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--only-stats", action="store_true", help="only the stats at scale")
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
            url, rate = seed_team(pg, root, args.stats_runs, args.members)
            print(
                f"sync of {args.stats_runs:,} runs ({args.members} members): {rate:,.0f} records/s"
            )
            for what, ms in team_stats(url).items():
                verdict = "ok" if ms <= GOAL_STATS_MS else "OVER"
                print(
                    f"{what} over {args.stats_runs:,} runs: {ms:8.1f} ms "
                    f"(goal ≤ {GOAL_STATS_MS:g} ms: {verdict})"
                )
            if args.only_stats:
                return 0
            for runs in (args.runs // 4, args.runs):
                print(f"flush {runs:>7,} runs: {flush(pg, root, runs):>9,.0f} records/s")
            for what, ms in reads(pg, root, args.read_runs, args.marks).items():
                print(f"{what} over {args.read_runs:,} runs: {ms:8.1f} ms")
            url = pg.create_database()
            local, spooling, starting, both = record_cost(url, root, args.repeat)
            verdict = "ok" if both <= GOAL_RECORD_MS else "OVER"
            print(f"record_run (no team URL: SQLite): {local:6.2f} ms (median)")
            print(f"spool of a team-mode run:         {spooling:6.2f} ms (median)")
            print(f"start of the background sync:     {starting:6.2f} ms (median)")
            print(
                f"recording with a team URL:        {both:6.2f} ms "
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
