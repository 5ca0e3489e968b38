"""``codex-route ui`` and ``stats --html`` in a real browser: headless Debian Chromium, driven
by Playwright (helpers/browser.py), against a seeded history in the test's own HOME.

Every page loads with no console error (a CSP violation is one), no failed request and no 4xx/5xx;
the Spend charts are Chart.js charts holding the seeded numbers; History pages and filters; the
Keys form starts the REAL LiteLLM proxy (``CODEX_ROUTE_TEST_LITELLM_BIN``) with a fake key
against a fake upstream on 127.0.0.1, the proxy answers, and the form stops it; the HTML report
draws its charts with every request blocked. Screenshots go to ``test-artifacts/screenshots/``.

Chromium comes from ``CODEX_ROUTE_TEST_CHROMIUM_BIN`` (scripts/test.sh installs Debian's);
missing, these tests fail in CI and skip locally, saying how to install it.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from codex_router.dashboard.series import SPEND_LABELS, short_alias
from codex_router.dirs import app_dirs
from codex_router.history.store import record_runs
from codex_router.proxy.session import pid_alive
from codex_router.proxy.state import proxy_files, read_key, read_record

from helpers.browser import (
    CHROMIUM_BIN,
    REPO,
    SCREENSHOTS,
    Dashboard,
    PageWatch,
    Seed,
    chromium,
    run_dashboard,
    seed_history,
)
from helpers.ci import missing_precondition
from helpers.fake_chat_server import FakeChatServer
from helpers.history import make_record
from helpers.net import free_port

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "/",
    "spend": "/spend",
    "history": "/history",
    "paths": "/paths",
    "keys": "/keys",
}
CHARTS = ("spend_by_day", "alias_mix", "success_by_alias", "rule_savings")
LITELLM_BIN = os.environ.get("CODEX_ROUTE_TEST_LITELLM_BIN") or str(
    REPO / ".venv-proxy" / "bin" / "litellm"
)
FAKE_HF_TOKEN = "hf-fake-token-for-the-browser-test"
KEY_POLICY = """\
aliases:
  codex-hf-cheap:
    huggingface_model: fake-ok
    fallbacks: []
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM_BIN).exists():
        missing_precondition(
            f"Chromium is not installed at {CHROMIUM_BIN}: run ./scripts/test.sh (it installs "
            "Debian's chromium) or set CODEX_ROUTE_TEST_CHROMIUM_BIN"
        )
    with chromium() as launched:
        yield launched


@pytest.fixture
def seed() -> Seed:
    return seed_history(app_dirs(os.environ))


@pytest.fixture
def dashboard(seed: Seed, codex_installed: Path, tmp_path: Path) -> Iterator[Dashboard]:
    with run_dashboard(os.environ, tmp_path) as board:
        yield board
    assert board.returncode == 0, board.stderr()  # Ctrl-C stops it cleanly: docs/ui.md
    assert "Traceback" not in board.stderr(), board.stderr()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _open(page: Page, board: Dashboard, path: str) -> PageWatch:
    """Log in once with the token URL (the app sets its cookie and redirects), then open
    ``path`` watching for problems."""
    watch = PageWatch().attach(page)
    if not page.context.cookies(board.base):
        page.goto(board.url)
        assert "token=" not in page.url, "the token URL must redirect to the clean URL"
    page.goto(board.base + path)
    page.wait_for_load_state("load")
    return watch


def _screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _charts(page: Page) -> dict[str, dict[str, Any]]:
    """Each ``canvas[data-chart]``'s Chart.js chart, as drawn: its type, labels and datasets."""
    result: dict[str, dict[str, Any]] = page.evaluate(
        """() => {
            const out = {};
            for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
                const chart = Chart.getChart(canvas);
                out[canvas.dataset.chart] = chart ? {
                    type: chart.config.type,
                    labels: chart.data.labels,
                    datasets: chart.data.datasets.map(d => ({label: d.label, data: d.data})),
                    drawn: canvas.width > 0 && canvas.height > 0,
                } : null;
            }
            return out;
        }"""
    )
    return result


def _close(got: list[Any], want: list[float | None]) -> bool:
    return len(got) == len(want) and all(
        (g is None and w is None)
        or (g is not None and w is not None and math.isclose(g, w, abs_tol=1e-6))
        for g, w in zip(got, want, strict=True)
    )


def _assert_seeded_charts(charts: dict[str, dict[str, Any] | None], seed: Seed) -> None:
    assert set(charts) == set(CHARTS), charts
    for name, chart in charts.items():
        assert chart is not None, f"no Chart.js chart on canvas {name}"
        assert chart["drawn"], name

    spend = charts["spend_by_day"]
    assert spend is not None
    assert spend["labels"] == list(seed.days)
    series = {d["label"]: d["data"] for d in spend["datasets"]}
    assert list(series) == list(SPEND_LABELS)
    # no run reported usage: every day's spend is the estimate, and marked as one
    assert series[SPEND_LABELS[0]] == [None] * len(seed.days)
    assert _close(series[SPEND_LABELS[1]], [seed.spend_by_day[d] for d in seed.days])
    assert _close(series[SPEND_LABELS[2]], [seed.saved_routing_by_day[d] for d in seed.days])
    assert series[SPEND_LABELS[3]] == [seed.saved_tokens_by_day[d] for d in seed.days]

    mix = charts["alias_mix"]
    assert mix is not None
    runs = dict(zip(mix["labels"], mix["datasets"][0]["data"], strict=True))
    # the dry run counts as a run of its alias (runs), never as launched
    want_runs = {short_alias(a): n for a, n in seed.runs_by_alias.items()}
    want_runs[short_alias("codex-deep")] += 1
    assert runs == want_runs

    success = charts["success_by_alias"]
    assert success is not None
    rates = dict(zip(success["labels"], success["datasets"][0]["data"], strict=True))
    assert rates == {
        short_alias(a): round(rate * 100, 1) for a, rate in seed.success_by_alias.items()
    }

    rules = charts["rule_savings"]
    assert rules is not None
    assert dict(zip(rules["labels"], rules["datasets"][0]["data"], strict=True)) == (
        seed.tokens_by_rule
    )


# ---------------------------------------------------------------- every page


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_clean(page: Page, dashboard: Dashboard, name: str) -> None:
    watch = _open(page, dashboard, PAGES[name])
    assert page.url == dashboard.base + PAGES[name]
    assert page.locator("nav a").count() == len(PAGES)
    assert page.locator("h1").count() >= 1
    _screenshot(page, name)
    assert watch.problems == [], watch.problems


def test_spend_charts_hold_the_seeded_series(page: Page, dashboard: Dashboard, seed: Seed) -> None:
    watch = _open(page, dashboard, "/spend")
    page.wait_for_function("() => typeof Chart !== 'undefined'")
    _assert_seeded_charts(_charts(page), seed)
    assert watch.problems == [], watch.problems


def test_a_page_without_the_token_is_refused(browser: Browser, dashboard: Dashboard) -> None:
    context = browser.new_context()
    try:
        response = context.new_page().goto(dashboard.base + "/spend")
        assert response is not None and response.status == 403
    finally:
        context.close()


# ---------------------------------------------------------------- history


def test_history_pages_and_filters(page: Page, codex_installed: Path, tmp_path: Path) -> None:
    dirs = app_dirs(os.environ)
    # 60 light runs and 12 failed default ones: more than one page of 50
    records = [make_record(alias="codex-light") for _ in range(60)]
    records += [
        make_record(alias="codex-default", outcome="failed", exit_code=1) for _ in range(12)
    ]
    record_runs(dirs, records)
    with run_dashboard(os.environ, tmp_path) as board:
        watch = _open(page, board, "/history")
        rows = page.locator("table tbody tr")
        assert rows.count() == 50
        page.click("a[rel=next]")
        page.wait_for_load_state("load")
        assert "page=2" in page.url
        assert rows.count() == 22

        page.goto(board.base + "/history")
        page.select_option("form.filters select[name=outcome]", "failed")
        page.click("form.filters [type=submit]")
        page.wait_for_load_state("load")
        assert "outcome=failed" in page.url
        assert rows.count() == 12
        assert rows.filter(has_text="light").count() == 0
        _screenshot(page, "history-filtered")
        assert watch.problems == [], watch.problems
    assert board.returncode == 0, board.stderr()  # Ctrl-C stops it cleanly: docs/ui.md


# ---------------------------------------------------------------- keys and the real proxy


def test_the_key_form_starts_the_real_proxy_and_stops_it(
    page: Page, codex_installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path(LITELLM_BIN).exists():
        missing_precondition(
            f"LiteLLM is not installed at {LITELLM_BIN}: run ./scripts/test.sh (it installs the "
            "pinned litellm[proxy] in .venv-proxy) or set CODEX_ROUTE_TEST_LITELLM_BIN"
        )
    seed_history(app_dirs(os.environ))
    policy = tmp_path / "policy.yaml"
    policy.write_text(KEY_POLICY)
    upstream = FakeChatServer().start()
    port = free_port()
    monkeypatch.setenv("CODEX_ROUTE_POLICY", str(policy))
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BIN", LITELLM_BIN)
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("CODEX_ROUTE_HF_BASE_URL", upstream.base_url)
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    dirs = app_dirs(os.environ)
    try:
        with run_dashboard(os.environ, tmp_path) as board:
            watch = _open(page, board, "/keys")
            page.set_default_timeout(180_000)  # the real LiteLLM starts in 20-60 s here
            page.fill("input[name=HF_TOKEN]", FAKE_HF_TOKEN)
            page.locator("form[action='/keys/start'] [type=submit]").click()
            page.wait_for_url(board.base + "/keys")
            page.wait_for_load_state("load")
            body = page.inner_text("body")
            assert "proxy started" in body, body
            assert FAKE_HF_TOKEN not in page.content()
            assert "HF_TOKEN" in page.inner_text("#keys-set")  # the name only
            assert "up" in page.inner_text("#proxy-state")
            _screenshot(page, "keys-proxy-running")

            record = read_record(proxy_files(dirs))
            assert record is not None and record.port == port and pid_alive(record.pid)
            key = read_key(proxy_files(dirs))
            assert key is not None
            mark = len(upstream.requests)
            with httpx.Client(timeout=60, trust_env=False) as client:
                answer = client.post(
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    json={
                        "model": "codex-hf-cheap",
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                    headers={"Authorization": f"Bearer {key}"},
                )
            assert answer.status_code == 200, answer.text
            sent = upstream.requests[mark:]
            assert [r["body"]["model"] for r in sent] == ["fake-ok"]
            assert sent[0]["has_auth"]  # the pasted key went upstream with the request

            page.locator("form[action='/keys/stop'] [type=submit]").click()
            page.wait_for_url(board.base + "/keys")
            assert "stopped" in page.inner_text("body")
            assert not pid_alive(record.pid)
            assert watch.problems == [], watch.problems
        assert board.returncode == 0, board.stderr()  # Ctrl-C stops it cleanly: docs/ui.md
        assert FAKE_HF_TOKEN not in board.stderr() + "".join(board.stdout)
    finally:
        subprocess.run(
            [sys.executable, "-m", "codex_router", "proxy", "stop"],
            env=dict(os.environ),
            capture_output=True,
            timeout=60,
        )
        upstream.stop()


# ---------------------------------------------------------------- the HTML report


def test_the_html_report_draws_its_charts_offline(
    browser: Browser, seed: Seed, tmp_path: Path
) -> None:
    report = tmp_path / "report.html"
    written = subprocess.run(
        [sys.executable, "-m", "codex_router", "stats", "--html", str(report)],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert written.returncode == 0, written.stderr
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []

    def block(route: Any) -> None:
        if route.request.url == report.as_uri():
            route.continue_()  # the file itself; anything else is a request the report needs
        else:
            blocked.append(route.request.url)
            route.abort()

    try:
        context.route("**/*", block)
        page = context.new_page()
        watch = PageWatch().attach(page)
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        _assert_seeded_charts(_charts(page), seed)
        _screenshot(page, "report")
        assert blocked == [], blocked
        assert watch.problems == [], watch.problems
    finally:
        context.close()
