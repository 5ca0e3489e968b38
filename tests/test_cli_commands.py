"""The root group's command table: each command is loaded and built only when it runs, and
``--help`` lists every command exactly as Typer would after building them all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

import codex_router.commands
from codex_router.cli import COMMAND_MODULES, app

runner = CliRunner()

#: Command modules that are not commands of the Typer app (the console script's pipe path).
NOT_REGISTERED = {"pipe", "pipe_argv"}


def _root() -> typer.core.TyperGroup:
    return typer.main.get_command(app)  # type: ignore[return-value]


def test_every_command_module_is_in_the_table() -> None:
    package = Path(codex_router.commands.__file__).parent
    modules = {path.stem for path in package.glob("*.py")} - {"__init__"} - NOT_REGISTERED
    assert set(COMMAND_MODULES.values()) == modules


@pytest.mark.parametrize("name", list(COMMAND_MODULES))
def test_help_lists_each_command_as_the_built_command_says(name: str) -> None:
    listed = _root().lazy_commands.listed(name)  # type: ignore[attr-defined]
    built = _root().get_command(None, name)  # type: ignore[arg-type]
    assert built is not None and built.name == name
    for limit in (30, 45, 200):
        assert listed.get_short_help_str(limit) == built.get_short_help_str(limit)
    assert (listed.hidden, listed.deprecated) == (built.hidden, built.deprecated)


def test_help_lists_the_commands_in_table_order() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    listing = result.stdout.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listing if line.startswith("  ")] == list(COMMAND_MODULES)


def test_help_builds_no_command() -> None:
    root = _root()
    root.get_help(typer.Context(root, info_name="codex-route"))
    assert dict(root.lazy_commands._built) == {}  # type: ignore[attr-defined]


def test_a_command_builds_only_its_own_module() -> None:
    root = _root()
    assert root.get_command(None, "tokens") is not None  # type: ignore[arg-type]
    assert set(root.lazy_commands._built) == {"compress", "tokens"}  # type: ignore[attr-defined]


def test_unknown_names_are_not_commands() -> None:
    root = _root()
    assert root.get_command(None, "rn") is None  # type: ignore[arg-type]
    result = runner.invoke(app, ["rn"])
    assert result.exit_code == 2
    assert "did you mean 'run'?" in result.stderr


def test_a_dry_run_loads_no_other_command_module(isolated_env: Path) -> None:
    code = (
        "import sys\nfrom codex_router.cli import main\n"
        "main(['run', '--dry-run', '--no-stdin', 'fix the typo'])\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stderr.split())
    commands = {name for name in loaded if name.startswith("codex_router.commands.")}
    assert commands == {"codex_router.commands.run"}


def test_shell_completion_offers_the_commands(isolated_env: Path) -> None:
    env = dict(
        os.environ,
        _CODEX_ROUTE_COMPLETE="complete_bash",
        COMP_WORDS="codex-route ro",
        COMP_CWORD="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "codex_router"], env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == ["route"], (done.stdout, done.stderr)
