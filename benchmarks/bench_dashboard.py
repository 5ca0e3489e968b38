#!/usr/bin/env python3
"""The dashboard's and the report's budgets (docs/development.md), over a big history.

    each dashboard page, server side (in process, Starlette's TestClient)   goal ≤ 1 s
        over 1,000,000 runs (median of --repeat)
    spend_context alone (the Spend page's and the report's data)            for comparison
    codex-route stats --html FILE (fresh process, median)                   goal ≤ 2 s
    codex-route stats --html FILE --since 30d                               goal ≤ 2 s
    codex-route stats on a terminal (its daily chart: the per-day sums)     goal ≤ 1 s
    python -c pass, in the same run                                         the reference

    .venv/bin/python benchmarks/bench_dashboard.py [--runs 1000000] [--repeat 5] [--keep DIR]

Seeds with bench_history.py's records (two years of runs, most with usage, some compression
rules); ``--keep DIR`` seeds into DIR once and reuses it (the other history benchmarks' stores
are the same shape). Needs the ui extra (``pip install -e '.[ui]'``).
"""

from __future__ import annotations

import argparse
import os
import pty
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import command_seconds, median_seconds  # noqa: E402
from bench_history import seed  # noqa: E402

from codex_router.dirs import app_dirs  # noqa: E402
from codex_router.history import store  # noqa: E402

#: (label, path) of each page timed; the Spend page with and without a range.
PAGES = (
    ("Overview /", "/"),
    ("Spend & savings /spend (all runs)", "/spend"),
    ("Spend & savings /spend?since=30d", "/spend?since=30d"),
    ("History /history", "/history"),
    ("History /history?outcome=failed&page=3", "/history?outcome=failed&page=3"),
    ("Paths /paths", "/paths"),
    ("Keys /keys", "/keys"),
)
PORT = 8799


def _time_on_terminal(argv: list[str], env: dict[str, str], repeat: int) -> float:
    """Median wall time with stdout a terminal (a pty): ``stats`` then adds its daily chart."""

    def once() -> None:
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL
            )
            os.close(slave)
            while True:  # drain the pty, or a full buffer would stall the child
                try:
                    if not os.read(master, 65536):
                        break
                except OSError:  # EIO: the child closed its side
                    break
            if proc.wait() != 0:
                raise SystemExit(f"{argv}: exit {proc.returncode}")
        finally:
            os.close(master)

    return median_seconds(once, repeat)


def _page_times(repeat: int) -> list[tuple[str, float | None, float | None]]:
    from codex_router.dashboard.spend import spend_context

    dirs = app_dirs()
    rows: list[tuple[str, float | None, float | None]] = [
        (
            "spend_context(since=None), in process",
            median_seconds(lambda: spend_context(dirs, None), repeat),
            None,
        ),
        (
            "spend_context(since='30d'), in process",
            median_seconds(lambda: spend_context(dirs, "30d"), repeat),
            None,
        ),
    ]
    try:
        from starlette.testclient import TestClient

        from codex_router.dashboard.app import create_app
    except ImportError as exc:  # the app is not there (or the extra is missing): data only
        print(f"(no dashboard app to time: {exc})", file=sys.stderr)
        return rows
    token = secrets.token_urlsafe(32)
    app = create_app(dirs, dict(os.environ), token=token, port=PORT)
    client = TestClient(app, base_url=f"http://127.0.0.1:{PORT}", follow_redirects=False)
    first = client.get(f"/?token={token}")  # sets the session cookie
    if first.status_code not in (200, 302, 303, 307):
        raise SystemExit(f"the dashboard refused the token: {first.status_code}")
    for label, path in PAGES:

        def get(path: str = path) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")

        get()  # templates compiled, caches warm: what every later request costs
        rows.append((f"{label} (server side)", median_seconds(get, repeat), 1.0))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="samples per measure")
    parser.add_argument("--keep", type=Path, help="seed into (or reuse) this CODEX_ROUTE_HOME")
    args = parser.parse_args()
    route = str(Path(sys.executable).parent / "codex-route")
    with tempfile.TemporaryDirectory() as tmp:
        home = args.keep or Path(tmp) / "route"
        if not (home / "state" / store.HISTORY_FILE_NAME).exists():
            seed(home, args.runs)
        os.environ.update(CODEX_ROUTE_HOME=str(home), HOME=tmp, CODEX_HOME=f"{tmp}/codex")
        env = dict(os.environ)
        # Users' installs have compiled bytecode; measure that, not per-run source compilation.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([route, "--version"], env=env, stdout=subprocess.DEVNULL, check=True)
        report = f"{tmp}/report.html"
        runs = store.history_path(app_dirs())
        pages = _page_times(args.repeat)
        commands = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("codex-route stats --html FILE", [route, "stats", "--html", report], 2.0),
            (
                "codex-route stats --html FILE --since 30d",
                [route, "stats", "--html", report, "--since", "30d"],
                2.0,
            ),
            ("codex-route stats (for comparison)", [route, "stats"], None),
        ]
        timed = [
            (name, command_seconds(argv, env, args.repeat), goal) for name, argv, goal in commands
        ]
        timed.append(
            (
                "codex-route stats on a terminal (with the daily chart)",
                _time_on_terminal([route, "stats"], env, args.repeat),
                1.0,
            )
        )
        size, store_size = Path(report).stat().st_size, runs.stat().st_size
    print(
        f"store: {args.runs:,} runs, {store_size / 2**20:,.0f} MiB; report {size / 1024:,.0f} KiB"
    )
    print(f"{'measure':<58} {'median':>9}  goal")
    for name, value, goal in [*pages, *timed]:
        shown = "-" if value is None else f"{value * 1000:.0f} ms"
        print(f"{name:<58} {shown:>9}  {f'≤ {goal * 1000:.0f} ms' if goal else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
