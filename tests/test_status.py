"""``codex-route status`` and the earlier script's ``--enable``/``--disable``/``--status`` flags:
managed profiles on/off, and the last run's alias, path, estimated cost and reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from codex_router.cli import legacy_argv
from codex_router.dirs import app_dirs
from codex_router.entry import main
from codex_router.history.store import record_run

from helpers.history import make_attempt, make_record


def status_json(capsys: pytest.CaptureFixture[str], *first: str) -> dict:
    capsys.readouterr()
    assert main([*first, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        (["--enable"], ["config", "enable"]),
        (["--disable"], ["config", "disable"]),
        (["--status"], ["status"]),
        (["--status", "--json"], ["status", "--json"]),
        (["--enable", "--force"], ["config", "enable", "--force"]),
        (["run", "--status"], ["run", "--status"]),
        (["status", "--enable"], ["status", "--enable"]),
        ([], []),
    ],
    ids=[
        "enable",
        "disable",
        "status",
        "status-json",
        "rest-kept",
        "not-first",
        "not-first-2",
        "empty",
    ],
)
def test_legacy_flags_as_the_first_argument(argv: list[str], want: list[str]) -> None:
    assert legacy_argv(argv) == want


def test_status_with_no_run_and_no_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    data = status_json(capsys, "status")
    assert data["profiles"] == "off"
    assert [s["state"] for s in data["profile_states"]] == ["absent", "absent"]
    assert data["last_run"] is None
    assert data["config"]["state"] == "as_written"
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "profiles     off" in out and "last run     none recorded yet" in out


def test_enable_disable_and_status_through_the_legacy_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = Path(os.environ["CODEX_HOME"])
    assert main(["--enable"]) == 0
    assert (home / "cost-routing.config.toml").is_file()
    assert status_json(capsys, "--status")["profiles"] == "on"
    assert main(["--status"]) == 0
    assert (
        "profiles     on (codex -p cost-routing, codex -p cost-routing-hf)"
        in capsys.readouterr().out
    )
    assert main(["--disable"]) == 0
    assert not (home / "cost-routing.config.toml").exists()
    assert status_json(capsys, "--status")["profiles"] == "off"


def test_one_profile_missing_is_partly_on(capsys: pytest.CaptureFixture[str]) -> None:
    home = Path(os.environ["CODEX_HOME"])
    assert main(["config", "enable"]) == 0
    (home / "cost-routing-hf.config.toml").unlink()
    data = status_json(capsys, "status")
    assert data["profiles"] == "partly"
    assert main(["status"]) == 0
    assert "cost-routing-hf absent" in capsys.readouterr().out


def test_a_legacy_flag_elsewhere_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--enable"]) == 2
    assert "--enable" in capsys.readouterr().err


LAST_RUNS = [
    (
        dict(
            alias="codex-light",
            provider="auto",
            attempts=(make_attempt("standard"),),
            estimated_cost_usd=0.0063,
            reasons=("simple task → roles.light", 'keyword "typo"'),
        ),
        "standard",
        ["standard"],
        "path         standard\n",
    ),
    (
        dict(
            alias="codex-default",
            provider="no-openai",
            attempts=(
                make_attempt("litellm", exit_code=1, outcome="failed"),
                make_attempt("huggingface"),
            ),
            estimated_cost_usd=0.0125,
            reasons=("avoid_openai",),
        ),
        "huggingface",
        ["litellm", "huggingface"],
        "path         huggingface  (tried litellm › huggingface)\n",
    ),
    (
        dict(outcome="dry_run", dry_run=True, attempts=(), estimated_cost_usd=0.5),
        None,
        [],
        "path         none (dry run)\n",
    ),
    (
        dict(outcome="blocked", exit_code=7, attempts=(), estimated_cost_usd=2.0),
        None,
        [],
        "path         none (stopped by max_cost_usd before launch)\n",
    ),
]


@pytest.mark.parametrize(
    ("fields", "path", "tried", "line"),
    LAST_RUNS,
    ids=["one-attempt", "fallback", "dry-run", "blocked"],
)
def test_the_last_run(
    capsys: pytest.CaptureFixture[str], fields: dict, path: str | None, tried: list, line: str
) -> None:
    dirs = app_dirs()
    record_run(dirs, make_record(alias="codex-older", started_at=1_700_000_000.0))
    record = make_record(started_at=1_750_000_000.0, **fields)
    record_run(dirs, record)
    run = status_json(capsys, "status")["last_run"]
    assert run["alias"] == record.alias and run["provider"] == record.provider
    assert (run["path"], run["paths_tried"]) == (path, tried)
    assert run["estimated_cost_usd"] == record.estimated_cost_usd
    assert run["reasons"] == list(record.reasons)
    assert run["outcome"] == record.outcome and run["exit_code"] == record.exit_code
    assert main(["--status"]) == 0
    out = capsys.readouterr().out
    assert f"alias        {record.alias}   provider {record.provider}" in out
    assert line in out
    assert f"est. cost    ${record.estimated_cost_usd:.6f}" in out
    assert f"reason       {record.reasons[0]}" in out
