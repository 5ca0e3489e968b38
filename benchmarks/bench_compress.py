#!/usr/bin/env python3
"""Throughput and memory of codex_router.prompt.compress (SPEC §10: compression >= 20 MB/s).

1. In-process MB/s of ``compress_stream`` over the benchmark corpus repeated to ``--corpus-mb``
   (default 50 MB), no token counting (counting is the token module's cost, not ours).
2. A synthetic log of ``--size-mb`` (default 200 MB) generated on the fly and streamed through
   ``compress_stream`` (output discarded): wall time, MB/s, peak RSS of the process and the peak
   of Python allocations seen by tracemalloc during a second, smaller run (tracemalloc slows
   Python down several times, so it is measured separately on ``--trace-mb``).

    python benchmarks/bench_compress.py [--corpus DIR] [--corpus-mb 50] [--size-mb 200]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codex_router.prompt.compress import compress_stream  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "bench" / "corpus"


def corpus_lines(root: Path) -> list[str]:
    lines: list[str] = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and rel.parts[0] != "LICENSES" and p.name != "SOURCES.md" and not p.name.startswith("."):
            lines.extend(p.read_text("utf-8", errors="replace").splitlines(keepends=True))
    return lines


def synthetic(size_bytes: int, seed: int = 1, pool_lines: int = 40_000) -> Iterator[str]:
    """A log-like stream: service records with ids, some errors, a traceback now and then,
    pytest lines and progress redraws. A pool of lines is generated once and cycled, so the
    benchmark times the compressor rather than the random generator."""
    pool = list(_generate(pool_lines, seed))
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
            line = (f"2024-05-{n % 28 + 1:02d}T10:{n % 60:02d}:{rnd.randrange(60):02d}.{rnd.randrange(1000):03d}Z "
                    f"INFO {svc}[{rnd.randrange(1, 40000)}] request id={rnd.getrandbits(64):016x} "
                    f"path=/v1/{svc}/{rnd.randrange(10000)} status=200 took={rnd.randrange(1, 900)}ms\n")
        elif r < 0.90:
            line = f"tests/test_{svc}.py::test_case_{rnd.randrange(500)} PASSED [ {rnd.randrange(100):2d}%]\n"
        elif r < 0.95:
            line = f"Downloading {svc}-{rnd.randrange(9)}.{rnd.randrange(20)}.tar.gz {rnd.randrange(100)}%\r100%\n"
        elif r < 0.999:
            line = (f"2024-05-01T10:00:00Z ERROR {svc} failed to reach 10.0.{rnd.randrange(256)}.{rnd.randrange(256)}"
                    f":{rnd.randrange(1024, 65535)} (attempt {rnd.randrange(9)})\n")
        else:
            line = ("Traceback (most recent call last):\n"
                    f'  File "/srv/{svc}/main.py", line {rnd.randrange(500)}, in run\n    handle()\n'
                    f'  File "/usr/lib/python3/site-packages/lib/x.py", line 10, in handle\n    go()\n'
                    f'  File "/usr/lib/python3/site-packages/lib/y.py", line 20, in go\n    do()\n'
                    f'  File "/usr/lib/python3/site-packages/lib/z.py", line 30, in do\n    raise ValueError(1)\n'
                    f"ValueError: {n}\n")
        yield line


class _Sink:
    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> None:
        self.chars += len(s)


def bench_corpus(root: Path, target_mb: float) -> tuple[float, float, int, int]:
    base = corpus_lines(root)
    base_bytes = sum(len(x.encode()) for x in base)
    reps = max(1, round(target_mb * 1e6 / base_bytes))
    sink = _Sink()
    t0 = time.perf_counter()
    for _ in range(reps):
        compress_stream(base, sink.write)
    dt = time.perf_counter() - t0
    return base_bytes * reps / 1e6, dt, base_bytes * reps, sink.chars


def bench_stream(size_mb: float) -> tuple[float, float, int, int]:
    sink = _Sink()
    t0 = time.perf_counter()
    rep = compress_stream(synthetic(int(size_mb * 1e6)), sink.write)
    dt = time.perf_counter() - t0
    return size_mb, dt, rep.chars_in, sink.chars


def traced_peak(size_mb: float) -> int:
    tracemalloc.start()
    compress_stream(synthetic(int(size_mb * 1e6)), _Sink().write)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="benchmark corpus folder")
    ap.add_argument("--corpus-mb", type=float, default=50.0, help="repeat the corpus to about this many MB")
    ap.add_argument("--size-mb", type=float, default=200.0, help="size of the synthetic streamed log")
    ap.add_argument("--trace-mb", type=float, default=20.0, help="size of the tracemalloc run")
    args = ap.parse_args(argv)

    rows: list[tuple[str, str, str, str, str]] = []
    if args.corpus.is_dir():
        mb, dt, _, out = bench_corpus(args.corpus, args.corpus_mb)
        rows.append(("corpus x N, in process", f"{mb:.1f}", f"{dt:.2f}", f"{mb / dt:.1f}", f"out {out / 1e6:.1f} M chars"))
    else:
        print(f"corpus not found at {args.corpus}; skipping the corpus run", file=sys.stderr)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    mb, dt, chars_in, out = bench_stream(args.size_mb)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows.append((f"synthetic {args.size_mb:g} MB stream", f"{mb:.1f}", f"{dt:.2f}", f"{mb / dt:.1f}",
                 f"peak RSS {rss1 / 1024:.0f} MB (before {rss0 / 1024:.0f} MB); out {out / 1e6:.2f} M chars"))
    peak = traced_peak(args.trace_mb)
    rows.append((f"tracemalloc, {args.trace_mb:g} MB stream", f"{args.trace_mb:.1f}", "-", "-",
                 f"peak Python allocations {peak / 1e6:.1f} MB"))

    hdr = ("run", "MB", "s", "MB/s", "notes")
    widths = [max(len(r[i]) for r in [hdr, *rows]) for i in range(5)]
    for r in [hdr, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
