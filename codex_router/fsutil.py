"""Small file-system primitives with the safety the rest of codex-route relies on.

May import: nothing
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotRegularFileError(OSError):
    """A path that is a FIFO, a device, a socket or a directory where a file's bytes belong."""


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def read_regular_bytes(path: Path) -> bytes:
    """The bytes of ``path``, which must be a regular file (or a symlink to one).

    Anything else raises ``NotRegularFileError`` without being read: a FIFO would block until a
    writer comes, ``/dev/zero`` never ends. It is opened non-blocking, then checked with
    ``fstat`` (no window for a swap between the check and the read).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "an unknown kind")
            raise NotRegularFileError(errno.EINVAL, f"not a regular file: {kind}", str(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as handle:
            fd = -1  # the handle owns it now
            return handle.read()
    finally:
        if fd >= 0:
            os.close(fd)


def atomic_write_bytes(
    path: Path,
    data: bytes,
    *,
    mode: int | None = None,
    exact_mode: int | None = None,
    exact_owner: tuple[int, int] | None = None,
) -> None:
    """Replace ``path`` with ``data`` atomically: a temp file in the same directory, fsync, rename.

    The file's current mode is kept (``mode`` sets it for a new file; default 0o644 less umask);
    ``exact_mode`` sets it whatever it was (a restore puts the user's mode back after Codex's 0600).
    The file's owner and group are kept too (a run as root must not hand the user's config to
    root); ``exact_owner`` (uid, gid) sets them whatever they were. If they cannot be set (not
    root, file owned by someone else), ``PermissionError`` is raised and ``path`` is not touched.
    A reader sees the old content or the new, never a mix; a crash leaves at most a stray
    ``.<name>.*.tmp`` beside it, never a truncated target.
    """
    path = Path(path)
    directory = path.parent
    keep: int | None
    owner: tuple[int, int] | None
    try:
        st = path.stat()
        keep, owner = st.st_mode & 0o7777, (st.st_uid, st.st_gid)
    except FileNotFoundError:
        keep, owner = mode, None
    if exact_mode is not None:
        keep = exact_mode
    if exact_owner is not None:
        owner = exact_owner
    # lazy: tempfile loads random and hashlib (~4 ms); a dry run reads files, never writes one
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=directory, prefix=_temp_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if owner is not None:
            _set_owner(tmp, owner)  # before chmod: chown clears set-id bits
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


def _set_owner(path: str, owner: tuple[int, int]) -> None:
    st = os.stat(path)
    if (st.st_uid, st.st_gid) == owner:
        return
    os.chown(path, owner[0], owner[1])  # PermissionError when not allowed: never a silent change


def _temp_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_stray_temp_files(path: Path) -> int:
    """Remove the temp files :func:`atomic_write_bytes` leaves beside ``path`` when it is killed
    mid-write. Only for a caller that holds the lock every writer of ``path`` takes (else a temp
    file could be another writer's, in use). Returns how many were removed."""
    import glob  # lazy: only the writers' clean-up needs it, never a dry run

    path = Path(path)
    removed = 0
    for stray in path.parent.glob(f"{glob.escape(_temp_prefix(path))}*.tmp"):
        try:
            stray.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed
