#!/usr/bin/env python3
"""`codex-route run` versus a direct `codex exec` on the same fake upstream.

Budget (docs/development.md): ≤ 1.25× the direct run.

Both talk to one fake Responses server on 127.0.0.1 (tests/helpers/fake_responses.py) through the
user's own provider in config.toml; runs alternate (direct, routed standard, routed litellm) so
load drifts hit all three alike. Reported: median wall time of N fresh processes and the ratios.

    .venv/bin/python benchmarks/bench_run.py [--runs 15]

"routed litellm" also edits config.toml (backup, journal, lock) and restores it on every run.
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
sys.path.insert(0, str(REPO / "tests"))

from helpers.fake_responses import FakeResponses  # noqa: E402

PROMPT = "fix the typo in README.md"


def _once(argv: list[str], env: dict[str, str], cwd: str, stdin: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        input=stdin,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    route = str(Path(sys.executable).parent / "codex-route")
    codex = shutil.which(
        "codex", path=f"{REPO / 'tools/node_modules/.bin'}:{os.environ.get('PATH', '')}"
    )
    if codex is None:
        print("codex not found: run ./scripts/test.sh first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp, FakeResponses("ok") as upstream:
        home = Path(tmp) / "codex"
        home.mkdir()
        work = Path(tmp) / "work"
        work.mkdir()
        (home / "config.toml").write_text(
            'model = "gpt-test"\nmodel_provider = "fake"\n\n'
            '[model_providers.fake]\nname = "Fake"\n'
            f'base_url = "{upstream.base_url}"\nenv_key = "FAKE_KEY"\n'
        )
        env = dict(
            os.environ,
            CODEX_ROUTE_HOME=f"{tmp}/route",
            CODEX_HOME=str(home),
            HOME=tmp,
            FAKE_KEY="k",
            LITELLM_API_KEY="sk-bench",
            CODEX_ROUTE_LITELLM_BASE_URL=upstream.base_url,
            PATH=f"{Path(codex).parent}:{os.environ.get('PATH', '')}",
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # users' installs have compiled bytecode
        rows = {
            "codex exec (direct)": ([codex, "exec", "--skip-git-repo-check", "-"], PROMPT),
            "codex-route run (standard)": (
                [
                    route,
                    "run",
                    "-q",
                    "-",
                    "--codex-provider",
                    "standard",
                    "--",
                    "--skip-git-repo-check",
                ],
                PROMPT,
            ),
            "codex-route run (litellm, config edit+restore)": (
                [
                    route,
                    "run",
                    "-q",
                    "-",
                    "--codex-provider",
                    "litellm",
                    "--",
                    "--skip-git-repo-check",
                ],
                PROMPT,
            ),
        }
        for argv, stdin in rows.values():  # warm-up: token index, page cache
            _once(argv, env, str(work), stdin)
        samples: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(args.runs):
            for name, (argv, stdin) in rows.items():
                samples[name].append(_once(argv, env, str(work), stdin))
        base = statistics.median(samples["codex exec (direct)"])
        print(f"{'command':<48} {'median':>9} {'p90':>9} {'ratio':>7}")
        for name, values in samples.items():
            med = statistics.median(values)
            p90 = sorted(values)[int(0.9 * (len(values) - 1))]
            print(f"{name:<48} {med * 1000:7.0f}ms {p90 * 1000:7.0f}ms {med / base:6.2f}×")
        print(
            f"\nruns per row: {args.runs}; upstream requests: {len(upstream.requests)}; "
            "goal: ≤ 1.25× the direct codex exec"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
