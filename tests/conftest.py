"""Test isolation: every test gets its own HOME, CODEX_HOME and CODEX_ROUTE_HOME.

No test may read or write the real ~/.codex or the user's codex-route directories, and no
setting may leak in from the developer's environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROUTING_VARS_PREFIXES = ("CODEX_ROUTE_", "CODEX_ROUTER_")
KEY_VARS = ("HF_TOKEN", "LITELLM_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "CODEX_API_KEY")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "bench" / "corpus"


@pytest.fixture(scope="session")
def shared_token_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One token index for the session: building it takes ~1 s, and it is a pure cache."""
    return tmp_path_factory.mktemp("token-index")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    shared_token_index: Path,
) -> Path:
    root = tmp_path_factory.mktemp("home")
    cache = root / "codex-route" / "cache"
    cache.mkdir(parents=True)
    (cache / "tokens").symlink_to(shared_token_index, target_is_directory=True)
    for name in list(os.environ):
        if name.startswith(ROUTING_VARS_PREFIXES) or name in KEY_VARS:
            monkeypatch.delenv(name, raising=False)
    (root / ".codex").mkdir()
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("CODEX_HOME", str(root / ".codex"))
    monkeypatch.setenv("CODEX_ROUTE_HOME", str(root / "codex-route"))
    # Keep the LiteLLM probe off any real proxy a developer may be running on :4000.
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", "http://127.0.0.1:9/v1")
    return root
