"""Where codex-route and Codex keep their files. Pure resolution: nothing here creates a directory.

Order, for codex-route's own directories:

1. ``CODEX_ROUTE_HOME`` set: everything lives below it (``config/``, ``state/``, ``cache/``),
   which is what tests and portable installs use;
2. otherwise the platform's user directories from platformdirs
   (``~/.config/codex-route``, ``~/.local/state/codex-route``, ``~/.cache/codex-route`` on Linux).

Codex's own home is ``CODEX_HOME`` when set, else ``~/.codex`` (as Codex itself does). Codex
takes ``CODEX_HOME`` literally (no ``~`` expansion: ``~/x`` is a directory named ``~`` below the
working directory, which it refuses when missing), so a value starting with ``~`` is refused here
rather than expanded to a file Codex would never read.

May import: errors
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

APP_NAME = "codex-route"
POLICY_FILE_NAME = "policy.yaml"


class AppDirs(NamedTuple):
    """codex-route's directories and where the user's policy lives."""

    config_dir: Path
    state_dir: Path
    cache_dir: Path

    @property
    def user_policy(self) -> Path:
        return self.config_dir / POLICY_FILE_NAME


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def app_dirs(env: Mapping[str, str] | None = None) -> AppDirs:
    """Resolve codex-route's directories from ``env`` (default: the process environment)."""
    env = _env(env)
    home = env.get("CODEX_ROUTE_HOME", "").strip()
    if home:
        root = Path(home).expanduser()
        return AppDirs(root / "config", root / "state", root / "cache")
    import platformdirs  # lazy: ~4 ms on a dry run; unneeded when CODEX_ROUTE_HOME is set

    return AppDirs(
        Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_state_dir(APP_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    return app_dirs(env).cache_dir


def codex_home(env: Mapping[str, str] | None = None) -> Path:
    """Codex's home: ``CODEX_HOME`` or ``~/.codex``; a ``CODEX_HOME`` starting with ``~`` is an
    error (Codex does not expand it, see the module docstring)."""
    env = _env(env)
    value = env.get("CODEX_HOME", "").strip()
    if value.startswith("~"):
        from codex_router.errors import CodexConfigError  # lazy: only a bad value pays for it

        raise CodexConfigError(
            f"CODEX_HOME={value!r} starts with '~', which Codex does not expand "
            "(it would look for a directory literally named '~')",
            hint=f'set CODEX_HOME to an absolute path, e.g. CODEX_HOME="$HOME/{value[2:]}" '
            "(a shell expands ~ only unquoted, $HOME also inside double quotes)"
            if value.startswith("~/")
            else "set CODEX_HOME to an absolute path",
        )
    if value:
        return Path(value)
    home = env.get("HOME", "").strip()
    return (Path(home) if home else Path.home()) / ".codex"
