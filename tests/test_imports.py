"""Import budget: --help and light commands must not load the heavy libraries (SPEC §10)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("tiktoken", "httpx", "tomlkit", "regex", "rich", "platformdirs")


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from codex_router.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(["--help"])
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_subcommand_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(["run", "--help"])
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}


def test_version_imports_nothing_heavy() -> None:
    loaded = _modules_after(["--version"])
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
