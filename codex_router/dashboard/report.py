"""``codex-route stats --html FILE``: the Spend & savings page as one self-contained file.

The style, Chart.js, ``charts.js`` and the chart data are inlined into ``templates/report.html``,
so the file opens offline and refers to nothing outside itself: no ``src``/``href``, no URL
loaded. Chart.js' source-map comment (a file reference browsers' developer tools follow) is left
out; its licence banner stays, and its MIT licence text is inlined beside it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codex_router.dashboard import require_ui_extra
from codex_router.dashboard.spend import member_row, report_context, since_seconds, spend_context
from codex_router.dirs import AppDirs
from codex_router.errors import StateError, UsageError
from codex_router.fsutil import atomic_write_bytes

STATIC = Path(__file__).with_name("static")
TEMPLATES = Path(__file__).with_name("templates")

_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.M)
_SCRIPT_END = re.compile(r"</(script|style)", re.I)
_CHART_JS_VERSION = re.compile(r"Chart\.js v(\d+\.\d+\.\d+)")


def _inline(name: str, text: str) -> str:
    """``text`` to put inside a ``<script>``/``<style>`` element as it is (HTML does not escape
    there): refuse one that would end the element early."""
    if _SCRIPT_END.search(text):
        raise StateError(
            f"{STATIC / name}: holds '</script' or '</style', which would end the inlined element",
            hint="reinstall codex-route; the packaged file was changed",
        )
    return text


def _static(name: str) -> str:
    try:
        return (STATIC / name).read_text(encoding="utf-8")
    except OSError as exc:
        raise StateError(
            f"{STATIC / name}: cannot read the packaged file ({exc.strerror or exc})",
            hint="reinstall codex-route",
        ) from None


def report_parts() -> dict[str, Any]:
    """The inlined files, ready for the template."""
    # lazy: jinja2's markupsafe comes with the ui extra, loaded only when a report is written
    from markupsafe import Markup

    chart_js = _SOURCE_MAP.sub("", _static("chart.umd.js"))
    licence = _static("chart.js.LICENSE.txt").replace("*/", "* /")
    version = _CHART_JS_VERSION.search(chart_js)
    return {
        "css": Markup(_inline("style.css", _static("style.css"))),
        "chart_js": Markup(_inline("chart.umd.js", f"/*!\n{licence}*/\n{chart_js}")),
        "charts_js": Markup(_inline("charts.js", _static("charts.js"))),
        "chart_js_version": version.group(1) if version else "4",
    }


def render_report(dirs: AppDirs, since: str | None, *, now: float | None = None) -> str:
    """The report's HTML for runs started since ``since`` (``stats --since``'s syntax)."""
    require_ui_extra("codex-route stats --html")
    return _render(spend_context(dirs, since), now=now)


def _render(
    context: dict[str, Any], *, now: float | None, members: Sequence[dict[str, Any]] = ()
) -> str:
    # lazy: the ui extra; only `stats --html` loads it
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    written = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() if now is None else now))
    return env.get_template("report.html").render(
        **context, **report_parts(), written=written, members=list(members)
    )


def render_team_report(url: str, since: str | None, *, now: float | None = None) -> str:
    """``stats --team --html``: the same report over every member's runs in the team history
    (PostgreSQL), with a line per member."""
    require_ui_extra("codex-route stats --team --html")
    # lazy: the driver loads only for the team history
    from codex_router.history.team import compute_team_stats

    cut = since_seconds(since)
    report = compute_team_stats(url, since=cut, by="alias", daily=True, percentiles=False)
    members = compute_team_stats(url, since=cut, by="user", percentiles=False, details=False).groups
    context = report_context(report, since, cut)
    context["since_label"] = "team history, " + context["since_label"]
    return _render(context, now=now, members=[member_row(m) for m in members])


def write_report(dirs: AppDirs, path: Path, since: str | None) -> Path:
    """Render the report and write it to ``path`` atomically; returns the path written."""
    return _write(path, render_report(dirs, since))


def write_team_report(url: str, path: Path, since: str | None) -> Path:
    """``stats --team --html``: :func:`render_team_report` written to ``path`` atomically."""
    return _write(path, render_team_report(url, since))


def _write(path: Path, html: str) -> Path:
    try:
        atomic_write_bytes(path, html.encode("utf-8"), mode=0o644)
    except OSError as exc:
        raise UsageError(
            f"--html: cannot write {path} ({exc.strerror or exc})",
            hint="name a file in a directory you can write to",
        ) from None
    return path
