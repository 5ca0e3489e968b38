"""Progress on long work, on a terminal's stderr only (issue 13, item 5): the one-time token-index
build, large inputs (`tokens`, `compress`, the dry run) and `proxy start` show a status line; a
pipe never gets one. `compress`/`tokens` reading a terminal say what they wait for.

The child gets a real pty on the streams that matter (helpers.tty).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codex_router.commands.pipe import TERMINAL_HINT
from codex_router.progress import LARGE_BYTES

from helpers.fake_litellm import make_fake_litellm
from helpers.net import free_port
from helpers.tty import run_cli

INDEX_SPINNER = "building the token index"


@pytest.fixture
def large_log(tmp_path: Path) -> Path:
    """A log just above the size that shows progress."""
    line = "2026-01-01 12:00:00 INFO worker-3 processed item in 0.25s path=/srv/app/mod.py\n"
    path = tmp_path / "big.log"
    path.write_text(line * (LARGE_BYTES // len(line) + 50), encoding="utf-8")
    return path


@pytest.fixture
def codex_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    codex = bin_dir / "codex"
    codex.write_text('#!/bin/sh\necho "codex-cli 0.169.0"\n')
    codex.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_the_token_index_build_shows_a_spinner_on_a_terminal_only(tmp_path: Path) -> None:
    for name, tty in (("tty", True), ("pipe", False)):
        fresh = {"CODEX_ROUTE_HOME": str(tmp_path / name)}  # no index yet: the count builds it
        done = run_cli(["tokens"], input=b"hello world\n", tty_stderr=tty, env=fresh)
        assert done.returncode == 0, done.stderr
        assert done.stdout == "3\n"
        assert (INDEX_SPINNER in done.stderr) is tty, done.stderr
        assert list((tmp_path / name).rglob("*.idx"))  # built both times
        if tty:  # the line is cleared: what follows starts on a clean line
            assert done.stderr.endswith("\r")


def test_a_large_file_shows_how_far_reading_has_got(large_log: Path) -> None:
    size = f"{large_log.stat().st_size / 1_000_000:.1f} MB"
    on_tty = run_cli(["tokens", str(large_log)], tty_stderr=True)
    piped = run_cli(["tokens", str(large_log)])
    assert on_tty.returncode == piped.returncode == 0, piped.stderr
    assert on_tty.stdout == piped.stdout  # the count on stdout is untouched
    assert f"reading {large_log}: {size} of {size} (100%)" in on_tty.stderr
    assert "reading" not in piped.stderr and "\r" not in piped.stderr


def test_compress_on_a_terminal_shows_progress_for_a_large_pipe_only(large_log: Path) -> None:
    data = large_log.read_bytes()
    big = run_cli(["compress", "-q"], input=data, tty_stderr=True)
    assert big.returncode == 0, big.stderr
    assert "reading stdin: " in big.stderr
    small = run_cli(["compress", "-q"], input=b"x 1\nx 2\n", tty_stderr=True)
    assert small.returncode == 0 and small.stderr == ""


@pytest.mark.usefixtures("codex_on_path")
def test_a_dry_run_on_a_large_input_shows_reading_then_counting(large_log: Path) -> None:
    args = ["run", "--dry-run", "--json", "fix", "this"]
    on_tty = run_cli(args, input=large_log.read_bytes(), tty_stderr=True)
    assert on_tty.returncode == 0, on_tty.stderr
    assert "reading stdin: " in on_tty.stderr
    assert "read; counting tokens…" in on_tty.stderr
    piped = run_cli(args, input=large_log.read_bytes())
    assert piped.returncode == 0 and "reading" not in piped.stderr, piped.stderr


@pytest.mark.parametrize("command", ["compress", "tokens"])
def test_reading_the_terminal_says_what_it_waits_for(command: str, tmp_path: Path) -> None:
    typed = run_cli([command], tty_stdin=True, typed=b"hello world\n\x04", timeout=30)
    assert typed.returncode == 0, typed.stderr
    assert typed.stdout == ("hello world\n" if command == "compress" else "3\n")  # one Ctrl-D
    assert typed.stderr == TERMINAL_HINT
    assert "Ctrl-D" in TERMINAL_HINT
    piped = run_cli([command], input=b"hello world\n")
    assert piped.returncode == 0 and piped.stderr == ""
    log = tmp_path / "a.log"
    log.write_text("hello world\n")
    from_file = run_cli([command, str(log)], tty_stdin=True, timeout=30)
    assert from_file.returncode == 0 and TERMINAL_HINT not in from_file.stderr


def test_proxy_start_shows_a_spinner_on_a_terminal_only(tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "CODEX_ROUTE_LITELLM_BIN": str(make_fake_litellm(tmp_path / "fakevenv")),
        "FAKE_LITELLM_REPORT": str(tmp_path / "report.json"),
    }
    try:
        started = run_cli(["proxy", "start", "--port", str(free_port())], tty_stderr=True, env=env)
        assert started.returncode == 0, started.stderr
        assert "⠋" in started.stderr or "⠙" in started.stderr  # the spinner's frames
        assert "starting LiteLLM" in started.stderr
    finally:
        assert run_cli(["proxy", "stop"]).returncode in (0, 1)
    try:
        piped = run_cli(["proxy", "start", "--port", str(free_port())], env=env)
        assert piped.returncode == 0, piped.stderr
        assert "starting LiteLLM" in piped.stderr and "\r" not in piped.stderr
        assert "⠋" not in piped.stderr
    finally:
        run_cli(["proxy", "stop"])
