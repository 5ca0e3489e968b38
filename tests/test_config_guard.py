"""ConfigGuard: backup, journal, concurrent periods, recovery, and refusing unsafe states."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from codex_router import fsutil
from codex_router.codex import config_guard
from codex_router.codex.config_guard import ConfigGuard
from codex_router.errors import CodexConfigError, StateError

TABLE = {
    "name": "codex-route LiteLLM proxy",
    "base_url": "http://127.0.0.1:4000/v1",
    "env_key": "LITELLM_API_KEY",
    "wire_api": "responses",
}
HF = {
    "name": "codex-route Hugging Face router",
    "base_url": "https://router.huggingface.co/v1",
    "env_key": "HF_TOKEN",
    "wire_api": "responses",
}
ORIGINAL = b'\xef\xbb\xbfmodel = "o3"\r\n# keep me\r\n[tui]\r\nx = 1'


@pytest.fixture
def setup(tmp_path: Path):
    home = tmp_path / "codex"
    home.mkdir()
    config = home / "config.toml"
    config.write_bytes(ORIGINAL)
    config.chmod(0o640)
    return config, ConfigGuard(config, tmp_path / "state")


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def mark_runs_dead(guard: ConfigGuard) -> None:
    """Make the journal's runs look like processes that were killed (their PIDs exist no more)."""
    journal = json.loads(guard.journal_path.read_bytes())
    for run in journal["runs"].values():
        run["pid"] = dead_pid()
    guard.journal_path.write_text(json.dumps(journal))


def test_enter_then_leave_gives_the_exact_bytes_and_mode_back(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    assert b"cost-routing" in config.read_bytes()
    assert guard.backup_path.read_bytes() == ORIGINAL
    assert guard.status().active
    outcome = guard.leave("a")
    assert outcome.action == "original"
    assert config.read_bytes() == ORIGINAL
    assert config.stat().st_mode & 0o777 == 0o640
    assert not guard.journal_path.exists() and not guard.backup_path.exists()


needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="only root can give a file to another uid"
)


@needs_root
@pytest.mark.parametrize("codex_rewrites", [False, True])
def test_a_guard_run_as_root_keeps_the_owner_and_group(setup, codex_rewrites):
    config, guard = setup
    os.chown(config, 12345, 23456)
    guard.enter("a", "cost-routing", TABLE)
    st = config.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (12345, 23456, 0o640)
    guard.enter("b", "cost-routing-hf", HF)  # a joining run's write keeps them too
    assert (config.stat().st_uid, config.stat().st_gid) == (12345, 23456)
    if codex_rewrites:  # Codex, also root, writes its own file: root-owned, 0600
        fsutil.atomic_write_bytes(
            config, config.read_bytes() + b"\r\n", exact_mode=0o600, exact_owner=(0, 0)
        )
        assert config.stat().st_uid == 0
    guard.leave("a")
    outcome = guard.leave("b")
    assert outcome.action == ("merged" if codex_rewrites else "original")
    st = config.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (12345, 23456, 0o640)


@needs_root
def test_an_interrupted_period_recovered_as_root_keeps_the_owner(setup):
    config, guard = setup
    os.chown(config, 12345, 23456)
    guard.enter("a", "cost-routing", TABLE)
    mark_runs_dead(guard)
    assert guard.recover().action == "original"
    assert config.read_bytes() == ORIGINAL
    assert (config.stat().st_uid, config.stat().st_gid) == (12345, 23456)


def test_atomic_write_refuses_rather_than_change_the_owner(tmp_path: Path, monkeypatch):
    target = tmp_path / "f"
    target.write_bytes(b"old")

    def no_chown(*args: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(fsutil.os, "chown", no_chown)
    with pytest.raises(PermissionError):
        fsutil.atomic_write_bytes(target, b"new", exact_owner=(12345, 23456))
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no stray temp file


@pytest.mark.parametrize("codex_appends", [False, True])
def test_a_config_with_nan_and_inf_is_edited_and_given_back(setup, codex_appends):
    config, guard = setup
    original = b'a = nan\nb = -inf\n[model_providers.cost-routing]\nname = "old"\nw = nan\n'
    config.write_bytes(original)
    guard.enter("a", "cost-routing", TABLE)  # the user's table (with its nan) is in the journal
    trust = b'\n[projects."/r"]\ntrust_level = "trusted"\n'
    if codex_appends:
        config.write_bytes(config.read_bytes() + trust)
    guard.leave("a")
    assert config.read_bytes() == original + (trust if codex_appends else b"")


REPO = Path(__file__).resolve().parents[1]
#: Run in a child with a timeout: reading a FIFO or /dev/zero would hang the test, not fail it.
GUARD_ON_A_SPECIAL_FILE = """
import json, sys
from pathlib import Path
from codex_router.codex.config_guard import ConfigGuard
from codex_router.errors import CodexConfigError
guard = ConfigGuard(Path(sys.argv[1]), Path(sys.argv[2]))
for action in (lambda: guard.enter("a", "cost-routing", json.loads(sys.argv[3])), guard.recover):
    try:
        outcome = action()
    except CodexConfigError as exc:
        print(json.dumps([exc.exit_code, exc.message, exc.hint]))
    else:
        print(json.dumps(["not refused", getattr(outcome, "action", None)]))
"""


def make_special(path: Path, kind: str) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


@pytest.mark.parametrize(("kind", "words"), [("fifo", "a FIFO"), ("dev-zero", "character device")])
def test_a_config_that_is_not_a_regular_file_is_refused_unread(setup, kind, words):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    mark_runs_dead(guard)  # an interrupted period: the next run and `config restore` read it
    config.unlink()
    make_special(config, kind)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            GUARD_ON_A_SPECIAL_FILE,
            str(config),
            str(guard.dir.parent),
            json.dumps(TABLE),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    entered, recovered = (json.loads(line) for line in done.stdout.splitlines())
    # the guard is keyed by the real path: a symlink to /dev/zero is another file with no period
    refusals = [entered, recovered] if kind == "fifo" else [entered]
    if kind != "fifo":
        assert recovered == ["not refused", "nothing"]
    for code, message, hint in refusals:
        assert code == 5 and message.startswith(f"{config} ") and words in message
        assert "regular file" in message and "--codex-provider standard" in hint
    # left as it was: still a FIFO, still a symlink to /dev/zero; the backup is kept
    if kind == "fifo":
        assert config.is_fifo()
    else:
        assert os.readlink(config) == "/dev/zero"
    assert guard.backup_path.read_bytes() == ORIGINAL


def test_overlapping_runs_share_one_period_and_the_last_restores(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    guard.enter("b", "cost-routing-hf", HF)
    guard.enter("c", "cost-routing", TABLE)  # same table: nothing to add
    text = config.read_bytes()
    assert (
        b"[model_providers.cost-routing]" in text and b"[model_providers.cost-routing-hf]" in text
    )
    assert guard.leave("a").action == "in-use"
    assert guard.leave("c").action == "in-use"
    assert guard.leave("b").action == "original"
    assert config.read_bytes() == ORIGINAL


def test_a_concurrent_run_with_other_settings_for_the_same_id_is_refused(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    with pytest.raises(CodexConfigError, match="different settings"):
        guard.enter("b", "cost-routing", {**TABLE, "base_url": "http://127.0.0.1:4001/v1"})
    guard.leave("a")
    assert config.read_bytes() == ORIGINAL


def test_changes_made_during_the_period_are_kept(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    # Codex writes atomically and with 0600, appending its trust entry.
    fsutil.atomic_write_bytes(
        config,
        config.read_bytes() + b'\r\n[projects."/r"]\r\ntrust_level = "trusted"\r\n',
        exact_mode=0o600,
    )
    outcome = guard.leave("a")
    assert outcome.action == "merged" and "kept those changes" in outcome.message
    assert config.read_bytes() == ORIGINAL + b'\r\n[projects."/r"]\r\ntrust_level = "trusted"\r\n'
    assert config.stat().st_mode & 0o777 == 0o640


def test_a_change_seen_by_a_later_run_is_not_undone_by_a_byte_restore(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    config.write_bytes(config.read_bytes() + b'\r\n[projects."/r"]\r\ntrust_level = "trusted"\r\n')
    guard.enter(
        "b", "cost-routing-hf", HF
    )  # rewrites the file; the foreign change must be remembered
    guard.leave("a")
    assert guard.leave("b").action == "merged"
    assert config.read_bytes() == ORIGINAL + b'\r\n[projects."/r"]\r\ntrust_level = "trusted"\r\n'


def _assert_interrupted_then_given_back(config, guard) -> None:
    """The period reads as interrupted (no live run), is listed for recovery, and recovering it
    gives the original bytes back."""
    status = guard.status()
    assert status.interrupted and not status.active
    assert [s.config for s in config_guard.guards_needing_recovery(guard.config)] == [str(config)]
    assert guard.recover().action == "original"
    assert config.read_bytes() == ORIGINAL


def test_an_interrupted_period_is_recovered(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    mark_runs_dead(guard)
    _assert_interrupted_then_given_back(config, guard)


def test_the_next_run_recovers_first_and_says_so(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    mark_runs_dead(guard)
    notices = guard.enter("b", "cost-routing", TABLE)
    assert any("restored" in n for n in notices)
    guard.leave("b")
    assert config.read_bytes() == ORIGINAL


def test_restore_refuses_while_a_run_is_alive_unless_forced(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    with pytest.raises(CodexConfigError, match="in progress"):
        guard.recover()
    assert guard.recover(force=True).action == "original"
    assert config.read_bytes() == ORIGINAL


def test_a_missing_config_is_created_then_removed(tmp_path: Path):
    (tmp_path / "codex").mkdir()
    config = tmp_path / "codex" / "config.toml"
    guard = ConfigGuard(config, tmp_path / "state")
    guard.enter("a", "cost-routing", TABLE)
    assert config.stat().st_mode & 0o777 == 0o600
    guard.leave("a")
    assert not config.exists()


def test_missing_codex_home_is_a_config_error(tmp_path: Path):
    guard = ConfigGuard(tmp_path / "nope" / "config.toml", tmp_path / "state")
    with pytest.raises(CodexConfigError, match="does not exist"):
        guard.enter("a", "cost-routing", TABLE)


def test_unparsable_config_is_refused_and_untouched(setup):
    config, guard = setup
    config.write_bytes(b'model = "o3"\n[tui\n')
    with pytest.raises(CodexConfigError, match="line 2"):
        guard.enter("a", "cost-routing", TABLE)
    assert config.read_bytes() == b'model = "o3"\n[tui\n'
    assert not guard.journal_path.exists()


def test_an_unwritable_codex_home_changes_nothing(setup, monkeypatch):
    config, guard = setup
    real_mkstemp = tempfile.mkstemp  # fsutil imports tempfile when it first writes

    def refuse(*args, **kwargs):
        if Path(kwargs["dir"]) == config.parent:
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(CodexConfigError, match="Permission denied"):
        guard.enter("a", "cost-routing", TABLE)
    assert config.read_bytes() == ORIGINAL
    assert not guard.journal_path.exists() and not guard.backup_path.exists()


def test_an_unusable_guard_dir_is_a_state_error_before_any_change(setup):
    config, guard = setup
    guard.dir.write_text("x")  # a file where the guard's directory belongs
    with pytest.raises(StateError, match="was not touched") as info:
        guard.enter("a", "cost-routing", TABLE)
    assert str(guard.dir) in info.value.message
    assert config.read_bytes() == ORIGINAL


def test_the_guard_belongs_to_the_config_not_to_codex_routes_state_dir(setup, tmp_path: Path):
    """Two runs with different CODEX_ROUTE_HOMEs on one CODEX_HOME share one period (item 4)."""
    config, _ = setup
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    first = ConfigGuard(config, tmp_path / "state-one")
    second = ConfigGuard(config, blocker / "unusable")  # its state dir does not matter
    first.enter("a", "cost-routing", TABLE)
    second.enter("b", "cost-routing-hf", HF)
    assert first.journal_path == second.journal_path
    assert first.journal_path.parent == config.parent / ".codex-route-guard"
    assert first.leave("a").action == "in-use"  # the other run still needs the edit
    assert second.leave("b").action == "original"
    assert config.read_bytes() == ORIGINAL


def test_a_journal_an_older_version_left_in_the_state_dir_is_moved_and_finished(
    setup, tmp_path: Path
):
    config, guard = setup
    state = tmp_path / "state"
    guard.enter("a", "cost-routing", TABLE)
    mark_runs_dead(guard)
    legacy = state / "config-guard"
    legacy.mkdir(parents=True)
    for path in (guard.journal_path, guard.backup_path):  # where 0.x kept them
        path.rename(legacy / path.name)
    later = ConfigGuard(config, state)
    assert later.status().interrupted
    assert [s.config for s in config_guard.guards_needing_recovery(config, state)] == [str(config)]
    assert later.recover().action == "original"
    assert config.read_bytes() == ORIGINAL
    assert list(legacy.iterdir()) == [] and not later.journal_path.exists()


def test_a_damaged_journal_stops_everything(setup):
    config, guard = setup
    guard.dir.mkdir(parents=True)
    guard.journal_path.write_text("{not json")
    with pytest.raises(StateError, match="damaged"):
        guard.enter("a", "cost-routing", TABLE)
    assert config.read_bytes() == ORIGINAL


def test_a_backup_that_does_not_match_its_hash_is_not_written_back(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    guard.backup_path.write_bytes(b"tampered")
    with pytest.raises(CodexConfigError, match="does not match"):
        guard.leave("a")
    assert b"cost-routing" in config.read_bytes()  # left as it was, for the user to decide


def test_a_config_deleted_during_the_run_stays_deleted_and_the_backup_is_kept(setup):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    config.unlink()
    outcome = guard.leave("a")
    assert outcome.action == "deleted-by-user"
    assert not config.exists() and guard.backup_path.read_bytes() == ORIGINAL


def test_own_selection_names_the_users_provider_whatever_is_in_the_file(setup):
    config, guard = setup
    own = guard.own_selection()
    assert own is not None and (own.provider, own.table, own.notices) == ("openai", None, ())
    guard.enter("a", "cost-routing", TABLE)
    own = guard.own_selection()  # the file selects cost-routing now; the user's own does not
    assert own is not None and own.provider == "openai" and own.table is None
    guard.leave("a")
    config.write_bytes(b'model_provider = "mine"\n[model_providers.mine]\nbase_url = "x"\n')
    assert guard.own_selection() == config_guard.OwnSelection("mine", {"base_url": "x"}, ())


def test_dry_run_mentions_an_interrupted_edit(isolated_env):
    import os

    from typer.testing import CliRunner

    from codex_router.cli import app
    from codex_router.dirs import app_dirs, codex_home

    config = codex_home(os.environ) / "config.toml"
    config.write_bytes(ORIGINAL)
    guard = ConfigGuard(config, app_dirs().state_dir)
    guard.enter("a", "cost-routing", TABLE)
    mark_runs_dead(guard)
    result = CliRunner().invoke(app, ["run", "--dry-run", "--no-stdin", "fix the typo"])
    assert result.exit_code == 0, result.output
    assert "interrupted run" in result.output and "config restore" in result.output
    assert b"cost-routing" in config.read_bytes()  # a dry run changes nothing, not even this


def _reshape(journal: dict, change: str) -> object:
    """The journal codex-route wrote, turned into valid JSON of a wrong shape."""
    edit, run = journal["edit"], next(iter(journal["runs"].values()))
    if change.startswith("top:"):
        return json.loads(change[4:])
    field, raw = change.split("=", 1)
    value = json.loads(raw)
    if field.startswith("edit."):
        edit[field[5:]] = value
    elif field.startswith("run."):
        run[field[4:]] = value
    elif field == "run":
        journal["runs"]["a"] = value
    else:
        journal[field] = value
    return journal


WRONG_SHAPES = [
    "top:[]",
    'top:"journal"',
    "top:1",
    "top:null",
    "config=5",
    'original_present="yes"',
    "original_sha256=7",
    'original_mode="0640"',
    "original_mode=99999999999",
    "original_mode=true",
    'written_sha256=["x"]',
    "foreign_change=0",
    "edit=[]",
    'edit.inserted="model_provider"',
    "edit.inserted=[1]",
    "edit.replaced_selection=3",
    'edit.replaced_providers=["cost-routing"]',
    'edit.replaced_providers={"x": "y"}',
    'edit.added_providers="cost-routing"',
    'edit.selection_added="no"',
    "runs=[]",
    'run="alive"',
    "run=[1, 2]",
    'run.pid="abc"',
    "run.pid=null",
    "run.pid=true",
    "run.pid=1.5",
    'run.start_ticks="now"',
    'created_at="yesterday"',
    'original_owner="root"',
    "original_owner=[0]",
    'original_owner=[0, "0"]',
]


@pytest.mark.parametrize("change", WRONG_SHAPES)
def test_a_journal_of_the_wrong_shape_is_damaged_like_unparsable_json(setup, change):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    edited = config.read_bytes()
    journal = _reshape(json.loads(guard.journal_path.read_bytes()), change)
    guard.journal_path.write_text(json.dumps(journal))
    for action in (
        guard.status,
        guard.recover,
        lambda: guard.recover(force=True),
        guard.own_selection,
        lambda: guard.enter("b", "cost-routing", TABLE),
        lambda: guard.leave("a"),
    ):
        with pytest.raises(StateError, match="is damaged") as info:
            action()
        assert "config.toml was not touched" in info.value.message
        assert str(guard.backup_path) in (info.value.hint or "")
        assert config.read_bytes() == edited
    assert config_guard.guards_needing_recovery(guard.config) == []


@pytest.mark.parametrize("pid", [0, -1, -2, 2**70])
def test_a_journal_pid_that_cannot_be_a_run_is_never_alive(setup, pid):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    journal = json.loads(guard.journal_path.read_bytes())
    journal["runs"]["a"].update(pid=pid, start_ticks=None)
    guard.journal_path.write_text(json.dumps(journal))
    _assert_interrupted_then_given_back(config, guard)


# ---------------------------------------------------------------- a give-back that cannot write


def _refuse_writing(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Writes of ``target`` fail as on a read-only directory; codex-route's own files still work."""
    real = config_guard.atomic_write_bytes

    def write(path: Path, data: bytes, **kwargs: object) -> None:
        if Path(path) == target:
            raise PermissionError(13, "Permission denied")
        real(path, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(config_guard, "atomic_write_bytes", write)


def _assert_says_keys_remain(err: CodexConfigError, config: Path) -> None:
    assert "left as it was" not in err.message
    assert f"cannot restore {config}: Permission denied" in err.message
    assert "codex-route's keys are still in it" in err.message
    assert err.hint is not None and "codex-route config restore" in err.hint


@pytest.mark.parametrize("foreign_edit", [False, True], ids=["byte-exact", "merged"])
def test_a_failed_restore_says_the_keys_remain_and_how_to_finish(
    setup, monkeypatch: pytest.MonkeyPatch, foreign_edit: bool
):
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    if foreign_edit:  # Codex edits the file during the run: the give-back merges
        config.write_bytes(config.read_bytes() + b"\n[projects.x]\ntrust_level = 'trusted'\n")
    _refuse_writing(monkeypatch, config)
    with pytest.raises(CodexConfigError) as info:
        guard.leave("a")
    _assert_says_keys_remain(info.value, config)
    assert b"cost-routing" in config.read_bytes()  # what the message says is true
    assert guard.journal_path.exists() and guard.backup_path.exists()  # restore can finish
    monkeypatch.undo()
    mark_runs_dead(guard)  # the run ended with that error
    assert guard.recover().action in ("original", "merged")
    assert b"cost-routing" not in config.read_bytes()


def test_a_failed_removal_of_a_config_codex_route_created_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    config = tmp_path / "codex" / "config.toml"
    config.parent.mkdir()
    guard = ConfigGuard(config, tmp_path / "state")
    guard.enter("a", "cost-routing", TABLE)
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == config:
            raise PermissionError(13, "Permission denied")
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    with pytest.raises(CodexConfigError) as info:
        guard.leave("a")
    _assert_says_keys_remain(info.value, config)
    assert b"cost-routing" in config.read_bytes()
    monkeypatch.undo()
    mark_runs_dead(guard)
    assert guard.recover().action == "original"
    assert not config.exists()


# ---------------------------------------------------------------- a stuck lock holder

HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # holds the lock until its stdin is closed
"""


@pytest.fixture
def lock_holder(setup):
    """A child process holding the guard's lock, as a stuck codex-route run would."""
    _, guard = setup
    guard.dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(guard.lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    yield proc
    if proc.stdin is not None and not proc.stdin.closed:
        proc.stdin.close()
    proc.wait(timeout=10)
    proc.stdout.close()


def test_a_stuck_lock_holder_ends_the_wait_with_a_clear_error_and_nothing_written(
    setup, lock_holder, monkeypatch: pytest.MonkeyPatch
):
    config, guard = setup
    monkeypatch.setattr(config_guard, "LOCK_TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(config_guard, "LOCK_NOTICE_SECONDS", 0.1)
    told: list[str] = []
    guard.on_wait = told.append
    with pytest.raises(CodexConfigError) as info:
        guard.enter("a", "cost-routing", TABLE)
    err = info.value
    assert int(err.exit_code) == 5
    assert str(guard.lock_path) in err.message and "was not touched" in err.message
    assert err.hint is not None and f"fuser -v {guard.lock_path}" in err.hint
    assert "lsof" in err.hint
    assert len(told) == 1 and str(guard.lock_path) in told[0]  # one line, naming the lock
    assert config.read_bytes() == ORIGINAL
    assert not guard.journal_path.exists() and not guard.backup_path.exists()


def test_a_holder_that_lets_go_within_the_bound_lets_the_run_proceed(
    setup, lock_holder, monkeypatch: pytest.MonkeyPatch
):
    config, guard = setup
    monkeypatch.setattr(config_guard, "LOCK_NOTICE_SECONDS", 0.05)
    told: list[str] = []

    def release(line: str) -> None:  # the holder lets go once the wait has been announced
        told.append(line)
        lock_holder.stdin.close()

    guard.on_wait = release
    guard.enter("a", "cost-routing", TABLE)
    assert len(told) == 1 and "waiting for the lock" in told[0]
    assert b"cost-routing" in config.read_bytes()
    assert guard.leave("a").action == "original"
    assert config.read_bytes() == ORIGINAL


def test_a_free_lock_is_taken_without_a_notice(setup, monkeypatch: pytest.MonkeyPatch):
    config, guard = setup
    monkeypatch.setattr(config_guard, "LOCK_NOTICE_SECONDS", 0.0)
    told: list[str] = []
    guard.on_wait = told.append
    guard.enter("a", "cost-routing", TABLE)
    guard.leave("a")
    assert told == [] and config.read_bytes() == ORIGINAL


USERS_OWN_TABLE = (
    b'model_provider = "cost-routing"  # my pick\n'
    b"[model_providers.cost-routing]\n"
    b"# my own gateway, not codex-route's\n"
    b'name = "Mine"\nbase_url = "https://gw.example/v1"  # prod\nenv_key = "MY_KEY"\n'
)


@pytest.mark.parametrize("codex_appends", [False, True])
def test_the_users_own_table_of_a_managed_id_comes_back_as_written(tmp_path, codex_appends):
    """Item 21: comments and key order of the user's [model_providers.cost-routing] survive an
    edit in place, also when Codex wrote the file during the run (the structural give-back)."""
    config = tmp_path / "config.toml"
    config.write_bytes(USERS_OWN_TABLE)
    guard = ConfigGuard(config)
    guard.enter("a", "cost-routing", TABLE)
    assert b"LITELLM_API_KEY" in config.read_bytes()
    trust = b'\n[projects."/r"]\ntrust_level = "trusted"\n'
    if codex_appends:
        config.write_bytes(config.read_bytes() + trust)
    guard.leave("a")
    assert config.read_bytes() == USERS_OWN_TABLE + (trust if codex_appends else b"")


KILLED_BETWEEN_JOURNAL_AND_WRITE = """
import os, signal, sys
from pathlib import Path
from codex_router.codex.config_guard import ConfigGuard
def killed(self, *args, **kwargs):  # the journal names this run's edit; the file never gets it
    os.kill(os.getpid(), signal.SIGKILL)
ConfigGuard._write_config = killed
ConfigGuard(Path(sys.argv[1])).enter("b", "cost-routing-hf", {"base_url": "https://hf.example"})
"""


def test_a_joining_run_killed_between_its_journal_and_its_write_leaves_no_byte_off(setup):
    """Item 22: the first run's give-back is byte-exact though the journal lists an edit that
    never reached the file."""
    config, guard = setup
    guard.enter("a", "cost-routing", TABLE)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_JOURNAL_AND_WRITE, str(config)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert done.returncode == -9
    assert "cost-routing-hf" in guard.journal_path.read_text()  # the journal got the join
    assert b"cost-routing-hf" not in config.read_bytes()  # the file did not
    outcome = guard.leave("a")
    assert config.read_bytes() == ORIGINAL
    assert outcome.action == "original" and "byte for byte" in outcome.message


STRAY_TEMPS = """
import os, signal, sys
from pathlib import Path
from codex_router import fsutil
from codex_router.codex.config_guard import ConfigGuard
real_replace = os.replace
def killed_before_the_rename(src, dst):  # the temp file is written, the rename never happens
    if Path(dst).name == sys.argv[2]:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)
fsutil.os.replace = killed_before_the_rename
ConfigGuard(Path(sys.argv[1])).enter("a", "cost-routing", {"base_url": "http://127.0.0.1:9/v1"})
"""


@pytest.mark.parametrize("killed_writing", ["config.toml", "journal"])
def test_recovery_removes_the_temp_files_a_killed_write_left(setup, killed_writing):
    config, guard = setup
    name = config.name if killed_writing == "config.toml" else guard.journal_path.name
    done = subprocess.run(
        [sys.executable, "-c", STRAY_TEMPS, str(config), name],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert done.returncode == -9
    temps = [*config.parent.glob(".*.tmp"), *guard.dir.glob(".*.tmp")]
    assert len(temps) == 1
    guard.recover()  # finishes the period (or finds none) and sweeps the strays
    assert [*config.parent.glob(".*.tmp"), *guard.dir.glob(".*.tmp")] == []
    assert config.read_bytes() == ORIGINAL


@pytest.mark.parametrize(
    "original",
    [
        b'model = "o3"\n[model_providers]\n',
        b'model_providers = {}\nmodel = "o3"\n',
        b"[model_providers]\n# none yet\n\n[tui]\nx = 1\n",
    ],
    ids=["empty-header", "empty-inline", "empty-header-with-comment"],
)
@pytest.mark.parametrize("codex_appends", [False, True])
def test_the_users_empty_model_providers_table_survives_the_give_back(
    tmp_path, original, codex_appends
):
    config = tmp_path / "config.toml"
    config.write_bytes(original)
    guard = ConfigGuard(config)
    guard.enter("a", "cost-routing", TABLE)
    trust = b'\n[projects."/r"]\ntrust_level = "trusted"\n'
    if codex_appends:
        config.write_bytes(config.read_bytes() + trust)
    guard.leave("a")
    assert config.read_bytes() == original + (trust if codex_appends else b"")


def test_a_joining_run_replaces_the_users_own_table_of_its_id_and_gives_it_back(tmp_path):
    """The first run of the period added cost-routing-hf; the user's own cost-routing table is
    still in the file: a litellm run joining replaces it for the period (found by the sweep)."""
    config = tmp_path / "config.toml"
    config.write_bytes(USERS_OWN_TABLE)
    first, joining = ConfigGuard(config), ConfigGuard(config)
    first.enter("hf", "cost-routing-hf", HF)
    joining.enter("litellm", "cost-routing", TABLE)
    assert b"LITELLM_API_KEY" in config.read_bytes()  # codex-route's table, for the period
    with pytest.raises(CodexConfigError, match="different settings"):  # a real clash still is
        ConfigGuard(config).enter("other", "cost-routing", {**TABLE, "base_url": "http://x/v1"})
    first.leave("hf")
    joining.leave("litellm")
    assert config.read_bytes() == USERS_OWN_TABLE
