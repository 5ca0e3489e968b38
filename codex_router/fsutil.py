"""Small file-system primitives with the safety the rest of codex-route relies on.

May import: nothing
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write_bytes(
    path: Path, data: bytes, *, mode: int | None = None, exact_mode: int | None = None
) -> None:
    """Replace ``path`` with ``data`` atomically: a temp file in the same directory, fsync, rename.

    The file's current mode is kept (``mode`` sets it for a new file; default 0o644 less umask);
    ``exact_mode`` sets it whatever it was (a restore puts the user's mode back after Codex's 0600).
    A reader sees the old content or the new, never a mix; a crash leaves at most a stray
    ``.<name>.*.tmp`` beside it, never a truncated target.
    """
    path = Path(path)
    directory = path.parent
    keep: int | None
    try:
        keep = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        keep = mode
    if exact_mode is not None:
        keep = exact_mode
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if keep is not None:
            os.chmod(tmp, keep)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o644 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    except OSError:
        pass
    finally:
        os.close(dir_fd)
