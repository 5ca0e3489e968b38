"""The exit-code table in docs/reference/exit-codes.md matches codex_router/errors.py."""

from __future__ import annotations

import re
from pathlib import Path

from codex_router.errors import EXIT_CODE_MEANINGS, ExitCode

DOC = Path(__file__).resolve().parents[1] / "docs" / "reference" / "exit-codes.md"


def test_every_exit_code_is_documented_with_its_meaning() -> None:
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", DOC.read_text("utf-8"), re.M))
    assert {int(k) for k in rows} == {int(c) for c in ExitCode}
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert rows[str(int(code))] == meaning
