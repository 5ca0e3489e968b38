"""The managed Codex profiles: ``$CODEX_HOME/cost-routing.config.toml`` and ``cost-routing-hf``.

Codex 0.169 reads a profile from its own file (``codex -p cost-routing``); ``[profiles.*]`` tables
in config.toml are ignored. ``config enable`` writes complete profiles (provider table with low
retries, selection, model, ``unbounded_connection_retries`` off) so plain ``codex -p …`` uses the
routes too; ``disable`` removes them. A file without codex-route's header is the user's: it is
never overwritten (without ``--force``) or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from codex_router.codex.argv import MANAGED_PROVIDER_IDS, managed_provider_table
from codex_router.codex.config_file import read_config_file
from codex_router.errors import CodexConfigError
from codex_router.fsutil import atomic_write_bytes
from codex_router.policy.roles import Role
from codex_router.policy.settings import Settings

HEADER = "# Managed by codex-route: `codex-route config disable` removes this file."
#: The Hugging Face model the ``huggingface`` profile selects when the policy's hf-fast alias
#: names none.
DEFAULT_HF_MODEL = "openai/gpt-oss-120b:fastest"


@dataclass(frozen=True)
class ProfileState:
    """One managed Codex profile and whether its file matches what codex-route writes."""

    name: str
    path: str
    file: str
    state: str  # enabled | outdated | absent | foreign
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "file": self.file,
            "state": self.state,
            "detail": self.detail,
        }


def profile_file(home: Path, path: str) -> Path:
    return home / f"{MANAGED_PROVIDER_IDS[path]}.config.toml"


def _model_for(path: str, settings: Settings) -> str:
    """The model a profile selects when used directly with ``codex -p``: the default alias on
    the litellm path, the hf-fast alias's Hugging Face model on the huggingface path."""
    policy = settings.policy
    if path == "huggingface":
        return policy.aliases[policy.alias_for(Role.HF_FAST)].huggingface_model or DEFAULT_HF_MODEL
    return policy.alias_for(Role.DEFAULT)


def render(path: str, settings: Settings) -> bytes:
    provider_id = MANAGED_PROVIDER_IDS[path]
    doc = {
        "model_provider": provider_id,
        "model": _model_for(path, settings),
        "model_providers": {provider_id: managed_provider_table(path, settings)},
        "features": {"unbounded_connection_retries": False},
    }
    usage = f"# Use it with: codex -p {provider_id}"
    return f"{HEADER}\n{usage}\n\n{tomlkit.dumps(doc)}".encode()


def _is_ours(data: bytes) -> bool:
    return data.startswith(HEADER.encode())


def states(home: Path, settings: Settings) -> list[ProfileState]:
    out = []
    for path, name in MANAGED_PROVIDER_IDS.items():
        file = profile_file(home, path)
        data = read_config_file(file)  # a FIFO or a device is refused, never read
        if data is None:
            out.append(ProfileState(name, path, str(file), "absent"))
            continue
        if not _is_ours(data):
            out.append(ProfileState(name, path, str(file), "foreign", "not written by codex-route"))
        elif data != render(path, settings):
            out.append(
                ProfileState(
                    name,
                    path,
                    str(file),
                    "outdated",
                    "differs from the policy (or Codex added trust entries); "
                    "`config enable` rewrites it",
                )
            )
        else:
            out.append(ProfileState(name, path, str(file), "enabled"))
    return out


def enable(home: Path, settings: Settings, *, force: bool = False) -> list[ProfileState]:
    if not home.is_dir():
        raise CodexConfigError(
            f"CODEX_HOME {home} does not exist", hint="create it, or fix CODEX_HOME"
        )
    current = states(home, settings)
    foreign = [s for s in current if s.state == "foreign"]
    if foreign and not force:
        raise CodexConfigError(
            f"{foreign[0].file} exists and was not written by codex-route; left as it is",
            hint="move it away, or pass --force to replace it",
        )
    for state in current:
        if state.state != "enabled":
            try:
                atomic_write_bytes(Path(state.file), render(state.path, settings), mode=0o600)
            except OSError as exc:
                raise CodexConfigError(f"cannot write {state.file}: {exc.strerror}") from None
    return states(home, settings)


def disable(home: Path, settings: Settings) -> list[ProfileState]:
    for state in states(home, settings):
        if state.state in ("enabled", "outdated"):
            try:
                Path(state.file).unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise CodexConfigError(f"cannot remove {state.file}: {exc.strerror}") from None
    return states(home, settings)
