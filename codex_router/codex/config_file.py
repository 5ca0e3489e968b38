"""Reading a Codex config file safely: only a regular file, errors as ``CodexConfigError``.

Its own small module because the dry run checks config.toml on every call and must not load the
guard (journal, lock, tempfile) to do so.
"""

from __future__ import annotations

import os
from pathlib import Path

from codex_router.errors import CodexConfigError
from codex_router.fsutil import NotRegularFileError, read_regular_bytes


def read_config_file(config: Path) -> bytes | None:
    """The bytes of a Codex config file (``None``: there is none), as ``CodexConfigError``s.

    Only a regular file (or a symlink to one) is read: a FIFO would block until a writer comes,
    ``/dev/zero`` never ends; either is refused, naming the file, before any read.
    """
    try:
        return read_regular_bytes(Path(config))
    except FileNotFoundError:
        return None
    except NotRegularFileError as exc:
        target = Path(os.path.realpath(config))
        where = str(config) if Path(config) == target else f"{config} (-> {target})"
        raise CodexConfigError(
            f"{where} is {exc.strerror}; codex-route reads and edits only regular files "
            "(reading this one could block forever), so it was not touched",
            hint="make it a regular file (or a symlink to one), "
            "or run with --codex-provider standard",
        ) from None
    except OSError as exc:
        raise CodexConfigError(
            f"cannot read {config}: {exc.strerror}", hint="fix its permissions"
        ) from None
