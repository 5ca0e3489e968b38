"""Regular expressions compiled once per interpreter instead of once per process.

``codex-route compress`` in a pipe is a short process, and for it importing :mod:`re` (and
:mod:`enum` with it) costs ~5 ms and compiling this package's patterns ~2.5 ms -- as much as
compressing 150 KB of log. Only the pattern *compiler* is Python code; the engine is built in
(``_sre``). So :func:`compile` keeps the engine code of each pattern in a small cache file next
to this package's bytecode (``__pycache__/_regex.<cache tag>.cache``, written like a ``.pyc``:
on first use, and not when ``PYTHONDONTWRITEBYTECODE`` is set) and later hands it to
``_sre.compile`` directly, without importing :mod:`re`.

The cache is only used by the exact interpreter build that wrote it (version string, engine
MAGIC and code size). Anything unexpected -- no cache, another interpreter, an unwritable
directory, an engine that rejects the code (it validates it) or a changed private API of
:mod:`re` -- falls back to :func:`re.compile`. Either way the pattern object is the one
:func:`re.compile` would build: same pattern, flags and engine code.
"""

from __future__ import annotations

import _sre
import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from re import Pattern

_FORMAT = 1
_HEADER = (_FORMAT, sys.version, sys.maxunicode, _sre.MAGIC, _sre.CODESIZE)
#: A cache holding more entries than this is rewritten with this process's patterns only
#: (patterns edited during development would otherwise pile up).
_MAX_ENTRIES = 256

_Entry = tuple  # (flags, code, groups, groupindex, indexgroup): the arguments of _sre.compile

_loaded: dict[tuple[str, int], _Entry] | None = None
_used: dict[tuple[str, int], _Entry] = {}
_new = False


def cache_path() -> str | None:
    """Where the cache of this interpreter lives (None: no bytecode cache dir for it)."""
    tag = sys.implementation.cache_tag
    if tag is None or sys.pycache_prefix:
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "__pycache__", f"_regex.{tag}.cache")


def _load() -> dict[tuple[str, int], _Entry]:
    path = cache_path()
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = handle.read()  # marshal.load(handle) reads piece by piece: ~5x slower
            header, entries = marshal.loads(data)
            if header == _HEADER and isinstance(entries, dict):
                return entries
        except (OSError, EOFError, ValueError, TypeError):
            pass
    return {}


def compile(pattern: str, flags: int = 0) -> Pattern[str]:
    """``re.compile(pattern, flags)``, from the cache when it holds this pattern."""
    global _loaded
    if _loaded is None:
        _loaded = _load()
    flags = int(flags)  # re.RegexFlag members cannot be marshalled into the cache
    key = (pattern, flags)
    entry = _loaded.get(key)
    if entry is not None:
        try:
            compiled = _sre.compile(pattern, *entry)
        except Exception:  # the engine refused the code: compile it afresh
            pass
        else:
            _used[key] = entry
            return compiled
    return _compile_and_record(pattern, flags)


def _compile_and_record(pattern: str, flags: int) -> Pattern[str]:
    global _new
    import re

    compiled = re.compile(pattern, flags)
    try:  # re's compiler, step by step, to keep the arguments it passes to _sre.compile
        from re import _compiler, _parser

        parsed = _parser.parse(pattern, flags)
        code = [int(op) for op in _compiler._code(parsed, flags)]  # opcodes are int subclasses
        groupindex = dict(parsed.state.groupdict)
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        entry = (
            int(flags | parsed.state.flags),
            code,
            parsed.state.groups - 1,
            groupindex,
            tuple(indexgroup),
        )
        again = _sre.compile(pattern, *entry)
        if (again.flags, again.groups, again.groupindex) != (
            compiled.flags,
            compiled.groups,
            compiled.groupindex,
        ):
            return compiled
    except Exception:  # a Python whose re internals differ: no cache, same pattern
        return compiled
    if not _new:
        _new = True
        import atexit

        atexit.register(save)
    _used[(pattern, flags)] = entry
    return compiled


def save() -> None:
    """Write the cache if this process compiled a pattern it did not hold (at exit)."""
    global _new
    path = cache_path()
    if not _new or path is None or sys.dont_write_bytecode:
        return
    _new = False
    entries = dict(_loaded or {})
    entries.update(_used)
    if len(entries) > _MAX_ENTRIES:
        entries = dict(_used)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as handle:
            marshal.dump((_HEADER, entries), handle)
        os.replace(tmp, path)
    except (OSError, ValueError):
        try:
            os.unlink(tmp)
        except OSError:
            pass
