"""fit_to_budget: head + tail + must-keep lines with a marker, always within the budget."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_router.prompt.budget import BudgetResult, fit_to_budget

words = lambda s: len(s.split())  # noqa: E731 - deterministic fake token counter
chars = len


def log(n: int, errors: dict[int, str] | None = None) -> str:
    errors = errors or {}
    return "".join((errors.get(i) or f"line {i} ok") + "\n" for i in range(n))


def test_fits_unchanged() -> None:
    text = log(10)
    res = fit_to_budget(text, 1000, words)
    assert res == BudgetResult(text, False, True, 30, 30, 0, 0, 0, "fits")


def test_head_tail_marker_and_must_keep() -> None:
    text = (
        log(300, {150: "ERROR boom in worker", 151: "  at src/worker.py:42"})
        + "summary: 1 failed\n"
    )
    res = fit_to_budget(text, 150, words)
    lines = res.text.splitlines()
    assert (
        res.truncated
        and res.fits
        and res.tokens_after <= 150
        and words(res.text) == res.tokens_after
    )
    assert lines[0] == "line 0 ok"  # head
    assert lines[-1] == "summary: 1 failed"  # tail / last non-blank line
    assert "ERROR boom in worker" in lines and "  at src/worker.py:42" in lines
    marker = next(ln for ln in lines if ln.startswith("[… "))
    assert f"{res.lines_removed} lines" in marker and "max_input_tokens=150" in marker
    # order: head, marker, kept must-keep lines, tail
    assert (
        lines.index(marker) < lines.index("ERROR boom in worker") < lines.index("summary: 1 failed")
    )
    assert res.tokens_removed == res.tokens_before - res.tokens_after
    assert json.loads(json.dumps(res.to_dict()))["truncated"] is True


def test_must_keep_alone_exceeds_budget_keeps_latest() -> None:
    errors = {i: f"ERROR number {i} failed badly here" for i in range(0, 200, 2)}
    res = fit_to_budget(log(200, errors), 120, words)
    assert res.fits and res.tokens_after <= 120
    assert res.must_keep_dropped > 0 and "exceed" in res.note
    lines = res.text.splitlines()
    assert "ERROR number 198 failed badly here" in lines  # latest errors first
    assert "ERROR number 0 failed badly here" not in lines
    assert any("must-keep lines also dropped" in ln for ln in lines)


def test_budget_too_small_for_marker() -> None:
    res = fit_to_budget(log(100), 3, words)
    assert res.text == "" and res.truncated and not res.fits and "does not fit" in res.note


BUDGETS = [("tiny", 40), ("small", 100), ("medium", 400), ("large", 2000)]


@pytest.mark.parametrize("budget", [b for _, b in BUDGETS], ids=[n for n, _ in BUDGETS])
def test_result_within_budget_chars(budget: int) -> None:
    text = log(500, {250: "FATAL: out of memory", 400: "Traceback (most recent call last):"})
    res = fit_to_budget(text, budget, chars)
    assert res.tokens_after == len(res.text)
    assert (res.tokens_after <= budget) or not res.fits


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just("ERROR bad thing"),
            st.just("x.py:3 here"),
            st.text(alphabet="ab c", max_size=20),
        ),
        min_size=1,
        max_size=120,
    ),
    st.integers(min_value=1, max_value=400),
)
def test_property_never_over_budget_and_keeps_must_keep_when_room(
    lines: list[str], budget: int
) -> None:
    text = "\n".join(lines) + "\n"
    res = fit_to_budget(text, budget, words)
    if res.fits:
        assert words(res.text) <= budget
    if not res.truncated:
        assert res.text == text
    elif res.fits and res.must_keep_dropped == 0:
        out = set(res.text.splitlines())
        assert {ln for ln in lines if ln in ("ERROR bad thing", "x.py:3 here")} <= out
