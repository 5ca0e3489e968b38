"""Records that add up (issue 13, item 3): what ``run`` records and what ``history``/``stats``
make of it, through the CLI, with a scripted fake codex where a real run is needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.history.record import TokenUsage
from codex_router.history.store import record_runs

from helpers.history import make_attempt, make_record

REPO = Path(__file__).resolve().parents[1]

FAKE_CODEX = """#!{python}
import json, os, sys, time, uuid
if sys.argv[1:] == ["--version"]:
    print("codex-cli 0.169.0"); sys.exit(0)
sys.stdin.read()
mode = os.environ.get("FAKE_MODE", "ok")
sid = str(uuid.uuid4())
print("session id: " + sid, file=sys.stderr, flush=True)
if mode == "hang":
    time.sleep(30)
usage = os.environ.get("FAKE_USAGE")
if usage:
    inp, cached, out = (int(x) for x in usage.split(","))
    day = os.path.join(os.environ["CODEX_HOME"], "sessions", time.strftime("%Y/%m/%d"))
    os.makedirs(day, exist_ok=True)
    name = "rollout-" + time.strftime("%Y-%m-%dT%H-%M-%S") + "-" + sid + ".jsonl"
    counts = {{"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out,
              "reasoning_output_tokens": 0, "total_tokens": inp + out}}
    with open(os.path.join(day, name), "w") as f:
        f.write(json.dumps({{"timestamp": "t", "type": "event_msg", "payload": {{
            "type": "token_count", "info": {{"total_token_usage": counts}}}}}}) + "\\n")
        f.write(json.dumps({{"timestamp": "t", "type": "event_msg",
                            "payload": {{"type": "task_complete"}}}}) + "\\n")
if mode == "fail":
    sys.exit(1)
print("done")
"""


@pytest.fixture
def codex(tmp_path: Path, isolated_env: Path):
    script = tmp_path / "codex"
    script.write_text(FAKE_CODEX.format(python=sys.executable))
    script.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["git", "init", "-q", str(work)], check=True)  # Codex's trusted directory

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "CODEX_ROUTE_CODEX_BIN": str(script),
            "PYTHONPATH": str(REPO),
            **extra,
        }
        return subprocess.run(
            [sys.executable, "-m", "codex_router", "run", *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    return run


def _history() -> list[dict]:
    result = CliRunner().invoke(app, ["history", "--json"])
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _stats(*args: str) -> dict:
    result = CliRunner().invoke(app, ["stats", "--json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _stats_text(*args: str) -> str:
    result = CliRunner().invoke(app, ["stats", *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


# ---------------------------------------------------------------- what a run records


def test_the_provider_is_recorded_as_resolved_not_auto(codex) -> None:
    done = codex("fix the failing test", "--codex-provider", "standard")
    assert done.returncode == 0, done.stderr
    (record,) = _history()
    assert record["provider"] == "openai"  # the standard path: Codex's own (OpenAI) provider
    table = CliRunner().invoke(app, ["history"]).stdout
    assert "auto" not in table
    assert CliRunner().invoke(app, ["history", "--provider", "openai"]).stdout.count("\n") == 2


def test_exit_codes_read_as_a_shell_shows_them_and_no_word_twice(codex) -> None:
    timed_out = codex("fix it", "--codex-provider", "standard", "--timeout", "1", FAKE_MODE="hang")
    assert timed_out.returncode == 124
    assert "exit 124" in timed_out.stderr and "exit -15" not in timed_out.stderr
    assert "timeout after 1 s, exit 124 in" in timed_out.stderr  # "timeout" said once
    failed = codex("fix it", "--codex-provider", "standard", FAKE_MODE="fail")
    assert failed.returncode == 1
    line = next(ln for ln in failed.stderr.splitlines() if "attempt 1/1" in ln)
    assert line.count("exit 1") == 1, line  # was "failed, exit 1 in 0.1 s — exit 1"


def test_spend_comes_from_codexs_reported_usage_times_the_price(codex) -> None:
    done = codex(
        "fix it",
        "--codex-provider",
        "standard",
        "--force-model",
        "codex-light",
        FAKE_USAGE="30000,20000,1000",
    )
    assert done.returncode == 0, done.stderr
    (record,) = _history()
    # codex-light: 10k input at $0.25/M, 20k cached at $0.025/M, 1k output at $2/M
    assert record["usage_cost_usd"] == pytest.approx(0.0025 + 0.0005 + 0.002)
    # the same usage on codex-deep: $1.25 / $0.125 / $10
    assert record["usage_deep_cost_usd"] == pytest.approx(0.0125 + 0.0025 + 0.01)
    total = _stats()["total"]
    assert total["spend_usd"] == pytest.approx(0.005)
    assert total["spend_from_usage_runs"] == 1
    assert total["saving_vs_deep_usd"] == pytest.approx(0.025 - 0.005)
    spend = next(ln for ln in _stats_text().splitlines() if ln.startswith("spend"))
    assert "~" not in spend and "$0.005" in spend  # measured, not marked as an estimate


# ---------------------------------------------------------------- history filters


def test_history_filters_accept_what_the_table_shows(isolated_env) -> None:
    record_runs(
        app_dirs(),
        [
            make_record(run_id="light-ok", alias="codex-light"),
            make_record(
                run_id="default-hf",
                attempts=(
                    make_attempt("standard", exit_code=1, outcome="failed"),
                    make_attempt("huggingface"),
                ),
            ),
            make_record(run_id="dry", dry_run=True, outcome="dry_run", attempts=()),
        ],
    )
    table = CliRunner().invoke(app, ["history"]).stdout
    assert "light" in table and "std›hf" in table and "dry-run" in table

    def ids(*args: str) -> list[str]:
        result = CliRunner().invoke(app, ["history", "--json", *args])
        assert result.exit_code == 0, result.stderr
        return [json.loads(line)["run_id"] for line in result.stdout.splitlines()]

    assert ids("--alias", "light") == ["light-ok"]  # as the table shows it
    assert ids("--alias", "codex-light") == ["light-ok"]
    assert ids("--path", "hf") == ["default-hf"] == ids("--path", "huggingface")
    assert ids("--outcome", "dry-run") == ["dry"] == ids("--outcome", "dry_run")
    assert ids("--outcome", "ok") == ["default-hf", "light-ok"]
    bad = CliRunner().invoke(app, ["history", "--outcome", "great"])
    assert bad.exit_code == 2 and "--outcome" in bad.stderr and "dry-run" in bad.stderr


# ---------------------------------------------------------------- stats


def _mixed_history() -> None:
    usage = TokenUsage(input_tokens=24_000, cached_input_tokens=0, output_tokens=900)
    record_runs(
        app_dirs(),
        [
            *(make_record(usage=usage, tokens_clean=600 + i) for i in range(3)),
            make_record(
                outcome="failed",
                exit_code=1,
                attempts=(make_attempt(exit_code=1, outcome="failed"),),
                estimated_cost_usd=0.002,
                deep_cost_usd=0.5,
            ),
            *(
                make_record(
                    outcome="dry_run", dry_run=True, attempts=(), tokens_raw=5000, tokens_clean=1000
                )
                for _ in range(2)
            ),
            make_record(outcome="blocked", exit_code=7, attempts=()),
            make_record(outcome="error", exit_code=4, attempts=()),
            make_record(outcome="imported", attempts=(), run_id="cost-router-1"),
        ],
    )


def test_stats_counts_add_up_and_every_class_is_shown(isolated_env) -> None:
    _mixed_history()
    total = _stats()["total"]
    assert total["runs"] == 9 and total["launched"] == 4
    assert total["not_launched"] == {"dry_run": 2, "blocked": 1, "imported": 1, "error": 1}
    assert total["launched"] + sum(total["not_launched"].values()) == total["runs"]
    runs = next(ln for ln in _stats_text().splitlines() if ln.startswith("runs"))
    assert runs.split("\t")[1] == (
        "9 all recorded = 4 launched codex + 2 dry runs + 1 stopped by max_cost_usd"
        " + 1 imported + 1 error before launch"
    )


def test_a_failed_run_saves_nothing_and_dry_runs_savings_stand_apart(isolated_env) -> None:
    _mixed_history()
    total = _stats()["total"]
    # only the three successes: each 0.02 on deep against 0.002 estimated
    assert total["saving_vs_deep_usd"] == pytest.approx(3 * (0.02 - 0.002))
    assert total["tokens_saved"] == 400 + 399 + 398 + 400  # the launched runs only
    assert total["dry_run_tokens_saved"] == 2 * 4000
    text = _stats_text()
    assert "over the 3 runs that succeeded" in text
    assert "8.0k tokens compression would remove" in text


def test_the_estimate_error_is_explained_and_the_overhead_calibrated(isolated_env) -> None:
    _mixed_history()
    estimate = _stats()["total"]["token_estimate"]
    assert estimate["overhead_runs"] == 3
    assert estimate["overhead_median_tokens"] == 24_000 - 601
    lines = dict(ln.split("\t", 1) for ln in _stats_text().splitlines())
    assert lines["estimate"].startswith("over 3 launched runs with usage from Codex: prompt")
    assert "mean |input - prompt| / input" in lines["estimate"]
    assert "median 23,399 input tokens" in lines["overhead"]
    assert "codex_overhead_input_tokens is 9,000" in lines["overhead"]
    assert "cost_model: {codex_overhead_input_tokens: 23400}" in lines["overhead"]


def test_the_default_prices_follow_the_models_list_prices() -> None:
    text = (REPO / "codex_router" / "policies" / "default.yaml").read_text()
    aliases = yaml.safe_load(text)["aliases"]
    assert "as of December 2025" in text and "openai.com/api/pricing" in text
    price = {
        n: (a.get("input_usd_per_mtok"), a.get("output_usd_per_mtok")) for n, a in aliases.items()
    }
    assert price["codex-light"] < price["codex-default"]  # gpt-5.1-codex-mini vs gpt-5.1-codex
    assert price["codex-no-openai"] == (0.30, 2.50)  # gemini-2.5-flash
    assert price["codex-claude-complex"] == (3.00, 15.00)  # Claude Sonnet 4
    assert price["codex-small-local"] == (0, 0) == price["codex-qwen-local"]  # your machine
    for name in ("codex-light", "codex-default", "codex-deep", "codex-claude-complex"):
        assert aliases[name]["cached_input_usd_per_mtok"] < aliases[name]["input_usd_per_mtok"]
