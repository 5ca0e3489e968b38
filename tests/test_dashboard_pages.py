"""The dashboard's pages against a seeded history: what they show, their filters and paging, and
that nothing of a prompt or a key ever reaches them."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from codex_router.dashboard import pages
from codex_router.dashboard.app import create_app
from codex_router.dirs import app_dirs
from codex_router.history.store import mark_run, record_runs

from helpers.history import make_attempt, make_record

TOKEN = "page-test-token-0123456789abcdefghij"
PORT = 48788
NOW = time.time()
DAY = 86_400.0


@pytest.fixture
def client() -> TestClient:
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    client = TestClient(app, base_url=f"http://127.0.0.1:{PORT}")
    assert client.get(f"/?token={TOKEN}").status_code == 200  # cookie set, redirect followed
    return client


def _seed() -> None:
    """120 runs over the last 60 days: light ones succeed, default ones fail every third time;
    the newest is a deep run that fell back from standard to litellm."""
    records = []
    for n in range(120):
        alias = "codex-light" if n % 2 else "codex-default"
        failed = alias == "codex-default" and n % 3 == 0
        records.append(
            make_record(
                run_id=f"{n:08x}" + "0" * 24,
                started_at=NOW - (120 - n) * DAY / 2,
                alias=alias,
                outcome="failed" if failed else "success",
                exit_code=1 if failed else 0,
                attempts=(
                    make_attempt(
                        "standard",
                        exit_code=1 if failed else 0,
                        outcome="failed" if failed else "ok",
                    ),
                ),
            )
        )
    records.append(
        make_record(
            run_id="deadbeef" + "0" * 24,
            started_at=NOW - 60,
            alias="codex-deep",
            attempts=(
                make_attempt("standard", exit_code=1, outcome="failed"),
                make_attempt("litellm"),
            ),
        )
    )
    record_runs(app_dirs(), records)


def test_pages_without_a_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no codex, whatever PATH the suite runs with
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    client = TestClient(app, base_url=f"http://127.0.0.1:{PORT}")
    client.get(f"/?token={TOKEN}")
    overview = client.get("/")
    assert overview.status_code == 200
    assert "No run recorded yet" in overview.text
    assert "Managed profiles" in overview.text and "off" in overview.text
    assert "LiteLLM proxy" in overview.text and "down" in overview.text
    assert "codex is not on PATH" in overview.text
    paths = client.get("/paths")
    assert "No history yet" in paths.text
    assert "No recorded run matches" in client.get("/history").text


def test_overview_shows_the_last_runs_and_codex(
    client: TestClient, codex_installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_ROUTE_CODEX_BIN", str(codex_installed))
    _seed()
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    client = TestClient(app, base_url=f"http://127.0.0.1:{PORT}")
    client.get(f"/?token={TOKEN}")
    text = client.get("/").text
    codex_card = text[text.index("card-codex") : text.index("</section>")]
    assert "found" in codex_card and f"codex-cli 0.169.0 at {codex_installed}" in codex_card
    rows = re.findall(r"<tr class=\"(?:ok|not-ok)\">", text)
    assert len(rows) == pages.OVERVIEW_RUNS
    assert "<code>deadbeef</code>" in text and "std›lite" in text  # the fallback chain
    assert text.index("deadbeef") < text.index("<code>00000077</code>")  # newest first


def test_history_filters_and_pages(client: TestClient) -> None:
    _seed()
    first = client.get("/history").text
    assert len(re.findall(r"<tr class=", first)) == pages.PAGE_SIZE
    assert 'rel="next"' in first and 'rel="prev"' not in first
    third = client.get("/history?page=3").text
    assert len(re.findall(r"<tr class=", third)) == 121 - 2 * pages.PAGE_SIZE
    assert 'rel="next"' not in third and 'rel="prev"' in third
    # pages do not overlap and cover every run once
    ids = set()
    for page in (1, 2, 3):
        found = re.findall(
            r"<td><code>([0-9a-f]{8})</code>", client.get(f"/history?page={page}").text
        )
        assert not ids & set(found)
        ids |= set(found)
    assert len(ids) == 121

    failed = client.get("/history?outcome=failed").text
    assert len(re.findall(r"<tr class=\"not-ok\">", failed)) == 20
    assert '<tr class="ok">' not in failed
    light = client.get("/history?alias=light").text  # as the table shows it, without codex-
    assert ">light<" in light and ">default<" not in light
    recent = client.get("/history?since=3d").text
    # the seeded runs 0.5 to 2.5 days old (the one exactly 3 days old is older by now), the deep
    assert len(re.findall(r"<tr class=", recent)) == 6
    # the filters stay in the pager's links
    paged = client.get("/history?alias=light").text
    assert 'href="/history?alias=light&amp;outcome=&amp;since=&amp;page=2"' in paged


@pytest.mark.parametrize(
    ("query", "message"),
    [("outcome=nonsense", "is not an outcome"), ("since=yesterday-ish", "is neither a duration")],
)
def test_a_bad_filter_is_named(client: TestClient, query: str, message: str) -> None:
    _seed()
    response = client.get(f"/history?{query}")
    assert response.status_code == 400 and message in response.text
    assert "<tr class=" not in response.text


def test_a_filter_value_is_escaped(client: TestClient) -> None:
    response = client.get("/history?alias=<script>alert(1)</script>")
    assert "<script>alert" not in response.text and "&lt;script&gt;" in response.text


def test_paths_shows_the_adaptive_health(client: TestClient) -> None:
    _seed()
    text = client.get("/paths").text
    assert '<table class="paths">' in text
    for path in pages.PATHS:
        assert f"<td>{path}" in text
    data = pages.paths_page(app_dirs(), os.environ, now=NOW)
    by_path = {row["path"]: row for row in data["rows"]}
    # 121 standard attempts recorded (20 failed, 1 of the deep run's), 1 on litellm
    assert by_path["standard"]["observations"] == min(121, 200)
    assert by_path["standard"]["failures"] == 21
    assert by_path["litellm"]["observations"] == 1
    assert by_path["huggingface"]["observations"] == 0


def test_a_mark_shows_in_the_history(client: TestClient) -> None:
    record_runs(app_dirs(), [make_record(run_id="abcdef01" + "0" * 24, started_at=NOW)])
    mark_run(app_dirs(), "abcdef01", "bad", "wrong file", now=NOW)
    text = client.get("/history").text
    assert "<td>bad</td>" in text and "wrong file" not in text  # the note is not shown


def test_no_page_shows_a_secret_of_the_environment(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-env-secret-value-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("HF_TOKEN", "hf_" + secret)
    _seed()
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    client = TestClient(app, base_url=f"http://127.0.0.1:{PORT}")
    client.get(f"/?token={TOKEN}")
    keys = client.get("/keys").text
    assert "<code>OPENAI_API_KEY</code>: in the environment" in keys
    assert "<code>HF_TOKEN</code>: in the environment" in keys
    for path in ("/", "/history", "/paths", "/keys", "/spend"):
        body = client.get(path).text
        assert secret not in body and secret[3:15] not in body, path
