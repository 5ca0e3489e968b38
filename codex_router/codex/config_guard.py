"""Guarding ``config.toml`` while codex-route's keys are in it: backup, lock, journal, restore.

One guarded period per config file, shared by every codex-route process that needs the file
edited at the same time, whatever its own state dir (``CODEX_ROUTE_HOME``): the guard's files
belong to the config file, in ``.codex-route-guard/`` beside it (beside the real file when
``config.toml`` is a symlink; key = hash of its real path):

- ``<key>.lock``: ``flock``-ed only while the journal or the config is being changed, never
  while codex runs, so concurrent runs do not wait for each other;
- ``<key>.orig``: the raw bytes of the config before the first edit (CRLF, BOM, comments, no
  final newline: all kept), written and fsync-ed before the config is touched;
- ``<key>.json``: the journal: which runs (PID + process start time) use the edit, what the edit
  added, and the hash of the bytes codex-route last wrote.

The last run to leave puts the original bytes back if the file is as codex-route left it;
if anyone else wrote it meanwhile (Codex adds ``[projects…]`` trust entries), it removes only
codex-route's keys. A journal whose runs are all dead (SIGKILL, power loss) is finished by the next
run or by ``codex-route config restore``. Versions before 0.x kept these files in
``<state_dir>/config-guard/``; a journal found there is moved beside the config and finished.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codex_router.codex import config_edit
from codex_router.codex.config_file import read_config_file
from codex_router.codex.guard_files import LEGACY_GUARD_DIR_NAME, guard_dir, journal_files
from codex_router.errors import CodexConfigError, StateError
from codex_router.fsutil import (
    atomic_write_bytes,
    remove_stray_temp_files,
)

JOURNAL_VERSION = 1
#: Codex writes its config with this mode; so does codex-route when it creates the file.
NEW_FILE_MODE = 0o600
#: Longest wait for the lock around a config.toml edit, in seconds (held for milliseconds by a
#: healthy run: a longer wait means a stuck holder). Tests lower it.
LOCK_TIMEOUT_SECONDS = 30.0
#: After this many seconds of waiting, one line says which lock is waited for.
LOCK_NOTICE_SECONDS = 1.0
#: How often the lock is tried again while another process holds it.
LOCK_POLL_SECONDS = 0.05


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def process_start_ticks(pid: int) -> int | None:
    """Start time of a process (Linux: /proc/PID/stat field 22), to tell a PID reused."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def process_alive(pid: int, start_ticks: int | None) -> bool:
    if pid <= 0:
        return False  # kill(0) and kill(-1) reach process groups, not a run: never alive
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        pass
    if start_ticks is None:
        return True
    now = process_start_ticks(pid)
    return now is None or now == start_ticks


@dataclass(frozen=True)
class Outcome:
    """What leaving (or recovering) a guarded period did to the config."""

    action: str  # "original" | "merged" | "in-use" | "deleted-by-user" | "nothing"
    message: str = ""
    others: int = 0


@dataclass
class Journal:
    """The guard's record of one edit period: the config file as it was before the edit."""

    config: str
    target: str
    original_present: bool
    original_sha256: str | None
    original_mode: int | None
    written_sha256: str | None
    foreign_change: bool = False
    edit: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    created_at: float = 0.0
    version: int = JOURNAL_VERSION
    #: [uid, gid] of the config before the first edit (a give-back puts them back, as the mode)
    original_owner: list[int] | None = None

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, indent=2, sort_keys=True).encode() + b"\n"

    def live_runs(self) -> dict[str, dict[str, Any]]:
        return {
            rid: r
            for rid, r in self.runs.items()
            if process_alive(int(r["pid"]), r.get("start_ticks"))
        }


_NONE = type(None)


def _expect(value: Any, types: tuple[type, ...], what: str) -> None:
    # bool is an int to isinstance; a journal never holds true/false where a number belongs
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        names = " or ".join("null" if t is _NONE else t.__name__ for t in types)
        raise ValueError(f"{what} should be {names}, got {type(value).__name__}")


#: The types of each field of the journal and of its ``edit``, as codex-route writes them.
_JOURNAL_TYPES: dict[str, tuple[type, ...]] = {
    "config": (str,),
    "target": (str,),
    "original_present": (bool,),
    "original_sha256": (str, _NONE),
    "original_mode": (int, _NONE),
    "written_sha256": (str, _NONE),
    "foreign_change": (bool,),
    "edit": (dict,),
    "runs": (dict,),
    "created_at": (int, float),
    "original_owner": (list, _NONE),
}
_EDIT_TYPES: dict[str, tuple[type, ...]] = {
    "inserted": (list,),
    "replaced_selection": (str, _NONE),
    "replaced_providers": (dict,),
    "added_providers": (list,),
    "selection_added": (bool,),
    "had_providers": (bool,),
}


def _check_shape(journal: Journal) -> None:
    """Raise ``ValueError`` naming the first field of a loaded journal that has the wrong type."""
    for name, types in _JOURNAL_TYPES.items():
        _expect(getattr(journal, name), types, name)
    for name, types in _EDIT_TYPES.items():
        if name in journal.edit:
            _expect(journal.edit[name], types, f"edit.{name}")
    if journal.original_mode is not None and not 0 <= journal.original_mode <= 0o7777:
        raise ValueError(f"original_mode {journal.original_mode} is not a file mode")
    if journal.original_owner is not None:
        if len(journal.original_owner) != 2:
            raise ValueError("original_owner should be [uid, gid]")
        for item in journal.original_owner:
            _expect(item, (int,), "an item of original_owner")
    for item in (*journal.edit.get("inserted", ()), *journal.edit.get("added_providers", ())):
        _expect(item, (str,), "an item of edit.inserted/added_providers")
    for table in journal.edit.get("replaced_providers", {}).values():
        _expect(table, (dict,), "a table of edit.replaced_providers")
    for run_id, run in journal.runs.items():
        _expect(run, (dict,), f"runs.{run_id}")
        _expect(run.get("pid"), (int,), f"runs.{run_id}.pid")
        _expect(run.get("start_ticks"), (int, _NONE), f"runs.{run_id}.start_ticks")


@dataclass(frozen=True)
class GuardStatus:
    """What `config status` reports about one guarded config file."""

    config: str
    active: bool
    live_runs: tuple[dict[str, Any], ...]
    interrupted: bool  # a journal whose runs are all dead: needs `config restore`
    backup: str | None
    created_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "active": self.active,
            "live_runs": list(self.live_runs),
            "interrupted": self.interrupted,
            "backup": self.backup,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class OwnSelection:
    """The provider the user's own config selects (``openai``: Codex's default)."""

    provider: str
    table: dict[str, Any] | None  # the user's own table of that id, if the user's file has one
    notices: tuple[str, ...]


def _selection_in(data: bytes | None, file: str, notices: tuple[str, ...]) -> OwnSelection | None:
    try:
        text = config_edit.decode(data or b"", file)[0]
        parsed = config_edit.parse(text, file)
    except CodexConfigError:
        return None
    selected = parsed.get("model_provider")
    provider = selected if isinstance(selected, str) else "openai"
    providers = parsed.get("model_providers")
    table = providers.get(provider) if isinstance(providers, dict) else None
    return OwnSelection(provider, table if isinstance(table, dict) else None, notices)


class ConfigGuard:
    """The guarded period of one ``config.toml`` (see the module docstring)."""

    def __init__(
        self,
        config_file: Path,
        state_dir: Path | None = None,
        *,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        """``state_dir``: codex-route's own, only to find a journal an older version left there."""
        #: told once (a line for stderr) when the lock is not free after LOCK_NOTICE_SECONDS
        self.on_wait = on_wait
        self.config = Path(config_file)
        self.target = Path(os.path.realpath(self.config))
        key = hashlib.sha256(str(self.target).encode()).hexdigest()[:16]
        self.dir = guard_dir(self.config)
        self.lock_path = self.dir / f"{key}.lock"
        self.journal_path = self.dir / f"{key}.json"
        self.backup_path = self.dir / f"{key}.orig"
        legacy = None if state_dir is None else Path(state_dir) / LEGACY_GUARD_DIR_NAME
        self._legacy = None if legacy is None else (legacy / f"{key}.json", legacy / f"{key}.orig")

    # -- plumbing -------------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        if not self.target.parent.is_dir():
            raise CodexConfigError(
                f"CODEX_HOME {self.target.parent} does not exist",
                hint="create it (mkdir -p) or fix CODEX_HOME",
            )
        try:
            self.dir.mkdir(exist_ok=True, mode=0o700)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(
                f"cannot use {self.dir} (codex-route's backup and journal of "
                f"{self.config}): {exc.strerror}; {self.config} was not touched",
                hint=f"make {self.target.parent} writable (Codex writes there too), "
                "or run with --codex-provider standard",
            ) from None
        try:
            self._wait_for_lock(fd)
            self._adopt_legacy()
            # Every writer of these files holds this lock: a temp file now is a killed writer's.
            for path in (self.target, self.journal_path, self.backup_path):
                remove_stray_temp_files(path)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _adopt_legacy(self) -> None:
        """Move a journal an older codex-route left in its state dir beside the config."""
        if self._legacy is None or self.journal_path.exists():
            return
        legacy_journal, legacy_backup = self._legacy
        try:
            journal = legacy_journal.read_bytes()
        except OSError:
            return  # none there (the usual case)
        try:
            if legacy_backup.exists():
                atomic_write_bytes(self.backup_path, legacy_backup.read_bytes(), exact_mode=0o600)
            atomic_write_bytes(self.journal_path, journal, mode=0o600)
        except OSError as exc:
            raise StateError(
                f"cannot move {legacy_journal} to {self.journal_path}: {exc.strerror}",
                hint="make both writable, then try again",
            ) from None
        legacy_journal.unlink(missing_ok=True)
        legacy_backup.unlink(missing_ok=True)

    def _wait_for_lock(self, fd: int) -> None:
        """Take the lock, polling: a stuck holder is named after a second and ends the wait after
        :data:`LOCK_TIMEOUT_SECONDS` with a :class:`CodexConfigError` (nothing written)."""
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass  # another process holds it
            waited = time.monotonic() - started
            if waited >= LOCK_TIMEOUT_SECONDS:
                raise CodexConfigError(
                    f"another process has held the lock {self.lock_path} for "
                    f"{waited:.0f} s; {self.config} was not touched",
                    hint=f"find the holder with: fuser -v {self.lock_path} (or lsof "
                    f"{self.lock_path}); let it finish or stop it, then try again",
                )
            if not told and waited >= LOCK_NOTICE_SECONDS and self.on_wait is not None:
                told = True
                self.on_wait(
                    f"waiting for the lock {self.lock_path} (another codex-route process is "
                    f"editing {self.config}; giving up after {LOCK_TIMEOUT_SECONDS:.0f} s)"
                )
            time.sleep(max(0.0, min(LOCK_POLL_SECONDS, LOCK_TIMEOUT_SECONDS - waited)))

    def _load(self, path: Path | None = None) -> Journal | None:
        path = path or self.journal_path
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read {path}: {exc.strerror}") from None
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            if data.get("version") != JOURNAL_VERSION:
                raise ValueError(f"journal version {data.get('version')!r}")
            journal = Journal(**data)
            _check_shape(journal)
            return journal
        except (ValueError, TypeError) as exc:
            raise StateError(
                f"{path} is damaged ({exc}); config.toml was not touched",
                hint=f"the original config bytes are in {self.backup_path}; compare, "
                "copy back by hand if needed, then delete both files",
            ) from None

    def _save(self, journal: Journal) -> None:
        try:
            atomic_write_bytes(self.journal_path, journal.to_json(), mode=0o600)
        except OSError as exc:
            raise StateError(
                f"cannot write {self.journal_path}: {exc.strerror}",
                hint="make the state dir writable, or set CODEX_ROUTE_HOME",
            ) from None

    def _read_config(self) -> bytes | None:
        if not self.target.parent.is_dir():
            raise CodexConfigError(
                f"CODEX_HOME {self.target.parent} does not exist",
                hint="create it (mkdir -p) or fix CODEX_HOME",
            )
        return read_config_file(self.config)

    def _write_config(
        self, data: bytes, mode: int, owner: list[int] | None = None, *, restoring: bool = False
    ) -> None:
        try:
            atomic_write_bytes(
                self.target,
                data,
                exact_mode=mode,
                exact_owner=None if owner is None else (owner[0], owner[1]),
            )
        except OSError as exc:
            if restoring:  # the journal and backup stay: `config restore` can finish the job
                raise self._not_restored(exc.strerror) from None
            raise CodexConfigError(
                f"cannot write {self.config}: {exc.strerror}; it was left as it was",
                hint=f"make {self.target.parent} writable, or run with --codex-provider standard",
            ) from None

    def _not_restored(self, why: str | None) -> CodexConfigError:
        return CodexConfigError(
            f"cannot restore {self.config}: {why}; codex-route's keys are still in it",
            hint=f"make {self.target.parent} writable, then run: codex-route config restore",
        )

    # -- the guarded period -----------------------------------------------------------------------
    def enter(self, run_id: str, provider_id: str, table: dict[str, Any]) -> list[str]:
        """Put ``provider_id``'s table (and, first in, its selection) into the config.

        Returns notices for the user (e.g. an interrupted run's config was recovered first).
        """
        notices: list[str] = []
        with self._locked():
            journal = self._load()
            if journal is not None and not journal.live_runs():
                notices.append(self._finish(journal).message)
                journal = None
            current = self._read_config()
            me = {
                "pid": os.getpid(),
                "start_ticks": process_start_ticks(os.getpid()),
                "provider_id": provider_id,
                "since": time.time(),
            }
            if journal is None:
                new, edit = config_edit.apply(
                    current or b"",
                    str(self.config),
                    provider_id=provider_id,
                    table=table,
                    select=True,
                )
                mode = self._mode_of(current)
                journal = Journal(
                    str(self.config),
                    str(self.target),
                    current is not None,
                    _sha(current),
                    mode,
                    _sha(new),
                    False,
                    edit.to_dict(),
                    {run_id: me},
                    time.time(),
                    original_owner=self._owner_of(current),
                )
                self._write_backup(current)
                self._save(journal)  # durable before the config changes: a crash is recoverable
                try:
                    self._write_config(new, mode if mode is not None else NEW_FILE_MODE)
                except CodexConfigError:
                    # Nothing was changed: forget the period rather than "recover" it later.
                    self.journal_path.unlink(missing_ok=True)
                    self.backup_path.unlink(missing_ok=True)
                    raise
                return notices
            journal.runs = journal.live_runs()
            if _sha(current) != journal.written_sha256:
                journal.foreign_change = True
            base = current or b""
            providers = config_edit.parse(
                config_edit.decode(base, str(self.config))[0], str(self.config)
            ).get("model_providers", {})
            # A table of that id is codex-route's only if this period put it there; otherwise it
            # is the user's own (an old cost-router user's cost-routing), replaced like on entry.
            ours = {
                *journal.edit.get("added_providers", ()),
                *journal.edit.get("replaced_providers", {}),
            }
            if provider_id in providers and provider_id in ours:
                if providers[provider_id] != table:
                    raise CodexConfigError(
                        f"another codex-route run uses [{'model_providers.' + provider_id}] in "
                        f"{self.config} with different settings",
                        hint="wait for it to finish, or give both runs the same endpoint",
                    )
            else:
                new, edit = config_edit.apply(
                    base, str(self.config), provider_id=provider_id, table=table, select=False
                )
                before = (journal.edit, journal.written_sha256)
                journal.edit = config_edit.Edit.from_dict(journal.edit).merged(edit).to_dict()
                journal.written_sha256 = _sha(new)
                self._save(journal)
                try:
                    self._write_config(new, self._mode_of(current) or NEW_FILE_MODE)
                except CodexConfigError:
                    journal.edit, journal.written_sha256 = before
                    self._save(journal)
                    raise
            journal.runs[run_id] = me
            self._save(journal)
        return notices

    def leave(self, run_id: str) -> Outcome:
        """This run is done with the config; the last one out restores it."""
        with self._locked():
            journal = self._load()
            if journal is None:
                return Outcome("nothing", "")
            journal.runs.pop(run_id, None)
            live = journal.live_runs()
            if live:
                journal.runs = live
                self._save(journal)
                return Outcome(
                    "in-use",
                    f"config.toml stays edited for {len(live)} other "
                    "codex-route run(s); the last one restores it",
                    len(live),
                )
            return self._finish(journal)

    def recover(self, *, force: bool = False) -> Outcome:
        """Finish a guarded period whose runs are gone (``config restore``)."""
        with self._locked():
            journal = self._load()
            if journal is None:
                return Outcome("nothing", f"{self.config} has no codex-route edit to undo")
            live = journal.live_runs()
            if live and not force:
                pids = ", ".join(str(r["pid"]) for r in live.values())
                raise CodexConfigError(
                    f"codex-route run(s) in progress use {self.config} (pid {pids})",
                    hint="wait for them, or pass --force to restore anyway",
                )
            return self._finish(journal)

    def own_selection(self) -> OwnSelection | None:
        """The user's own ``model_provider`` (and the user's table of it), for a run
        on the standard path to pin on the command line, whatever is in the file at that moment.

        An interrupted period is finished first (said in ``notices``). While a period is active the
        answer comes from the backup; otherwise from the file, read so that an edit landing at the
        same moment cannot be mistaken for the user's own (the journal, and so the guard's
        directory, always exists before an edit reaches the file). ``None``: the file does not
        parse; Codex will say so itself.
        """
        if not self.target.parent.is_dir():
            return OwnSelection("openai", None, ())
        if not self.dir.is_dir() and not self._legacy_exists():
            current = self._read_config()
            if not self.dir.is_dir():  # still no guard: nothing of codex-route was in `current`
                return _selection_in(current, str(self.config), ())
        with self._locked():
            notices: tuple[str, ...] = ()
            journal = self._load()
            if journal is not None and not journal.live_runs():
                notices = (self._finish(journal).message,)
                journal = None
            if journal is None:
                return _selection_in(self._read_config(), str(self.config), notices)
            original = self._read_backup() if journal.original_present else b""
            return _selection_in(original, str(self.config), notices)

    def _legacy_exists(self) -> bool:
        return self._legacy is not None and self._legacy[0].exists()

    def status(self) -> GuardStatus:
        journal = self._load()
        if journal is None and self._legacy_exists():
            assert self._legacy is not None
            journal = self._load(self._legacy[0])  # moved beside the config by the next run
        if journal is None:
            return GuardStatus(str(self.config), False, (), False, None, None)
        live = journal.live_runs()
        return GuardStatus(
            str(self.config),
            bool(live),
            tuple(live.values()),
            not live,
            str(self.backup_path) if self.backup_path.exists() else None,
            journal.created_at,
        )

    # -- internals --------------------------------------------------------------------------------
    def _mode_of(self, current: bytes | None) -> int | None:
        if current is None:
            return None
        return self.target.stat().st_mode & 0o7777

    def _owner_of(self, current: bytes | None) -> list[int] | None:
        if current is None:
            return None
        st = self.target.stat()
        return [st.st_uid, st.st_gid]

    def _write_backup(self, current: bytes | None) -> None:
        try:
            if current is None:
                self.backup_path.unlink(missing_ok=True)
            else:
                atomic_write_bytes(self.backup_path, current, exact_mode=0o600)
        except OSError as exc:
            raise StateError(
                f"cannot write the backup {self.backup_path}: {exc.strerror}; "
                "config.toml was not touched",
                hint="make the state dir writable, or set CODEX_ROUTE_HOME",
            ) from None

    def _read_backup(self) -> bytes:
        try:
            data = self.backup_path.read_bytes()
        except OSError as exc:
            raise CodexConfigError(
                f"the backup {self.backup_path} is missing ({exc.strerror}); "
                f"{self.config} was left as it is"
            ) from None
        return data

    def _backup_or_none(self) -> bytes | None:
        try:
            return self.backup_path.read_bytes()
        except OSError:
            return None

    def _finish(self, journal: Journal) -> Outcome:
        current = self._read_config()
        edit = config_edit.Edit.from_dict(journal.edit)
        mode = journal.original_mode if journal.original_mode is not None else NEW_FILE_MODE
        if current is None:
            outcome = Outcome(
                "deleted-by-user",
                f"{self.config} was deleted during the run; "
                f"its original bytes are kept in {self.backup_path}",
            )
            self.journal_path.unlink(missing_ok=True)
            return outcome
        if _sha(current) == journal.original_sha256:
            # Killed before its edit reached the file: nothing to undo.
            outcome = Outcome("original", f"{self.config} was never changed; nothing to restore")
        elif _sha(current) == journal.written_sha256 and not journal.foreign_change:
            if journal.original_present:
                original = self._read_backup()
                if _sha(original) != journal.original_sha256:
                    raise CodexConfigError(
                        f"the backup {self.backup_path} does not match the hash "
                        f"recorded before the run; codex-route's keys are still in {self.config}",
                        hint=f"compare the backup with {self.config}; copy it back by hand if it "
                        f"is right, then delete {self.journal_path} and the backup",
                    )
                self._write_config(original, mode, journal.original_owner, restoring=True)
            else:
                try:
                    self.target.unlink()
                except OSError as exc:
                    raise self._not_restored(exc.strerror) from None
            outcome = Outcome("original", f"restored {self.config} byte for byte")
        else:
            backup = self._backup_or_none()
            merged = config_edit.remove(current, str(self.config), edit, backup)
            self._write_config(merged, mode, journal.original_owner, restoring=True)
            if merged == backup and _sha(backup) == journal.original_sha256:
                # Nobody else wrote it after all: an edit the journal lists never reached the
                # file (a joining run killed before its write).
                outcome = Outcome("original", f"restored {self.config} byte for byte")
            else:
                outcome = Outcome(
                    "merged",
                    f"{self.config} changed during the run (Codex or you edited it); "
                    "kept those changes and removed only codex-route's keys",
                )
        self.backup_path.unlink(missing_ok=True)
        self.journal_path.unlink(missing_ok=True)
        return outcome


def guards_needing_recovery(config_file: Path, state_dir: Path | None = None) -> list[GuardStatus]:
    """Interrupted guarded periods (all their runs dead) of ``config_file``'s directory, and any
    an older version left in ``state_dir``: for the dry run's note and ``config status``."""
    found: dict[str, GuardStatus] = {}
    for journal_path in journal_files(config_file, state_dir):
        try:
            config = json.loads(journal_path.read_bytes())["config"]
            if not isinstance(config, str):
                continue
            status = ConfigGuard(Path(config), state_dir).status()
        except (OSError, ValueError, KeyError, TypeError, CodexConfigError, StateError):
            continue  # damaged: `config status` and the next managed run say so
        if status.interrupted:
            found.setdefault(status.config, status)
    return list(found.values())
