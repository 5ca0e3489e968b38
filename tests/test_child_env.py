"""Each codex child gets only the provider keys its path uses (issue 11, item 17).

Codex copies its environment into ``$CODEX_HOME/shell_snapshots/*.sh``: a key it never needed
must never reach it. Unit tables for :mod:`codex_router.run.child_env`, then runs through the
CLI with a stand-in codex that dumps the environment it got.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_router.codex.argv import MANAGED_PROVIDER_IDS, managed_provider_table
from codex_router.dirs import app_dirs
from codex_router.policy.settings import resolve_settings
from codex_router.proxy.keys import PROVIDER_SECRET_VARS
from codex_router.run.child_env import (
    PATH_KEY_VARS,
    config_key_vars,
    override_key_vars,
    path_env,
)

REPO = Path(__file__).resolve().parents[1]

PLAIN = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "CODEX_HOME": "/home/u/.codex",
    "HTTPS_PROXY": "http://proxy:3128",
    "LANG": "C.UTF-8",
    "TERM": "xterm",
}
SECRETS = {var: f"value-of-{var}" for var in PROVIDER_SECRET_VARS} | {"MY_KEY": "mine"}


@pytest.mark.parametrize(
    ("path", "user_keys", "kept_secrets"),
    [
        # MY_KEY is no provider secret codex-route knows of until a provider table names it
        ("standard", (), {"OPENAI_API_KEY", "CODEX_API_KEY", "MY_KEY"}),
        ("standard", ("MY_KEY",), {"OPENAI_API_KEY", "CODEX_API_KEY", "MY_KEY"}),
        (
            "standard",
            ("GEMINI_API_KEY",),
            {"OPENAI_API_KEY", "CODEX_API_KEY", "GEMINI_API_KEY", "MY_KEY"},
        ),
        ("litellm", (), {"LITELLM_API_KEY", "MY_KEY"}),
        ("litellm", ("MY_KEY",), {"LITELLM_API_KEY"}),
        ("huggingface", (), {"HF_TOKEN", "MY_KEY"}),
        ("huggingface", ("MY_KEY", "OPENAI_API_KEY"), {"HF_TOKEN"}),
    ],
)
def test_each_path_keeps_only_its_keys_and_everything_that_is_not_a_secret(
    path: str, user_keys: tuple[str, ...], kept_secrets: set[str]
) -> None:
    child = path_env({**PLAIN, **SECRETS}, path, user_keys)
    assert set(child) - set(PLAIN) == kept_secrets
    assert {k: child[k] for k in PLAIN} == PLAIN  # non-secrets pass unchanged
    assert all(child[k] == SECRETS[k] for k in kept_secrets)


def test_a_provider_table_naming_an_essential_variable_never_drops_it() -> None:
    assert path_env(PLAIN, "litellm", ("PATH", "HOME")) == PLAIN


def test_managed_paths_read_the_key_their_codex_provider_table_names() -> None:
    settings = resolve_settings({}, {}, app_dirs())
    for path in MANAGED_PROVIDER_IDS:
        assert PATH_KEY_VARS[path] == {managed_provider_table(path, settings)["env_key"]}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (None, set()),
        (b"", set()),
        (b'model = "o3"\n', set()),
        (b'[model_providers.mine]\nname = "m"\nenv_key = "MY_KEY"\n', {"MY_KEY"}),
        (
            b'[model_providers.a]\nenv_key = "A_KEY"\n'
            b'[model_providers.b]\nenv_http_headers = { "X-Key" = "B_HEADER" }\n',
            {"A_KEY", "B_HEADER"},
        ),
        # codex-route's own tables (left by a run in progress) are not the user's
        (
            b'model_provider = "cost-routing"\n[model_providers.cost-routing]\n'
            b'env_key = "LITELLM_API_KEY"\n'
            b'[model_providers.cost-routing-hf]\nenv_key = "HF_TOKEN"\n'
            b'[model_providers.mine]\nenv_key = "MY_KEY"\n',
            {"MY_KEY"},
        ),
        (b'model_providers = "not a table"\n', set()),
        (b"[model_providers.mine]\nenv_key = 3\n", set()),
        # not TOML: codex refuses it; the key named in it is kept rather than guessed away
        (b'[model_providers.mine\nenv_key = "MY_KEY"\n', {"MY_KEY"}),
        (b"\xff\xfe", set()),
        (b"a = " + b"[" * 2000 + b"]" * 2000 + b"\n", set()),
    ],
)
def test_variables_the_users_config_names(config: bytes | None, expected: set[str]) -> None:
    assert config_key_vars(config) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), set()),
        (("-c", "model_providers.mine.env_key=MY_KEY"), {"MY_KEY"}),
        (("-c", 'model_providers.mine.env_key="MY_KEY"'), {"MY_KEY"}),
        (("--config=model_providers.x.env_key=X_KEY",), {"X_KEY"}),
        (("-cmodel_providers.x.env_key=X_KEY",), {"X_KEY"}),
        (("-c", "model=o3", "-m", "o3"), set()),
        (("-c", 'model_providers.cost-routing={name = "m", env_key = "GW_KEY"}'), {"GW_KEY"}),
        (("-c", "model_providers.x={not toml"), set()),
    ],
)
def test_variables_named_by_config_overrides(args: tuple[str, ...], expected: set[str]) -> None:
    assert override_key_vars(args) == expected


# --- runs with a stand-in codex --------------------------------------------------------------

ENV_DUMPING_CODEX = """#!{python}
import json, os, sys
if sys.argv[1:] == ["--version"]:
    with open(os.environ["ENV_DUMP"] + ".version", "a") as f:
        f.write(json.dumps(dict(os.environ)) + "\\n")
    print("codex-cli 0.169.0"); sys.exit(0)
sys.stdin.read()
with open(os.environ["ENV_DUMP"], "a") as f:
    f.write(json.dumps(dict(os.environ)) + "\\n")
print("done")
"""


@pytest.fixture
def listening() -> Iterator[str]:
    """Something on 127.0.0.1 so the litellm path counts as ready."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    s.close()


MINE = '[model_providers.mine]\nname = "m"\nenv_key = "MY_KEY"\n'


def _run_with_env_dump(
    tmp_path: Path, *args: str, extra: dict[str, str], config: str = MINE
) -> dict[str, str]:
    codex = tmp_path / "codex"
    codex.write_text(ENV_DUMPING_CODEX.format(python=sys.executable))
    codex.chmod(0o755)
    dump = tmp_path / "env.jsonl"
    home = Path(os.environ["CODEX_HOME"])
    (home / "config.toml").write_text(config)
    secrets = {
        "OPENAI_API_KEY": "sk-openai",
        "GEMINI_API_KEY": "gem",
        "HF_TOKEN": "hf_x",
        "ANTHROPIC_API_KEY": "ant",
        "LITELLM_API_KEY": "sk-litellm",
        "MY_KEY": "mine",
    }
    env = {
        **os.environ,
        **secrets,
        "CODEX_ROUTE_CODEX_BIN": str(codex),
        "ENV_DUMP": str(dump),
        "PYTHONPATH": str(REPO),
        "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",  # tmp_path is no git repository
        "SOME_SETTING": "kept",
        **extra,
    }
    done = subprocess.run(
        [sys.executable, "-m", "codex_router", "run", "say hi", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    lines = dump.read_text().splitlines()
    assert len(lines) == 1
    child: dict[str, str] = json.loads(lines[0])
    assert child["SOME_SETTING"] == "kept" and child["PATH"] == env["PATH"]
    probe = json.loads(Path(f"{dump}.version").read_text().splitlines()[0])  # `codex --version`
    assert not (set(secrets) - {"MY_KEY"}) & set(probe) and probe["SOME_SETTING"] == "kept"
    return child


def test_a_standard_run_gives_codex_only_the_users_own_keys(tmp_path: Path) -> None:
    child = _run_with_env_dump(tmp_path, "--codex-provider", "standard", extra={})
    assert child["OPENAI_API_KEY"] == "sk-openai" and child["MY_KEY"] == "mine"
    for var in ("GEMINI_API_KEY", "HF_TOKEN", "ANTHROPIC_API_KEY", "LITELLM_API_KEY"):
        assert var not in child


def test_a_litellm_run_gives_codex_only_the_proxy_key(tmp_path: Path, listening: str) -> None:
    child = _run_with_env_dump(
        tmp_path,
        "--codex-provider",
        "litellm",
        extra={"CODEX_ROUTE_LITELLM_BASE_URL": listening},
    )
    assert child["LITELLM_API_KEY"] == "sk-litellm"
    for var in ("OPENAI_API_KEY", "GEMINI_API_KEY", "HF_TOKEN", "ANTHROPIC_API_KEY", "MY_KEY"):
        assert var not in child


def test_a_huggingface_run_gives_codex_only_hf_token(tmp_path: Path) -> None:
    child = _run_with_env_dump(tmp_path, "--codex-provider", "huggingface", extra={})
    assert child["HF_TOKEN"] == "hf_x"
    for var in ("OPENAI_API_KEY", "GEMINI_API_KEY", "LITELLM_API_KEY", "MY_KEY"):
        assert var not in child


def test_a_standard_run_keeps_the_key_of_the_users_own_table_of_a_managed_id(
    tmp_path: Path,
) -> None:
    """A user of the earlier cost router has their own [model_providers.cost-routing] selected:
    on the standard path that is their provider, and its key goes to codex."""
    own = (
        'model_provider = "cost-routing"\n[model_providers.cost-routing]\nname = "gw"\n'
        'base_url = "http://127.0.0.1:1/v1"\nenv_key = "LITELLM_API_KEY"\n'
    )
    child = _run_with_env_dump(tmp_path, "--codex-provider", "standard", extra={}, config=own)
    assert child["LITELLM_API_KEY"] == "sk-litellm"
    for var in ("GEMINI_API_KEY", "HF_TOKEN", "ANTHROPIC_API_KEY"):
        assert var not in child
