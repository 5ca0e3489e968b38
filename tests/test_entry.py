"""The console script: the pipe path for `compress`/`tokens`, the fallback to Typer, errors.

How the pipe command line is read: tests/test_pipe_argv.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_router import entry
from codex_router.errors import ExitCode


def _run(args: list[str], stdin: bytes = b"", **kw) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "codex_router", *args],
        input=stdin,
        capture_output=True,
        env=dict(os.environ),
        check=False,
        **kw,
    )


def test_pipe_compress_output_equals_the_typer_command() -> None:
    from typer.testing import CliRunner

    from codex_router.cli import app

    text = (
        "".join(f"2026-01-01 INFO worker {i} ready in {i * 3} ms\n" for i in range(40))
        + "ERROR boom\n"
    )
    typer_out = CliRunner().invoke(app, ["compress", "-"], input=text).stdout
    done = _run(["compress"], text.encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == typer_out
    assert "ERROR boom" in typer_out and "[+" in typer_out


def test_help_goes_to_typer() -> None:
    done = _run(["compress", "--help"])
    assert done.returncode == 0
    assert (
        b"Usage: codex-route compress [OPTIONS] [FILE|-]" in done.stdout
        and b"--report" in done.stdout
    )


def test_usage_error_goes_to_typer() -> None:
    done = _run(["compress", "a", "b"])
    assert done.returncode == ExitCode.USAGE
    assert b"unexpected extra argument" in done.stderr


def test_input_errors_keep_their_exit_code(tmp_path: Path) -> None:
    missing = _run(["compress", str(tmp_path / "nope.log")])
    assert missing.returncode == ExitCode.USAGE
    assert missing.stderr.decode().startswith(f"error: {tmp_path / 'nope.log'}: no such file")
    binary = _run(["compress"], b"abc\x00def")
    assert binary.returncode == ExitCode.USAGE and b"looks binary" in binary.stderr
    latin1 = _run(["tokens"], "caf\xe9\n".encode("latin-1"))
    assert latin1.returncode == ExitCode.USAGE and b"not valid UTF-8" in latin1.stderr


def test_closed_pipe_ends_quietly() -> None:
    text = "".join(f"line {i} says something different: {'x' * (i % 50)}\n" for i in range(200_000))
    with subprocess.Popen(
        [sys.executable, "-m", "codex_router", "compress"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ),
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(text.encode())
        proc.stdin.close()
        proc.stdout.read(100)
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 1
    assert err == b""


def test_interrupt_and_bugs_map_like_the_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from codex_router.commands import pipe as commands

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "compress", interrupted)
    assert entry.main(["compress"]) == ExitCode.INTERRUPTED
    assert capsys.readouterr().err == "error: interrupted\n"

    def buggy(*_a, **_k):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(commands, "compress", buggy)
    assert entry.main(["compress"]) == ExitCode.UNEXPECTED
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected ZeroDivisionError: oops; details in ")
    log = Path(err.split("details in ", 1)[1].split("\n", 1)[0])
    assert log.is_file() and "ZeroDivisionError" in log.read_text()

    monkeypatch.setenv("CODEX_ROUTE_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        entry.main(["compress"])


def test_console_script_output_is_complete_and_exit_hooks_run(tmp_path: Path) -> None:
    """Run as the console script, a pipe command ends the way the interpreter ends: its output
    is complete and the exit hooks have run."""
    from codex_router.prompt.compress import compress_text

    marker = tmp_path / "hook-ran"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('ran'))\n"
        "sys.argv = ['codex-route', 'compress']\n"
        "from codex_router.entry import main\nsys.exit(main())\n"
    )
    text = "".join(
        f"2026-01-01 INFO request {i} took {i % 97} ms on node-{i % 13}\n" for i in range(60_000)
    )
    text += "ERROR the end\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=text.encode(),
        capture_output=True,
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == compress_text(text).text
    assert marker.read_text() == "ran"
