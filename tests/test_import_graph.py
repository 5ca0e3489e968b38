"""No import cycle anywhere in the package.

Every import of a ``codex_router`` module counts: at module level, inside a function, under
``if TYPE_CHECKING``, relative (``from . import x``) and ``from codex_router.pkg import x`` where
``x`` is a submodule. A cycle is named module by module, so the fix (moving code to the module
that owns it) is plain to see.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "codex_router"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> set[str]:
    """The ``codex_router`` modules that module ``name`` (file ``path``) imports anywhere."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as ``[a, b, ..., a]``, or None."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        trail.append(node)
        for other in sorted(graph[node]):
            if state.get(other) == "open":
                return [*trail[trail.index(other) :], other]
            if other not in state and (found := visit(other)):
                return found
        trail.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_import_graph_has_no_cycle() -> None:
    graph = {name: _imported(name, path) for name, path in MODULES.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


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
    assert _imported("codex_router.prompt.example", module) == {
        "codex_router.prompt.clean",
        "codex_router.prompt.sections",
        "codex_router.errors",
        "codex_router",
        "codex_router.dirs",
        "codex_router.tokens.counter",
        "codex_router.policy.settings",
    }
