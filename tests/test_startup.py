"""The collector pauses for start-up and runs again once the command starts
(codex_router.startup): in-process here, so the test process's own collector is checked too."""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator

import pytest

import codex_router.commands.pipe
import codex_router.commands.status
from codex_router import entry, startup


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    """Every test starts and ends with the collector on, and nothing left paused."""
    gc.enable()
    startup._paused = False
    yield
    gc.enable()
    startup._paused = False


def test_pause_then_resume_turns_it_back_on() -> None:
    startup.pause_collection()
    assert not gc.isenabled()
    startup.resume_collection()
    assert gc.isenabled()


def test_resume_without_a_pause_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    gc.disable()  # someone else's choice: resume must not override it
    startup.resume_collection()
    assert not gc.isenabled() and not frozen
    gc.enable()
    startup.resume_collection()
    assert not frozen


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    startup.pause_collection()
    startup.resume_collection()
    assert not gc.isenabled()


def test_resume_freezes_what_start_up_made(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    startup.pause_collection()
    startup.resume_collection()
    startup.resume_collection()  # twice: frozen once
    assert frozen == [True]


def _record_collector(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[bool]:
    seen: list[bool] = []
    real = getattr(module, name)

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


@pytest.fixture
def no_freeze(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process's objects are not frozen for good by the in-process runs below."""
    monkeypatch.setattr(gc, "freeze", lambda: None)


def test_a_typer_command_runs_with_the_collector_on(
    monkeypatch: pytest.MonkeyPatch, no_freeze: None, isolated_env: object
) -> None:
    seen: list[bool] = []

    def status() -> None:
        """Stands in for status: records whether the collector runs."""
        seen.append(gc.isenabled())

    monkeypatch.setattr(codex_router.commands.status, "status", status)
    assert entry.main(["status"]) == 0
    assert seen == [True]
    assert gc.isenabled()


def test_the_pipe_path_runs_with_the_collector_on(
    monkeypatch: pytest.MonkeyPatch, no_freeze: None
) -> None:
    seen = _record_collector(monkeypatch, codex_router.commands.pipe, "compress")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"x 1\n")))
    assert entry.main(["compress", "-q"]) == 0
    assert seen == [True]
    assert gc.isenabled()


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["no-such-command"]])
def test_a_command_that_never_starts_gives_the_collector_back(
    argv: list[str], no_freeze: None
) -> None:
    entry.main(argv)
    assert gc.isenabled()
