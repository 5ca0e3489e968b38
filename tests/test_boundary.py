"""The error boundary (codex_router/boundary.py): each kind of exception becomes the same exit
code and message through the Typer app (RoutedGroup) and through the console script's pipe path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from codex_router import boundary, entry
from codex_router.boundary import ErrorBoundary
from codex_router.cli import RoutedGroup
from codex_router.errors import ExitCode, PolicyError

HINT = "this is a bug in codex-route; please report it with the crash log"


def _via_typer(exc: BaseException) -> tuple[int, str]:
    demo = typer.Typer(cls=RoutedGroup)

    @demo.command()
    def fail() -> None:
        raise exc

    @demo.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(demo, ["fail"])
    return result.exit_code, result.stderr


def _via_pipe(exc: BaseException, monkeypatch, capsys) -> tuple[int, str]:
    from codex_router.commands import pipe

    def fail(*_a, **_k):
        raise exc

    monkeypatch.setattr(pipe, "compress", fail)
    code = entry.main(["compress"])
    return code, capsys.readouterr().err


@pytest.fixture(params=["typer", "pipe"])
def run_failing(request, monkeypatch, capsys):
    monkeypatch.setattr(boundary, "_silence_stdout", lambda: None)  # the runner's stdout: not fd 1
    if request.param == "typer":
        return _via_typer
    return lambda exc: _via_pipe(exc, monkeypatch, capsys)


def test_an_error_of_ours_is_its_message_hint_and_exit_code(run_failing) -> None:
    code, err = run_failing(PolicyError("bad value", file="p.yaml", line=3, hint="fix it"))
    assert code == ExitCode.POLICY
    assert err == "error: p.yaml:3: bad value\nhint: fix it\n"


def test_ctrl_c_is_130(run_failing) -> None:
    assert run_failing(KeyboardInterrupt()) == (ExitCode.INTERRUPTED, "error: interrupted\n")


def test_a_closed_pipe_is_a_quiet_1_without_crash_log(run_failing, isolated_env: Path) -> None:
    assert run_failing(BrokenPipeError(32, "Broken pipe")) == (1, "")
    assert not list((isolated_env / "codex-route" / "state").glob("crash-*.log"))


def test_a_bug_writes_a_crash_log_without_argv_or_environment(
    run_failing, isolated_env: Path, monkeypatch
) -> None:
    monkeypatch.setenv("SOME_API_KEY", "sk-secret-value")
    monkeypatch.setattr(sys, "argv", ["codex-route", "run", "the secret prompt"])
    code, err = run_failing(ZeroDivisionError("oops"))
    assert code == ExitCode.UNEXPECTED
    first, hint = err.splitlines()
    assert first.startswith("error: unexpected ZeroDivisionError: oops; details in ")
    assert hint == f"hint: {HINT}"
    log = Path(first.split("details in ", 1)[1])
    assert log.parent == isolated_env / "codex-route" / "state"
    text = log.read_text(encoding="utf-8")
    assert text.startswith("codex-route ") and "\npython 3." in text
    assert "ZeroDivisionError: oops" in text and "Traceback" in text
    assert "sk-secret-value" not in text and "the secret prompt" not in text


def test_debug_lets_a_bug_through_the_pipe_path(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CODEX_ROUTE_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        _via_pipe(ZeroDivisionError("oops"), monkeypatch, capsys)


def test_debug_lets_a_bug_through_the_typer_app(monkeypatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_DEBUG", "1")
    demo = typer.Typer(cls=RoutedGroup)

    @demo.command()
    def fail() -> None:
        raise ZeroDivisionError("oops")

    @demo.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(demo, ["fail"])
    assert isinstance(result.exception, ZeroDivisionError)


def test_click_and_typer_exceptions_pass_through(isolated_env: Path) -> None:
    code, err = _via_typer(typer.Exit(3))
    assert (code, err) == (3, "")
    code, err = _via_typer(typer.BadParameter("nope"))
    assert code == ExitCode.USAGE and "Invalid value: nope" in err
    assert not list((isolated_env / "codex-route" / "state").glob("crash-*.log"))


def test_system_exit_and_success_are_left_alone() -> None:
    with ErrorBoundary() as ok:
        pass
    assert ok.exit_code == 0
    with pytest.raises(SystemExit), ErrorBoundary():
        raise SystemExit(4)


def test_what_was_printed_comes_before_the_error(capfd) -> None:
    with ErrorBoundary() as failed:
        sys.stdout.write("partial output")
        raise PolicyError("late")
    assert failed.exit_code == ExitCode.POLICY
    out, err = capfd.readouterr()
    assert out == "partial output" and err == "error: late\n"


def test_an_unwritable_state_dir_still_reports_the_bug(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CODEX_ROUTE_HOME", str(blocker))  # state dir below a file
    with ErrorBoundary() as failed:
        raise RuntimeError("boom")
    assert failed.exit_code == ExitCode.UNEXPECTED
    assert boundary.write_crash_log(RuntimeError("x")) is None
