"""`policy show`, the dry-run plan and `doctor` fit an 80-column terminal and a pipe (issue 13,
item 4): on a terminal no line is wider than the terminal and no word is split across lines; in
a pipe nothing is wrapped, so `grep KEY` finds each setting with its value and source; the plan
lists only settings that are not defaults unless --verbose.

Run as child processes with a real pty on stdout (helpers.tty), since layout depends on it.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter

import pytest

from helpers.tty import run_cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")
BOX = set("│┃━─╇┏┓┗┛╭╮╰╯")
DRY = ["run", "--dry-run", "--no-stdin"]
PROMPT = ["fix", "the", "typo", "in", "README.md"]


@pytest.fixture(autouse=True)
def codex_on_path(tmp_path, monkeypatch) -> None:
    """A codex that answers --version, first on PATH: the plan has a ready path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    codex = bin_dir / "codex"
    codex.write_text('#!/bin/sh\necho "codex-cli 0.169.0"\n')
    codex.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def _terminal(args: list[str], columns: int = 80) -> str:
    done = run_cli(args, tty_stdout=True, columns=columns)
    assert done.returncode in (0, 1), done.stderr
    return ANSI.sub("", done.stdout)


def _piped(args: list[str]) -> str:
    done = run_cli(args)
    assert done.returncode in (0, 1), done.stderr
    assert "\x1b[" not in done.stdout
    return done.stdout


def _fits(text: str, columns: int = 80) -> None:
    wide = [line for line in text.splitlines() if len(line) > columns]
    assert not wide, wide


def _same_words(terminal: str, piped: str) -> None:
    """Every word of the unwrapped output appears whole on the terminal (and nothing else)."""
    assert Counter(terminal.split()) == Counter(piped.split())


def test_policy_show_fits_80_columns_without_cutting_a_key_or_a_url() -> None:
    terminal = _terminal(["policy", "show"])
    _fits(terminal)
    _same_words(terminal, _piped(["policy", "show"]))
    words = set(terminal.split())
    assert "classification.medium_tokens" in words
    assert "https://router.huggingface.co/v1" in words
    assert "aliases.codex-small-local.target_tokens_per_second" in words
    assert not BOX & set(terminal)


def test_policy_show_piped_is_one_grep_friendly_line_per_value() -> None:
    piped = _piped(["policy", "show"])
    assert not BOX & set(piped)
    values = json.loads(_piped(["policy", "show", "--json"]))["values"]
    lines = piped.splitlines()
    for value in values:
        found = [line for line in lines if line.split()[:1] == [value["key"]]]
        assert len(found) == 1, value["key"]
        if value["source"] in ("flag", "env"):
            where = f"{value['source']} {value['origin']}"
        elif value["file"]:
            where = f"{value['source']} {os.path.basename(value['file'])}:{value['line']}"
        else:
            where = value["source"]
        assert found[0].endswith(f"  [{where}]"), found[0]
    assert len(lines) == len(values) + 1  # the policy file line, then one line per value
    medium = [line for line in lines if "medium_tokens" in line]
    assert len(medium) == 1 and "1500" in medium[0] and "default.yaml:" in medium[0]


def test_dry_run_plan_fits_80_columns_and_pipes_unwrapped() -> None:
    args = [*DRY, "--max-cost-usd", "2", "--verbose", *PROMPT]
    terminal = _terminal(args)
    _fits(terminal)
    piped = _piped(args)
    _same_words(terminal, piped)
    assert len(piped.splitlines()) < len(terminal.splitlines())  # wrapped only on a terminal


def test_plan_lists_only_settings_that_are_not_defaults_unless_verbose() -> None:
    # (the tests point the LiteLLM URL away from a real proxy: CODEX_ROUTE_LITELLM_BASE_URL)
    plain = _piped([*DRY, *PROMPT])
    settings = plain.split("Settings not at their defaults", 1)[1].splitlines()[1:]
    assert [line.split()[0] for line in settings] == ["litellm_base_url"]
    assert "[env CODEX_ROUTE_LITELLM_BASE_URL]" in settings[0]
    flagged = _piped([*DRY, "--timeout", "60", *PROMPT])
    settings = flagged.split("Settings not at their defaults", 1)[1].splitlines()[1:]
    assert [line.split()[0] for line in settings] == ["timeout_seconds", "litellm_base_url"]
    assert settings[0] == "  timeout_seconds   60  [flag --timeout]"
    done = run_cli([*DRY, *PROMPT], env={"CODEX_ROUTE_LITELLM_BASE_URL": None})
    assert "Settings: all at their defaults (list them: --verbose)" in done.stdout
    assert "timeout_seconds" not in done.stdout and "mask_secrets" not in done.stdout
    verbose = _piped([*DRY, "--verbose", *PROMPT])
    for name in ("provider", "timeout_seconds", "mask_secrets", "fallback_order"):
        assert re.search(rf"^  {name} ", verbose, re.M), name


def test_verbose_leaves_the_json_plan_unchanged() -> None:
    plain = json.loads(_piped([*DRY, "--json", *PROMPT]))
    verbose = json.loads(_piped([*DRY, "--json", "--verbose", *PROMPT]))
    assert plain == verbose


def test_verbose_goes_with_dry_run() -> None:
    done = run_cli(["run", "--no-stdin", "--verbose", *PROMPT])
    assert done.returncode == 2
    assert "--verbose goes with --dry-run" in done.stderr


def test_doctor_fits_80_columns_without_breaking_a_path_and_pipes_unwrapped() -> None:
    terminal = _terminal(["doctor"])
    _fits(terminal)
    piped = _piped(["doctor"])
    home = os.path.expanduser("~")
    _same_words(terminal, piped.replace(home, "~"))  # a terminal shows the home as ~
    checks = json.loads(_piped(["doctor", "--json"]))["checks"]
    lines = piped.splitlines()
    for check in checks:
        at = next(i for i, line in enumerate(lines) if line.split()[1:2] == [check["id"]])
        assert lines[at].endswith(check["summary"]), lines[at]  # the whole summary, one line
        if check["status"] != "ok" and check.get("fix"):
            assert lines[at + 1].strip() == f"fix: {check['fix']}"
