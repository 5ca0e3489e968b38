"""Format-preserving edits of Codex's ``config.toml``: add codex-route's keys, take them away.

Pure: bytes in, bytes out. The edit is textual where it can be, so that taking it away again is
exact: the selection line goes on top of the file (before any table, where a top-level key is
always valid), the provider table is appended at the end, both in the file's own line endings
and after its BOM. Only when the user's file already holds one of these keys (a top-level
``model_provider``, an inline ``model_providers = {…}``) is the value edited in place with
tomlkit. Every result is parsed again and compared, as data, with what it must mean; an edit that
would change anything else is refused rather than written.

Whether the provider table can simply be appended is decided from the parsed data, never from
the text's lines (a multi-line string may hold lines that look like keys or table headers): a
file without ``model_providers`` always can; one with it is tried textually, and when that does
not mean the right thing (``model_providers = {…}`` is inline), edited in place with tomlkit.

A file nested deeper than :data:`MAX_DEPTH` levels, or deeper than :data:`EDIT_DEPTH` in a shape
tomlkit cannot parse (a dotted key or header of more than 100 parts, values nested more than 100
deep), is refused as a :class:`CodexConfigError`: such a file could be edited but not reliably
given back. Depth is measured on the parsed data without recursion.
"""

from __future__ import annotations

import json
import math
import re
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codex_router.errors import CodexConfigError

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

BOM = b"\xef\xbb\xbf"
MARKER = "# codex-route: temporary, removed after the run"
#: Nesting (tables, arrays, inline tables inside each other) up to which any file is edited.
#: tomlkit parses every file this shallow (it refuses a key of more than 100 parts and values
#: nested more than 100 deep); Codex itself refuses more than 80 in one key or one value.
EDIT_DEPTH = 100
#: Deeper than EDIT_DEPTH, a file is edited only when tomlkit parses it; deeper than this, never
#: (Codex's own limits allow a header, a dotted key under it and a value each 80 deep: 240).
MAX_DEPTH = 250


@dataclass(frozen=True)
class Layout:
    """How a config file is written, so added lines look like the user's own."""

    bom: bool
    newline: str
    final_newline: bool


@dataclass(frozen=True)
class Edit:
    """What one edit added, kept in the run journal so it can be taken back exactly."""

    inserted: tuple[str, ...] = ()  # text blocks added verbatim (top line, appended tables)
    replaced_selection: str | None = None  # the user's own model_provider value, when it was edited
    replaced_providers: dict[str, Any] = field(
        default_factory=dict
    )  # id → user's table it replaced
    added_providers: tuple[str, ...] = ()  # provider ids codex-route added
    selection_added: bool = False  # codex-route added a top-level model_provider
    had_providers: bool = False  # the user's file had model_providers (kept, even when empty)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inserted": list(self.inserted),
            "replaced_selection": self.replaced_selection,
            "replaced_providers": self.replaced_providers,
            "added_providers": list(self.added_providers),
            "selection_added": self.selection_added,
            "had_providers": self.had_providers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edit:
        return cls(
            tuple(data.get("inserted", ())),
            data.get("replaced_selection"),
            dict(data.get("replaced_providers", {})),
            tuple(data.get("added_providers", ())),
            bool(data.get("selection_added", False)),
            bool(data.get("had_providers", False)),
        )

    def merged(self, other: Edit) -> Edit:
        """Two edits of one guarded period (concurrent runs), as one."""
        return Edit(
            self.inserted + other.inserted,
            self.replaced_selection
            if self.replaced_selection is not None
            else other.replaced_selection,
            {**other.replaced_providers, **self.replaced_providers},
            self.added_providers
            + tuple(p for p in other.added_providers if p not in self.added_providers),
            self.selection_added or other.selection_added,
            self.had_providers,  # the first edit of a period saw the user's own file
        )


def decode(data: bytes, file: str) -> tuple[str, Layout]:
    """The text of a config file and its layout; a file that is not UTF-8 TOML is refused."""
    bom = data.startswith(BOM)
    body = data[len(BOM) :] if bom else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise CodexConfigError(
            f"{file}:{line}: not UTF-8 text; codex-route will not touch it",
            hint="TOML files must be UTF-8; fix or re-save the file",
        ) from None
    first = text.find("\n")
    newline = "\r\n" if first > 0 and text[first - 1] == "\r" else "\n"
    return text, Layout(bom, newline, text == "" or text.endswith("\n"))


def encode(text: str, layout: Layout) -> bytes:
    return (BOM if layout.bom else b"") + text.encode("utf-8")


def parse(text: str, file: str) -> dict[str, Any]:
    """Parse as data, naming line and column of a syntax error. A file codex-route could not
    edit and give back reliably is refused here too (:func:`too_deep`): nested deeper than
    :data:`MAX_DEPTH`, or deeper than :data:`EDIT_DEPTH` in a shape tomlkit cannot parse."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CodexConfigError(
            f"{file} does not parse: {syntax_fault(text, str(exc))}; codex-route will not touch it",
            hint="fix the file (Codex itself will refuse it too), then run again",
        ) from None
    except RecursionError:  # arrays or inline tables nested hundreds deep
        raise too_deep(file, f"arrays or inline tables nested over {MAX_DEPTH} levels") from None
    depth = nesting(data)
    if depth > MAX_DEPTH:
        raise too_deep(file, f"{depth} levels of tables and arrays, at most {MAX_DEPTH}")
    if depth > EDIT_DEPTH:
        _document(text, file)  # refused when tomlkit (so an edit or give-back) cannot parse it
    return data


_AT_LINE = re.compile(r"\(at line (\d+), column (\d+)\)\s*$")


def syntax_fault(text: str, message: str) -> str:
    """tomllib's message, with the fault it names corrected where tomllib names another.

    tomllib checks a table header's name before its closing bracket, so an unclosed header
    repeating an earlier one (``[model_providers.x`` after ``[model_providers.x]``) reads
    "Cannot declare … twice"; Codex, and the user, see an unclosed header, and so does this.
    """
    found = _AT_LINE.search(message)
    if found is None:
        return message
    number = int(found.group(1))
    lines = text.splitlines()
    source = lines[number - 1] if 0 < number <= len(lines) else ""
    head = source.split("#", 1)[0].strip()
    if head.startswith("[") and not head.endswith("]"):
        return f"unclosed table header {head!r}, expected ']' ({found.group(0).strip('( )')})"
    return message


def nesting(data: Any) -> int:
    """How many tables, arrays and inline tables sit inside each other below the top level
    (``a = 1``: 0, ``a.b = 1``: 1, ``x = [[1]]``: 2); measured without recursion."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        value, level = todo.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in children)
    return deepest


def too_deep(file: str, detail: str) -> CodexConfigError:
    """The refusal of a file nested too deep to edit and give back reliably."""
    return CodexConfigError(
        f"{file} nests too deep for codex-route to edit safely ({detail}); "
        "codex-route will not touch it",
        hint="run with --codex-provider standard (codex-route then leaves the file alone), or "
        "flatten the file: Codex itself refuses a key or a value nested more than 80 levels",
    )


class _NaN:
    """Stands for every NaN in a canonical form: TOML's ``nan`` is never equal to itself."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NaN)

    def __hash__(self) -> int:
        return 0


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return _NaN()
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def same_meaning(a: Any, b: Any) -> bool:
    """Do two parsed configs mean the same? ``==``, except that a ``nan`` equals a ``nan``."""
    return bool(_canonical(a) == _canonical(b))


def _provider_block(provider_id: str, table: dict[str, Any], newline: str) -> str:
    # The result is parsed again and compared before anything is written.
    lines = [MARKER, f"[model_providers.{inline_toml_key(provider_id)}]"]
    lines += [f"{inline_toml_key(k)} = {inline_toml(v)}" for k, v in table.items()]
    return newline.join(lines) + newline


def _expected(
    data: dict[str, Any], selection: str | None, provider_id: str, table: dict[str, Any]
) -> dict[str, Any]:
    """What the edited file must mean: the user's data plus codex-route's keys, nothing else."""
    want = dict(data)
    if selection is not None:
        want["model_provider"] = selection
    providers = dict(want.get("model_providers", {}))
    providers[provider_id] = table
    want["model_providers"] = providers
    return want


def apply(
    data: bytes, file: str, *, provider_id: str, table: dict[str, Any], select: bool = True
) -> tuple[bytes, Edit]:
    """Add ``[model_providers.<provider_id>]`` (and select it) to the file's bytes."""
    text, layout = decode(data, file)
    before = parse(text, file)
    nl = layout.newline
    inserted: list[str] = []
    edit_kwargs: dict[str, Any] = {"had_providers": "model_providers" in before}
    providers = before.get("model_providers", {})
    if not isinstance(providers, dict):
        raise CodexConfigError(
            f"{file}: model_providers is not a table; codex-route will not touch it"
        )
    refused = CodexConfigError(
        f"{file}: codex-route could not add its provider without changing "
        "other settings; the file was left as it is",
        hint="run with --codex-provider standard, or simplify the file's model_providers layout",
    )

    # 1. The provider table: appended as text unless the file has it already, or the text does
    # not mean what it must (``model_providers = {…}`` is inline; decided by parsing, since a
    # multi-line string may hold lines that look like keys or headers).
    appended = None
    if provider_id not in providers:
        sep = (nl if text and not text.endswith("\n") else "") + (nl if text.strip() else "")
        block = sep + _provider_block(provider_id, table, nl)
        if "model_providers" not in before or _parses_to(
            text + block, _expected(before, None, provider_id, table)
        ):
            appended = block
    if appended is not None:
        text += appended
        inserted.append(appended)
        edit_kwargs["added_providers"] = (provider_id,)
    else:
        with _tomlkit_errors(file, refused):
            doc = _document(text, file)
            if provider_id in providers:
                edit_kwargs["replaced_providers"] = {provider_id: providers[provider_id]}
                doc["model_providers"][provider_id] = table
            else:
                import tomlkit  # lazy: ~10 ms; only an edit in place needs it (see _document)

                inline = tomlkit.inline_table()
                inline.update(table)
                doc["model_providers"][provider_id] = inline
                edit_kwargs["added_providers"] = (provider_id,)
            text = doc.as_string()

    # 2. The selection.
    selection = before.get("model_provider")
    if select:
        if "model_provider" in before:
            with _tomlkit_errors(file, refused):
                doc = _document(text, file)
                doc["model_provider"] = provider_id
                text = doc.as_string()
            edit_kwargs["replaced_selection"] = selection
        else:
            line = f"model_provider = {inline_toml(provider_id)}  {MARKER}{nl}"
            text = line + text
            inserted.insert(0, line)
            edit_kwargs["selection_added"] = True
        selection = provider_id

    if not _parses_to(text, _expected(before, selection, provider_id, table)):
        raise refused
    return encode(text, layout), Edit(tuple(inserted), **edit_kwargs)


@contextmanager
def _tomlkit_errors(file: str, refused: CodexConfigError) -> Iterator[None]:
    """tomlkit failing on a shape it cannot edit (a key it says does not exist, a value it cannot
    set) becomes ``refused``; going too deep for the interpreter, :func:`too_deep`. Imports
    nothing: an edit that stays textual never loads tomlkit."""
    try:
        yield
    except RecursionError:
        raise too_deep(file, "too deep for the format-preserving editor") from None
    except (KeyError, TypeError, ValueError):  # tomlkit's ParseError and NonExistentKey among them
        raise refused from None
    except Exception as exc:
        kit = sys.modules.get("tomlkit.exceptions")
        if kit is not None and isinstance(exc, kit.TOMLKitError):
            raise refused from None
        raise


def _document(text: str, file: str) -> TOMLDocument:
    """The format-preserving tomlkit document of ``text``, for an edit in place; a file tomlkit
    cannot parse (nesting beyond its limits) is refused naming file, line and column."""
    import tomlkit  # lazy: ~10 ms; the usual edit is textual, only an edit in place needs it
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(text)
    except RecursionError:
        raise too_deep(file, "too deep for the format-preserving editor") from None
    except ParseError as exc:  # tomllib parsed it: only nesting beyond tomlkit's limits is left
        what = str(exc).split(" at line ")[0]
        if "nested more than" in what:
            raise too_deep(f"{file}:{exc.line}", what) from None
        raise CodexConfigError(
            f"{file}:{exc.line}: codex-route's format-preserving editor cannot read this file "
            f"({what}); codex-route will not touch it",
            hint="run with --codex-provider standard (codex-route then leaves the file alone)",
        ) from None


def remove(data: bytes, file: str, edit: Edit, original: bytes | None = None) -> bytes:
    """:func:`_remove`, with tomlkit failing on a shape the user or Codex gave the file during the
    run (``model_providers`` deleted or no longer a table, nesting too deep) as the refusal."""
    refused = CodexConfigError(
        f"{file}: codex-route could not take its keys out without touching "
        "other settings; the file was left as it is",
        hint="run `codex-route config status` to see the backup, then edit the file by hand",
    )
    with _tomlkit_errors(file, refused):
        return _remove(data, file, edit, original)


def _remove(data: bytes, file: str, edit: Edit, original: bytes | None = None) -> bytes:
    """Take codex-route's keys out of a file that was changed meanwhile; keep everything else.

    ``original``: the file's bytes before the edit; a provider table of the user's that the edit
    replaced comes back from them as written (comments, key order), not rebuilt from data.
    """
    text, layout = decode(data, file)
    users_tables = _users_tables(original, file, edit)
    current = parse(text, file)
    want = _without(current, edit)
    # Exact path first: the blocks codex-route added are still there verbatim. A block that is
    # not there at all never reached the file (a joining run killed between its journal and its
    # write); the parse check below still decides whether the result is right.
    candidate = text
    for block in edit.inserted:
        at = candidate.rfind(block)
        if at >= 0:
            candidate = candidate[:at] + candidate[at + len(block) :]
    candidate = _restore_values(candidate, edit, users_tables, file)
    if _parses_to(candidate, want):
        return encode(candidate, layout)
    # Structural path: Codex reformatted around the blocks.
    doc = _document(text, file)
    providers = doc.get("model_providers")
    for provider_id in edit.added_providers:
        if providers is not None and provider_id in providers:
            del providers[provider_id]
    for provider_id, table in edit.replaced_providers.items():
        if providers is not None:
            providers[provider_id] = users_tables.get(provider_id, table)
    if (
        providers is not None
        and len(providers) == 0
        and "model_providers" not in _original_keys(edit)
    ):
        del doc["model_providers"]
    if edit.selection_added and "model_provider" in doc:
        del doc["model_provider"]
    elif edit.replaced_selection is not None:
        doc["model_provider"] = edit.replaced_selection
    candidate = _strip_marker_comments(doc.as_string())
    if not _parses_to(candidate, want):
        raise CodexConfigError(
            f"{file}: codex-route could not take its keys out without touching "
            "other settings; the file was left as it is",
            hint="run `codex-route config status` to see the backup, then edit the file by hand",
        )
    return encode(candidate, layout)


def _original_keys(edit: Edit) -> set[str]:
    # A model_providers table the user had (even an empty one) survives the give-back.
    return {"model_providers"} if edit.had_providers or edit.replaced_providers else set()


def _restore_values(text: str, edit: Edit, users_tables: dict[str, Any], file: str) -> str:
    if edit.replaced_selection is None and not edit.replaced_providers:
        return text
    doc = _document(text, file)
    if edit.replaced_selection is not None:
        doc["model_provider"] = edit.replaced_selection
    for provider_id, table in edit.replaced_providers.items():
        doc["model_providers"][provider_id] = users_tables.get(provider_id, table)
    return doc.as_string()


def _users_tables(original: bytes | None, file: str, edit: Edit) -> dict[str, Any]:
    """The user's provider tables the edit replaced, as tomlkit items of the original text."""
    if original is None or not edit.replaced_providers:
        return {}
    try:
        providers = _document(decode(original, file)[0], file).get("model_providers", {})
    except (CodexConfigError, ValueError, RecursionError):  # the backup only adds comments here
        return {}
    return {pid: providers[pid] for pid in edit.replaced_providers if pid in providers}


def _strip_marker_comments(text: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if line.strip() != MARKER)


def _without(data: dict[str, Any], edit: Edit) -> dict[str, Any]:
    out = dict(data)
    providers = dict(out.get("model_providers", {}))
    for provider_id in edit.added_providers:
        providers.pop(provider_id, None)
    providers.update(edit.replaced_providers)
    if providers or "model_providers" in _original_keys(edit):
        out["model_providers"] = providers
    else:
        out.pop("model_providers", None)
    if edit.selection_added:
        out.pop("model_provider", None)
    elif edit.replaced_selection is not None:
        out["model_provider"] = edit.replaced_selection
    return out


def _parses_to(text: str, want: dict[str, Any]) -> bool:
    try:
        return same_meaning(tomllib.loads(text), want)
    except (tomllib.TOMLDecodeError, RecursionError):
        return False


def selection_of(data: bytes, file: str) -> str | None:
    """The ``model_provider`` a config selects (None: Codex's default, ``openai``)."""
    text, _ = decode(data, file)
    value = parse(text, file).get("model_provider")
    return value if isinstance(value, str) else None


def inline_toml(value: Any) -> str:
    """``value`` as one line of TOML (inline tables and arrays), for Codex's ``-c key=value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # JSON's string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        items = ", ".join(f"{inline_toml_key(k)} = {inline_toml(v)}" for k, v in value.items())
        return "{" + items + "}" if items else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(inline_toml(v) for v in value) + "]"
    if callable(getattr(value, "isoformat", None)):  # TOML's dates and times, as tomllib gives them
        return str(value.isoformat())
    raise TypeError(f"not a TOML value: {value!r}")


def inline_toml_key(key: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)
