"""The layout is the architecture: each package (and top-level module) says in its docstring what
it may import ("May import: a, b, c"), and the code keeps to it.

An import of ``codex_router.x`` anywhere in a unit (at module level or inside a function) counts.
See docs/architecture.md for the layers these lines draw.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "codex_router"
MAY_IMPORT = re.compile(r"^May import:(?P<names>.*?)(?:\n\s*\n|\Z)", re.M | re.S)


def _unit_of(module: str) -> str:
    """``codex_router.codex.launch`` → ``codex``; ``codex_router.errors`` → ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``codex_router`` module or package ``path`` imports, resolved to dotted names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("codex_router"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # from codex_router import x: x is a submodule (or __version__)
            if base == "codex_router":
                found.update(
                    f"codex_router.{a.name}" for a in node.names if a.name != "__version__"
                )
            elif base.startswith("codex_router."):
                found.add(base)
    return found


def _units() -> dict[str, list[Path]]:
    units: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        units[_unit_of(_module_name(path))].append(path)
    return units


def _declared(unit: str) -> set[str] | None:
    where = PACKAGE / unit / "__init__.py" if (PACKAGE / unit).is_dir() else PACKAGE / f"{unit}.py"
    doc = ast.get_docstring(ast.parse(where.read_text(encoding="utf-8"))) or ""
    match = MAY_IMPORT.search(doc)
    if match is None:
        return None
    names = match["names"].replace("\n", " ").strip().rstrip(".")
    return set() if names in ("", "nothing") else {n.strip() for n in names.split(",")}


UNITS = _units()


@pytest.mark.parametrize("unit", sorted(u for u in UNITS if u))
def test_unit_imports_only_what_its_docstring_allows(unit: str) -> None:
    declared = _declared(unit)
    assert declared is not None, f"{unit}: its docstring has no 'May import:' line"
    unknown = declared - set(UNITS)
    assert not unknown, f"{unit}: 'May import' names no such package or module: {sorted(unknown)}"
    used: dict[str, set[str]] = defaultdict(set)
    for path in UNITS[unit]:
        for target in _imports(path):
            other = _unit_of(target)
            if other and other != unit:
                used[other].add(str(path.relative_to(PACKAGE.parent)))
    undeclared = {other: sorted(where) for other, where in used.items() if other not in declared}
    assert not undeclared, f"{unit} imports what its docstring does not allow: {undeclared}"


def test_unit_dependencies_form_layers() -> None:
    """The declared unit graph has no cycle, so the packages stack in layers."""
    graph = {u: (_declared(u) or set()) - {u} for u in UNITS if u}
    done: set[str] = set()

    def visit(unit: str, trail: tuple[str, ...]) -> None:
        if unit in trail:
            cycle = [*trail[trail.index(unit) :], unit]
            raise AssertionError(f"declared imports form a cycle: {' -> '.join(cycle)}")
        if unit in done:
            return
        for other in sorted(graph.get(unit, ())):
            visit(other, (*trail, unit))
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, ())
