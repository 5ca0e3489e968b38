"""No import cycle anywhere in the package.

Every import of a ``codex_router`` module counts (see :mod:`helpers.imports`). A cycle is named
module by module, so the fix (moving code to the module that owns it) is plain to see.
"""

from __future__ import annotations

from pathlib import Path

from helpers.imports import MODULES, find_cycle, imported


def test_the_import_graph_has_no_cycle() -> None:
    graph = {name: imported(name, path) for name, path in MODULES.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_every_kind_of_import_is_seen(tmp_path: Path) -> None:
    """Function-level, relative and ``from package import submodule`` imports all count."""
    source = (
        "from __future__ import annotations\n"
        "from . import clean\n"
        "from .sections import is_error_line\n"
        "from codex_router import errors, __version__\n"
        "import codex_router.dirs\n"
        "def f():\n"
        "    from codex_router.tokens import counter\n"
        "    from codex_router.policy.settings import resolve_settings\n"
    )
    module = tmp_path / "example.py"
    module.write_text(source, encoding="utf-8")
    assert imported("codex_router.prompt.example", module) == {
        "codex_router.prompt.clean",
        "codex_router.prompt.sections",
        "codex_router.errors",
        "codex_router",
        "codex_router.dirs",
        "codex_router.tokens.counter",
        "codex_router.policy.settings",
    }
