#!/usr/bin/env python3
"""``codex-route replay`` over a big history (docs/development.md), side by side.

    replay_history in process (runs/s)        every run re-decided, streamed from the store
    codex-route replay --json (fresh process)  wall time and peak RSS of the process
    the same over a tenth of the store         (--since): peak RSS must not grow with the runs

    .venv/bin/python benchmarks/bench_replay.py [--runs 100000] [--keep DIR]

Seeds with bench_history.py's records (eight aliases, three classes, clean counts up to
150,000 tokens, 70 % with Codex's usage, 8 % dry runs); ``--keep DIR`` reuses a seeded store.
The replayed policy forces nothing: it moves the light role to codex-default and lowers
classification.long_context_tokens, so every run takes the full decision.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_history import SPAN_SECONDS, seed  # noqa: E402

from codex_router.dirs import app_dirs  # noqa: E402
from codex_router.history import store  # noqa: E402
from codex_router.history.decisions import count_decisions, recorded_decisions  # noqa: E402
from codex_router.policy.settings import resolve_settings  # noqa: E402
from codex_router.routing.replay import Replayer, ReplayTally  # noqa: E402
from codex_router.run.replay import replay_history  # noqa: E402
from codex_router.run.route_eval import ALL_READY  # noqa: E402

POLICY = """\
version: 1
roles: {light: codex-default}
classification: {long_context_tokens: 40000}
"""


def decide_route_calls(dirs: object, settings: object) -> int:
    """How many routing decisions a replay of the whole store takes."""
    replayer = Replayer(settings, ALL_READY)  # type: ignore[arg-type]
    tally = ReplayTally()
    for run in recorded_decisions(dirs):  # type: ignore[arg-type]
        replayer.add(tally, run)
    return replayer.decided


#: Runs a command and prints its peak RSS: a child forked from this process would report
#: this process's own size (Linux keeps the high-water mark across exec).
_MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _child(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv], env=env, capture_output=True, check=True
    )
    return time.perf_counter() - start, int(done.stdout) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="seed into (or reuse) this CODEX_ROUTE_HOME")
    args = parser.parse_args()
    route = str(Path(sys.executable).parent / "codex-route")
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp) / "route"
        if not (home / "state" / store.HISTORY_FILE_NAME).exists():
            seed(home, args.runs)
        os.environ["CODEX_ROUTE_HOME"] = str(home)
        policy = Path(tmp) / "new.yaml"
        policy.write_text(POLICY, encoding="utf-8")
        dirs = app_dirs()
        settings = resolve_settings({}, {}, dirs, policy_flag=policy)
        runs = count_decisions(dirs)

        start = time.perf_counter()
        read = sum(1 for _ in recorded_decisions(dirs))
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        report = replay_history(dirs, settings)
        replay_s = time.perf_counter() - start
        decided = decide_route_calls(dirs, settings)
        assert read == runs and report.tally.runs + sum(report.tally.skipped.values()) == runs

        env = dict(os.environ, HOME=tmp, CODEX_HOME=f"{tmp}/codex")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([route, "--version"], env=env, stdout=subprocess.DEVNULL, check=True)
        tenth = f"{int(SPAN_SECONDS / 10 / 86_400)}d"
        small_s, small_rss = _child(
            [route, "replay", "--policy", str(policy), "--since", tenth, "--json"], env
        )
        full_s, full_rss = _child([route, "replay", "--policy", str(policy), "--json"], env)
        since = time.time() - SPAN_SECONDS / 10
        small_runs = count_decisions(dirs, since)

    changed = report.tally.changed
    print(f"store: {args.runs:,} runs, {runs:,} not dry runs; {changed:,} change alias")
    print(f"decide_route calls: {decided:,} (the rest remembered per task class)")
    print(f"{'measure':<44} {'runs':>10} {'time':>9} {'runs/s':>10} {'peak RSS':>9}")
    rows = [
        ("read only (recorded_decisions)", runs, read_s, None),
        ("replay_history, in process", runs, replay_s, None),
        (f"codex-route replay --json --since {tenth}", small_runs, small_s, small_rss),
        ("codex-route replay --json", runs, full_s, full_rss),
    ]
    for name, count, seconds, rss in rows:
        memory = "" if rss is None else f"{rss:>6.0f} MiB"
        print(f"{name:<44} {count:>10,} {seconds:>7.2f} s {count / seconds:>10,.0f} {memory:>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
