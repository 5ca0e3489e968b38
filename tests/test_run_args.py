"""`run`'s command line: the words typed are one prompt, codex's arguments go after `--` (or
`--codex-arg`, the earlier tool's spelling), `-` alone reads the prompt from stdin."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.commands.run import split_codex_args
from codex_router.tokens.counter import count_tokens

runner = CliRunner()
TASK = "fix the typo in README.md"
#: the argv codex-route builds ends with these, then `-` (the prompt on stdin)
BASE = ["--dry-run", "--json", "--codex-provider", "standard"]


def plan(*args: str, input: str | None = None) -> dict:
    result = runner.invoke(app, ["run", *BASE, *args], input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def codex_extra(data: dict, prompt: str) -> list[str]:
    """The arguments codex-route passed on to codex: after its own (those of the same prompt
    given quoted, with no codex argument), before the final `-` (the prompt on stdin)."""
    own = plan(prompt)["codex_argv"][:-1]
    argv = data["codex_argv"]
    assert argv[: len(own)] == own and argv[-1] == "-"
    return argv[len(own) : -1]


@pytest.mark.parametrize(
    ("args", "prompt", "extra"),
    [
        ([TASK], TASK, []),
        (TASK.split(), TASK, []),
        ([*TASK.split(), "--", "--skip-git-repo-check"], TASK, ["--skip-git-repo-check"]),
        ([TASK, "--", "--skip-git-repo-check"], TASK, ["--skip-git-repo-check"]),
        (["fix", "--", "the", "typo"], "fix", ["the", "typo"]),
        (["--codex-arg", "--skip-git-repo-check", *TASK.split()], TASK, ["--skip-git-repo-check"]),
        (["--codex-arg=-c", *TASK.split(), "--codex-arg", "x=1"], TASK, ["-c", "x=1"]),
        (
            ["--codex-arg", "-s", *TASK.split(), "--codex-arg", "read-only", "--", "-c", "y=2"],
            TASK,
            ["-s", "read-only", "-c", "y=2"],
        ),
        # after `--` everything is codex's, even `--`, `--dry-run` and `--codex-arg`
        (["hi", "--", "--", "--codex-arg=z"], "hi", ["--", "--codex-arg=z"]),
        # an option's value is never the end of the options, even when it is `--`
        (["--codex-arg", "--", *TASK.split()], TASK, ["--"]),
        # options may come between the words, as anywhere else
        (["fix", "the", "--no-stdin", "typo", "in", "README.md"], TASK, []),
        # several spaces inside quotes are the user's; words are joined by one
        (["fix  the", "typo in README.md"], "fix  the typo in README.md", []),
    ],
    ids=[
        "quoted",
        "unquoted",
        "unquoted-then-codex-args",
        "quoted-then-codex-args",
        "words-after-dashdash-are-codex-args",
        "codex-arg-option",
        "codex-arg-repeated-and-equals",
        "codex-arg-and-dashdash-in-order",
        "everything-after-dashdash",
        "dashdash-as-an-option-value",
        "options-between-words",
        "quoted-spaces-kept",
    ],
)
def test_words_are_one_prompt_and_codex_args_follow_dashdash(
    args: list[str], prompt: str, extra: list[str]
) -> None:
    data = plan(*args)
    assert data["tokens"]["prompt"] == count_tokens(prompt)
    assert codex_extra(data, prompt) == extra


def test_unquoted_and_quoted_prompts_plan_the_same() -> None:
    quoted, unquoted = plan(TASK), plan(*TASK.split())
    for key in ("alias", "provider", "tokens", "classification", "codex_argv"):
        assert quoted[key] == unquoted[key], key
    assert unquoted["classification"]["complexity"] == "simple"


@pytest.mark.parametrize(
    ("args", "extra"),
    [(["-"], []), (["-", "--", "--skip-git-repo-check"], ["--skip-git-repo-check"])],
    ids=["dash", "dash-then-codex-args"],
)
def test_dash_alone_reads_the_prompt_from_stdin(args: list[str], extra: list[str]) -> None:
    data = plan(*args, input=TASK + "\n")
    assert data["tokens"]["prompt"] == count_tokens(TASK)
    assert data["tokens"]["attachment"] == 0
    assert codex_extra(data, TASK) == extra


def test_a_dash_among_words_is_a_word() -> None:
    data = plan("compare", "a", "-", "b", input="ignored attachment\n")
    assert data["tokens"]["prompt"] == count_tokens("compare a - b")
    assert data["tokens"]["attachment"] > 0


@pytest.mark.parametrize(
    ("args", "valued", "want"),
    [
        (["a", "b"], set(), (["a", "b"], [])),
        (["a", "--", "b"], set(), (["a"], ["b"])),
        (["--policy", "--", "a", "--", "b"], {"--policy"}, (["--policy", "--", "a"], ["b"])),
        (["--policy=--", "a", "--", "b"], {"--policy"}, (["--policy=--", "a"], ["b"])),
        (["-p", "--", "a", "--", "b"], {"-p"}, (["-p", "--", "a"], ["b"])),
        (["-qp", "--", "a", "--", "b"], {"-p"}, (["-qp", "--", "a"], ["b"])),
        (["-pq", "--", "a"], {"-p"}, (["-pq"], ["a"])),
        (["--dry-run", "--", "a"], {"--policy"}, (["--dry-run"], ["a"])),
        (["-", "--", "-"], set(), (["-"], ["-"])),
        (["--", "--", "--"], set(), ([], ["--", "--"])),
    ],
    ids=[
        "no-dashdash",
        "split",
        "option-value",
        "option-equals-value",
        "short-option-value",
        "short-cluster-ending-in-valued",
        "short-cluster-with-attached-value",
        "flag",
        "stdin-dash",
        "repeated",
    ],
)
def test_split_codex_args(args: list[str], valued: set[str], want: tuple) -> None:
    assert split_codex_args(args, valued) == want


def test_help_says_how_the_prompt_and_codex_args_are_read() -> None:
    result = runner.invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Usage: codex-route run [OPTIONS] PROMPT... [-- CODEX_ARGS...]" in text
    assert "joined by single spaces" in text and "'-' alone reads it from stdin" in text
    assert "--codex-arg ARG" in text and "repeatable" in text


def test_no_prompt_words_is_a_usage_error() -> None:
    result = runner.invoke(app, ["run", "--dry-run", "--", "--skip-git-repo-check"])
    assert result.exit_code == 2
    assert "PROMPT" in result.stderr
