"""The browser tests' tools: headless Debian Chromium through Playwright, ``codex-route ui`` as a
child process, and a small seeded history whose numbers the charts must show.

Chromium is Debian's package (``scripts/test.sh`` installs it), named by
``CODEX_ROUTE_TEST_CHROMIUM_BIN``; Playwright drives it through ``executable_path`` and never
downloads a browser of its own. The fixtures that use these live in the test modules.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

from codex_router.dirs import AppDirs
from codex_router.history.record import RunRecord
from codex_router.history.store import local_day, record_runs

from helpers.history import make_attempt, make_record, yesterday_noon

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_BIN = os.environ.get("CODEX_ROUTE_TEST_CHROMIUM_BIN") or "/usr/bin/chromium"
#: Where each test saves its screenshots (gitignored; CI keeps them as artefacts).
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"

#: The URL ``codex-route ui`` prints: loopback, its port, the session token.
_URL = re.compile(r"(http://127\.0\.0\.1:(\d+))/\?token=([A-Za-z0-9_\-]+)")


# ---------------------------------------------------------------- the browser


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium, closed on exit."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_BIN, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """What went wrong while a page loaded: console errors (a CSP violation is one), uncaught
    script errors, requests that failed or answered 4xx/5xx."""

    problems: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> PageWatch:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)
        return self

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")
        # Chromium reports a CSP violation as a console error ("Refused to ..."); a warning
        # about the policy itself is one too.
        if message.type in ("error", "warning") or "Content Security Policy" in message.text:
            where = message.location.get("url", "")
            self.problems.append(f"console {message.type}: {message.text} ({where})")

    def _on_failed(self, request: Request) -> None:
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )


# ---------------------------------------------------------------- codex-route ui


@dataclass
class Dashboard:
    """A running ``codex-route ui``: ``url`` carries the session token, ``base`` does not."""

    process: subprocess.Popen[str]
    url: str
    base: str
    port: int
    stdout: list[str]
    stderr_path: Path
    returncode: int | None = None

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def _reader(stream: object, lines: list[str], found: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line)
        found.put(line)


@contextmanager
def run_dashboard(
    env: Mapping[str, str], work: Path, *, timeout: float = 60
) -> Iterator[Dashboard]:
    """``codex-route ui --port 0 --no-open`` in ``env``; yields once it printed its URL, then
    stops it with SIGINT (Ctrl-C) and waits for it: ``Dashboard.returncode`` holds its exit."""
    stderr_path = work / "ui-stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "codex_router", "ui", "--port", "0", "--no-open"],
            env=dict(env),
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines: list[str] = []
    found: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_reader, args=(process.stdout, lines, found), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        match = None
        while match is None:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise AssertionError(
                    f"codex-route ui printed no URL (exit {process.poll()}):\n"
                    + "".join(lines)
                    + stderr_path.read_text(errors="replace")
                )
            try:
                match = _URL.search(found.get(timeout=min(left, 0.5)))
            except queue.Empty:
                continue
        board = Dashboard(
            process, match.group(0), match.group(1), int(match.group(2)), lines, stderr_path
        )
        yield board
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError("codex-route ui did not stop within 30 s of SIGINT") from None
        finally:
            reader.join(timeout=5)  # stdout ends with the process
            if process.stdout is not None:
                process.stdout.close()
    board.returncode = process.returncode


# ---------------------------------------------------------------- the seeded history


@dataclass(frozen=True)
class Seed:
    """The seeded runs and the numbers the charts must show for them (local day labels)."""

    records: tuple[RunRecord, ...]
    days: tuple[str, ...]  # the local days with runs, oldest first
    spend_by_day: dict[str, float]  # launched runs' estimated cost (no reported usage)
    saved_routing_by_day: dict[str, float]  # succeeded runs: deep cost - cost
    saved_tokens_by_day: dict[str, int]  # launched runs: tokens_raw - tokens_clean
    runs_by_alias: dict[str, int]  # launched runs
    success_by_alias: dict[str, float]  # succeeded / launched
    tokens_by_rule: dict[str, int]  # launched runs' per-rule savings

    @property
    def aliases(self) -> list[str]:
        return sorted(self.runs_by_alias)


#: One row per seeded run: (days ago, alias, succeeded, estimated $, deep $, raw, clean, rules).
_SEED_ROWS: tuple[tuple[int, str, bool, float, float, int, int, dict[str, int]], ...] = (
    (2, "codex-light", True, 0.001, 0.020, 1000, 600, {"ansi": 100, "repeated_lines": 300}),
    (2, "codex-light", True, 0.001, 0.020, 1000, 600, {"ansi": 100, "repeated_lines": 300}),
    (2, "codex-default", False, 0.004, 0.020, 2000, 1500, {"repeated_lines": 500}),
    (1, "codex-light", True, 0.002, 0.030, 3000, 2000, {"ansi": 200, "repeated_lines": 800}),
    (1, "codex-default", True, 0.005, 0.030, 4000, 3000, {"blank_lines": 1000}),
    (1, "codex-deep", True, 0.030, 0.030, 5000, 5000, {}),
    (0, "codex-light", False, 0.001, 0.010, 1500, 1000, {"ansi": 500}),
    (0, "codex-default", True, 0.006, 0.040, 6000, 4000, {"repeated_lines": 2000}),
)


def seed_history(dirs: AppDirs, *, now: float | None = None) -> Seed:
    """Record the seeded runs (plus one dry run, which no chart may count) into ``dirs``.

    The runs are placed around ``now``, by default yesterday's local noon: a run made "now" a
    few minutes after midnight would land on the day before the dry run's, and the charts
    (first to last day with any record) would show a day the seed does not expect."""
    now = yesterday_noon() if now is None else now
    records: list[RunRecord] = []
    spend: dict[str, float] = {}
    routing: dict[str, float] = {}
    saved: dict[str, int] = {}
    runs: dict[str, int] = {}
    good: dict[str, int] = {}
    rules_total: dict[str, int] = {}
    for i, (ago, alias, ok, cost, deep, raw, clean, rules) in enumerate(_SEED_ROWS):
        started = now - ago * 86_400 - 60 * (i + 1)
        day = local_day(started)
        attempt = make_attempt() if ok else make_attempt(exit_code=1, outcome="failed")
        records.append(
            make_record(
                started_at=started,
                alias=alias,
                outcome="success" if ok else "failed",
                exit_code=0 if ok else 1,
                attempts=(attempt,),
                tokens_raw=raw,
                tokens_clean=clean,
                rules=rules,
                estimated_cost_usd=cost,
                deep_cost_usd=deep,
            )
        )
        spend[day] = spend.get(day, 0.0) + cost
        routing[day] = routing.get(day, 0.0) + (deep - cost if ok else 0.0)
        saved[day] = saved.get(day, 0) + raw - clean
        runs[alias] = runs.get(alias, 0) + 1
        good[alias] = good.get(alias, 0) + int(ok)
        for rule, tokens in rules.items():
            rules_total[rule] = rules_total.get(rule, 0) + tokens
    records.append(
        make_record(
            started_at=now - 30,
            alias="codex-deep",
            outcome="dry_run",
            dry_run=True,
            attempts=(),
            tokens_raw=9000,
            tokens_clean=1000,
            rules={"ansi": 8000},
            estimated_cost_usd=0.5,
            deep_cost_usd=0.5,
        )
    )
    record_runs(dirs, records)
    return Seed(
        records=tuple(records),
        days=tuple(sorted(spend)),
        spend_by_day=spend,
        saved_routing_by_day=routing,
        saved_tokens_by_day=saved,
        runs_by_alias=runs,
        success_by_alias={alias: good[alias] / n for alias, n in runs.items()},
        tokens_by_rule=rules_total,
    )
