#!/usr/bin/env python3
"""Per-member gateway keys, measured: what the ``custom_auth`` hook costs (docs/team.md, Members).

    in process   the hook's own work per request: the members file's stat (re-read only when it
                 changed) and the key decision (one SHA-256, a constant-time compare per member),
                 for 10, 100 and 1,000 members
    gateways     two `proxy start --gateway` instances on one Redis in front of the fake chat
                 upstream: one without a members file (LiteLLM's own master-key check), one with
                 MEMBERS members (the hook), requests alternated between them so both see the same
                 machine load; p50/p95 of each

Run it after ./scripts/test.sh (LiteLLM in .venv-proxy, Debian's redis-server):
    .venv/bin/python benchmarks/bench_gateway_members.py [--requests 200] [--members 100]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_gateway import BODY, KEY, POLICY, gateways, p95, redis_or_none  # noqa: E402

from codex_router.proxy.gateway_auth import (  # noqa: E402
    Member,
    MembersCache,
    decide,
    key_sha256,
    render_members,
)

from helpers.fake_chat_server import FakeChatServer  # noqa: E402
from helpers.redis_server import RedisServer  # noqa: E402

CREATED = "2026-12-01T21:40:00Z"


def members_with_keys(count: int) -> tuple[list[Member], list[str]]:
    keys = ["sk-" + secrets.token_urlsafe(32) for _ in range(count)]
    return [Member(f"m{i}", key_sha256(k), CREATED) for i, k in enumerate(keys)], keys


def in_process(tmp: Path) -> None:
    for count in (10, 100, 1000):
        members, keys = members_with_keys(count)
        path = tmp / f"members-{count}.txt"
        path.write_text(render_members(members))
        cache = MembersCache()
        cache.members(str(path))  # the first read
        rounds = 2000
        start = time.perf_counter()
        for i in range(rounds):
            decide(keys[i % count], KEY, cache.members(str(path)))
        per = (time.perf_counter() - start) / rounds * 1e6
        start = time.perf_counter()
        for _ in range(20):
            MembersCache().members(str(path))
        reread = (time.perf_counter() - start) / 20 * 1e3
        print(
            f"in process, {count:>5} members: {per:7.1f} µs per request;"
            f" re-read after a change {reread:6.2f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--members", type=int, default=100)
    args = parser.parse_args()
    binary = redis_or_none()
    if binary is None:
        return 1
    with tempfile.TemporaryDirectory() as tmp_name, FakeChatServer() as upstream:
        tmp = Path(tmp_name)
        in_process(tmp)
        (tmp / "policy.yaml").write_text(POLICY)
        members, keys = members_with_keys(args.members)
        # the default members file of the second instance (its CODEX_ROUTE_HOME is tmp/hook)
        (tmp / "hook" / "config").mkdir(parents=True)
        (tmp / "hook" / "config" / "gateway-members.txt").write_text(render_members(members))
        with (
            RedisServer(binary, tmp / "redis") as redis,
            gateways(tmp, ("plain", "hook"), upstream.base_url, redis.url) as ports,
        ):
            plain, hook = (f"http://127.0.0.1:{port}/v1/chat/completions" for port in ports)
            label = f"a member's key, {args.members} members"
            samples: dict[str, list[float]] = {"master key, no members file": [], label: []}
            body = {**BODY, "model": "t-bench"}
            with httpx.Client(timeout=60, trust_env=False) as client:
                for i in range(20 + args.requests):  # the first 20: warm-up
                    for row, url, key in (
                        ("master key, no members file", plain, KEY),
                        (label, hook, keys[i % len(keys)]),
                    ):
                        begin = time.perf_counter()
                        resp = client.post(
                            url, json=body, headers={"Authorization": f"Bearer {key}"}
                        )
                        if resp.status_code != 200:
                            raise SystemExit(f"{row}: HTTP {resp.status_code}")
                        if i >= 20:
                            samples[row].append((time.perf_counter() - begin) * 1000)
    print(f"{args.requests} requests each, alternated, load {os.getloadavg()[0]:.2f}")
    for row, values in samples.items():
        print(f"{row:<34} p50 {statistics.median(values):7.2f} ms  p95 {p95(values):7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
