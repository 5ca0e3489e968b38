"""The Spend & savings data (``dashboard/spend.py``), the self-contained HTML report
(``stats --html``, ``dashboard/report.py``) and the daily chart under ``stats`` on a terminal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from codex_router.dashboard import report, series
from codex_router.dashboard.spend import since_seconds, spend_context
from codex_router.dirs import app_dirs
from codex_router.errors import UsageError
from codex_router.history.record import TokenUsage
from codex_router.history.store import local_day, record_runs
from codex_router.views.money import usd as money

from helpers.history import make_attempt, make_record, yesterday_noon
from helpers.tty import run_cli

DAY = 86_400
NOW = yesterday_noon()  # runs a day apart never straddle a midnight
USAGE = TokenUsage(input_tokens=5_000, output_tokens=100)


def _seed() -> None:
    """Three days: two priced from Codex's usage (deep and light), one estimated with a
    failure, plus a dry run and an old run outside ``--since 7d``."""
    record_runs(
        app_dirs(),
        [
            make_record(
                started_at=NOW - 2 * DAY,
                alias="codex-light",
                usage=USAGE,
                usage_cost_usd=0.25,
                usage_deep_cost_usd=2.0,
                rules={"ansi": 100, "repeated_lines": 300},
            ),
            make_record(
                started_at=NOW - 2 * DAY + 60,
                alias="codex-deep",
                usage=USAGE,
                usage_cost_usd=1.0,
                usage_deep_cost_usd=1.0,
                rules={"stack_frames": 50},
            ),
            make_record(
                started_at=NOW - DAY,
                alias="codex-light",
                outcome="failed",
                exit_code=1,
                attempts=(make_attempt(exit_code=1, outcome="failed"),),
                estimated_cost_usd=0.5,
                rules={},
            ),
            make_record(started_at=NOW, dry_run=True, outcome="dry_run", attempts=(), rules={}),
            make_record(started_at=NOW - 40 * DAY, alias="codex-default", estimated_cost_usd=9.0),
        ],
    )


def test_spend_context_over_a_small_history() -> None:
    _seed()
    context = spend_context(app_dirs(), "7d")
    total = context["total"]
    assert (total["runs"], total["launched"], total["succeeded"]) == ("4", "3", "2")
    assert total["spend"] == money(0.25 + 1.0 + 0.5)
    assert total["estimate"] is True  # one of the three launched runs was estimated
    assert total["saved_routing"] == money(2.0 - 0.25)  # the deep run saved nothing
    days = {d["day"]: d for d in context["days"]}
    priced, estimated = local_day(NOW - 2 * DAY), local_day(NOW - DAY)
    assert days[priced]["estimate"] is False and days[priced]["spend"] == money(1.25)
    assert days[estimated]["estimate"] is True and days[estimated]["spend"] == money(0.5)
    assert local_day(NOW - 40 * DAY) not in days  # before --since
    aliases = {a["alias"]: a for a in context["aliases"]}
    assert set(aliases) == {"light", "deep", "default"}
    assert aliases["light"]["success"] == "50.0%"
    assert (aliases["default"]["launched"], aliases["default"]["success"]) == ("0", "-")  # dry
    assert [r["rule"] for r in context["rules"]] == ["repeated_lines", "ansi", "stack_frames"]
    charts = context["charts"]
    assert set(charts) == {"spend_by_day", "alias_mix", "success_by_alias", "rule_savings"}
    spend = {d["label"]: d["data"] for d in charts["spend_by_day"]["data"]["datasets"]}
    labels = charts["spend_by_day"]["data"]["labels"]
    assert spend[series.SPEND_LABELS[0]][labels.index(priced)] == 1.25
    assert spend[series.SPEND_LABELS[1]][labels.index(estimated)] == 0.5
    assert [r for r in context["ranges"] if r["current"]] == [
        {"label": "7 days", "since": "7d", "current": True}
    ]


def test_spend_context_without_history_or_since() -> None:
    context = spend_context(app_dirs(), None)
    assert context["total"]["runs"] == "0"
    assert context["days"] == [] and context["aliases"] == [] and context["rules"] == []
    assert context["since_label"] == "all recorded runs"
    assert context["charts"]["spend_by_day"]["data"]["labels"] == []


@pytest.mark.parametrize("since", ["7d", "24h", "2w", "today", "2026-11-01"])
def test_since_reads_like_stats(since: str) -> None:
    assert isinstance(since_seconds(since), float)


@pytest.mark.parametrize("since", ["7x", "soon", "-3d"])
def test_a_bad_since_is_a_usage_error(since: str) -> None:
    with pytest.raises(UsageError, match="since"):
        spend_context(app_dirs(), since)


# ------------------------------------------------------------------------ the report

_LICENCE_COMMENT = re.compile(r"/\*!.*?\*/", re.S)


def _outside_licence_comments(html: str) -> str:
    return _LICENCE_COMMENT.sub("", html)


def test_report_is_self_contained() -> None:
    _seed()
    html = report.render_report(app_dirs(), "30d")
    # Chart.js, our renderer and the style are inside the file, not referred to
    assert "Chart.js v4." in html and "new Chart(canvas, config)" in html
    assert "--accent" in html
    assert "Permission is hereby granted" in html  # Chart.js' MIT licence goes with it
    # nothing that loads anything: no URL but in the licence banners, no src/href/url()/@import
    rest = _outside_licence_comments(html)
    assert "http" not in rest
    assert not re.search(r"\b(src|href|srcset|action)\s*=", rest, re.I)
    assert "sourceMappingURL" not in rest
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None and not re.search(r"url\(|@import", style.group(1), re.I)
    # the data block is JSON the charts read, equal to the page's
    block = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert block is not None
    charts = json.loads(block.group(1))
    assert charts == json.loads(json.dumps(spend_context(app_dirs(), "30d")["charts"]))
    for name in charts:
        assert f'data-chart="{name}"' in html
    # every <script> element is either that data block or inlined code, none with a source
    assert len(re.findall(r"^<script\b", html, re.M)) == 3


def test_report_escapes_what_the_history_holds() -> None:
    """An alias is the user's text: in the page and in the JSON it cannot end an element."""
    record_runs(app_dirs(), [make_record(alias="x</script><img src=x onerror=alert(1)>")])
    html = report.render_report(app_dirs(), None)
    assert "</script><img" not in html
    assert "<img src=x" not in html
    assert "x&lt;/script&gt;" in html  # the table cell, escaped


def test_inlining_refuses_text_that_would_end_the_element() -> None:
    with pytest.raises(Exception, match="would end the inlined element"):
        report._inline("charts.js", 'var a = "</SCRIPT>";')
    assert report._inline("charts.js", "var a = 1 < 2;") == "var a = 1 < 2;"


def test_stats_html_writes_the_report(tmp_path: Path) -> None:
    _seed()
    target = tmp_path / "report.html"
    done = run_cli(["stats", "--html", str(target), "--since", "30d"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # the file is the data; where it went is a diagnostic
    assert str(target) in done.stderr
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and 'data-chart="spend_by_day"' in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json"], "without --json and --by"),
        (["--by", "day"], "without --json and --by"),
        (["--since", "nope"], "--since"),
    ],
)
def test_stats_html_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_cli(["stats", "--html", str(tmp_path / "r.html"), *args])
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_stats_html_unwritable_target(tmp_path: Path) -> None:
    done = run_cli(["stats", "--html", str(tmp_path / "missing" / "r.html")])
    assert done.returncode == 2
    assert "cannot write" in done.stderr and "missing" in done.stderr


# --------------------------------------------------------- the daily chart under `stats`


def test_stats_on_a_terminal_shows_the_daily_chart() -> None:
    _seed()
    done = run_cli(["stats"], tty_stdout=True, columns=80)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("last "))
    chart = lines[start : start + 1 + 14]
    assert chart[0].startswith("last 14 days, one $ scale")
    assert max(len(line) for line in lines[start:]) <= 80
    by_day = {line[:10]: line for line in chart[1:]}
    assert "~" in by_day[local_day(NOW - DAY)]  # an estimated day
    assert "█" in by_day[local_day(NOW - 2 * DAY)] and "~" not in by_day[local_day(NOW - 2 * DAY)]


@pytest.mark.parametrize("args", [["stats"], ["stats", "--json"]])
def test_no_chart_in_a_pipe_or_in_json(args: list[str]) -> None:
    _seed()
    done = run_cli(args)
    assert done.returncode == 0, done.stderr
    assert "█" not in done.stdout and "one $ scale" not in done.stdout
    if "--json" in args:
        assert "days" not in json.loads(done.stdout)


def test_json_on_a_terminal_has_no_chart() -> None:
    _seed()
    done = run_cli(["stats", "--json"], tty_stdout=True)
    assert done.returncode == 0, done.stderr
    assert "█" not in done.stdout
    json.loads(done.stdout)


def test_stats_html_without_the_ui_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from typer.testing import CliRunner

    from codex_router.cli import app

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "jinja2" else real(name, *a),
    )
    result = CliRunner().invoke(app, ["stats", "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "pip install 'codex-route[ui]'" in result.output
    assert not (tmp_path / "r.html").exists()
