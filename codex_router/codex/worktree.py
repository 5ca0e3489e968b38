"""Did an attempt change the git working tree? (The fallback never re-runs a task blindly on top
of an attempt's edits.)

A fingerprint is ``git status --porcelain=v2 --branch -z`` (HEAD, index and every changed or
untracked path) plus the size and mtime of each listed path, so a second edit to an already
modified file is seen too. Outside a git repository, or without git, there is nothing to compare
and the check says so.
"""

from __future__ import annotations

import os
import subprocess
from typing import NamedTuple

GIT_TIMEOUT_SECONDS = 15.0


class TreeState(NamedTuple):
    """A fingerprint of the git work tree, to tell whether an attempt changed files."""

    fingerprint: str | None  # None: not a git work tree (or git missing)
    changed_paths: int
    note: str = ""


def _git(args: list[str], cwd: str | None) -> subprocess.CompletedProcess[bytes]:
    # GIT_OPTIONAL_LOCKS=0: a status must not take the index lock from a concurrent git command.
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        timeout=GIT_TIMEOUT_SECONDS,
        stdin=subprocess.DEVNULL,
        check=False,
        env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )


def snapshot(cwd: str | None = None) -> TreeState:
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd)
        if top.returncode != 0:
            return TreeState(None, 0, "not a git work tree: changes to files cannot be detected")
        root = os.fsdecode(top.stdout.rstrip(b"\n"))
        done = _git(["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"], root)
    except FileNotFoundError:
        return TreeState(None, 0, "git is not installed: changes to files cannot be detected")
    except subprocess.TimeoutExpired:
        return TreeState(None, 0, "git status timed out: changes to files cannot be detected")
    if done.returncode != 0:
        return TreeState(None, 0, "git status failed: changes to files cannot be detected")
    import hashlib  # lazy: loads OpenSSL (~3 ms); the dry run only asks in_git_repository

    digest = hashlib.sha256(done.stdout)
    changed = 0
    records = done.stdout.split(b"\0")
    for record in records:
        if not record or record.startswith(b"# "):
            continue
        changed += 1
        path = _path_of(record)
        if path is None:
            continue
        try:
            st = os.stat(os.path.join(root, os.fsdecode(path)))
            digest.update(b"%s\0%d\0%d\0" % (path, st.st_size, st.st_mtime_ns))
        except OSError:
            digest.update(path + b"\0gone\0")
    return TreeState(digest.hexdigest(), changed)


def _path_of(record: bytes) -> bytes | None:
    # v2 entries: "1 XY sub mH mI mW hH hI path", "2 … path" (+ orig path in the next record),
    # "u … path", "? path", "! path"; porcelain paths are relative to the top level.
    kind = record[:1]
    if kind in (b"?", b"!"):
        return record[2:]
    parts = record.split(b" ", {b"1": 8, b"2": 9, b"u": 10}.get(kind, 0))
    return parts[-1] if len(parts) > 1 else None


def changed_between(before: TreeState, after: TreeState) -> bool:
    return before.fingerprint is not None and before.fingerprint != after.fingerprint


def in_git_repository(cwd: str | None = None) -> bool:
    """Would Codex find a git repository here? A ``.git`` file (worktree, submodule) or a
    ``.git`` directory with a ``HEAD`` in ``cwd`` or a parent, as Codex 0.169 looks for one
    (an empty ``.git`` directory does not count for it either). No git process is started."""
    here = os.path.abspath(cwd or os.getcwd())
    while True:
        dot_git = os.path.join(here, ".git")
        if os.path.isfile(dot_git) or os.path.isfile(os.path.join(dot_git, "HEAD")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent
