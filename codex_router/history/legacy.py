"""Reading the earlier cost router's ``cost_router.jsonl`` into :class:`RunRecord` values. Pure.

That script (``codex_cost_router.py``) wrote one JSON object per line to
``$CODEX_HOME/logs/cost_router.jsonl``: before launching (every run, dry runs included, with no
outcome) and, in its newer variant, once after the run with ``returncode``, ``success`` and
``latency_ms``. It stored no prompt text; the import checks anyway: only the fields named below
are read, and a field whose name says it holds prompt or answer text is dropped and reported.

Each record gets a stable id from its content (``cost-router-<sha256 prefix>``), so importing the
same file twice adds nothing. Mapping:

==========================  =====================================================
old field                   codex-route
==========================  =====================================================
``timestamp`` (ISO 8601)    ``started_at``
``model``                   ``alias``
``provider``                ``provider``
``codex_provider``          the attempt's path (newer variant: ``attempt_provider``)
``fallback_order``          ``path_order`` (after the path)
``original_input_tokens``   ``tokens_raw`` (the old script's chars/4 estimate)
``estimated_input_tokens``  ``tokens_clean`` (idem)
``estimated_cost_usd``      ``estimated_cost_usd``
``*_reason``                ``reasons``
``execution_mode``          ``dry-run`` → outcome ``dry_run``; otherwise ``success``
                            / ``failed`` from ``success``/``returncode`` when the
                            record has them, else ``imported`` (result unknown)
==========================  =====================================================
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from codex_router.history.record import Attempt, RunRecord

#: The run id prefix of imported records (codex-route's own ids are uuid4 hex).
ID_PREFIX = "cost-router-"
#: Field names that would hold prompt or answer text: never imported, always reported.
PROMPT_LIKE_KEYS = frozenset(
    {
        "prompt",
        "optimized_prompt",
        "original_prompt",
        "prompt_text",
        "input",
        "input_text",
        "messages",
        "text",
        "content",
        "output",
        "output_text",
        "response",
        "completion",
        "answer",
        "stdout",
        "stderr",
    }
)
_PATHS = ("standard", "litellm", "huggingface")
_COMPLEXITIES = ("simple", "medium", "complex")
#: Longest reason string kept (the old reasons are one short sentence each).
_MAX_TEXT = 300
#: Scalars of the old record kept under ``extra`` (numbers, names, flags; never free text).
_EXTRA_KEYS = (
    "codex_provider",
    "requested_codex_provider",
    "codex_profile",
    "codex_model",
    "execution_mode",
    "estimated_output_tokens",
    "compression_ratio",
    "policy_max_cost_usd",
    "estimated_savings_usd",
    "prompt_category",
    "prompt_risk_score",
    "prompt_semantic_score",
    "attempt_provider",
    "attempt_model",
    "returncode",
    "success",
    "latency_ms",
    "ttft_ms",
    "generated_tokens",
    "tokens_per_second",
    "kpi_eligible",
    "business_reward",
)


@dataclass
class ImportReport:
    """What reading the file found: records to add, lines skipped, fields dropped."""

    records: list[RunRecord] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    dropped_fields: dict[str, list[int]] = field(default_factory=dict)  # key → lines
    duplicates: int = 0  # the same record twice in the file


class _Skip(Exception):
    pass


def _text(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise _Skip(f"no {name}")
        return None
    if not isinstance(value, str):
        raise _Skip(f"{name} is not a string")
    return value.strip()[:_MAX_TEXT]


def _int(value: Any, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Skip(f"{name} is not a number")
    if value < 0:
        raise _Skip(f"{name} is negative")
    return int(value)


def _float(value: Any, name: str) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Skip(f"{name} is not a number")
    if value < 0:
        raise _Skip(f"{name} is negative")
    return float(value)


def _timestamp(value: Any) -> float:
    if not isinstance(value, str) or not value.strip():
        raise _Skip("no timestamp")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Skip(f"timestamp {value[:40]!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise _Skip(f"timestamp {value[:40]!r} has no UTC offset")
    return moment.timestamp()


def record_id(data: dict[str, Any]) -> str:
    """A stable id from the record's content (its prompt-like fields left out)."""
    kept = {k: v for k, v in data.items() if k not in PROMPT_LIKE_KEYS}
    canonical = json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return ID_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _outcome(
    data: dict[str, Any], path: str, model: str | None
) -> tuple[str, int, tuple[Attempt, ...], int]:
    """``(outcome, exit code, attempts, duration ms)``."""
    mode = data.get("execution_mode")
    if mode == "dry-run":
        return "dry_run", 0, (), 0
    returncode = data.get("returncode")
    success = data.get("success")
    if returncode is None and success is None:
        # The older script logged before launching: what happened is unknown.
        return "imported", 0, (), 0
    if returncode is not None and (isinstance(returncode, bool) or not isinstance(returncode, int)):
        raise _Skip("returncode is not a whole number")
    if success is not None and not isinstance(success, bool):
        raise _Skip("success is not true or false")
    ok = success if success is not None else returncode == 0
    duration = _int(data.get("latency_ms"), "latency_ms")
    attempt = Attempt(
        path=path,
        model=model,
        exit_code=returncode,
        duration_ms=duration,
        outcome="ok" if ok else "failed",
    )
    return ("success" if ok else "failed"), (returncode or 0), (attempt,), duration


def to_run_record(
    data: dict[str, Any],
    *,
    deep_cost: Callable[[int, int], float],
    version: str,
) -> RunRecord:
    """One old record as a :class:`RunRecord`; raises ``_Skip`` with the reason it cannot be."""
    started_at = _timestamp(data.get("timestamp"))
    alias = _text(data.get("model"), "model", required=True)
    provider = _text(data.get("provider"), "provider") or "auto"
    path = _text(data.get("attempt_provider") or data.get("codex_provider"), "codex_provider")
    path = path if path in _PATHS else "standard"
    order_raw = data.get("fallback_order")
    order = [p for p in order_raw if p in _PATHS] if isinstance(order_raw, list) else []
    path_order = tuple(dict.fromkeys([path, *order]))
    model = _text(data.get("attempt_model"), "attempt_model") or alias
    outcome, exit_code, attempts, duration = _outcome(data, path, model)
    tokens_raw = _int(data.get("original_input_tokens"), "original_input_tokens")
    tokens_clean = _int(data.get("estimated_input_tokens"), "estimated_input_tokens")
    output_tokens = _int(data.get("estimated_output_tokens"), "estimated_output_tokens")
    reasons = tuple(
        reason
        for key in ("routing_reason", "provider_reason", "codex_provider_reason")
        if (reason := _text(data.get(key), key))
    )
    category = data.get("prompt_category")
    extra: dict[str, Any] = {"imported_from": "cost_router.jsonl"}
    for key in _EXTRA_KEYS:
        value = data.get(key)
        number = isinstance(value, bool | int | float) and math.isfinite(value)
        if number or (isinstance(value, str) and len(value) <= 80):
            extra[key] = value
    return RunRecord(
        run_id=record_id(data),
        started_at=started_at,
        duration_ms=duration,
        outcome=outcome,
        exit_code=exit_code,
        alias=alias or "",
        provider=provider.casefold(),
        path_order=path_order,
        skipped={},
        attempts=attempts,
        complexity=category if category in _COMPLEXITIES else "unknown",
        long_context=False,
        intents=(),
        reasons=reasons,
        tokens_raw=tokens_raw,
        tokens_clean=tokens_clean,
        rules={},
        estimated_cost_usd=_float(data.get("estimated_cost_usd"), "estimated_cost_usd"),
        deep_cost_usd=deep_cost(tokens_clean, output_tokens),
        provenance={},
        codex_version=None,
        codex_route_version=version,
        dry_run=outcome == "dry_run",
        extra=extra,
    )


def read_legacy_lines(
    lines: Iterable[str], *, deep_cost: Callable[[int, int], float], version: str
) -> ImportReport:
    """Every line of the old file: records to add, and what was skipped or dropped, and why."""
    report = ImportReport()
    seen: set[str] = set()
    for number, line in _numbered(lines):
        try:
            data = json.loads(line)
        except ValueError:
            report.skipped.append((number, "not valid JSON"))
            continue
        if not isinstance(data, dict):
            report.skipped.append((number, "not a JSON object"))
            continue
        for key in sorted(k for k in data if k.casefold() in PROMPT_LIKE_KEYS):
            report.dropped_fields.setdefault(key, []).append(number)
            del data[key]
        try:
            record = to_run_record(data, deep_cost=deep_cost, version=version)
        except _Skip as why:
            report.skipped.append((number, str(why)))
            continue
        if record.run_id in seen:
            report.duplicates += 1
            continue
        seen.add(record.run_id)
        report.records.append(record)
    return report


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield number, line
