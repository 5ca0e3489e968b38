"""Fault sweep of the config guard: signals at every point of a run, and concurrent mixes.

For each config shape x path (standard, litellm, huggingface) x signal (SIGKILL, SIGINT,
SIGTERM), codex-route is run once to count its *points* (each call of the functions below: the
guard's enter/leave/journal/config writes, every os.replace and os.fsync, the codex spawn, the
wait for codex), then once per point with the signal sent to itself at exactly that point. A
SIGKILLed run is recovered by `codex-route config restore` or, every other time, by the next run
(on the standard path, which must also reach the user's own provider). Then concurrent mixes:
16 runs at once on one CODEX_HOME, mixed paths, some killed at random moments, then restored.

codex is a stand-in that computes, as Codex does, which provider and endpoint the run reaches
(the -c overrides over config.toml) and logs it; a run is *misrouted* when that is not the one
its path must reach (standard: the user's own). Counted, all must be 0 but runs:
runs, misroutes, hangs (no exit within 60 s), left edited (a SIGINT/SIGTERM run that exited with
codex-route's keys still in config.toml), not byte-exact (config.toml after recovery differs from
before the run).

    .venv/bin/python scripts/fault_sweep.py [--mixes 10] [--jobs 2] [--json out.json]

Nothing is touched outside a temporary directory; no network beyond 127.0.0.1 listeners.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HANG_SECONDS = 60.0

DRIVER = r"""
import functools, os, signal, sys
POINT, SIG = int(os.environ["SWEEP_POINT"]), int(os.environ["SWEEP_SIGNAL"])
count = 0
def tick():
    global count
    count += 1
    if count == POINT:
        os.kill(os.getpid(), SIG)
def wrap(owner, attr):
    real = getattr(owner, attr)
    @functools.wraps(real)
    def at_a_point(*args, **kwargs):
        tick()
        return real(*args, **kwargs)
    setattr(owner, attr, at_a_point)
import subprocess
from codex_router.codex import config_guard, launch
for attr in ("enter", "leave", "own_selection", "_save", "_write_config", "_write_backup",
             "_finish"):
    wrap(config_guard.ConfigGuard, attr)
wrap(os, "replace")
wrap(os, "fsync")
wrap(subprocess, "Popen")
wrap(launch, "_wait")
sys.argv = ["codex-route", *sys.argv[1:]]
from codex_router.entry import main
try:
    code = main()
finally:
    if os.environ.get("SWEEP_COUNT_FILE"):
        open(os.environ["SWEEP_COUNT_FILE"], "w").write(str(count))
sys.exit(code)
"""

FAKE_CODEX = r"""#!{python}
import json, os, sys, time, tomllib
if sys.argv[1:] == ["--version"]:
    print("codex-cli 0.169.0"); sys.exit(0)
sys.stdin.read()
home = os.environ["CODEX_HOME"]
try:
    config = tomllib.loads(open(os.path.join(home, "config.toml"), encoding="utf-8-sig").read())
except FileNotFoundError:
    config = {{}}
overrides = {{}}
argv = sys.argv[1:]
for i, arg in enumerate(argv):
    if arg == "-c" and i + 1 < len(argv):
        key, _, value = argv[i + 1].partition("=")
        overrides[key.strip()] = tomllib.loads("v = " + value)["v"]
provider = overrides.get("model_provider", config.get("model_provider", "openai"))
table = overrides.get("model_providers." + provider)
if table is None:
    table = config.get("model_providers", {{}}).get(provider, {{}})
with open(os.environ["SWEEP_LOG"], "a") as log:
    log.write(json.dumps({{"expect": os.environ.get("SWEEP_EXPECT"), "provider": provider,
                          "base_url": table.get("base_url")}}) + "\n")
time.sleep(float(os.environ.get("SWEEP_CODEX_SECONDS", "0.05")))
print("done")
"""

MINE = 'name = "Mine"\nbase_url = "http://127.0.0.1:1/mine"\nenv_key = "MY_KEY"\n'
SHAPES: dict[str, bytes | None] = {
    "missing": None,
    "simple": b'model = "o3"\n',
    "bom-crlf-no-final-newline": b'\xef\xbb\xbfmodel = "o3"\r\n# keep me\r\n[tui]\r\nx = 1',
    "own-provider": f'model_provider = "mine"  # my pick\n[model_providers.mine]\n{MINE}'.encode(),
    "own-cost-routing-table": (
        b'model_provider = "cost-routing"\n[model_providers.cost-routing]\n# my gateway\n'
        + MINE.encode()
    ),
    "inline-providers": (
        b'model_provider = "mine"\n'
        b'model_providers = { mine = { name = "Mine", base_url = "http://127.0.0.1:1/mine" } }\n'
    ),
    "nan-inf": b"x = nan\ny = -inf\n[tui]\nz = inf\n",
    "symlinked": b'model = "o3"\n# behind a link\n',
}
PATHS = ("standard", "litellm", "huggingface")
SIGNALS = {"SIGKILL": signal.SIGKILL, "SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}


@dataclass
class Tally:
    runs: int = 0
    killed: int = 0
    misroutes: int = 0
    hangs: int = 0
    left_edited: int = 0
    not_byte_exact: int = 0
    exits: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("runs", "killed", "misroutes", "hangs", "left_edited", "not_byte_exact"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.exits.update(other.exits)
        self.problems += other.problems


def _accept_forever(sock: socket.socket) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return  # closed
        conn.close()


class World:
    """Temp dirs, the stand-in codex, and loopback listeners for the managed paths."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.codex = root / "codex"
        self.codex.write_text(FAKE_CODEX.format(python=sys.executable))
        self.codex.chmod(0o755)
        self._sockets = []
        self.urls = {}
        for path in ("litellm", "huggingface"):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            # Readiness probes only connect: accept and close, so the backlog never fills.
            threading.Thread(target=_accept_forever, args=(sock,), daemon=True).start()
            self._sockets.append(sock)
            self.urls[path] = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        self.route_home = root / "route-home"
        (root / "logs").mkdir()

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()

    def expected(self, path: str, shape: str) -> tuple[str, str | None]:
        if path == "litellm":
            return "cost-routing", self.urls["litellm"]
        if path == "huggingface":
            return "cost-routing-hf", self.urls["huggingface"]
        own = {
            "own-provider": ("mine", "http://127.0.0.1:1/mine"),
            "own-cost-routing-table": ("cost-routing", "http://127.0.0.1:1/mine"),
            "inline-providers": ("mine", "http://127.0.0.1:1/mine"),
        }
        return own.get(shape, ("openai", None))

    def codex_home(self, name: str, shape: str) -> Path:
        home = self.root / "homes" / name
        home.mkdir(parents=True)
        data = SHAPES[shape]
        if data is not None:
            if shape == "symlinked":
                real = self.root / "dotfiles" / name / "codex.toml"
                real.parent.mkdir(parents=True)
                real.write_bytes(data)
                (home / "config.toml").symlink_to(real)
            else:
                (home / "config.toml").write_bytes(data)
        return home

    def env(self, home: Path, log: Path, expect: str, **extra: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "CODEX_HOME": str(home),
            "CODEX_ROUTE_HOME": str(self.route_home),
            "CODEX_ROUTE_CODEX_BIN": str(self.codex),
            "CODEX_ROUTE_LITELLM_BASE_URL": self.urls["litellm"],
            "CODEX_ROUTE_HF_BASE_URL": self.urls["huggingface"],
            "LITELLM_API_KEY": "sk-sweep-litellm",
            "HF_TOKEN": "hf_sweepsweepsweep",
            "OPENAI_API_KEY": "sk-sweep-openai",
            "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",  # the runs' directory is not a git repository
            "PYTHONPATH": str(REPO),
            "SWEEP_LOG": str(log),
            "SWEEP_EXPECT": expect,
            **extra,
        }


def run_args(path: str) -> list[str]:
    return ["run", "say hi", "--codex-provider", path, "--no-stdin"]


def launch(env: dict[str, str], args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes], tally: Tally, what: str) -> int | None:
    try:
        _, err = proc.communicate(timeout=HANG_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        tally.hangs += 1
        tally.problems.append(f"hang: {what}")
        return None
    tally.exits[proc.returncode] += 1
    if proc.returncode in (5, 70) or os.environ.get("SWEEP_DEBUG"):
        tally.problems.append(
            f"exit {proc.returncode}: {what}: {err.decode(errors='replace')[-300:]}"
        )
    return proc.returncode


def check_routes(world: World, log: Path, shape: str, tally: Tally, what: str) -> None:
    if not log.exists():
        return
    for line in log.read_text().splitlines():
        seen = json.loads(line)
        want = world.expected(seen["expect"], shape)
        if (seen["provider"], seen["base_url"]) != want:
            tally.misroutes += 1
            tally.problems.append(f"misroute: {what}: {seen} != {want}")


def config_bytes(home: Path) -> bytes | None:
    try:
        return (home / "config.toml").read_bytes()
    except FileNotFoundError:
        return None


def recover(world: World, home: Path, log: Path, by_next_run: bool, tally: Tally, what: str):
    env = world.env(home, log, "standard", SWEEP_POINT="0", SWEEP_SIGNAL="0")
    args = run_args("standard") if by_next_run else ["config", "restore"]
    finish(launch(env, args, world.root), tally, f"recovery of {what}")


def one_point(world: World, shape: str, path: str, sig: str, point: int) -> Tally:
    tally = Tally(runs=1)
    name = f"{shape}-{path}-{sig}-{point}"
    home = world.codex_home(name, shape)
    before = config_bytes(home)
    log = world.root / "logs" / f"{name}.jsonl"
    env = world.env(home, log, path, SWEEP_POINT=str(point), SWEEP_SIGNAL=str(int(SIGNALS[sig])))
    code = finish(launch(env, run_args(path), world.root), tally, name)
    if code == -signal.SIGKILL:
        tally.killed += 1
        recover(world, home, log, point % 2 == 1, tally, name)
    elif code is not None and config_bytes(home) != before:
        tally.left_edited += 1
        tally.problems.append(f"left edited: {name} (exit {code})")
        recover(world, home, log, False, tally, name)
    if config_bytes(home) != before:
        tally.not_byte_exact += 1
        tally.problems.append(f"not byte-exact: {name}")
    check_routes(world, log, shape, tally, name)
    return tally


def count_points(world: World, shape: str, path: str) -> int:
    home = world.codex_home(f"{shape}-{path}-count", shape)
    counted = world.root / f"{shape}-{path}.count"
    log = world.root / "logs" / f"{shape}-{path}-count.jsonl"
    env = world.env(
        home, log, path, SWEEP_POINT="0", SWEEP_SIGNAL="0", SWEEP_COUNT_FILE=str(counted)
    )
    proc = launch(env, run_args(path), world.root)
    _, err = proc.communicate(timeout=HANG_SECONDS)
    if proc.returncode != 0:
        raise SystemExit(f"{shape}/{path}: the unhurt run failed: {err.decode()[-500:]}")
    return int(counted.read_text())


def one_mix(world: World, index: int, rng: random.Random) -> Tally:
    shape = rng.choice(list(SHAPES))
    tally = Tally()
    home = world.codex_home(f"mix-{index}", shape)
    before = config_bytes(home)
    log = world.root / "logs" / f"mix-{index}.jsonl"
    procs = []
    for n in range(16):
        path = rng.choice(PATHS)
        env = world.env(
            home, log, path, SWEEP_POINT="0", SWEEP_SIGNAL="0", SWEEP_CODEX_SECONDS="0.3"
        )
        procs.append((launch(env, run_args(path), world.root), rng.random() < 0.25, n))
        time.sleep(rng.random() * 0.05)
    for proc, kill, _ in procs:
        if kill:
            time.sleep(rng.random() * 0.4)
            proc.kill()
    for proc, _killed, n in procs:
        tally.runs += 1
        code = finish(proc, tally, f"mix {index} run {n}")
        if code == -signal.SIGKILL:
            tally.killed += 1
    recover(world, home, log, False, tally, f"mix {index}")
    if config_bytes(home) != before:
        tally.not_byte_exact += 1
        tally.problems.append(f"not byte-exact: mix {index} ({shape})")
    check_routes(world, log, shape, tally, f"mix {index}")
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mixes", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--shapes", nargs="*", choices=list(SHAPES), default=list(SHAPES))
    parser.add_argument("--paths", nargs="*", choices=PATHS, default=list(PATHS))
    parser.add_argument("--mixes-only", action="store_true", help="skip the per-point runs")
    opts = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="codex-route-sweep-"))
    world = World(root)
    started = time.monotonic()
    by_signal: dict[str, Tally] = {sig: Tally() for sig in SIGNALS}
    points: dict[str, int] = {}
    try:
        for shape in [] if opts.mixes_only else opts.shapes:
            for path in opts.paths:
                points[f"{shape}/{path}"] = count_points(world, shape, path)
        jobs = [
            (shape, path, sig, point)
            for shape in ([] if opts.mixes_only else opts.shapes)
            for path in opts.paths
            for sig in SIGNALS
            for point in range(1, points[f"{shape}/{path}"] + 1)
        ]
        with concurrent.futures.ThreadPoolExecutor(opts.jobs) as pool:
            for (_, _, sig, _), tally in zip(
                jobs, pool.map(lambda job: one_point(world, *job), jobs), strict=True
            ):
                by_signal[sig].add(tally)
        mixes = Tally()
        rng = random.Random(opts.seed)
        for index in range(opts.mixes):
            mixes.add(one_mix(world, index, rng))
    finally:
        world.close()
        shutil.rmtree(root, ignore_errors=True)
    rows = {**{f"{sig} at each point": t for sig, t in by_signal.items()}, "16-run mixes": mixes}
    total = Tally()
    for tally in rows.values():
        total.add(tally)
    rows["total"] = total
    print(
        f"points per run: {min(points.values(), default=0)}–{max(points.values(), default=0)} "
        f"({len(opts.shapes)} config shapes x {len(opts.paths)} paths)"
    )
    print(
        f"{'':22} {'runs':>6} {'killed':>7} {'misroute':>9} {'hang':>5} "
        f"{'left edited':>12} {'not exact':>10}"
    )
    for name, t in rows.items():
        print(
            f"{name:22} {t.runs:6} {t.killed:7} {t.misroutes:9} {t.hangs:5} "
            f"{t.left_edited:12} {t.not_byte_exact:10}"
        )
    print(f"exit codes: {dict(sorted(total.exits.items()))}; {time.monotonic() - started:.0f} s")
    for problem in total.problems[: 2000 if os.environ.get("SWEEP_DEBUG") else 20]:
        print(f"  {problem}")
    if opts.json:
        opts.json.write_text(
            json.dumps(
                {
                    name: {k: v for k, v in t.__dict__.items() if k != "exits"}
                    | {"exits": dict(t.exits)}
                    for name, t in rows.items()
                },
                indent=2,
            )
        )
    bad = total.misroutes + total.hangs + total.left_edited + total.not_byte_exact
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
