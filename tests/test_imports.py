"""Import budget: what --help, --version, the dry run and the pipe commands may load.

Start-up budgets (docs/development.md): ``--help`` ≤ 1.0× ``codex --version``, ``run --dry-run``
≤ 1.5×, ``compress`` on a small log ≤ 1.5× ``python -c pass`` + 5 ms; benchmarks/bench_cli.py
measures them. These tests pin down the design that keeps them: the heavy libraries stay out,
the Typer app loads no work module until a command runs (the command modules import their work
inside the command function), a dry run loads nothing of launching, and the pipe path loads
neither the Typer app nor the crash log's modules.
"""

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


#: What the Typer app may load before a command runs: the wiring layer and what it stands on.
WIRING = {
    "codex_router",
    "codex_router.cli",
    "codex_router.boundary",
    "codex_router.errors",
    "codex_router.startup",
}


def _ours(loaded: set[str]) -> set[str]:
    return {m for m in loaded if m == "codex_router" or m.startswith("codex_router.")}


def test_help_and_version_load_no_work_module() -> None:
    for argv in (["--help"], ["run", "--help"], ["--version"], ["history", "--help"]):
        ours = _ours(_modules_after(argv))
        commands = {m for m in ours if m.startswith("codex_router.commands")}
        assert ours - commands == WIRING, (argv, ours - commands - WIRING)
        assert "codex_router.commands.pipe" not in commands, argv


def test_the_dry_run_loads_nothing_of_launching(tmp_path, codex_installed) -> None:
    argv = ["run", "--dry-run", "--json", "--no-stdin", "fix the typo"]
    _modules_after(argv)  # the first run on a machine builds the token index
    loaded = _modules_after(argv)
    assert "codex_router.run.plan" in loaded  # the dry run did run
    launching = {
        "codex_router.run.execute",
        "codex_router.codex.launch",
        "codex_router.codex.config_guard",
        "codex_router.history.store",
        "codex_router.local.fast_path",
        "codex_router.views.run",
        "sqlite3",
        "rich",
        "hashlib",  # the work tree's fingerprint (OpenSSL): only around a real attempt
        "regex",  # an ASCII prompt is counted without it
        "tempfile",  # atomic writes only: a dry run writes nothing
        "glob",
        "tomllib",  # only a config.toml to check needs it, and the test's CODEX_HOME has none
    }
    assert not loaded & launching, loaded & launching


def test_pipe_path_loads_no_crash_log_report_or_view_module() -> None:
    """A plain `compress` loads the prompt package and the boundary, and nothing that only an
    error, the crash log, the token report or the views need."""
    code = (
        "import sys\nfrom codex_router.entry import main\nrc = main(['compress', '-q'])\n"
        "sys.stderr.write(' '.join(sorted(sys.modules)))\nsys.exit(rc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=b"x 1\nx 2\n", capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stderr.decode().split())
    unwanted = {
        "platform",
        "traceback",
        "json",
        "codex_router.cli",
        "codex_router.errors",
        "codex_router.dirs",
        "codex_router.ui",
        "codex_router.tokens.counter",
        "codex_router.views.compress",
    }
    assert not loaded & unwanted, loaded & unwanted
    assert {"codex_router.boundary", "codex_router.commands.pipe"} <= loaded
