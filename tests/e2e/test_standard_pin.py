"""A standard-path run reaches the user's own provider with the real Codex, whatever another
run's edit has put into config.toml at that moment (issue 11, items 1 and 2)."""

from __future__ import annotations

import json

import pytest

from codex_router.codex.config_guard import ConfigGuard

from helpers.e2e import Route, user_config
from helpers.fake_responses import REPLY_TEXT, FakeResponses

pytestmark = pytest.mark.e2e

CODEX_ARGS = ["--", "--skip-git-repo-check"]


def own_cost_routing_table(base_url: str) -> bytes:
    """An earlier cost router's user: their own provider is called cost-routing."""
    return (
        "# mine\n"
        'model = "gpt-test"\n'
        'model_provider = "cost-routing"\n'
        "[model_providers.cost-routing]\n"
        "# my own gateway\n"
        'name = "My gateway"\n'
        f'base_url = "{base_url}"\n'
        'env_key = "FAKE_KEY"\n'
        "request_max_retries = 0\n"
        "stream_max_retries = 0\n"
    ).encode()


@pytest.mark.parametrize("config", [user_config, own_cost_routing_table], ids=["own", "own-id"])
def test_a_standard_run_reaches_the_users_provider_during_another_runs_edit(route: Route, config):
    with FakeResponses("ok") as users, FakeResponses("ok") as others:
        original = config(users.base_url)
        route.config.write_bytes(original)
        other_run = ConfigGuard(route.config)  # a managed run of this (live) test process
        table = {
            "name": "codex-route LiteLLM proxy",
            "base_url": others.base_url,
            "env_key": "LITELLM_API_KEY",
            "wire_api": "responses",
            "request_max_retries": 0,
            "stream_max_retries": 0,
        }
        other_run.enter("other", "cost-routing", table)
        try:
            assert others.base_url in route.config.read_text()
            done = route.run("run", "say hi", "--codex-provider", "standard", *CODEX_ARGS)
        finally:
            other_run.leave("other")
    assert done.returncode == 0, done.stderr
    assert REPLY_TEXT in done.stdout
    assert len(users.requests) == 1 and others.requests == []
    assert users.requests[0]["authorization"] == "Bearer fake-user-key"
    assert route.config.read_bytes() == original


def test_a_standard_run_after_a_killed_managed_run_gives_the_file_back_first(route: Route):
    with FakeResponses("ok") as users, FakeResponses("ok") as stale:
        original = user_config(users.base_url)
        route.config.write_bytes(original)
        killed = ConfigGuard(route.config)
        killed.enter("killed", "cost-routing", {"base_url": stale.base_url, "env_key": "X"})
        journal = json.loads(killed.journal_path.read_bytes())
        journal["runs"]["killed"]["pid"] = 0  # never alive: the run that wrote it is gone
        killed.journal_path.write_text(json.dumps(journal))
        done = route.run("run", "say hi", "--codex-provider", "standard", *CODEX_ARGS)
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stderr
    assert len(users.requests) == 1 and stale.requests == []
    assert route.config.read_bytes() == original
