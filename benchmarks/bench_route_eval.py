#!/usr/bin/env python3
"""``codex-route route eval`` speed (budget in docs/development.md: ≤ 10 s for 400 tasks of
issue size, i.e. seconds, not minutes; linear in the number of tasks).

Builds a labelled JSON-lines file of ``--tasks`` tasks (default 400) whose texts are slices of the
benchmark corpus (tests/data/corpus) of 300 to 12,000 characters (mean ≈ 2.5 KB, like issue
texts), then times, side by side:

1. ``codex-route route eval FILE --json`` in a fresh process (wall, median of ``--repeat``);
2. the same with half the tasks (``--limit``), to show the time is linear in the task count;
3. in process: the per-task time of :func:`codex_router.run.route_eval.evaluate_tasks`.

    .venv/bin/python benchmarks/bench_route_eval.py [--tasks 400] [--repeat 3]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.corpus import corpus_files  # noqa: E402

BUDGET_SECONDS = 10.0


def build_tasks(count: int, seed: int = 14) -> list[dict[str, object]]:
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in corpus_files()]
    texts = [t for t in texts if len(t) > 1000]
    tasks = []
    for n in range(count):
        text = rng.choice(texts)
        size = min(int(rng.lognormvariate(7.5, 0.9)) + 300, 12_000, len(text))
        start = rng.randrange(0, len(text) - size + 1)
        body = text[start : start + size]
        tasks.append(
            {
                "id": f"bench-{n}",
                "source": f"bench-{n % 2}",
                "problem_statement": f"The job fails with the output below; fix it.\n\n{body}",
                "difficulty_ordinal": rng.randrange(4),
            }
        )
    return tasks


def cli_seconds(file: Path, env: dict[str, str], extra: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "codex_router", "route", "eval", str(file), "--json", *extra],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CODEX_ROUTE_HOME": home}
        os.environ["CODEX_ROUTE_HOME"] = home
        file = Path(home) / "tasks.jsonl"
        tasks = build_tasks(args.tasks)
        file.write_text("".join(json.dumps(t) + "\n" for t in tasks), encoding="utf-8")
        mean_chars = statistics.mean(len(str(t["problem_statement"])) for t in tasks)
        print(f"{args.tasks} tasks, mean {mean_chars:,.0f} characters ({file.stat().st_size:,} B)")

        # the first run builds the token index in this fresh home: not timed
        cli_seconds(file, env, ["--limit", "1"], 1)
        whole = cli_seconds(file, env, [], args.repeat)
        half = cli_seconds(file, env, ["--limit", str(args.tasks // 2)], args.repeat)

        from codex_router.dirs import app_dirs
        from codex_router.policy.settings import resolve_settings
        from codex_router.run.route_eval import evaluate_tasks, parse_tasks
        from codex_router.tokens.counter import count_tokens

        settings = resolve_settings({}, os.environ, app_dirs())
        with file.open(encoding="utf-8") as lines:
            parsed = parse_tasks(lines, str(file))
        start = time.perf_counter()
        evaluate_tasks(parsed, str(file), settings, count_tokens)
        in_process = time.perf_counter() - start

    verdict = "ok" if whole <= BUDGET_SECONDS * args.tasks / 400 else "OVER BUDGET"
    print(f"route eval, {args.tasks} tasks, fresh process   {whole:6.2f} s   ({verdict})")
    print(f"route eval, {args.tasks // 2} tasks, fresh process   {half:6.2f} s")
    print(
        f"in process, per task                {in_process / len(parsed) * 1000:6.2f} ms"
        f"   ({in_process:.2f} s for {len(parsed)})"
    )
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
