"""``run --dry-run --show-prompt`` (issue 13 item 7): the cleaned, compressed prompt that would be
sent, after the plan and clearly delimited; a ``prompt`` field with ``--json``; never recorded."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.errors import ExitCode

runner = CliRunner()

#: a log with repeated lines (compression folds them) and a secret (masked)
LOG = (
    "collecting tests\n"
    + "WARNING deprecated call in conftest\n" * 6
    + "FAILED tests/test_x.py::test_y - AssertionError\n"
    + "AWS_SECRET_ACCESS_KEY=abcd1234abcd1234abcd1234abcd1234abcd1234\n"
)
BEGIN = "----- prompt: "
END = "----- end of prompt -----"


def dry_run(*args: str, input: str = LOG):
    return runner.invoke(
        app, ["run", "--dry-run", *args, "fix", "the", "failing", "test"], input=input
    )


def _prompt_block(stdout: str) -> tuple[str, str, list[str]]:
    before, begin, rest = stdout.partition(BEGIN)
    assert begin, stdout
    header, _, rest = rest.partition("\n")
    body, end, after = rest.partition(END + "\n")
    assert end and after == "", stdout
    return before, header, body.splitlines()


def test_show_prompt_prints_the_compressed_prompt_after_the_plan() -> None:
    result = dry_run("--show-prompt")
    plain = dry_run()
    as_json = json.loads(dry_run("--json").stdout)
    # the plan first, unchanged; then the prompt, delimited
    before, header, body = _prompt_block(result.stdout)
    assert before == plain.stdout + "\n"
    assert header == f"{as_json['tokens']['clean']} tokens, exactly as codex would get it -----"
    assert body[0] == "fix the failing test"
    assert "<stdin>" in body and body[-1] == "</stdin>"
    # compressed (the repeated warning folded) and masked
    assert body.count("WARNING deprecated call in conftest") == 1
    assert not any("abcd1234abcd1234" in line for line in body)
    assert "AWS_SECRET_ACCESS_KEY=[masked" in "\n".join(body)
    assert result.exit_code == plain.exit_code
    assert BEGIN not in plain.stdout


def test_show_prompt_with_json_adds_a_prompt_field_only_then() -> None:
    with_prompt = json.loads(dry_run("--json", "--show-prompt").stdout)
    without = json.loads(dry_run("--json").stdout)
    assert "prompt" not in without
    assert with_prompt.pop("prompt").startswith("fix the failing test\n\n<stdin>\n")
    assert with_prompt == without
    doc = (Path(__file__).resolve().parents[1] / "docs" / "reference" / "plan-json.md").read_text(
        "utf-8"
    )
    assert "| `prompt` | str | **only with `--show-prompt`**" in doc


def test_show_prompt_is_never_recorded(isolated_env: Path) -> None:
    result = dry_run("--show-prompt", "--record", input="a distinctive zebra log line\n")
    assert "a distinctive zebra log line" in result.stdout
    store = next((isolated_env / "codex-route").rglob("history.sqlite3"))
    data = b"".join(p.read_bytes() for p in store.parent.glob("history.sqlite3*"))
    assert data and b"zebra" not in data
    listed = runner.invoke(app, ["history", "--json"])
    assert "zebra" not in listed.stdout


def test_show_prompt_needs_dry_run() -> None:
    result = runner.invoke(app, ["run", "--show-prompt", "fix", "it"])
    assert result.exit_code == ExitCode.USAGE
    assert result.stderr.startswith("error: --show-prompt goes with --dry-run")
