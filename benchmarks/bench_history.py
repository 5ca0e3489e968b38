#!/usr/bin/env python3
"""History budgets (docs/development.md), measured side by side in one run.

    codex-route history --limit 20    goal ≤ 1 s over 1,000,000 runs (fresh process, median)
    codex-route stats                 goal ≤ 1 s
    codex-route stats --by day        goal ≤ 1 s
    record_run (one run, in process)  goal ≤ 5 ms (median of many, on the big store)

    .venv/bin/python benchmarks/bench_history.py [--runs 1000000] [--repeat 5] [--keep DIR]

Seeding writes rows with the store's own schema and row layout in large transactions (about a
minute for a million); ``--keep DIR`` keeps the seeded CODEX_ROUTE_HOME and reuses it next time.
"""

from __future__ import annotations

import argparse
import json
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

from _timing import command_seconds  # noqa: E402

from codex_router.dirs import app_dirs  # noqa: E402
from codex_router.history import store  # noqa: E402
from codex_router.history.record import Attempt, RunRecord, TokenUsage  # noqa: E402

ALIASES = (
    "codex-light",
    "codex-default",
    "codex-long",
    "codex-deep",
    "codex-no-openai",
    "codex-hf-cheap",
    "codex-hf-fast",
    "codex-qwen-local",
)
PROVIDERS = ("openai", "gemini", "huggingface", "qwen", "no-openai")
PATHS = ("standard", "litellm", "huggingface")
RULES = ("ansi", "progress", "repeated_lines", "numeric_families", "stack_frames", "json_lines")
SETTINGS = (
    "provider",
    "codex_provider",
    "force_model",
    "open_models_only",
    "avoid_openai",
    "disable_litellm",
    "max_cost_usd",
    "max_input_tokens",
    "max_output_tokens",
    "timeout_seconds",
    "fallback_order",
    "litellm_base_url",
    "huggingface_base_url",
    "ollama_base_url",
    "policy",
)
SPAN_SECONDS = 2 * 365 * 86_400


def synthetic_record(rng: random.Random, started_at: float, n: int) -> RunRecord:
    """A plausible run: mostly one attempt, some fallbacks, some dry runs, usage on most."""
    dry = rng.random() < 0.08
    attempts: list[Attempt] = []
    outcome = "dry_run"
    usage = None
    if not dry:
        count = 1 if rng.random() < 0.85 else rng.choice((2, 3))
        for i in range(count):
            last = i == count - 1
            ok = last and rng.random() < 0.9
            attempts.append(
                Attempt(
                    PATHS[i % 3],
                    ALIASES[n % 8],
                    0 if ok else 1,
                    rng.randint(300, 120_000),
                    "ok" if ok else "failed",
                    None if ok else "http 429",
                    f"{n:08x}-0000-7000-8000-{i:012x}",
                )
            )
        outcome = "success" if attempts[-1].outcome == "ok" else "failed"
        if rng.random() < 0.7:
            inp = rng.randint(3_000, 200_000)
            out = rng.randint(10, 4_000)
            usage = TokenUsage(inp, inp // 3, out, out // 4, inp + out)
    raw = rng.randint(20, 150_000)
    rules = (
        {r: rng.randint(1, raw // 4 + 1) for r in rng.sample(RULES, rng.randint(0, 3))}
        if rng.random() < 0.3
        else {}
    )
    clean = max(1, raw - sum(rules.values()))
    cost = clean * 1.25e-6 + 4e-4
    return RunRecord(
        run_id=f"{n:032x}",
        started_at=started_at,
        duration_ms=sum(a.duration_ms for a in attempts) + rng.randint(20, 200),
        outcome=outcome,
        exit_code=0 if outcome in ("success", "dry_run") else 1,
        alias=ALIASES[n % 8],
        provider=PROVIDERS[n % 5],
        path_order=PATHS[:2],
        skipped={} if rng.random() < 0.7 else {"litellm": "127.0.0.1:4000 connection refused"},
        attempts=tuple(attempts),
        complexity=rng.choice(("simple", "medium", "complex")),
        long_context=raw > 100_000,
        intents=(),
        reasons=("medium: 120 words", "rule: default"),
        tokens_raw=raw,
        tokens_clean=clean,
        rules=rules,
        estimated_cost_usd=cost,
        deep_cost_usd=cost * 8,
        provenance={s: rng.choice(("default", "policy", "env", "flag")) for s in SETTINGS},
        codex_version="codex-cli 0.169.0",
        codex_route_version="0.1.0",
        dry_run=dry,
        usage=usage,
    )


def seed(home: Path, runs: int) -> None:
    """``runs`` runs over the last two years, oldest first, in 50,000-row transactions."""
    os.environ["CODEX_ROUTE_HOME"] = str(home)
    dirs = app_dirs()
    rng = random.Random(7)
    now = time.time()
    batch = 50_000
    conn = store._open_for_write(store.history_path(dirs))  # the real schema and pragmas
    try:
        started = time.perf_counter()
        for first in range(0, runs, batch):
            records = [
                synthetic_record(rng, now - SPAN_SECONDS * (1 - n / runs), n)
                for n in range(first, min(first + batch, runs))
            ]
            with store._write_transaction(conn):
                for record in records:
                    store._insert(conn, record, json.dumps(record.to_dict(), separators=(",", ":")))
            done = first + len(records)
            print(
                f"\rseeded {done:,} runs ({time.perf_counter() - started:.0f} s)",
                end="",
                file=sys.stderr,
                flush=True,
            )
        print(file=sys.stderr)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _time_record_run(home: Path, repeat: int) -> float:
    os.environ["CODEX_ROUTE_HOME"] = str(home)
    dirs = app_dirs()
    rng = random.Random(11)
    records = [synthetic_record(rng, time.time(), 10**9 + i) for i in range(repeat)]
    samples = []
    for record in records:
        start = time.perf_counter()
        store.record_run(dirs, record)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per command")
    parser.add_argument("--writes", type=int, default=200, help="record_run calls timed")
    parser.add_argument("--keep", type=Path, help="seed into (or reuse) this CODEX_ROUTE_HOME")
    args = parser.parse_args()
    route = str(Path(sys.executable).parent / "codex-route")
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp) / "route"
        if not (home / "state" / store.HISTORY_FILE_NAME).exists():
            seed(home, args.runs)
        env = dict(os.environ, CODEX_ROUTE_HOME=str(home), HOME=tmp, CODEX_HOME=f"{tmp}/codex")
        # Users' installs have compiled bytecode; measure that, not per-run source compilation.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([route, "--version"], env=env, stdout=subprocess.DEVNULL, check=True)
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("codex-route history --limit 20", [route, "history", "--limit", "20"], 1.0),
            (
                "codex-route history --json --limit 20",
                [route, "history", "--json", "--limit", "20"],
                None,
            ),
            (
                "codex-route history --failed --alias codex-deep",
                [route, "history", "--failed", "--alias", "codex-deep"],
                None,
            ),
            ("codex-route stats", [route, "stats"], 1.0),
            ("codex-route stats --by day", [route, "stats", "--by", "day"], 1.0),
            ("codex-route stats --by alias", [route, "stats", "--by", "alias"], None),
            (
                "codex-route stats --since 30d --by provider",
                [route, "stats", "--since", "30d", "--by", "provider"],
                None,
            ),
        ]
        results = [
            (name, command_seconds(argv, env, args.repeat), goal) for name, argv, goal in rows
        ]
        write = _time_record_run(home, args.writes)
        count = store.history_path(app_dirs()).stat().st_size
    print(f"store: {args.runs:,} runs, {count / 2**20:,.0f} MiB")
    print(f"{'measure':<48} {'median':>10}  goal")
    for name, value, goal in results:
        print(f"{name:<48} {value * 1000:>8.0f} ms  {f'≤ {goal * 1000:.0f} ms' if goal else ''}")
    print(f"{'record_run (one run, in process)':<48} {write * 1000:>8.2f} ms  ≤ 5 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
