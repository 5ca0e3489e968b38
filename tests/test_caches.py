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


def test_a_cached_policy_reads_back_as_the_parsed_tree(tmp_path: Path):
    import marshal

    from codex_router.policy import load

    policy = tmp_path / "p.yaml"
    policy.write_text(
        "max_cost_usd: 1\nfallback_order: [litellm]\nclassification:\n  medium_tokens: 9\n"
    )
    cache = tmp_path / "cache"
    parsed = read_policy_file(policy, cache)
    entry = load._cache_entry(policy, cache)
    assert entry is not None
    # the stored format is plain tuples, as earlier versions wrote and read it
    _, plain = marshal.loads(entry[0].read_bytes())
    assert type(plain["max_cost_usd"]) is tuple
    assert plain["max_cost_usd"] == (1, str(policy), 1)
    cached = load._cached_tree(policy, cache)
    assert cached is not None
    assert cached[1] == parsed
    assert type(cached[1]["classification"]["medium_tokens"]) is load.Located
    assert cached[1]["fallback_order"].value == ["litellm"]


def test_a_damaged_policy_cache_is_ignored(tmp_path: Path):
    policy = tmp_path / "p.yaml"
    policy.write_text("max_cost_usd: 3\n")
    cache = tmp_path / "cache"
    read_policy_file(policy, cache)
    for f in (cache / "policy").glob("*.marshal"):
        f.write_bytes(b"garbage")
    assert read_policy_file(policy, cache)["max_cost_usd"].value == 3


def test_a_tree_cached_before_anchors_were_refused_is_parsed_again(tmp_path: Path):
    import marshal

    import pytest

    from codex_router.errors import PolicyError
    from codex_router.policy import load

    policy = tmp_path / "p.yaml"
    policy.write_text("max_input_tokens: &n 5000\n")
    cache = tmp_path / "cache"
    with pytest.raises(PolicyError, match="anchors"):
        read_policy_file(policy, cache)
    # what an older codex-route stored for this file: key "path|size|mtime", no format tag
    st = policy.stat()
    old_key = f"{policy.absolute()}|{st.st_size}|{st.st_mtime_ns}"
    entry = load._cache_entry(policy, cache)
    assert entry is not None
    entry[0].parent.mkdir(parents=True, exist_ok=True)
    entry[0].write_bytes(marshal.dumps((old_key, {"max_input_tokens": (5000, str(policy), 1)})))
    with pytest.raises(PolicyError, match="anchors"):
        read_policy_file(policy, cache)


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
