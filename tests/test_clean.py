"""Cleaning rules: escapes, control characters, carriage-return redraws, whitespace, line ends."""

from __future__ import annotations

import pytest

from codex_router.prompt.clean import (
    RULE_ANSI,
    RULE_CONTROL,
    RULE_CR,
    RULE_TRAILING,
    clean_line,
    render_terminal,
    split_lines,
    strip_ansi,
)
from codex_router.prompt.compress import compress_text

CLEAN_CASES = [
    ("plain", "hello world", "hello world"),
    ("ansi_colour", "\x1b[1;31mERROR\x1b[0m: boom", "ERROR: boom"),
    ("ansi_256_colour", "\x1b[38;5;208mwarn\x1b[39m", "warn"),
    (
        "osc8_hyperlink",
        "see \x1b]8;;https://example.com\x1b\\the docs\x1b]8;;\x1b\\ now",
        "see the docs now",
    ),
    ("osc_title_bel", "\x1b]0;my title\x07prompt$", "prompt$"),
    ("c1_csi", "\x9b31mred\x9b0m", "red"),
    ("control_chars", "bell\x07 and\x00 nul\x7f", "bell and nul"),
    ("tab_kept", "a\tb", "a\tb"),
    ("trailing_spaces", "text   \t", "text"),
    (
        "cr_progress_pip",
        "Downloading x.whl 10%\rDownloading x.whl 55%\rDownloading x.whl 100%",
        "Downloading x.whl 100%",
    ),
    (
        "cr_tqdm",
        " 10%|█         | 10/100 [00:01<00:09]\r100%|██████████| 100/100 [00:10<00:00]",
        "100%|██████████| 100/100 [00:10<00:00]",
    ),
    ("cr_shorter_redraw_leaves_tail", "abcdef\rXY", "XYcdef"),
    ("cr_erase_line", "progress 99%\r\x1b[KDone", "Done"),
    ("cr_erase_whole_line_2k", "old text\r\x1b[2Knew", "new"),
    ("cr_trailing_cr", "final state\r", "final state"),
    ("backspace_spinner", "working |\b/\b-\b\\\bdone", "working done"),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in CLEAN_CASES], ids=[c[0] for c in CLEAN_CASES]
)
def test_clean_line(raw: str, expected: str) -> None:
    assert clean_line(raw) == expected


SINK_CASES = [
    ("ansi", "\x1b[32mok\x1b[0m", RULE_ANSI),
    ("control", "a\x07b", RULE_CONTROL),
    ("cr", "1%\r100%", RULE_CR),
    ("trailing", "x  ", RULE_TRAILING),
]


@pytest.mark.parametrize(
    ("raw", "rule"), [c[1:] for c in SINK_CASES], ids=[c[0] for c in SINK_CASES]
)
def test_clean_line_reports_rule(raw: str, rule: str) -> None:
    seen: list[tuple[str, str]] = []
    clean_line(raw, lambda r, t: seen.append((r, t)))
    assert rule in {r for r, _ in seen}
    assert all(t for _, t in seen)


def test_strip_ansi_leaves_plain_text_alone() -> None:
    s = "no escapes here [0m"
    assert strip_ansi(s) is s


def test_render_terminal_pads_after_cursor_moves() -> None:
    assert render_terminal("ab\rabcd") == "abcd"


SPLIT_CASES = [
    ("empty", "", []),
    ("lf", "a\nb\n", ["a", "b"]),
    ("crlf", "a\r\nb\r\n", ["a", "b"]),
    ("no_final_newline", "a\nb", ["a", "b"]),
    ("lone_cr_is_redraw", "a\rb\n", ["a\rb"]),
    ("blank_lines", "a\n\n\nb", ["a", "", "", "b"]),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in SPLIT_CASES], ids=[c[0] for c in SPLIT_CASES]
)
def test_split_lines(text: str, expected: list[str]) -> None:
    assert split_lines(text) == expected


WHOLE_TEXT_CASES = [
    ("crlf_normalised", "first line\r\nsecond line\r\n", "first line\nsecond line\n"),
    ("blank_runs_squeezed", "para one\n\n\n\n\npara two\n", "para one\n\npara two\n"),
    ("trailing_ws", "alpha  \nbeta\t\n", "alpha\nbeta\n"),
    ("ansi_in_text", "\x1b[33mnote\x1b[0m: hi\n", "note: hi\n"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in WHOLE_TEXT_CASES], ids=[c[0] for c in WHOLE_TEXT_CASES]
)
def test_compress_text_cleaning(text: str, expected: str) -> None:
    assert compress_text(text).text == expected


def test_cleaning_rules_are_reported_with_tokens() -> None:
    res = compress_text("\x1b[31mred\x1b[0m   \n\n\n\nnext\n", count=lambda s: len(s))
    rules = {r.name: r for r in res.rules}
    assert rules[RULE_ANSI].lines_changed == 1 and rules[RULE_ANSI].tokens_removed == len(
        "\x1b[31m\x1b[0m"
    )
    assert rules[RULE_TRAILING].lines_changed == 1
    assert rules["blank_lines"].lines_removed == 2
    assert res.tokens_before == len("\x1b[31mred\x1b[0m   \n\n\n\nnext\n")
    assert res.tokens_after == len(res.text)
