"""Rendering for ``history``: JSON Lines, a table that fits an 80-column terminal, or (stdout
not a terminal) tab-separated lines.

All stream: rows are written as they are read, so ``--limit 1000000`` needs memory for one row,
and ``history --json | head`` stops cleanly.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from codex_router import ui
from codex_router.history.record import OUTCOME_LABELS, PATH_LABELS, RunRecord
from codex_router.views.money import usd

if TYPE_CHECKING:
    from codex_router.history.team import TeamRun

# (header, width, justify): 80 columns with one space between columns, so every built-in alias
# (``claude-complex`` is the longest), provider family, path chain (``std›lite›hf``), result,
# duration, token pair and price fits whole; only a user's own alias longer than 14 is cut (…).
_COLUMNS: tuple[tuple[str, int, Literal["left", "right"]], ...] = (
    ("when", 11, "left"),
    ("alias", 14, "left"),
    ("provider", 11, "left"),
    ("path", 11, "left"),
    ("result", 7, "left"),
    ("time", 4, "right"),
    ("tokens", 9, "right"),
    ("cost", 6, "right"),
)

#: ``history --team``: whose run it was (``user@host``) instead of the provider and the token
#: pair, so the table still fits 80 columns (``--json`` and a pipe keep every field whole).
_TEAM_COLUMNS: tuple[tuple[str, int, Literal["left", "right"]], ...] = (
    ("when", 11, "left"),
    ("member", 20, "left"),
    ("alias", 14, "left"),
    ("path", 11, "left"),
    ("result", 7, "left"),
    ("time", 4, "right"),
    ("cost", 6, "right"),
)

_RESULT = OUTCOME_LABELS
_SHORT_PATH = PATH_LABELS


def _stop_on_closed_pipe() -> None:
    # The reader went away (``| head``): silence the final flush at exit, like other CLIs.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def print_runs_jsonl(runs: Iterable[RunRecord] | Iterable[TeamRun]) -> int:
    """One ``to_dict()`` per line (a ``TeamRun`` adds ``user`` and ``host``); returns how many
    were written."""
    count = 0
    try:
        for record in runs:
            sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            count += 1
        sys.stdout.flush()
    except BrokenPipeError:
        _stop_on_closed_pipe()
    return count


def when(started_at: float, *, now: float) -> str:
    """``11-21 20:34`` this year, ``2025-11-21`` before."""
    moment = time.localtime(started_at)
    if moment.tm_year == time.localtime(now).tm_year:
        return time.strftime("%m-%d %H:%M", moment)
    return time.strftime("%Y-%m-%d", moment)


def short_alias(alias: str) -> str:
    """Every built-in alias starts with ``codex-``: the table shows the rest."""
    return alias[len("codex-") :] if alias.startswith("codex-") and len(alias) > 6 else alias


def path_label(record: RunRecord) -> str:
    """The path of the single attempt, or the fallback chain (``std›litellm``)."""
    if not record.attempts:
        # an imported run of the earlier cost router: its path is known, its result is not
        return record.path_order[0] if record.outcome == "imported" and record.path_order else "-"
    if len(record.attempts) == 1:
        return record.attempts[0].path
    return "›".join(_SHORT_PATH.get(a.path, a.path) for a in record.attempts)


def short_duration(ms: int) -> str:
    """At most 4 characters: 0.4s, 9.5s, 45s, 2.5m, 45m, 1.5h, 12h, 3.0d, 12d."""
    seconds = ms / 1000
    for unit, size in (("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)):
        value = seconds / size
        if unit == "d" or value < {"s": 60, "m": 60, "h": 24}[unit]:
            if round(value, 1) < 10:
                return f"{value:.1f}{unit}"
            if round(value) < 100 or unit == "d":
                return f"{value:.0f}{unit}"
    return f"{seconds / 86_400:.0f}d"  # pragma: no cover - the loop always returns


def duration(ms: int) -> str:
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def count(n: int) -> str:
    """Compact token counts, at most 4 characters: 950, 9.5k, 150k, 1.2M, 98M, 3.4B."""
    if n < 0:
        return "-" + count(-n)
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    if n < 10_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n < 1_000_000_000:
        return f"{n // 1_000_000}M"
    if n < 10_000_000_000:
        return f"{n / 1_000_000_000:.1f}B"
    return f"{n // 1_000_000_000}B"


def tokens(record: RunRecord) -> str:
    if record.tokens_raw == record.tokens_clean:
        return count(record.tokens_clean)
    return f"{count(record.tokens_raw)}→{count(record.tokens_clean)}"


#: After the result, the user's mark (``history mark``).
MARK_GLYPHS = {"good": "✓", "bad": "✗"}


def result_label(record: RunRecord) -> str:
    """The recorded result, then ✓ or ✗ when the user marked the run good or bad."""
    label = _RESULT.get(record.outcome, record.outcome)
    if record.feedback is None:
        return label
    return label[: _COLUMNS[4][1] - 1] + MARK_GLYPHS.get(record.feedback.mark, "?")


def row(record: RunRecord, *, now: float) -> tuple[str, ...]:
    return (
        when(record.started_at, now=now),
        short_alias(record.alias),
        record.provider,
        path_label(record),
        result_label(record),
        short_duration(record.duration_ms),
        tokens(record),
        usd(record.estimated_cost_usd),
    )


def _fit(text: str, width: int, justify: str) -> str:
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text.rjust(width) if justify == "right" else text.ljust(width)


def table_line(cells: Iterable[str], columns: tuple[tuple[str, int, str], ...] = _COLUMNS) -> str:
    """One row of the terminal table: fixed widths, 80 columns, no trailing blanks."""
    parts = [_fit(c, w, j) for c, (_h, w, j) in zip(cells, columns, strict=True)]
    return " ".join(parts).rstrip()


def plain_line(cells: Iterable[str]) -> str:
    """One row for a pipe: the cells whole, separated by tabs (``grep``, ``cut -f``, ``awk``)."""
    return "\t".join(cells)


def _print_table(
    rows: Iterable[tuple[str, ...]],
    columns: tuple[tuple[str, int, Literal["left", "right"]], ...],
    *,
    terminal: bool | None,
    empty: str,
) -> int:
    """Rows under a header: on a terminal a table of 80 columns, in a pipe tab-separated
    lines; ``empty`` on stderr when there are none. Returns how many rows were shown."""
    terminal = sys.stdout.isatty() if terminal is None else terminal

    def line(cells: Iterable[str]) -> str:
        return table_line(cells, columns) if terminal else plain_line(cells)

    shown = 0
    try:
        for cells in rows:
            if not shown:
                sys.stdout.write(line(h for h, _w, _j in columns) + "\n")
            sys.stdout.write(line(cells) + "\n")
            shown += 1
        sys.stdout.flush()
    except BrokenPipeError:
        _stop_on_closed_pipe()
        return shown
    if not shown:
        sys.stderr.write(empty + "\n")
    return shown


def print_runs_table(
    runs: Iterable[RunRecord], *, now: float | None = None, terminal: bool | None = None
) -> int:
    """The runs, newest first: on a terminal a table of 80 columns, in a pipe tab-separated
    lines with a header; a note on stderr when there are none."""
    at = time.time() if now is None else now
    return _print_table(
        (row(record, now=at) for record in runs),
        _COLUMNS,
        terminal=terminal,
        empty="no runs recorded (yet, or matching these filters)",
    )


def team_row(run: TeamRun, *, now: float) -> tuple[str, ...]:
    record = run.record
    return (
        when(record.started_at, now=now),
        f"{run.user}@{run.host}",
        short_alias(record.alias),
        path_label(record),
        result_label(record),
        short_duration(record.duration_ms),
        usd(record.estimated_cost_usd),
    )


def print_team_runs_table(
    runs: Iterable[TeamRun], *, now: float | None = None, terminal: bool | None = None
) -> int:
    """``history --team``: as :func:`print_runs_table`, with the member's ``user@host``."""
    at = time.time() if now is None else now
    return _print_table(
        (team_row(run, now=at) for run in runs),
        _TEAM_COLUMNS,
        terminal=terminal,
        empty="no runs in the team history (yet, or matching these filters)",
    )


def print_marked(run_id: str, mark: str, note: str | None) -> None:
    """``history mark``: one confirmation line on stdout."""
    sys.stdout.write(f"marked {run_id} {mark}" + (f": {note}" if note else "") + "\n")


def print_import_summary(
    file: object, report: Any, added: int, present: int, *, json_out: bool = False
) -> None:
    """``history import``: one summary line on stdout, each skipped line and dropped field on
    stderr (or all of it as one JSON object)."""
    skipped = [{"line": line, "reason": why} for line, why in report.skipped]
    dropped = dict(report.dropped_fields)
    if json_out:
        ui.print_json(
            {
                "file": str(file),
                "imported": added,
                "already_present": present,
                "duplicate_lines": report.duplicates,
                "skipped": skipped,
                "dropped_prompt_fields": dropped,
            }
        )
        return
    for key, lines in dropped.items():
        where = ", ".join(str(n) for n in lines[:10]) + (", …" if len(lines) > 10 else "")
        ui.warn(f"field {key!r} looks like prompt text: not imported (line {where})")
    for line, why in report.skipped[:20]:
        ui.warn(f"{file}:{line}: skipped: {why}")
    if len(report.skipped) > 20:
        ui.warn(f"… and {len(report.skipped) - 20} more skipped lines")
    reasons: dict[str, int] = {}
    for _line, why in report.skipped:
        reasons[why] = reasons.get(why, 0) + 1
    why_text = "; ".join(f"{n} {why}" for why, n in reasons.items())
    sys.stdout.write(
        f"imported {added} runs from {file}"
        + (f", {present} already in the history" if present else "")
        + (f", {report.duplicates} repeated in the file" if report.duplicates else "")
        + f", skipped {len(report.skipped)}"
        + (f" ({why_text})" if why_text else "")
        + "\n"
    )


def print_sync_result(result: Any, *, json_out: bool = False) -> None:
    """``history sync``: one line on stdout (the URL's password masked), or one JSON object."""
    if json_out:
        ui.print_json(result.to_dict())
        return
    already = result.sent - result.pushed
    sys.stdout.write(
        f"synced {result.pushed} runs to {result.target}"
        + (f" ({already} already there)" if already else "")
        + (f"; {result.pending} still to push" if result.pending else "")
        + (f"; {result.marks_pushed} marks" if result.marks_pushed else "")
        + (f" ({result.marks_pending} marks wait for their run)" if result.marks_pending else "")
        + "\n"
    )
