#!/usr/bin/env python3
"""Start-up budgets, measured side by side in one run (fresh processes, samples interleaved).

    codex --version                        the reference of --help and the dry run
    python -c pass                         the reference of compress
    codex-route --help                     budget ≤ 1.0× codex --version
    codex-route run --dry-run "<short>"    budget ≤ 1.5× codex --version
    codex-route compress < small log       budget ≤ 1.5× python -c pass + 5 ms

Also shown, without a budget: the dry run with --json, and compress run through the Typer app
instead of the console script's pipe path (what codex_router/commands/pipe_argv.py saves).

Run it after ./scripts/test.sh (which installs the pinned codex under tools/), with bytecode
caching on as in a real install:
    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python benchmarks/bench_cli.py [--runs 21]
Each round runs every command once, so load that changes during the run touches every row alike;
the table shows the median and the range. State goes to a temporary CODEX_ROUTE_HOME/CODEX_HOME;
the token index is built once before timing. Exit status 1 when a budget is not met.
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

#: A small log as a pipe sees it: 41 lines, 1.6 KB.
SMALL_LOG = (
    "".join(f"2026-01-01 INFO worker {i} ready in {i * 3} ms\n" for i in range(40)) + "ERROR boom\n"
)


def _once(argv: list[str], env: dict[str, str], stdin: Path | None) -> float:
    with open(stdin or os.devnull, "rb") as source:
        start = time.perf_counter()
        subprocess.run(
            argv,
            env=env,
            stdin=source,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        return time.perf_counter() - start


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
        log = Path(tmp) / "small.log"
        log.write_text(SMALL_LOG, encoding="utf-8")
        dry = [route, "run", "--dry-run", "--no-stdin", "fix the typo in README.md"]
        subprocess.run(
            dry, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True
        )
        typer_compress = (
            "import sys\nfrom codex_router.cli import main\nsys.exit(main(['compress', '-q']))\n"
        )
        rows: list[tuple[str, list[str], Path | None]] = [
            ("codex --version", [codex, "--version"], None),
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("codex-route --help", [route, "--help"], None),
            ("codex-route run --dry-run (short)", dry, None),
            ("codex-route run --dry-run --json", [*dry[:3], "--json", *dry[3:]], None),
            ("codex-route compress (small log)", [route, "compress", "-q"], log),
            ("  the same through the Typer app", [sys.executable, "-c", typer_compress], log),
        ]
        samples: dict[str, list[float]] = {name: [] for name, _, _ in rows}
        for _ in range(args.runs):
            for name, argv, stdin in rows:
                samples[name].append(_once(argv, env, stdin))
    median = {name: statistics.median(values) for name, values in samples.items()}
    codex_ref, python_ref = median["codex --version"], median["python -c pass"]
    print(f"{'command':<36} {'median ms':>9} {'range ms':>13} {'× codex':>8}")
    for name, values in samples.items():
        spread = f"{min(values) * 1000:.1f}–{max(values) * 1000:.1f}"
        print(
            f"{name:<36} {median[name] * 1000:>9.1f} {spread:>13} {median[name] / codex_ref:>8.2f}"
        )
    budgets = [
        ("codex-route --help", 1.0 * codex_ref, "1.0× codex --version"),
        ("codex-route run --dry-run (short)", 1.5 * codex_ref, "1.5× codex --version"),
        (
            "codex-route compress (small log)",
            1.5 * python_ref + 0.005,
            "1.5× python -c pass + 5 ms",
        ),
    ]
    print()
    met = True
    for name, limit, rule in budgets:
        ok = median[name] <= limit
        met = met and ok
        verdict = "ok  " if ok else "OVER"
        print(
            f"{verdict} {name:<36} {median[name] * 1000:6.1f} ms ≤ {limit * 1000:6.1f} ms ({rule})"
        )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
