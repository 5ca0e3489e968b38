"""Format-preserving edits of Codex's ``config.toml``: add codex-route's keys, take them away.

Pure: bytes in, bytes out. The edit is textual where it can be, so that taking it away again is
exact: the selection line goes on top of the file (before any table, where a top-level key is
always valid), the provider table is appended at the end, both in the file's own line endings
and after its BOM. Only when the user's file already holds one of these keys (a top-level
``model_provider``, an inline ``model_providers = {…}``) is the value edited in place with
tomlkit. Every result is parsed again and compared, as data, with what it must mean; an edit that
would change anything else is refused rather than written.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from codex_router.errors import CodexConfigError

if TYPE_CHECKING:
    from tomlkit import TOMLDocument

BOM = b"\xef\xbb\xbf"
MARKER = "# codex-route: temporary, removed after the run"


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "inserted": list(self.inserted),
            "replaced_selection": self.replaced_selection,
            "replaced_providers": self.replaced_providers,
            "added_providers": list(self.added_providers),
            "selection_added": self.selection_added,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edit:
        return cls(
            tuple(data.get("inserted", ())),
            data.get("replaced_selection"),
            dict(data.get("replaced_providers", {})),
            tuple(data.get("added_providers", ())),
            bool(data.get("selection_added", False)),
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
    """Parse as data, naming line and column of a syntax error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CodexConfigError(
            f"{file} does not parse: {exc}; codex-route will not touch it",
            hint="fix the file (Codex itself will refuse it too), then run again",
        ) from None


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


def _toml_value(value: Any) -> str:
    # The managed tables hold only strings, integers and booleans; JSON's string escapes are
    # valid TOML basic-string escapes, and the result is parsed again before anything is written.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"unsupported value in a managed provider table: {value!r}")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _provider_block(provider_id: str, table: dict[str, Any], newline: str) -> str:
    lines = [MARKER, f"[model_providers.{_toml_key(provider_id)}]"]
    lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items()]
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
    edit_kwargs: dict[str, Any] = {}
    providers = before.get("model_providers", {})
    if not isinstance(providers, dict):
        raise CodexConfigError(
            f"{file}: model_providers is not a table; codex-route will not touch it"
        )

    # 1. The provider table.
    if provider_id in providers or _is_inline(text, "model_providers"):
        doc = _document(text)
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
    else:
        sep = (nl if text and not text.endswith("\n") else "") + (nl if text.strip() else "")
        block = sep + _provider_block(provider_id, table, nl)
        text += block
        inserted.append(block)
        edit_kwargs["added_providers"] = (provider_id,)

    # 2. The selection.
    selection = before.get("model_provider")
    if select:
        if "model_provider" in before:
            doc = _document(text)
            doc["model_provider"] = provider_id
            text = doc.as_string()
            edit_kwargs["replaced_selection"] = selection
        else:
            line = f"model_provider = {_toml_value(provider_id)}  {MARKER}{nl}"
            text = line + text
            inserted.insert(0, line)
            edit_kwargs["selection_added"] = True
        selection = provider_id

    try:
        after = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        after = None
    if after is None or not same_meaning(after, _expected(before, selection, provider_id, table)):
        raise CodexConfigError(
            f"{file}: codex-route could not add its provider without changing "
            "other settings; the file was left as it is",
            hint="run with --codex-provider standard, or simplify the file's "
            "model_providers layout",
        )
    return encode(text, layout), Edit(tuple(inserted), **edit_kwargs)


def _document(text: str) -> TOMLDocument:
    """The format-preserving tomlkit document of ``text``, for an edit in place."""
    import tomlkit  # lazy: ~10 ms; the usual edit is textual, only an edit in place needs it

    return tomlkit.parse(text)


def _is_inline(text: str, key: str) -> bool:
    """Is ``key`` assigned at the top level (``key = {…}``) rather than built from tables?"""
    # Only before the first table header is a line a top-level assignment.
    head = re.split(r"(?m)^[ \t]*\[", text, maxsplit=1)[0]
    quoted = f"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    return re.search(rf"(?m)^[ \t]*{quoted}[ \t]*=", head) is not None


def remove(data: bytes, file: str, edit: Edit) -> bytes:
    """Take codex-route's keys out of a file that was changed meanwhile; keep everything else."""
    text, layout = decode(data, file)
    current = parse(text, file)
    want = _without(current, edit)
    # Exact path first: the blocks codex-route added are still there verbatim.
    candidate = text
    for block in edit.inserted:
        at = candidate.rfind(block)
        if at < 0:
            break
        candidate = candidate[:at] + candidate[at + len(block) :]
    else:
        candidate = _restore_values(candidate, edit)
        if _parses_to(candidate, want):
            return encode(candidate, layout)
    # Structural path: Codex reformatted around the blocks.
    doc = _document(text)
    providers = doc.get("model_providers")
    for provider_id in edit.added_providers:
        if providers is not None and provider_id in providers:
            del providers[provider_id]
    for provider_id, table in edit.replaced_providers.items():
        if providers is not None:
            providers[provider_id] = table
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
    # An empty model_providers table survives only if the user had providers of their own.
    return {"model_providers"} if edit.replaced_providers else set()


def _restore_values(text: str, edit: Edit) -> str:
    if edit.replaced_selection is None and not edit.replaced_providers:
        return text
    doc = _document(text)
    if edit.replaced_selection is not None:
        doc["model_provider"] = edit.replaced_selection
    for provider_id, table in edit.replaced_providers.items():
        doc["model_providers"][provider_id] = table
    return doc.as_string()


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
    except tomllib.TOMLDecodeError:
        return False


def selection_of(data: bytes, file: str) -> str | None:
    """The ``model_provider`` a config selects (None: Codex's default, ``openai``)."""
    text, _ = decode(data, file)
    value = parse(text, file).get("model_provider")
    return value if isinstance(value, str) else None
