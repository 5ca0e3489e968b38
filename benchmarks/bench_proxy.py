#!/usr/bin/env python3
"""The proxy and the local path, measured (numbers go in the issue's closing note).

    proxy start → ready        `codex-route proxy start` with the real pinned LiteLLM, N starts
    added latency per request  fake chat upstream directly vs. through the proxy:
                               /v1/chat/completions, and /v1/responses (the Codex bridge),
                               non-streamed and streamed; median and p95 of M requests each
    bench-local                `codex-route bench-local --json` against a fake Ollama

Everything runs on 127.0.0.1 with a temporary CODEX_ROUTE_HOME. Run it after ./scripts/test.sh
(which installs litellm in .venv-proxy):
    .venv/bin/python benchmarks/bench_proxy.py [--starts 3] [--requests 50] [--local-runs 20]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test helpers: fake servers, free ports

from helpers.net import free_port  # noqa: E402

LITELLM = os.environ.get("CODEX_ROUTE_TEST_LITELLM_BIN") or str(
    REPO / ".venv-proxy" / "bin" / "litellm"
)
POLICY = "aliases:\n  codex-hf-cheap:\n    huggingface_model: fake-ok\n    fallbacks: []\n"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.95 * len(ordered))) - 1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def route(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codex_router", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def timed_requests(
    client: httpx.Client, url: str, body: dict, headers: dict, n: int
) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        resp = client.post(url, json=body, headers=headers)
        resp.read()
        if resp.status_code != 200:
            raise SystemExit(f"{url}: HTTP {resp.status_code}: {resp.text[:200]}")
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--local-runs", type=int, default=20)
    args = parser.parse_args()
    if not Path(LITELLM).exists():
        print(f"litellm not found at {LITELLM}: run ./scripts/test.sh first", file=sys.stderr)
        return 1
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "helpers" / "fake_chat_server.py"), str(up_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(up_port)
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "policy.yaml").write_text(POLICY)
            port = free_port()
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("CODEX_ROUTE_", "CODEX_ROUTER_"))
                and k not in ("OPENAI_API_KEY", "GEMINI_API_KEY", "PYTHONDONTWRITEBYTECODE")
            }
            env.update(
                {
                    "HOME": tmp,
                    "CODEX_ROUTE_HOME": f"{tmp}/route",
                    "CODEX_HOME": f"{tmp}/codex",
                    "CODEX_ROUTE_POLICY": f"{tmp}/policy.yaml",
                    "CODEX_ROUTE_LITELLM_BIN": LITELLM,
                    "CODEX_ROUTE_LITELLM_BASE_URL": f"http://127.0.0.1:{port}/v1",
                    "CODEX_ROUTE_HF_BASE_URL": f"http://127.0.0.1:{up_port}/v1",
                    "CODEX_ROUTE_OLLAMA_BASE_URL": f"http://127.0.0.1:{up_port}/v1",
                    "HF_TOKEN": "hf-bench-dummy",
                    "PYTHONPATH": str(REPO),
                }
            )

            starts, ready = [], []
            for i in range(args.starts):
                t0 = time.perf_counter()
                done = route(env, "proxy", "start", "--timeout", "240")
                starts.append(time.perf_counter() - t0)
                if done.returncode != 0:
                    print(done.stderr, file=sys.stderr)
                    return 1
                ready.append(float(done.stdout.split("ready in ", 1)[1].split(" s", 1)[0]))
                if i < args.starts - 1:
                    route(env, "proxy", "stop")
            print(
                f"proxy start → ready ({args.starts} starts): "
                f"command median {statistics.median(starts):.2f} s "
                f"(min {min(starts):.2f}, max {max(starts):.2f}); spawn → /health/readiness "
                f"median {statistics.median(ready):.2f} s"
            )
            rss = Path(
                f"/proc/{json.loads(route(env, 'proxy', 'status', '--json').stdout)['pid']}/status"
            )
            rss_kib = next(
                (
                    int(line.split()[1])
                    for line in rss.read_text().splitlines()
                    if line.startswith("VmRSS:")
                ),
                0,
            )
            print(f"proxy RSS when ready: {rss_kib / 1024:.0f} MiB")

            key = Path(tmp, "route", "state", "proxy", "master.key").read_text().strip()
            auth = {"Authorization": f"Bearer {key}"}
            chat = {"model": "fake-ok", "messages": [{"role": "user", "content": "say hi"}]}
            rows = []
            with httpx.Client(timeout=60, trust_env=False) as client:
                direct = f"http://127.0.0.1:{up_port}/v1/chat/completions"
                via = f"http://127.0.0.1:{port}/v1"
                timed_requests(
                    client, f"{via}/chat/completions", {**chat, "model": "codex-hf-cheap"}, auth, 5
                )
                base = timed_requests(client, direct, chat, {}, args.requests)
                rows.append(("direct chat (fake upstream)", base))
                rows.append(
                    (
                        "proxy /v1/chat/completions",
                        timed_requests(
                            client,
                            f"{via}/chat/completions",
                            {**chat, "model": "codex-hf-cheap"},
                            auth,
                            args.requests,
                        ),
                    )
                )
                responses = {"model": "codex-hf-cheap", "input": "say hi"}
                rows.append(
                    (
                        "proxy /v1/responses (bridge)",
                        timed_requests(client, f"{via}/responses", responses, auth, args.requests),
                    )
                )
                rows.append(
                    (
                        "proxy /v1/responses stream",
                        timed_requests(
                            client,
                            f"{via}/responses",
                            {**responses, "stream": True},
                            auth,
                            args.requests,
                        ),
                    )
                )
                rows.append(
                    (
                        "direct chat stream (fake upstream)",
                        timed_requests(client, direct, {**chat, "stream": True}, {}, args.requests),
                    )
                )
            base_median = statistics.median(base)
            print(f"\nper request, {args.requests} each (ms)      median      p95   added (median)")
            for name, samples in rows:
                median = statistics.median(samples)
                added = median - base_median
                print(f"  {name:34} {median:8.1f} {p95(samples):8.1f} {added:+10.1f}")
            route(env, "proxy", "stop")

            t0 = time.perf_counter()
            done = route(env, "bench-local", "--runs", str(args.local_runs), "--json")
            wall = time.perf_counter() - t0
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return 1
            data = json.loads(done.stdout)
            print(
                f"\nbench-local against the fake Ollama ({data['runs']} runs, "
                f"{wall:.2f} s wall for the command): "
                f"TTFT median {data['ttft_seconds']['median'] * 1000:.1f} ms, "
                f"p95 {data['ttft_seconds']['p95'] * 1000:.1f} ms; "
                f"{data['tokens_per_second']['median']:.0f} tok/s median "
                "(a fake: measures codex-route's own overhead, not a model)"
            )
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
