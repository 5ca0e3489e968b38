"""The pipe commands' command line, read without Typer (codex_router/commands/pipe_argv.py).

Well-formed `compress`/`tokens` command lines are read; everything else is left to the Typer app
(None). The flag table must stay equal to the Typer commands' options, or the two front doors
would accept different command lines.
"""

from __future__ import annotations

import pytest

from codex_router.commands.pipe_argv import FLAGS, parse_pipe_command

PARSE = [
    ("bare", ["compress"], ("compress", "-", {})),
    (
        "file_and_flags",
        ["compress", "-q", "build.log", "--report"],
        ("compress", "build.log", {"quiet": True, "report": True}),
    ),
    ("stdin_dash", ["compress", "--json", "-"], ("compress", "-", {"json_out": True})),
    ("double_dash", ["compress", "--", "-odd-name"], ("compress", "-odd-name", {})),
    ("repeated_flag", ["compress", "--json", "--json"], ("compress", "-", {"json_out": True})),
    (
        "tokens",
        ["tokens", "--clean", "--json", "x"],
        ("tokens", "x", {"clean": True, "json_out": True}),
    ),
    ("help", ["compress", "--help"], None),
    ("short_help", ["compress", "-h"], None),
    ("help_after_file", ["compress", "x", "--help"], None),
    ("unknown_flag", ["compress", "--jsn"], None),
    ("flag_value", ["compress", "--json=1"], None),
    ("flag_of_other_command", ["tokens", "-q"], None),
    ("two_files", ["compress", "a", "b"], None),
    ("other_command", ["run", "x"], None),
    ("root_option", ["--version"], None),
    ("nothing", [], None),
]


@pytest.mark.parametrize(("argv", "expected"), [c[1:] for c in PARSE], ids=[c[0] for c in PARSE])
def test_parse_pipe_command(argv: list[str], expected) -> None:
    assert parse_pipe_command(argv) == expected


@pytest.mark.parametrize("command", sorted(FLAGS))
def test_flags_are_the_typer_commands_options(command: str) -> None:
    """Every option of the Typer command, spelt as Click knows it, maps to the same keyword."""
    import typer.main

    from codex_router.cli import app

    group = typer.main.get_command(app)
    click_command = group.commands[command]  # type: ignore[attr-defined]
    options = {
        spelling: param.name
        for param in click_command.params
        if not param.hidden and param.param_type_name == "option"
        for spelling in param.opts
    }
    assert FLAGS[command] == options
    # parse_pipe_command reads each flag alone: none of them may take a value
    assert all(p.is_flag for p in click_command.params if p.param_type_name == "option")
    arguments = [p.name for p in click_command.params if p.param_type_name == "argument"]
    assert arguments == ["file"]  # one optional FILE, as parse_pipe_command reads it


def test_only_the_pipe_commands_are_read() -> None:
    assert set(FLAGS) == {"compress", "tokens"}
