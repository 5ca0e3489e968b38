"""config_edit: codex-route's keys go in and come out without touching anything else."""

from __future__ import annotations

import math
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_router.codex import config_edit
from codex_router.errors import CodexConfigError

TABLE = {
    "name": "codex-route LiteLLM proxy",
    "base_url": "http://127.0.0.1:4000/v1",
    "env_key": "LITELLM_API_KEY",
    "wire_api": "responses",
    "request_max_retries": 1,
}

CONFIGS = {
    "empty": b"",
    "plain": b'model = "gpt-5.1-codex"\n# my comment\n[projects."/x"]\ntrust_level = "trusted"\n',
    "crlf": b'model = "o3"\r\n# c\r\n[tui]\r\nfoo = 1\r\n',
    "bom": b'\xef\xbb\xbfmodel = "o3"\n[tui]\nfoo = 1\n',
    "bom-crlf-nofinal": b'\xef\xbb\xbfmodel = "o3"\r\n[tui]\r\nfoo = 1',
    "no-final-newline": b'model = "o3"',
    "comments-only": b"# nothing here\n",
    "unicode": (
        'model = "o3" # modèle préféré ✓\n[projects."/home/zoë/项目"]\ntrust_level = "trusted"\n'
    ).encode(),
    "inline-providers": (
        b'model_providers = { mine = { name = "Mine", base_url = "http://x/v1" } }\n'
    ),
    "inline-tables": b'mcp = { a = 1, b = { c = "d" } }\n[tui]\nx = [1, 2]\n',
    "existing-providers": (
        b'model_provider = "mine"\n\n[model_providers.mine]\nname = "Mine"\n'
        b'base_url = "http://m/v1"\n\n[tui]\nx = 1\n'
    ),
    "dotted-providers": (
        b'model_providers.mine.name = "Mine"\nmodel_providers.mine.base_url = "u"\n'
    ),
    "has-our-id": b'[model_providers.cost-routing]\nname = "old"\nbase_url = "http://old/v1"\n',
    "blank-lines": b'\n\n\nmodel = "o3"\n\n\n',
    # TOML allows nan and inf; nan is not equal to itself, the comparison of meanings must cope
    "nan-inf": b"a = nan\nb = -inf\nc = +nan\n[t]\nx = [nan, inf]\ny = { z = -nan }\n",
    "nan-in-our-id": b'[model_providers.cost-routing]\nname = "old"\nw = nan\n',
    "nan-inline-providers": (
        b'model_provider = "mine"\nmodel_providers = { mine = { name = "M", w = nan } }\n'
    ),
}


def _nan_as_text(value):
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if isinstance(value, dict):
        return {k: _nan_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_as_text(v) for v in value]
    return value


def meaning(data: bytes) -> dict:
    """The parsed file, each nan as the text "<nan>" so that two meanings compare with ==."""
    return _nan_as_text(tomllib.loads(config_edit.decode(data, "f")[0]))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_apply_sets_exactly_our_keys_and_remove_gives_the_original_back(name):
    original = CONFIGS[name]
    new, edit = config_edit.apply(original, "config.toml", provider_id="cost-routing", table=TABLE)
    got = meaning(new)
    assert got["model_provider"] == "cost-routing"
    assert got["model_providers"]["cost-routing"] == TABLE
    want_rest = meaning(original)
    for key in ("model_provider", "model_providers"):
        got.pop(key, None)
        want_rest.pop(key, None)
    assert got == want_rest
    assert new.startswith(b"\xef\xbb\xbf") == original.startswith(b"\xef\xbb\xbf")
    # Taking the edit out of the untouched result is exact, byte for byte.
    assert config_edit.remove(new, "config.toml", edit) == original


@pytest.mark.parametrize("name", ["plain", "crlf", "bom-crlf-nofinal", "unicode", "empty"])
def test_added_lines_use_the_files_line_endings(name):
    original = CONFIGS[name]
    new, _ = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    crlf = b"\r\n" in original
    added = new.replace(original.lstrip(b"\xef\xbb\xbf"), b"", 1) if original else new
    if crlf:
        assert b"\n" not in added.replace(b"\r\n", b"")
    else:
        assert b"\r" not in added


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_remove_keeps_changes_made_during_the_run(name):
    """Codex appends a trust entry (as toml_edit does: at the end) while our keys are in."""
    original = CONFIGS[name]
    new, edit = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    nl = b"\r\n" if b"\r\n" in original else b"\n"
    sep = b"" if new.endswith(b"\n") else nl
    changed = new + sep + nl + b'[projects."/repo"]' + nl + b'trust_level = "trusted"' + nl
    merged = config_edit.remove(changed, "c", edit)
    want = meaning(original)
    want.setdefault("projects", {})["/repo"] = {"trust_level": "trusted"}
    assert meaning(merged) == want
    assert b"codex-route" not in merged


def test_existing_selection_is_put_back():
    original = CONFIGS["existing-providers"]
    new, edit = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    assert edit.replaced_selection == "mine"
    changed = new + b'\n[projects."/r"]\ntrust_level = "trusted"\n'
    assert meaning(config_edit.remove(changed, "c", edit))["model_provider"] == "mine"


def test_a_table_with_our_id_is_replaced_and_given_back():
    original = CONFIGS["has-our-id"]
    new, edit = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    assert meaning(new)["model_providers"]["cost-routing"] == TABLE
    changed = new + b"\n[tui]\nz = 1\n"
    back = meaning(config_edit.remove(changed, "c", edit))
    assert back["model_providers"]["cost-routing"]["name"] == "old"


def test_select_false_adds_only_the_table():
    new, edit = config_edit.apply(
        CONFIGS["plain"], "c", provider_id="cost-routing-hf", table=TABLE, select=False
    )
    assert "model_provider" not in meaning(new)
    assert not edit.selection_added


@pytest.mark.parametrize(
    "data, where",
    [
        (b'model = "o3"\n[tui\nx = 1\n', "line 2"),
        (b"a = 1\na = 2\n", "line 2"),
        (b'model = "\xff"\n', "config.toml:1"),
    ],
)
def test_broken_files_are_refused_naming_the_place(data, where):
    with pytest.raises(CodexConfigError) as info:
        config_edit.apply(data, "config.toml", provider_id="cost-routing", table=TABLE)
    assert where in str(info.value)


def test_model_providers_not_a_table_is_refused():
    with pytest.raises(CodexConfigError, match="not a table"):
        config_edit.apply(b'model_providers = "x"\n', "c", provider_id="cost-routing", table=TABLE)


toml_keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: k not in ("model_provider", "model_providers")
)
values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.floats(),  # nan, inf and -inf among them
)


@settings(max_examples=150, deadline=None)
@given(
    top=st.dictionaries(toml_keys, values, max_size=4),
    tables=st.dictionaries(toml_keys, st.dictionaries(toml_keys, values, max_size=3), max_size=3),
    crlf=st.booleans(),
    bom=st.booleans(),
    final=st.booleans(),
)
def test_round_trip_on_generated_configs(top, tables, crlf, bom, final):
    import tomlkit

    doc = {**top, **{f"t_{k}": v for k, v in tables.items()}}
    text = tomlkit.dumps(doc)
    if crlf:
        text = text.replace("\n", "\r\n")
    if not final:
        text = text.rstrip("\r\n")
    original = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    new, edit = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    assert config_edit.remove(new, "c", edit) == original
