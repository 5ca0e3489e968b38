"""The layout is the architecture: each package (and top-level module) says in its docstring what
it may import ("May import: a, b, c"), and the code keeps to it.

An import of ``codex_router.x`` anywhere in a unit (at module level or inside a function) counts.
See docs/architecture.md for the layers these lines draw.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict

import pytest

from helpers.imports import MODULES, PACKAGE, find_cycle, imported

MAY_IMPORT = re.compile(r"^May import:(?P<names>.*?)(?:\n\s*\n|\Z)", re.M | re.S)


def _unit_of(module: str) -> str:
    """``codex_router.codex.launch`` → ``codex``; ``codex_router.errors`` → ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _units() -> dict[str, list[str]]:
    """Each unit (package or top-level module) and the dotted names of its modules."""
    units: dict[str, list[str]] = defaultdict(list)
    for name in MODULES:
        units[_unit_of(name)].append(name)
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
    for name in UNITS[unit]:
        for target in imported(name, MODULES[name]):
            other = _unit_of(target)
            if other and other != unit:
                used[other].add(str(MODULES[name].relative_to(PACKAGE.parent)))
    undeclared = {other: sorted(where) for other, where in used.items() if other not in declared}
    assert not undeclared, f"{unit} imports what its docstring does not allow: {undeclared}"


def test_unit_dependencies_form_layers() -> None:
    """The declared unit graph has no cycle, so the packages stack in layers."""
    graph = {u: (_declared(u) or set()) - {u} for u in UNITS if u}
    cycle = find_cycle(graph)
    assert cycle is None, f"declared imports form a cycle: {' -> '.join(cycle or [])}"
