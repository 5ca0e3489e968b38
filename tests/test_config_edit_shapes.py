"""config_edit on the shapes that crashed it (issue 11, item 11): deep nesting, multi-line strings
that look like keys or headers, huge inline tables. Each is either edited so that it means exactly
the user's data plus codex-route's keys, or refused as a CodexConfigError with the file untouched.

Codex 0.169 itself refuses a key (dotted key or table header) of more than 80 parts and values
(arrays, inline tables) nested more than 80 deep; it accepts e.g. a header 80 deep holding a dotted
key 80 deep holding arrays 80 deep. codex-route edits what Codex accepts, up to 250 levels.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_router.codex import config_edit
from codex_router.errors import CodexConfigError

REPO = Path(__file__).resolve().parents[1]
TABLE = {
    "name": "codex-route LiteLLM proxy",
    "base_url": "http://127.0.0.1:4000/v1",
    "env_key": "LITELLM_API_KEY",
}


def header(n: int) -> str:
    return "[" + ".".join(["a"] * n) + "]\n"


def dotted(n: int, value: str = "1") -> str:
    return ".".join(["b"] * n) + f" = {value}\n"


def arrays(n: int) -> str:
    return "[" * n + "]" * n


def inline_tables(n: int) -> str:
    return "{ a = " * n + "1" + " }" * n


#: Shapes Codex refuses too (more than 80 parts in one key, values nested more than 80 deep) and
#: one it accepts that is deeper than codex-route's MAX_DEPTH: refused, never a crash.
TOO_DEEP = {
    "dotted-key-150-parts": dotted(150),
    "table-header-150-parts": header(150) + "x = 1\n",
    "arrays-1000-deep": f"x = {arrays(1000)}\n",
    "inline-tables-1000-deep": f"x = {inline_tables(1000)}\n",
    "arrays-101-deep": f"x = {arrays(101)}\n",  # within MAX_DEPTH, beyond tomlkit's 100
    "inline-tables-101-deep": f"x = {inline_tables(101)}\n",
    # each key and value within Codex's limits, but 320 levels in all: beyond MAX_DEPTH
    "inline-dotted-keys-320-deep": (
        "x = " + ("{ " + ".".join(["c"] * 80) + " = ") * 4 + "1" + " }" * 4 + "\n"
    ),
}

#: Valid TOML that Codex accepts: edited, given back byte for byte, merged after a change.
EDITED = {
    "multi-line-basic-string-with-a-header-line-before-inline-providers": (
        'x = """\n[not a table\n"""\nmodel_providers = { mine = { name = "Mine" } }\n'
    ),
    "multi-line-literal-string-with-a-header-line-before-inline-providers": (
        "x = '''\n[oops]\n'''\nmodel_providers = { mine = { name = \"Mine\" } }\n"
    ),
    "multi-line-string-holding-a-providers-line-and-no-providers": (
        'x = """\nmodel_providers = 1\n"""\n[tui]\ny = 1\n'
    ),
    "multi-line-string-holding-inline-providers-in-a-table": (
        '[tui]\nx = """\nmodel_providers = { a = 1 }\n[model_providers.b]\n"""\n'
    ),
    "multi-line-string-and-selection-before-inline-providers": (
        'x = """\nmodel_providers = 1\n[fake]\n"""\nmodel_provider = "mine"\n'
        'model_providers = { mine = { name = "M", base_url = "http://m/v1" } }\n'
    ),
    "escaped-key-inline-providers": (
        '"model\\u005fproviders" = { mine = { name = "Mine" } }\n[tui]\nx = 1\n'
    ),
    "header-80-dotted-80-arrays-80": header(80) + dotted(80, arrays(80)),
    "header-80-dotted-80-inline-tables-80": header(80) + dotted(80, inline_tables(80)),
    "header-chain-80": "".join(header(i) + "k = 1\n" for i in range(1, 81)),
    "arrays-100-deep": f"x = {arrays(100)}\n",
    "huge-inline-providers": (
        "model_providers = { "
        + ", ".join(f'p{i} = {{ name = "n{i}" }}' for i in range(2000))
        + " }\n"
    ),
}


def _comparable(value):
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def meaning(data: bytes) -> dict:
    return _comparable(tomllib.loads(data.decode()))


@pytest.mark.parametrize("name", sorted(TOO_DEEP))
@pytest.mark.parametrize("selected", [False, True], ids=["no-selection", "own-selection"])
def test_a_file_nested_too_deep_is_refused_naming_it(name, selected):
    data = (('model_provider = "mine"\n' if selected else "") + TOO_DEEP[name]).encode()
    for call in (
        lambda: config_edit.apply(data, "/h/config.toml", provider_id="cost-routing", table=TABLE),
        lambda: config_edit.selection_of(data, "/h/config.toml"),
        lambda: config_edit.parse(data.decode(), "/h/config.toml"),  # doctor's reading
    ):
        with pytest.raises(CodexConfigError) as info:
            call()
        assert info.value.message.startswith("/h/config.toml")
        assert "nests too deep for codex-route to edit safely" in info.value.message
        assert "--codex-provider standard" in (info.value.hint or "")


@pytest.mark.parametrize("name", sorted(EDITED))
def test_a_shape_codex_accepts_is_edited_exactly(name):
    original = EDITED[name].encode()
    new, edit = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    want = meaning(original)
    own = want.setdefault("model_providers", {})
    assert "cost-routing" not in own
    own["cost-routing"] = TABLE
    want["model_provider"] = "cost-routing"
    assert meaning(new) == want
    assert config_edit.remove(new, "c", edit) == original or name == "huge-inline-providers"
    assert meaning(config_edit.remove(new, "c", edit)) == meaning(original)
    # Codex appends a trust entry during the run: it stays, codex-route's keys go.
    changed = new + b'\n[projects."/repo"]\ntrust_level = "trusted"\n'
    merged = meaning(config_edit.remove(changed, "c", edit))
    assert merged == {**meaning(original), "projects": {"/repo": {"trust_level": "trusted"}}}


#: What the user (or Codex) made of the file during the run: the whole file, or a line put on top.
DURING_THE_RUN = {
    "providers-deleted": lambda new: b"a = 1\n",
    "providers-not-a-table": lambda new: b"model_providers = 3\n",
    "arrays-150-on-top": lambda new: f"x = {arrays(150)}\n".encode() + new,
    "arrays-1000-on-top": lambda new: f"x = {arrays(1000)}\n".encode() + new,
}


@pytest.mark.parametrize("name", sorted(DURING_THE_RUN))
def test_a_shape_given_to_the_file_during_the_run_is_refused_at_give_back(name):
    original = b'model_provider = "mine"\n[model_providers.cost-routing]\nname = "old"\n'
    new, edit = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    with pytest.raises(CodexConfigError):
        config_edit.remove(DURING_THE_RUN[name](new), "c", edit)


def test_nesting_counts_containers_below_the_top_level():
    assert config_edit.nesting({"a": 1}) == 0
    assert config_edit.nesting(tomllib.loads("a.b = 1")) == 1
    assert config_edit.nesting(tomllib.loads("x = [[1]]")) == 2
    assert config_edit.nesting(tomllib.loads(header(150) + "x = 1")) == 150  # no recursion


def test_a_file_without_model_providers_is_edited_without_tomlkit():
    """The common edit stays textual; lines of a multi-line string that look like an inline
    ``model_providers`` or a header do not send it to tomlkit (~10 ms)."""
    code = (
        "import sys\nfrom codex_router.codex import config_edit\n"
        'data = b\'x = """\\nmodel_providers = { a = 1 }\\n[t]\\n"""\\n[tui]\\ny = 1\\n\'\n'
        "new, edit = config_edit.apply(data, 'c', provider_id='p', table={'name': 'n'})\n"
        "assert config_edit.remove(new, 'c', edit) == data\n"
        "print('tomlkit' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "False"


# -- through the real CLI, with a stand-in codex --------------------------------------------------

STAND_IN = """#!/bin/sh
[ "$1" = "--version" ] && { echo "codex-cli 0.169.0"; exit 0; }
cat > /dev/null
cp "$CODEX_HOME/config.toml" "$SEEN"
echo done
"""


@pytest.fixture
def cli(tmp_path: Path, isolated_env: Path):
    codex = tmp_path / "codex"
    codex.write_text(STAND_IN)
    codex.chmod(0o755)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    env = {
        **os.environ,
        "CODEX_ROUTE_CODEX_BIN": str(codex),
        "LITELLM_API_KEY": "sk-test",
        "CODEX_ROUTE_LITELLM_BASE_URL": f"http://127.0.0.1:{listener.getsockname()[1]}/v1",
        "SEEN": str(tmp_path / "seen.toml"),
        "PYTHONPATH": str(REPO),
        "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",  # tmp_path is no git repository
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "codex_router", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    run.config = Path(env["CODEX_HOME"]) / "config.toml"  # type: ignore[attr-defined]
    run.seen = tmp_path / "seen.toml"  # type: ignore[attr-defined]
    yield run
    listener.close()


@pytest.mark.parametrize("name", ["dotted-key-150-parts", "arrays-1000-deep"])
def test_cli_refuses_a_too_deep_config_and_touches_nothing(cli, name):
    data = TOO_DEEP[name].encode()
    cli.config.write_bytes(data)
    done = cli("run", "say hi", "--codex-provider", "litellm")
    assert done.returncode == 5, done.stderr
    assert "nests too deep for codex-route to edit safely" in done.stderr
    assert str(cli.config) in done.stderr and "--codex-provider standard" in done.stderr
    assert cli.config.read_bytes() == data
    assert not cli.seen.exists()  # codex never started
    doctor = cli("doctor")
    assert "nests too deep" in doctor.stdout + doctor.stderr
    assert "the check itself failed" not in doctor.stdout + doctor.stderr
    # The hint's way out works: the standard path leaves the file alone and runs codex.
    standard = cli("run", "say hi", "--codex-provider", "standard")
    assert standard.returncode == 0, standard.stderr
    assert cli.seen.read_bytes() == data == cli.config.read_bytes()


def test_cli_edits_inline_providers_after_a_multi_line_string(cli):
    data = EDITED["multi-line-basic-string-with-a-header-line-before-inline-providers"].encode()
    cli.config.write_bytes(data)
    done = cli("run", "say hi", "--codex-provider", "litellm")
    assert done.returncode == 0, done.stderr
    seen = meaning(cli.seen.read_bytes())
    assert seen["model_provider"] == "cost-routing"
    assert seen["model_providers"]["mine"] == meaning(data)["model_providers"]["mine"]
    assert cli.config.read_bytes() == data


LOOKALIKE_LINES = [
    "[t]",
    "[model_providers.z]",
    "model_providers = { q = 1 }",
    'model_provider = "q"',
    "[[a]]",
    "x = 1",
    "# c",
    "",
]
AFTER_THE_STRING = [
    'model_providers = { mine = { name = "M" } }\n',
    '[model_providers.mine]\nname = "M"\n',
    'model_providers.mine.name = "M"\n',
    "[tui]\nx = 1\n",
    "",
]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    lines=st.lists(st.sampled_from(LOOKALIKE_LINES), max_size=5),
    quote=st.sampled_from(['"""', "'''"]),
    tail=st.sampled_from(AFTER_THE_STRING),
    selected=st.booleans(),
    crlf=st.booleans(),
)
def test_multi_line_strings_never_mislead_the_edit(lines, quote, tail, selected, crlf):
    text = ('model_provider = "mine"\n' if selected else "") + f"s = {quote}\n"
    text += "\n".join(lines) + f"\n{quote}\n" + tail
    if crlf:
        text = text.replace("\n", "\r\n")
    original = text.encode()
    new, edit = config_edit.apply(original, "c", provider_id="cost-routing", table=TABLE)
    want = meaning(original)
    want["model_provider"] = "cost-routing"
    want["model_providers"] = {**want.get("model_providers", {}), "cost-routing": TABLE}
    assert meaning(new) == want
    assert config_edit.remove(new, "c", edit) == original
