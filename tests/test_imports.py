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


def test_lean_path_imports_no_cli_framework() -> None:
    """The console script runs `compress` without Typer/Click (~35 ms) or anything heavy."""
    code = (
        "import sys\nfrom codex_router.entry import main\nrc = main(['compress'])\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))\nsys.exit(rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=b"x 1\nx 2\n", capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = {m.split(".")[0] for m in done.stderr.decode().split()}
    # (pathlib is left out: an editable install's import hook loads it before any of our code)
    heavy = {
        "typer",
        "click",
        "rich",
        "tiktoken",
        "httpx",
        "tomlkit",
        "regex",
        "platformdirs",
        "yaml",
        "typing",
        "dataclasses",
    }
    assert not loaded & heavy, loaded & heavy
