"""Where the config guard keeps its files: beside the config file they guard.

Small on purpose: the dry run asks "did an interrupted run leave a journal?" on every call, and
must not pay for loading the guard itself (tomllib, tempfile) to learn that it did not.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The guard's directory, beside the (real) config file it guards; Codex ignores it.
GUARD_DIR_NAME = ".codex-route-guard"
#: Where codex-route kept the guard's files before: inside its own state dir.
LEGACY_GUARD_DIR_NAME = "config-guard"


def guard_dir(config_file: Path) -> Path:
    """The guard's directory of ``config_file`` (beside its target when it is a symlink)."""
    return Path(os.path.realpath(config_file)).parent / GUARD_DIR_NAME


def journal_files(config_file: Path, state_dir: Path | None = None) -> list[Path]:
    """Journals of guarded periods of ``config_file``'s directory (and, from older versions, of
    codex-route's state dir): a cheap look, nothing is read."""
    found = sorted(guard_dir(config_file).glob("*.json"))
    if state_dir is not None:
        found += sorted((Path(state_dir) / LEGACY_GUARD_DIR_NAME).glob("*.json"))
    return found
