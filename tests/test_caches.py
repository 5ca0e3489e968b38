"""Start-up caches: the parsed policy and codex's version, both invalidated by a changed file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from codex_router.codex.binary import probe_version_cached
from codex_router.policy.load import read_policy_file


def test_policy_cache_is_used_and_invalidated_by_a_change(tmp_path: Path):
    policy = tmp_path / "p.yaml"
    policy.write_text("max_cost_usd: 1\n")
    cache = tmp_path / "cache"
    first = read_policy_file(policy, cache)
    assert first["max_cost_usd"].value == 1
    assert list((cache / "policy").glob("*.marshal"))
    policy.write_text("max_cost_usd: 22\n")
    os.utime(policy, ns=(1, 1))
    assert read_policy_file(policy, cache)["max_cost_usd"].value == 22


def test_a_damaged_policy_cache_is_ignored(tmp_path: Path):
    policy = tmp_path / "p.yaml"
    policy.write_text("max_cost_usd: 3\n")
    cache = tmp_path / "cache"
    read_policy_file(policy, cache)
    for f in (cache / "policy").glob("*.marshal"):
        f.write_bytes(b"garbage")
    assert read_policy_file(policy, cache)["max_cost_usd"].value == 3


def test_version_probe_is_cached_per_binary(tmp_path: Path):
    counter = tmp_path / "count"
    script = tmp_path / "codex"
    script.write_text(
        f"#!{sys.executable}\nimport pathlib\np = pathlib.Path({str(counter)!r})\n"
        "p.write_text(str(int(p.read_text() or 0) + 1) if p.exists() else '1')\n"
        "print('codex-cli 0.169.0')\n"
    )
    script.chmod(0o755)
    assert probe_version_cached(str(script), tmp_path) == "codex-cli 0.169.0"
    assert probe_version_cached(str(script), tmp_path) == "codex-cli 0.169.0"
    assert counter.read_text() == "1"
    os.utime(script, ns=(5, 5))  # an upgrade changes the binary: probe again
    probe_version_cached(str(script), tmp_path)
    assert counter.read_text() == "2"
