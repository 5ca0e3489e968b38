#!/usr/bin/env python3
"""Throughput and memory of compression (budgets in docs/development.md: >= 20 MB/s in process;
>= 10 MB/s per file including process start, as a one-process-per-file scorer measures it).

1. In process, the benchmark corpus repeated to ``--corpus-mb`` (default 50 MB), no token
   counting: ``compress_stream`` over lines (the API ``plan`` uses) and ``compress_chunks`` over
   1 MiB pieces of text (what ``codex-route compress`` does with stdin).
2. Process start: ``python -c pass`` and ``codex-route compress`` on an empty input, median of
   ``--starts`` runs each.
3. Per file, one process each (like the scorer): ``codex-route compress < file`` over the corpus,
   total wall time and MB/s including process start, median of ``--rounds`` rounds.
4. A synthetic log of ``--size-mb`` (default 200 MB) piped through ``codex-route compress`` in a
   child process: wall time, MB/s and the child's own peak RSS (VmHWM).
5. The peak of Python allocations (tracemalloc) while compressing ``--trace-mb`` in process.

The corpus is the repository's slice, tests/data/corpus (~1 MB). Point ``--corpus DIR`` at a
bigger folder of the same layout for figures closer to real use.

Run it with the interpreter of the install you want to measure, bytecode caching on (as in a
real install; this environment sets PYTHONDONTWRITEBYTECODE):

    env -u PYTHONDONTWRITEBYTECODE .venv/bin/python benchmarks/bench_compress.py
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the test helpers: where the corpus is, what it holds

from codex_router.prompt.compress import compress_chunks, compress_stream  # noqa: E402

from helpers.corpus import CORPUS, corpus_files  # noqa: E402

CHUNK = 1 << 20

# The console script's code path, then the child's own peak RSS (not getrusage: on Linux
# ru_maxrss survives exec and would count the parent's memory copied at fork).
CHILD = (
    "import sys\nfrom codex_router.entry import main\nrc = main(['compress'])\n"
    "try:\n"
    "    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
    "except OSError:\n"
    "    import resource; hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "sys.stderr.write(f'VmHWM_KIB {hwm}\\n')\nsys.exit(rc)\n"
)


def synthetic(size_bytes: int, seed: int = 1, pool_lines: int = 40_000) -> Iterator[str]:
    """A log-like stream of lines: service records with ids, some errors, a traceback now and
    then, pytest lines and progress redraws. A pool of lines is generated once and cycled, so
    the benchmark times the compressor rather than the random generator."""
    pool = [ln for block in _generate(pool_lines, seed) for ln in block.splitlines(keepends=True)]
    produced = 0
    while produced < size_bytes:
        for line in pool:
            produced += len(line)
            yield line
            if produced >= size_bytes:
                return


def _generate(count: int, seed: int) -> Iterator[str]:
    rnd = random.Random(seed)
    services = ["api", "db", "worker", "cache", "auth", "scheduler", "billing"]
    for n in range(1, count + 1):
        r = rnd.random()
        svc = rnd.choice(services)
        if r < 0.80:
            line = (
                f"2024-05-{n % 28 + 1:02d}T10:{n % 60:02d}:{rnd.randrange(60):02d}"
                f".{rnd.randrange(1000):03d}Z "
                f"INFO {svc}[{rnd.randrange(1, 40000)}] request id={rnd.getrandbits(64):016x} "
                f"path=/v1/{svc}/{rnd.randrange(10000)} status=200 took={rnd.randrange(1, 900)}ms\n"
            )
        elif r < 0.90:
            line = (
                f"tests/test_{svc}.py::test_case_{rnd.randrange(500)} PASSED"
                f" [ {rnd.randrange(100):2d}%]\n"
            )
        elif r < 0.95:
            line = (
                f"Downloading {svc}-{rnd.randrange(9)}.{rnd.randrange(20)}.tar.gz"
                f" {rnd.randrange(100)}%\r100%\n"
            )
        elif r < 0.999:
            line = (
                f"2024-05-01T10:00:00Z ERROR {svc} failed to reach"
                f" 10.0.{rnd.randrange(256)}.{rnd.randrange(256)}"
                f":{rnd.randrange(1024, 65535)} (attempt {rnd.randrange(9)})\n"
            )
        else:
            line = (
                "Traceback (most recent call last):\n"
                f'  File "/srv/{svc}/main.py", line {rnd.randrange(500)}, in run\n    handle()\n'
                f'  File "/usr/lib/python3/site-packages/lib/x.py", line 10, in handle\n    go()\n'
                f'  File "/usr/lib/python3/site-packages/lib/y.py", line 20, in go\n    do()\n'
                f'  File "/usr/lib/python3/site-packages/lib/z.py", line 30, in do\n'
                "    raise ValueError(1)\n"
                f"ValueError: {n}\n"
            )
        yield line


class _Sink:
    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> None:
        self.chars += len(s)


def bench_corpus(files: list[Path], target_mb: float) -> list[tuple[str, float, float, int]]:
    texts = [p.read_text("utf-8", errors="replace") for p in files]
    base_bytes = sum(len(t.encode()) for t in texts)
    reps = max(1, round(target_mb * 1e6 / base_bytes))
    as_lines = [t.splitlines(keepends=True) for t in texts]
    as_chunks = [[t[i : i + CHUNK] for i in range(0, len(t), CHUNK)] for t in texts]
    rows = []
    for name, fn, inputs in (
        ("compress_stream(lines)", compress_stream, as_lines),
        ("compress_chunks(1 MiB text)", compress_chunks, as_chunks),
    ):
        sink = _Sink()
        t0 = time.perf_counter()
        for _ in range(reps):
            for item in inputs:
                fn(item, sink.write)
        rows.append((name, base_bytes * reps / 1e6, time.perf_counter() - t0, sink.chars))
    return rows


def _codex_route() -> str:
    here = Path(sys.executable).parent / "codex-route"
    return str(here) if here.exists() else (shutil.which("codex-route") or "codex-route")


def _wall(cmd: list[str], data: bytes) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, input=data, capture_output=True, check=False)
    return time.perf_counter() - t0


def bench_starts(runs: int) -> tuple[float, float]:
    py = [_wall([sys.executable, "-c", "pass"], b"") for _ in range(runs)]
    cr = [_wall([_codex_route(), "compress"], b"") for _ in range(runs)]
    return statistics.median(py), statistics.median(cr)


def bench_per_file(files: list[Path], rounds: int) -> tuple[float, float, int]:
    data = [p.read_bytes() for p in files]
    cmd = [_codex_route(), "compress"]
    totals = [sum(_wall(cmd, d) for d in data) for _ in range(rounds)]
    base = [sum(_wall([sys.executable, "-c", "pass"], b"") for _ in data) for _ in range(rounds)]
    return statistics.median(totals), statistics.median(base), sum(map(len, data))


def bench_stream_cli(size_mb: float) -> tuple[float, int, int]:
    """Pipe the synthetic log through the CLI's code path in a child process."""
    size = int(size_mb * 1e6)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    out_bytes = 0

    def drain() -> None:
        nonlocal out_bytes
        while chunk := proc.stdout.read(1 << 16):  # type: ignore[union-attr]
            out_bytes += len(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    t0 = time.perf_counter()
    buf: list[str] = []
    held = 0
    for line in synthetic(size):
        buf.append(line)
        held += len(line)
        if held >= CHUNK:
            proc.stdin.write("".join(buf).encode())
            buf, held = [], 0
    proc.stdin.write("".join(buf).encode())
    proc.stdin.close()
    reader.join()
    err = proc.stderr.read().decode()
    rc = proc.wait()
    dt = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"codex-route compress failed ({rc}): {err[-2000:]}")
    hwm_kib = int(err.rsplit("VmHWM_KIB ", 1)[1].split()[0])
    return dt, hwm_kib, out_bytes


def traced_peak(size_mb: float) -> int:
    tracemalloc.start()
    compress_stream(synthetic(int(size_mb * 1e6)), _Sink().write)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument(
        "--corpus", type=Path, default=CORPUS, help="corpus folder (default: tests/data/corpus)"
    )
    ap.add_argument(
        "--corpus-mb", type=float, default=50.0, help="repeat the corpus to about this many MB"
    )
    ap.add_argument("--starts", type=int, default=21, help="process starts to take the median of")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of one process per corpus file")
    ap.add_argument(
        "--size-mb", type=float, default=200.0, help="size of the synthetic streamed log"
    )
    ap.add_argument("--trace-mb", type=float, default=20.0, help="size of the tracemalloc run")
    args = ap.parse_args(argv)
    try:
        files = corpus_files(args.corpus)
    except FileNotFoundError as exc:
        ap.error(str(exc))
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "note: PYTHONDONTWRITEBYTECODE is set: start-up times include compiling the modules",
            file=sys.stderr,
        )

    rows: list[tuple[str, str, str, str, str]] = []
    for name, mb, dt, out in bench_corpus(files, args.corpus_mb):
        rows.append(
            (
                f"corpus x N, in process: {name}",
                f"{mb:.1f}",
                f"{dt:.2f}",
                f"{mb / dt:.1f}",
                f"out {out / 1e6:.1f} M chars",
            )
        )
    py, cr = bench_starts(args.starts)
    rows.append(
        (
            "process start: python -c pass / codex-route compress",
            "-",
            f"{py * 1000:.1f} ms",
            "-",
            f"codex-route compress on empty stdin: {cr * 1000:.1f} ms (median of {args.starts})",
        )
    )
    total, base, nbytes = bench_per_file(files, args.rounds)
    rows.append(
        (
            f"corpus, one process per file ({len(files)})",
            f"{nbytes / 1e6:.1f}",
            f"{total:.2f}",
            f"{nbytes / 1e6 / total:.1f}",
            f"incl. process start; {len(files)} x python -c pass: "
            f"{base:.2f} s (median of {args.rounds})",
        )
    )
    dt, hwm, out = bench_stream_cli(args.size_mb)
    rows.append(
        (
            f"synthetic {args.size_mb:g} MB | codex-route compress",
            f"{args.size_mb:.1f}",
            f"{dt:.2f}",
            f"{args.size_mb / dt:.1f}",
            f"child peak RSS {hwm / 1024:.0f} MiB; out {out / 1e6:.2f} MB",
        )
    )
    peak = traced_peak(args.trace_mb)
    rows.append(
        (
            f"tracemalloc, {args.trace_mb:g} MB stream",
            f"{args.trace_mb:.1f}",
            "-",
            "-",
            f"peak Python allocations {peak / 1e6:.1f} MB",
        )
    )

    hdr = ("run", "MB", "s", "MB/s", "notes")
    widths = [max(len(r[i]) for r in [hdr, *rows]) for i in range(5)]
    for r in [hdr, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
