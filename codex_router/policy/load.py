"""Read a policy YAML file into a tree whose leaves remember their file and line.

The tree is plain dicts (mappings) whose leaves are :class:`Located` values; YAML lists are
leaves too, because a list in a policy replaces the default list as a whole. Keeping the line
of every value lets any later error, and ``policy show``, name ``file:line: key``.
"""

from __future__ import annotations

import contextlib
import marshal  # built in, no class objects: the parsed-policy cache's format (not pickle)
import os
import zlib  # built in; hashlib would load OpenSSL (~2 ms) for a file name
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from codex_router.errors import PolicyError

if TYPE_CHECKING:
    from yaml import MappingNode, Node, SafeLoader

#: Largest policy file read; a policy is a few KB, anything bigger is a mistake.
MAX_POLICY_BYTES = 1_000_000

#: Deepest nesting of mappings and lists (the built-in policy needs 3): deeper input would
#: otherwise hit Python's recursion limit while it is converted.
MAX_POLICY_DEPTH = 32

#: Longest number written in a policy, in characters (a 5,000-digit integer is past what
#: ``int()`` reads, and one of 400 digits is past what a float holds).
MAX_NUMBER_CHARS = 100

#: The only explicit YAML tags allowed (``!!str 5`` and the like); ``!!python/…`` and any
#: other tag are refused before anything is built.
_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


class Located(NamedTuple):
    """A policy value with where it was written (``line`` is 1-based)."""

    value: Any
    file: str
    line: int


Tree = dict[str, Any]  # str -> Tree | Located


def read_policy_file(path: Path, cache_dir: Path | None = None) -> Tree:
    """Read and parse ``path``; every failure is a :class:`PolicyError` naming the file.

    With ``cache_dir``, the parsed tree is kept per file (keyed by path, size and mtime): YAML
    parsing is ~15 ms of every ``run``, and policies rarely change between runs.
    """
    if cache_dir is not None:
        cached = _cached_tree(path, cache_dir)
        if cached is not None:
            return cached[1]
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError("policy file not found", file=str(path)) from None
    except IsADirectoryError:
        raise PolicyError("is a directory, not a policy file", file=str(path)) from None
    except OSError as exc:
        raise PolicyError(f"cannot read policy file: {exc.strerror}", file=str(path)) from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"policy file is larger than {MAX_POLICY_BYTES} bytes", file=str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyError("not valid UTF-8", file=str(path), line=line) from None
    tree = parse_policy_text(text, str(path))
    if cache_dir is not None:
        _store_tree(path, cache_dir, tree)
    return tree


def _cache_entry(path: Path, cache_dir: Path) -> tuple[Path, str] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    where = str(path.absolute())
    name = f"{zlib.crc32(where.encode()):08x}-{len(where)}"  # a clash only costs a re-parse
    # "v2": trees cached before anchors/tags/deep nesting were refused are parsed again
    key = f"v2|{where}|{st.st_size}|{st.st_mtime_ns}"
    return cache_dir / "policy" / f"{name}.marshal", key


def _to_plain(tree: Tree) -> dict[str, Any]:
    # marshal holds no class objects (it refuses a NamedTuple): Located leaves become tuples.
    return {
        k: _to_plain(v) if isinstance(v, dict) else (v.value, v.file, v.line)
        for k, v in tree.items()
    }


def _from_plain(data: dict[str, Any]) -> Tree:
    return {k: _from_plain(v) if isinstance(v, dict) else Located(*v) for k, v in data.items()}


def _cached_tree(path: Path, cache_dir: Path) -> tuple[str, Tree] | None:
    entry = _cache_entry(path, cache_dir)
    if entry is None:
        return None
    file, key = entry
    try:
        with open(file, "rb") as handle:
            stored_key, plain = marshal.load(handle)
        if stored_key != key:
            return None
        return stored_key, _from_plain(plain)
    except (OSError, EOFError, ValueError, TypeError, AttributeError):
        return None


def _holds_credentials(tree: Tree) -> bool:
    from codex_router.redact import has_credentials

    for node in tree.values():
        if isinstance(node, dict):
            if _holds_credentials(node):
                return True
            continue
        values = node.value if isinstance(node.value, list) else [node.value]
        if any(isinstance(v, str) and has_credentials(v) for v in values):
            return True
    return False


def _store_tree(path: Path, cache_dir: Path, tree: Tree) -> None:
    # lazy: tempfile ~2 ms; a run whose policy is cached (all but the first) writes nothing
    from codex_router.fsutil import atomic_write_bytes

    entry = _cache_entry(path, cache_dir)
    if entry is None:
        return
    file, key = entry
    if _holds_credentials(tree):
        # a URL with a password (endpoints.*_base_url) is never copied into the cache
        with contextlib.suppress(OSError):
            file.unlink(missing_ok=True)
        return
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(file, marshal.dumps((key, _to_plain(tree))), exact_mode=0o600)
    except (OSError, ValueError):
        pass  # no cache (or a value marshal cannot hold): the next run parses again


def parse_policy_text(text: str, file: str) -> Tree:
    """Parse YAML text into a located tree (an empty document is an empty policy)."""
    import yaml  # lazy: ~15 ms; a run whose policy is cached (all but the first) parses no YAML

    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_events(text, file, loader_cls)
        root = yaml.compose(text, Loader=loader_cls)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise PolicyError(f"invalid YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"invalid YAML: {exc}", file=file) from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise PolicyError(
            "the top level of a policy must be a mapping of keys to values",
            file=file,
            line=root.start_mark.line + 1,
        )
    return _mapping(root, file, "", loader_cls)


def _check_events(text: str, file: str, loader_cls: type[SafeLoader]) -> None:
    """Refuse what would make building the tree explode or crash, before anything is built.

    The YAML event stream is read flat (no recursion, nothing expanded), so an alias bomb
    ("billion laughs"), 990 levels of nesting or a ``!!python/…`` tag costs one pass.
    """
    import yaml

    depth = 0
    for event in yaml.parse(text, Loader=loader_cls):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise PolicyError(
                "YAML anchors and aliases (&name, *name) are not supported",
                file=file,
                line=line,
                hint="write the value out in full where it is used",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _CORE_TAGS:
            raise PolicyError(
                f"YAML tag {tag!r} is not supported",
                file=file,
                line=line,
                hint="remove the tag: a policy holds only strings, numbers, booleans, "
                "lists and mappings",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_POLICY_DEPTH:
                raise PolicyError(
                    f"nested more than {MAX_POLICY_DEPTH} levels deep",
                    file=file,
                    line=line,
                    hint="a policy needs only a few levels of mappings and lists",
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif (
            isinstance(event, yaml.ScalarEvent)
            and not event.style
            and len(event.value) > MAX_NUMBER_CHARS
            and _is_number(event.value, loader_cls)
        ):
            raise PolicyError(
                f"number is longer than {MAX_NUMBER_CHARS} characters",
                file=file,
                line=line,
                hint="write a smaller number, or quote it if it is meant as text",
            )


def _is_number(value: str, loader_cls: type[SafeLoader]) -> bool:
    """Whether YAML would read the plain scalar ``value`` as an int or a float."""
    resolvers = loader_cls.yaml_implicit_resolvers.get(value[:1], [])
    return any(tag in _NUMBER_TAGS and regexp.match(value) for tag, regexp in resolvers)


# Below, a node's kind is told by its ``id`` ("scalar", "sequence", "mapping"), which saves
# these helpers importing yaml themselves.


def _mapping(node: MappingNode, file: str, prefix: str, loader_cls: type[SafeLoader]) -> Tree:
    out: Tree = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if key_node.id != "scalar":
            raise PolicyError(
                "keys must be plain strings", file=file, line=line, key=prefix or None
            )
        key = str(key_node.value)
        dotted = f"{prefix}.{key}" if prefix else key
        if key == "<<":
            raise PolicyError("YAML merge keys (<<) are not supported", file=file, line=line)
        if key in out:
            raise PolicyError("key appears twice", file=file, line=line, key=dotted)
        if value_node.id == "mapping":
            out[key] = _mapping(value_node, file, dotted, loader_cls)
        else:
            value_line = value_node.start_mark.line + 1
            out[key] = Located(_plain(value_node, loader_cls, file, value_line), file, value_line)
    return out


def _plain(node: Node, loader_cls: type[SafeLoader], file: str, line: int) -> Any:
    """Convert a scalar or sequence node to Python values with YAML's safe type rules."""
    import yaml

    loader = loader_cls("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:  # e.g. ``!!seq 5``
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark is not None else line
        problem = exc.problem or exc.context or "invalid value"
        raise PolicyError(
            f"invalid YAML: {problem}",
            file=file,
            line=where,
            hint="fix the value or remove its explicit tag (!!seq, !!map, …)",
        ) from None
    except (ValueError, TypeError, LookupError) as exc:  # e.g. ``!!int abc``, ``!!bool maybe``
        raise PolicyError(
            f"invalid YAML value: {exc}",
            file=file,
            line=line,
            hint="fix the value or remove its explicit tag (!!int, !!bool, …)",
        ) from None
    finally:
        loader.dispose()


def merge_trees(base: Tree, override: Tree) -> Tree:
    """Overlay ``override`` on ``base``: mappings merge key by key, anything else replaces."""
    merged: Tree = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_trees(merged[key], value)
        else:
            merged[key] = value
    return merged
