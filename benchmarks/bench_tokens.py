#!/usr/bin/env python3
"""Token counting costs: fresh-process start-up (warm and cold index) and bulk throughput.

    (a) count_tokens('fix the typo in README') in a fresh process, fast index already built
    (b) the same with an empty cache: the first process builds the index
    (c) python -c pass, for reference; and the same count through tiktoken alone
    (d) count_tokens_chunks on ~20 MB of corpus text against raw tiktoken encode_ordinary
    (e) chunk-boundary exactness: cut counts against the whole-text count

    .venv/bin/python benchmarks/bench_tokens.py [--runs 7] [--mb 20] [--bytecode]

Subprocess timings are medians of --runs fresh interpreters, each with its own temporary
CODEX_ROUTE_HOME. By default the environment is inherited as is (PYTHONDONTWRITEBYTECODE=1
makes every import compile from source); --bytecode lets Python cache bytecode, as an
installed package would.

The corpus is the repository's slice, tests/data/corpus (~1 MB, repeated up to --mb). Point
--corpus DIR at a bigger folder of the same layout for more varied text.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test helpers: where the corpus is, what it holds

from helpers.corpus import CORPUS, corpus_files  # noqa: E402

SHORT_PROMPT = "fix the typo in README"
COUNT_SHORT = (
    f"from codex_router.tokens.counter import count_tokens; count_tokens({SHORT_PROMPT!r})"
)
COUNT_WITH_TIKTOKEN = (
    "from codex_router.tokens.bpe_source import build_tiktoken_encoding; "
    f"len(build_tiktoken_encoding('o200k_base').encode_ordinary({SHORT_PROMPT!r}))"
)


# ---------------------------------------------------------------- fresh processes


def _subprocess_env(home: Path, bytecode: bool) -> dict[str, str]:
    env = dict(os.environ, CODEX_ROUTE_HOME=str(home))
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run_once(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def median_ms(code: str, runs: int, bytecode: bool, *, fresh_home_each_run: bool) -> float:
    """Median wall time of ``python -c code`` over ``runs`` fresh interpreters, in ms."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="bench-tokens-") as tmp:
        home = Path(tmp) / "home"
        _run_once(code, _subprocess_env(home, bytecode))  # warm the OS cache (and the index)
        for run in range(runs):
            if fresh_home_each_run:
                home = Path(tmp) / f"cold-{run}"
            samples.append(_run_once(code, _subprocess_env(home, bytecode)))
    return statistics.median(samples) * 1000


# ---------------------------------------------------------------- corpus text


def corpus_text(files: list[Path], megabytes: float) -> str:
    """The corpus, repeated until it holds at least ``megabytes`` of UTF-8."""
    base = "".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    size = len(base.encode("utf-8"))
    return base * max(1, round(megabytes * 1e6 / size + 0.5))


def best_seconds(function: Callable[[], object], repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def naive_line_pieces(lines: list[str], target: int) -> Iterator[str]:
    """Pieces cut at the first line end past ``target`` characters, whatever the line."""
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= target:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


# ---------------------------------------------------------------- report


def _row(label: str, value: str) -> None:
    print(f"  {label:<58} {value:>14}")


def report_start_up(runs: int, bytecode: bool) -> None:
    mode = (
        "bytecode cached"
        if bytecode
        else "PYTHONDONTWRITEBYTECODE=" + os.environ.get("PYTHONDONTWRITEBYTECODE", "(unset)")
    )
    print(f"Fresh processes, median of {runs} ({mode}):")
    _row(
        "(c) python -c pass",
        f"{median_ms('pass', runs, bytecode, fresh_home_each_run=False):.1f} ms",
    )
    _row(
        "(a) count_tokens(short), warm index",
        f"{median_ms(COUNT_SHORT, runs, bytecode, fresh_home_each_run=False):.1f} ms",
    )
    _row(
        "(b) count_tokens(short), cold: builds the index",
        f"{median_ms(COUNT_SHORT, runs, bytecode, fresh_home_each_run=True):.1f} ms",
    )
    _row(
        "    the same count through tiktoken alone (offline build)",
        f"{median_ms(COUNT_WITH_TIKTOKEN, runs, bytecode, fresh_home_each_run=False):.1f} ms",
    )


def report_index(tmp: Path) -> None:
    from codex_router.tokens.counter import TokenCounter

    counter = TokenCounter(tmp / "index-build")
    started = time.perf_counter()
    index = counter._build_index()
    seconds = time.perf_counter() - started
    print("Fast index:")
    if index is None:
        _row(f"not built: {counter.fast_path_off_reason}", "")
        return
    index.close()
    size = counter.index_path.stat().st_size
    _row("build, in process (read + verify + parse + table + write)", f"{seconds * 1000:.0f} ms")
    _row(f"size on disk ({counter.index_path.name})", f"{size / 1e6:.2f} MB")


def _fast_path_seconds(tmp: Path, slices: list[str]) -> float:
    """Time to count ``slices`` on the fast path with an empty piece memo, as a new process has."""
    from codex_router.tokens.counter import TokenCounter

    counter = TokenCounter(tmp / "throughput")
    counter.fast_count("open the index")
    started = time.perf_counter()
    for piece in slices:
        counter.fast_count(piece)
    elapsed = time.perf_counter() - started
    counter.close()
    return elapsed


def report_throughput(text: str, files: list[Path], tmp: Path) -> None:
    from codex_router.tokens import counter as tokens

    data_mb = len(text.encode("utf-8")) / 1e6
    lines = text.splitlines(keepends=True)
    started = time.perf_counter()
    encoding = tokens._SHARED_ENCODING.get()
    load = time.perf_counter() - started
    whole = len(encoding.encode_ordinary(text))
    raw = best_seconds(lambda: encoding.encode_ordinary(text))
    chunked = best_seconds(lambda: tokens.count_tokens_chunks(iter(lines)))
    slices = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    slices = [
        s[i : i + tokens.FAST_PATH_MAX_CHARS]
        for s in slices
        for i in range(0, len(s), tokens.FAST_PATH_MAX_CHARS)
    ]
    slice_mb = sum(len(s.encode("utf-8")) for s in slices) / 1e6
    fast_seconds = min(_fast_path_seconds(tmp, slices) for _ in range(2))
    print(f"Throughput, in process ({data_mb:.1f} MB, {whole:,} tokens; best of 3):")
    _row("tiktoken Encoding build (offline, verified)", f"{load * 1000:.0f} ms")
    _row("raw tiktoken encode_ordinary, one call", f"{data_mb / raw:.1f} MB/s")
    _row(f"count_tokens_chunks over {len(lines):,} lines", f"{data_mb / chunked:.1f} MB/s")
    _row(
        f"fast path alone, fresh memo, {len(slices)} slices ≤ 64 Ki chars ({slice_mb:.1f} MB)",
        f"{slice_mb / fast_seconds:.1f} MB/s",
    )


def report_exactness(files: list[Path]) -> None:
    from codex_router.tokens import counter as tokens

    encoding = tokens._SHARED_ENCODING.get()
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    lines = text.splitlines(keepends=True)
    whole = len(encoding.encode_ordinary(text))
    print(
        f"Chunk boundaries (corpus as one stream: {len(text.encode()) / 1e6:.1f} MB, "
        f"{whole:,} tokens; difference against the whole-text count):"
    )
    _row(
        "count_tokens_chunks (exact cuts, ~1 Mi chars)",
        f"{tokens.count_tokens_chunks(iter(lines)) - whole:+d} tokens",
    )
    for target in (1 << 20, 1 << 16, 1 << 12):
        exact = sum(
            len(encoding.encode_ordinary(p)) for p in tokens.exact_pieces(iter(lines), target)
        )
        naive_pieces = list(naive_line_pieces(lines, target))
        naive = sum(len(encoding.encode_ordinary(p)) for p in naive_pieces)
        _row(
            f"pieces of ~{target:,} chars: exact cuts / any line end ({len(naive_pieces)} cuts)",
            f"{exact - whole:+d} / {naive - whole:+d}",
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per row (≥5)")
    parser.add_argument("--mb", type=float, default=20.0, help="throughput input size")
    parser.add_argument(
        "--corpus", type=Path, default=CORPUS, help="corpus folder (default: tests/data/corpus)"
    )
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="let subprocesses cache bytecode (as an installed package)",
    )
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    try:
        files = corpus_files(args.corpus)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    print(
        f"corpus: {args.corpus} ({len(files)} files); "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores\n"
    )
    with tempfile.TemporaryDirectory(prefix="bench-tokens-") as tmp:
        os.environ["CODEX_ROUTE_HOME"] = str(Path(tmp) / "home")  # never the real cache
        report_start_up(args.runs, args.bytecode)
        report_index(Path(tmp))
        report_throughput(corpus_text(files, args.mb), files, Path(tmp))
        report_exactness(files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
