"""What codex-route asks of Codex for each path: the argv and the config change.

Pure: nothing is written here. The prompt goes to ``codex exec -`` on stdin, never into argv,
so argv stays small (Linux caps one argument at 128 KiB), shows no prompt text in ``ps``,
and can be printed and recorded as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from codex_router.codex.passthrough import asks_for_events
from codex_router.policy.settings import Settings
from codex_router.routing.route import PathChoice

#: Provider ids codex-route owns inside Codex's config (stable, so `codex resume` keeps history).
MANAGED_PROVIDER_IDS = {"litellm": "cost-routing", "huggingface": "cost-routing-hf"}
#: Low retry counts: a dead provider must fail in seconds so the next path can be tried.
FAIL_FAST = {"request_max_retries": 1, "stream_max_retries": 1, "stream_idle_timeout_ms": 120_000}
#: Placeholder shown where an interactive session passes the prompt as an argument.
PROMPT_PLACEHOLDER = "{prompt}"


def managed_provider_table(path: str, settings: Settings) -> dict[str, Any]:
    """A managed path's ``[model_providers.<id>]`` table (names of key variables, no values)."""
    if path == "litellm":
        table = {
            "name": "codex-route LiteLLM proxy",
            "base_url": settings["litellm_base_url"],
            "env_key": "LITELLM_API_KEY",
        }
    elif path == "huggingface":
        table = {
            "name": "codex-route Hugging Face router",
            "base_url": settings["huggingface_base_url"],
            "env_key": "HF_TOKEN",
        }
    else:
        raise ValueError(f"{path} is not a managed path")
    return {**table, "wire_api": "responses", **FAIL_FAST}


class ConfigChange(NamedTuple):
    """Keys codex-route would set in ``$CODEX_HOME/config.toml`` for the duration of a run."""

    file: str
    provider_id: str | None
    table: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        if self.provider_id is None:
            return {"file": self.file, "writes": False, "set": {}}
        return {
            "file": self.file,
            "writes": True,
            "set": {
                "model_provider": self.provider_id,
                f"model_providers.{self.provider_id}": self.table,
            },
        }


def config_change(path: str, settings: Settings, config_file: str) -> ConfigChange:
    if path == "standard":
        return ConfigChange(config_file, None, None)
    return ConfigChange(
        config_file, MANAGED_PROVIDER_IDS[path], managed_provider_table(path, settings)
    )


def build_argv(
    codex: str,
    choice: PathChoice,
    *,
    interactive: bool = False,
    fail_fast: bool = True,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The exact argv for one attempt. ``fail_fast`` turns off Codex's endless reconnect loop."""
    argv = [codex]
    if interactive:
        # --no-daemon: the TUI otherwise leaves an app-server daemon running after it exits.
        argv.append("--no-daemon")
    else:
        argv.append("exec")
        if not asks_for_events(extra_args):  # codex refuses a second --json
            # The event stream says how the turn ended (codex/events.py); the user still gets
            # plain codex's output from it.
            argv.append("--json")
    if fail_fast:
        argv += ["--disable", "unbounded_connection_retries"]
    provider_id = MANAGED_PROVIDER_IDS.get(choice.name)
    if provider_id:
        # Selected on the command line too: concurrent runs on other paths share config.toml.
        argv += ["-c", f'model_provider="{provider_id}"']
    if choice.model:
        argv += ["-m", choice.model]
    if choice.reasoning_effort:
        argv += ["-c", f'model_reasoning_effort="{choice.reasoning_effort}"']
    argv += list(extra_args)
    argv.append(PROMPT_PLACEHOLDER if interactive else "-")
    return argv
