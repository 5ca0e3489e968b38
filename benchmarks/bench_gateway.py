#!/usr/bin/env python3
"""Team gateway mode, measured: the latency a gateway adds per request (docs/team.md).

    direct        POST /v1/chat/completions to the fake chat upstream
    1 gateway     the same through one `codex-route proxy start --gateway` (LiteLLM, sharing
                  its router state in a throwaway Redis)
    2 gateways    two such instances sharing one Redis, requests alternated between them (what
                  a load balancer in front of them does)

p50 and p95 of N requests each, after a warm-up, all on 127.0.0.1 with temporary homes; the
added latency is the gateway's p50/p95 minus the direct one. Run it after ./scripts/test.sh
(LiteLLM in .venv-proxy, Debian's redis-server):
    .venv/bin/python benchmarks/bench_gateway.py [--requests 200]
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test helpers: fake servers, Redis, free ports

from helpers.fake_chat_server import FakeChatServer  # noqa: E402
from helpers.net import free_port  # noqa: E402
from helpers.redis_server import RedisServer, redis_server_bin  # noqa: E402

LITELLM = os.environ.get("CODEX_ROUTE_TEST_LITELLM_BIN") or str(
    REPO / ".venv-proxy" / "bin" / "litellm"
)
POLICY = "aliases:\n  t-bench:\n    huggingface_model: fake-ok\n    upstreams: [huggingface]\n"
#: Only for this benchmark's throwaway gateways on 127.0.0.1.
KEY = "sk-bench-gateway-" + "0" * 32
ROUTE = [sys.executable, "-m", "codex_router"]
BODY = {"messages": [{"role": "user", "content": "say hi"}]}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(0.95 * len(ordered))) - 1]


def timed(client: httpx.Client, urls: list[str], model: str, auth: dict, n: int) -> list[float]:
    samples = []
    for url in itertools.islice(itertools.cycle(urls), n):
        start = time.perf_counter()
        resp = client.post(url, json={**BODY, "model": model}, headers=auth)
        resp.read()
        if resp.status_code != 200:
            raise SystemExit(f"{url}: HTTP {resp.status_code}: {resp.text[:200]}")
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def start_gateway(tmp: Path, name: str, upstream: str, redis_url: str) -> tuple[dict, int]:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CODEX_ROUTE_", "CODEX_ROUTER_", "LITELLM_", "REDIS_"))
        and k not in ("OPENAI_API_KEY", "GEMINI_API_KEY", "PYTHONDONTWRITEBYTECODE")
    }
    env.update(
        {
            "HOME": str(tmp),
            "CODEX_ROUTE_HOME": str(tmp / name),
            "CODEX_HOME": str(tmp / "codex"),
            "CODEX_ROUTE_POLICY": str(tmp / "policy.yaml"),
            "CODEX_ROUTE_LITELLM_BIN": LITELLM,
            "CODEX_ROUTE_HF_BASE_URL": upstream,
            "CODEX_ROUTE_OLLAMA_BASE_URL": upstream,
            "CODEX_ROUTE_GATEWAY_REDIS_URL": redis_url,
            "CODEX_ROUTE_GATEWAY_MASTER_KEY": KEY,
            "HF_TOKEN": "hf-bench-dummy",
            "PYTHONPATH": str(REPO),
        }
    )
    done = subprocess.run(
        [*ROUTE, "proxy", "start", "--gateway", "--port", str(port), "--timeout", "240"],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return env, port


def redis_or_none() -> str | None:
    """redis-server's path when it and the pinned LiteLLM are installed, else None (said why)."""
    binary = redis_server_bin()
    if not Path(LITELLM).exists() or binary is None:
        print(
            "needs LiteLLM in .venv-proxy and redis-server: run ./scripts/test.sh", file=sys.stderr
        )
        return None
    return binary


@contextmanager
def gateways(
    tmp: Path, names: tuple[str, ...], upstream: str, redis_url: str
) -> Iterator[list[int]]:
    """One gateway instance per name (its own CODEX_ROUTE_HOME), sharing ``redis_url``; yields
    their ports and stops every one that started."""
    started: list[tuple[dict, int]] = []
    try:
        for name in names:
            started.append(start_gateway(tmp, name, upstream, redis_url))
        yield [port for _env, port in started]
    finally:
        for env, _port in started:
            subprocess.run([*ROUTE, "proxy", "stop"], env=env, capture_output=True, timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    binary = redis_or_none()
    if binary is None:
        return 1
    with tempfile.TemporaryDirectory() as tmp_name, FakeChatServer() as upstream:
        tmp = Path(tmp_name)
        (tmp / "policy.yaml").write_text(POLICY)
        with (
            RedisServer(binary, tmp / "redis") as redis,
            gateways(tmp, ("a", "b"), upstream.base_url, redis.url) as ports,
        ):
            urls = [f"http://127.0.0.1:{port}/v1/chat/completions" for port in ports]
            auth = {"Authorization": f"Bearer {KEY}"}
            with httpx.Client(timeout=60, trust_env=False) as client:
                timed(client, urls, "t-bench", auth, 20)  # warm both instances
                rows = [
                    (
                        "direct",
                        timed(
                            client,
                            [f"{upstream.base_url}/chat/completions"],
                            "fake-ok",
                            {},
                            args.requests,
                        ),
                    ),
                    ("1 gateway", timed(client, urls[:1], "t-bench", auth, args.requests)),
                    ("2 gateways", timed(client, urls, "t-bench", auth, args.requests)),
                ]
    load = os.getloadavg()[0]
    print(f"{args.requests} requests each, non-streamed chat, load {load:.2f}")
    base50, base95 = statistics.median(rows[0][1]), p95(rows[0][1])
    for label, samples in rows:
        p50, p95_ = statistics.median(samples), p95(samples)
        added = (
            ""
            if label == "direct"
            else f"  added p50 {p50 - base50:6.2f}  p95 {p95_ - base95:6.2f}"
        )
        print(f"{label:<11} p50 {p50:7.2f} ms  p95 {p95_:7.2f} ms{added}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
