"""`codex-route run` driving the real Codex 0.169 against fake Responses servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers.e2e import Route, user_config
from helpers.fake_responses import REPLY_TEXT, FakeResponses, user_texts
from helpers.net import refused_url

pytestmark = pytest.mark.e2e

CODEX_ARGS = ["--", "--skip-git-repo-check"]


def history(route: Route) -> list[dict]:
    done = route.run("history", "--json", "--limit", "50")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def codex_processes(codex_home: Path) -> list[int]:
    """PIDs of live processes started with this test's CODEX_HOME (codex children included)."""
    needle = f"CODEX_HOME={codex_home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def wait_for(predicate, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_success_on_the_standard_path(route: Route):
    with FakeResponses("ok") as upstream:
        original = user_config(upstream.base_url)
        route.config.write_bytes(original)
        done = route.run("run", "say hi", *CODEX_ARGS)
    assert done.returncode == 0, done.stderr
    assert REPLY_TEXT in done.stdout
    assert "attempt 1/" in done.stderr and "standard" in done.stderr
    assert route.config.read_bytes() == original
    assert len(upstream.requests) == 1
    assert upstream.requests[0]["authorization"] == "Bearer fake-user-key"
    [record] = history(route)
    assert record["outcome"] == "success" and record["attempts"][0]["path"] == "standard"
    assert record["attempts"][0]["usage"]["total_tokens"] == 130  # read from Codex's rollout


@pytest.mark.parametrize(
    "args",
    [
        ["fix", "the", "typo", "in", "README.md", *CODEX_ARGS],
        ["--codex-arg", "--skip-git-repo-check", "fix", "the", "typo", "in", "README.md"],
    ],
    ids=["unquoted-then-dashdash", "codex-arg-option"],
)
def test_an_unquoted_prompt_reaches_the_model_as_one_prompt(route: Route, args: list[str]):
    with FakeResponses("ok") as upstream:
        route.config.write_bytes(user_config(upstream.base_url))
        done = route.run("run", *args)
    assert done.returncode == 0, done.stderr
    assert REPLY_TEXT in done.stdout
    assert "attempt 1/" in done.stderr and "attempt 2/" not in done.stderr
    [request] = upstream.requests
    assert user_texts(request)[-1].strip() == "fix the typo in README.md"


@pytest.mark.parametrize("mode", ["500", "401", "429", "truncated"])
def test_fallback_from_a_failing_path_to_a_working_one(route: Route, mode: str):
    with FakeResponses(mode) as broken, FakeResponses("ok") as proxy:
        original = user_config(broken.base_url)
        route.config.write_bytes(original)
        done = route.run(
            "run", "say hi", *CODEX_ARGS, extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url}
        )
    assert done.returncode == 0, done.stderr
    assert REPLY_TEXT in done.stdout
    assert "falling back to litellm" in done.stderr
    assert len(broken.requests) >= 1 and len(proxy.requests) == 1
    assert proxy.requests[0]["model"] == "codex-light"  # the alias, for LiteLLM to resolve
    assert proxy.requests[0]["authorization"] == "Bearer sk-litellm-test"
    assert route.config.read_bytes() == original
    [record] = history(route)
    assert [a["path"] for a in record["attempts"]] == ["standard", "litellm"]
    assert [a["outcome"] for a in record["attempts"]] == ["failed", "ok"]


def test_every_path_failing_exits_6_and_restores(route: Route):
    with FakeResponses("500") as broken, FakeResponses("401") as proxy:
        original = user_config(broken.base_url)
        route.config.write_bytes(original)
        done = route.run(
            "run", "say hi", *CODEX_ARGS, extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url}
        )
    assert done.returncode == 6, done.stderr
    assert "every path failed" in done.stderr
    assert route.config.read_bytes() == original


def test_a_dead_managed_provider_fails_fast(route: Route):
    """Codex retries a refused connection forever unless codex-route turns that off."""
    with FakeResponses("ok") as standard:
        route.config.write_bytes(user_config(standard.base_url))
        started = time.monotonic()
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "huggingface",
            "--timeout",
            "100",
            *CODEX_ARGS,
            extra_env={"HF_TOKEN": "hf-test", "CODEX_ROUTE_HF_BASE_URL": refused_url()},
        )
        took = time.monotonic() - started
    # the chosen path first, failing by itself; then the walk goes on to standard
    assert done.returncode == 0, done.stderr
    assert "attempt 1/2 huggingface" in done.stderr and "connection failed" in done.stderr
    assert len(standard.requests) == 1
    assert took < 60  # far below the 100 s timeout: it failed by itself, it did not hang


def test_a_hanging_server_hits_the_timeout(route: Route):
    with FakeResponses("hang") as proxy:
        original = user_config(proxy.base_url)
        route.config.write_bytes(original)
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "litellm",
            "--timeout",
            "2",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
    # litellm first, then standard (the same hanging server): each attempt ends at the timeout
    assert done.returncode == 6, done.stderr
    assert done.stderr.count("timeout after 2 s") == 2, done.stderr
    assert route.config.read_bytes() == original


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_exits_130_without_fallback_and_restores(route: Route, sig: int, code: int):
    with FakeResponses("hang") as proxy, FakeResponses("ok") as standard:
        original = user_config(standard.base_url)
        route.config.write_bytes(original)
        proc = route.popen(
            "run",
            "say hi",
            "--provider",
            "openai",
            *CODEX_ARGS,
            extra_env={
                "CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url,
                "CODEX_ROUTE_FALLBACK_ORDER": "litellm,standard",
            },
        )
        wait_for(lambda: proxy.requests)
        assert route.config.read_bytes() != original  # codex-route's keys are in for the run
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "interrupted" in err
    assert standard.requests == []  # no fallback after Ctrl-C
    assert route.config.read_bytes() == original


CONFIGS = {
    "crlf": user_config("URL", newline="\r\n"),
    "bom": b"\xef\xbb\xbf" + user_config("URL"),
    "no-final-newline": user_config("URL").rstrip(b"\n"),
    "comments-unicode": user_config(
        "URL",
        extra='# modèle préféré ✓ — 日本語\n[projects."/home/zoë/项目"]\ntrust_level = "trusted"\n',
    ),
    "inline-tables": user_config(
        "URL",
        extra='[tui]\nnotifications = ["agent-turn-complete"]\n'
        '[shell_environment_policy]\nset = { A = "1", B = "2" }\n',
    ),
    "existing-model-providers": user_config("URL") + b'\n[model_providers.other]\nname = "Other"\n'
    b'base_url = "http://127.0.0.1:1/v1"\n',
    "inline-model-providers": b'model = "gpt-test"\nmodel_providers = { other = { name = "O", '
    b'base_url = "http://127.0.0.1:1/v1" } }\n',
    "no-config": None,
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_is_byte_identical_after_a_managed_run(route: Route, name: str):
    with FakeResponses("ok") as proxy:
        template = CONFIGS[name]
        original = None if template is None else template.replace(b"URL", proxy.base_url.encode())
        if original is not None:
            route.config.write_bytes(original)
            os.chmod(route.config, 0o644)
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "litellm",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
        assert done.returncode == 0, done.stderr
        assert len(proxy.requests) == 1
    if original is None:
        assert not route.config.exists()
    else:
        assert route.config.read_bytes() == original
        assert route.config.stat().st_mode & 0o777 == 0o644
    assert not list((Path(route.env["CODEX_ROUTE_HOME"]) / "state" / "config-guard").glob("*.json"))


def test_symlinked_config_keeps_the_link_and_the_target_bytes(route: Route, tmp_path: Path):
    with FakeResponses("ok") as proxy:
        dotfiles = tmp_path / "dotfiles"
        dotfiles.mkdir()
        target = dotfiles / "codex.toml"
        original = user_config(proxy.base_url)
        target.write_bytes(original)
        route.config.symlink_to(target)
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "litellm",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
        assert done.returncode == 0, done.stderr
    assert route.config.is_symlink() and route.config.resolve() == target
    assert target.read_bytes() == original


def test_sigkill_mid_run_is_recovered_by_config_restore(route: Route):
    with FakeResponses("hang") as proxy:
        original = user_config(proxy.base_url, newline="\r\n")
        route.config.write_bytes(original)
        proc = route.popen(
            "run",
            "say hi",
            "--codex-provider",
            "litellm",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
        wait_for(lambda: proxy.requests)
        proc.kill()
        proc.communicate(timeout=30)
        # codex dies with codex-route (PR_SET_PDEATHSIG): nothing keeps running against the config
        wait_for(lambda: not codex_processes(route.home), timeout=15)
        assert b"codex-route" in route.config.read_bytes()  # left edited by the killed run
        status = route.run("config", "status", "--json")
        assert json.loads(status.stdout)["guard"]["interrupted"] is True
        done = route.run("config", "restore")
        assert done.returncode == 0, done.stderr
    assert route.config.read_bytes() == original
    assert "restored" in done.stderr + done.stdout


def test_sigkill_mid_run_is_recovered_by_the_next_run(route: Route):
    with FakeResponses("hang") as hang, FakeResponses("ok") as proxy:
        original = user_config(proxy.base_url)
        route.config.write_bytes(original)
        proc = route.popen(
            "run",
            "say hi",
            "--codex-provider",
            "litellm",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": hang.base_url},
        )
        wait_for(lambda: hang.requests)
        proc.kill()
        proc.communicate(timeout=30)
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "litellm",
            *CODEX_ARGS,
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
        assert done.returncode == 0, done.stderr
    assert "restored" in done.stderr
    assert route.config.read_bytes() == original


def test_eight_concurrent_runs_each_see_a_complete_file(route: Route):
    with FakeResponses("ok", delay=0.5) as proxy, FakeResponses("ok") as hf:
        original = user_config(proxy.base_url, newline="\r\n")
        route.config.write_bytes(original)
        procs = []
        for i in range(8):
            path = "huggingface" if i % 2 else "litellm"
            procs.append(
                route.popen(
                    "run",
                    "say hi",
                    "--codex-provider",
                    path,
                    *CODEX_ARGS,
                    extra_env={
                        "CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url,
                        "HF_TOKEN": "hf-test",
                        "CODEX_ROUTE_HF_BASE_URL": hf.base_url,
                    },
                )
            )
        results = [p.communicate(timeout=180) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert REPLY_TEXT in out
    assert len(proxy.requests) == 4 and len(hf.requests) == 4
    assert route.config.read_bytes() == original
    assert len(history(route)) == 8


def test_trust_entries_codex_writes_mid_run_are_kept(route: Route):
    subprocess.run(["git", "init", "-q", str(route.cwd)], check=True)
    with FakeResponses("ok") as proxy:
        original = user_config(proxy.base_url)
        route.config.write_bytes(original)
        os.chmod(route.config, 0o644)
        done = route.run(
            "run",
            "say hi",
            "--codex-provider",
            "litellm",
            "--",
            "--trust",
            extra_env={"CODEX_ROUTE_LITELLM_BASE_URL": proxy.base_url},
        )
        assert done.returncode == 0, done.stderr
    after = route.config.read_bytes()
    assert "kept those changes" in done.stderr
    assert after.startswith(original)  # every original byte, then Codex's addition
    assert b"trust_level" in after[len(original) :]
    assert b"codex-route" not in after and b"cost-routing" not in after
    assert (
        route.config.stat().st_mode & 0o777 == 0o644
    )  # Codex writes 0600; the user's mode is kept
