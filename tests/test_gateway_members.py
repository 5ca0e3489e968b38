"""Per-member gateway keys, the parts without LiteLLM: the members file's parser, the key
decision, the pure edits, ``proxy keys`` through the real CLI, and the hook's re-read on change.

The real gateway (LiteLLM loading the hook) is tests/test_gateway_members_team.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codex_router.dirs import AppDirs
from codex_router.errors import PolicyError, StateError, UsageError
from codex_router.policy.gateway import resolve_gateway
from codex_router.policy.settings import Resolved, choose_policy_file, load_policy
from codex_router.proxy.config import ProxyConfig
from codex_router.proxy.gateway_auth import (
    MEMBER,
    OPERATOR,
    REJECTED,
    Decision,
    Member,
    MembersCache,
    MembersFileError,
    decide,
    key_sha256,
    parse_members,
    render_members,
)
from codex_router.proxy.members import (
    MembersFile,
    add_member,
    members_file,
    read_members,
    with_added,
    with_revoked,
    with_rotated,
)
from codex_router.proxy.process import MemberAuth, _with_members_file, member_auth

A_HASH = "a" * 64
B_HASH = "b" * 64
T0 = "2026-12-01T21:40:00Z"
T1 = "2026-12-02T08:00:00Z"


# --- the members file ----------------------------------------------------------------------

GOOD = f"""\
# a comment

alice  {A_HASH}  {T0}  -
bob    {B_HASH}  {T0}  {T1}
"""


def test_a_good_file_parses_with_comments_and_blank_lines_skipped() -> None:
    assert parse_members(GOOD) == (
        Member("alice", A_HASH, T0, None),
        Member("bob", B_HASH, T0, T1),
    )


def test_render_then_parse_gives_the_same_members() -> None:
    members = parse_members(GOOD)
    assert parse_members(render_members(members)) == members


@pytest.mark.parametrize(
    ("text", "line", "field", "says"),
    [
        (f"alice {A_HASH} {T0}\n", 1, None, "3 fields, expected 4"),
        (f"# c\nalice {A_HASH} {T0} - extra\n", 2, None, "5 fields"),
        (f"al/ice {A_HASH} {T0} -\n", 1, "name", "'al/ice'"),
        (f"-alice {A_HASH} {T0} -\n", 1, "name", "letters"),
        (f"{'x' * 65} {A_HASH} {T0} -\n", 1, "name", "at most 64"),
        (f"alice {A_HASH} {T0} -\nalice {B_HASH} {T0} -\n", 2, "name", "line 1"),
        (f"alice {A_HASH[:-1]} {T0} -\n", 1, "sha256", "64 lowercase hex"),
        (f"alice {A_HASH.upper()} {T0} -\n", 1, "sha256", "64 lowercase hex"),
        (f"alice {A_HASH} {T0} -\nbob {A_HASH} {T0} -\n", 2, "sha256", "same key"),
        (f"alice {A_HASH} yesterday -\n", 1, "created", "'yesterday'"),
        (f"alice {A_HASH} 2026-12-01T21:40:00 -\n", 1, "created", "UTC time"),
        (f"alice {A_HASH} {T0} no\n", 1, "revoked", "'no'"),
    ],
)
def test_a_bad_line_names_its_line_and_field(
    text: str, line: int, field: str | None, says: str
) -> None:
    with pytest.raises(MembersFileError) as caught:
        parse_members(text)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert says in str(caught.value)
    assert str(caught.value).startswith(f"line {line}")


def test_codex_route_reports_a_bad_line_as_a_policy_error_naming_file_and_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "members.txt"
    path.write_text(f"alice {A_HASH} {T0} -\nbob {B_HASH} soon -\n")
    with pytest.raises(PolicyError) as caught:
        read_members(MembersFile(path, Resolved(str(path), "flag", "--members-file")))
    assert caught.value.file == str(path) and caught.value.line == 2
    assert f"{path}:2" in caught.value.message and "field created" in caught.value.message


def test_a_missing_members_file_has_no_members(tmp_path: Path) -> None:
    path = tmp_path / "none.txt"
    assert read_members(MembersFile(path, Resolved(None, "default"))) == ()


# --- the decision --------------------------------------------------------------------------

MASTER = "sk-operator-master-key-0123456789abcdefgh"
ALICE_KEY, BOB_KEY, CAROL_KEY = "sk-alice-key-1", "sk-bob-key-2", "sk-carol-key-3"
MEMBERS = (
    Member("alice", key_sha256(ALICE_KEY), T0),
    Member("bob", key_sha256(BOB_KEY), T0),
    Member("carol", key_sha256(CAROL_KEY), T0, T1),  # revoked
)


@pytest.mark.parametrize(
    ("key", "master", "expected"),
    [
        (MASTER, MASTER, Decision(OPERATOR)),
        (ALICE_KEY, MASTER, Decision(MEMBER, "alice")),
        (BOB_KEY, MASTER, Decision(MEMBER, "bob")),
        (CAROL_KEY, MASTER, Decision(REJECTED)),  # revoked
        ("sk-somebody-else", MASTER, Decision(REJECTED)),
        ("", MASTER, Decision(REJECTED)),
        ("", "", Decision(REJECTED)),  # no master key set: an empty key is not it
        (MASTER, None, Decision(REJECTED)),
        (key_sha256(ALICE_KEY), MASTER, Decision(REJECTED)),  # the hash is not the key
        (ALICE_KEY + " ", MASTER, Decision(REJECTED)),
        (ALICE_KEY, ALICE_KEY, Decision(OPERATOR)),  # the master key wins a clash
    ],
)
def test_who_a_key_is(key: str, master: str | None, expected: Decision) -> None:
    assert decide(key, master, MEMBERS) == expected


# --- the pure edits ------------------------------------------------------------------------

BASE = (Member("alice", A_HASH, T0), Member("bob", B_HASH, T0, T1))


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda: with_added(BASE, "alice", "c" * 64, T1), "NAME 'alice': already a member"),
        (lambda: with_added(BASE, "a b", "c" * 64, T1), "NAME 'a b'"),
        (lambda: with_added(BASE, "", "c" * 64, T1), "NAME ''"),
        (lambda: with_revoked(BASE, "carol", T1), "NAME 'carol': no such member"),
        (lambda: with_revoked(BASE, "bob", T1), "NAME 'bob': already revoked"),
        (lambda: with_rotated(BASE, "carol", "c" * 64, T1), "NAME 'carol': no such member"),
        (lambda: with_rotated(BASE, "../x", "c" * 64, T1), "NAME '../x'"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_argument(edit: object, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        edit()  # type: ignore[operator]
    assert caught.value.message.startswith(says)


def test_the_edits() -> None:
    assert with_added(BASE, "carol", "c" * 64, T1)[-1] == Member("carol", "c" * 64, T1, None)
    assert with_revoked(BASE, "alice", T1)[0] == Member("alice", A_HASH, T0, T1)
    # rotating a revoked member gives them a new key and makes them active again
    assert with_rotated(BASE, "bob", "c" * 64, T1)[1] == Member("bob", "c" * 64, T1, None)
    assert [m.name for m in with_rotated(BASE, "alice", "c" * 64, T1)] == ["alice", "bob"]


# --- the hook's cache: a revocation is seen by a running gateway -----------------------------


def test_the_cache_rereads_the_file_when_it_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "members.txt"
    path.write_text(render_members(MEMBERS[:2]))
    cache = MembersCache()
    assert decide(BOB_KEY, MASTER, cache.members(str(path))) == Decision(MEMBER, "bob")
    revoked = with_revoked(MEMBERS[:2], "bob", T1)
    replacement = tmp_path / "next.txt"
    replacement.write_text(render_members(revoked))
    os.replace(replacement, path)  # as keys revoke does: same size, new inode
    assert decide(BOB_KEY, MASTER, cache.members(str(path))) == Decision(REJECTED)


def test_a_broken_or_missing_file_admits_no_member(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "members.txt"
    path.write_text(render_members(MEMBERS))
    cache = MembersCache()
    assert len(cache.members(str(path))) == 3
    path.write_text(render_members(MEMBERS) + "garbage line\n")
    assert cache.members(str(path)) == ()
    assert f"members file {path}: line " in capsys.readouterr().err
    path.unlink()
    assert cache.members(str(path)) == ()
    assert cache.members(None) == ()


# --- the generated config -------------------------------------------------------------------


def test_custom_auth_appears_only_when_asked_for() -> None:
    config = ProxyConfig(groups={}, fallbacks={}, skipped=(), unavailable={})
    plain = config.to_data()
    assert "custom_auth" not in plain["general_settings"]
    with_auth = config.to_data(custom_auth="codex_route_gateway_auth.user_api_key_auth")
    assert with_auth["general_settings"] == {
        "master_key": "os.environ/LITELLM_MASTER_KEY",
        "custom_auth": "codex_route_gateway_auth.user_api_key_auth",
    }


def test_the_auth_module_imports_nothing_of_codex_router() -> None:
    # LiteLLM loads a copy of it in a venv without codex_router
    source = (Path(__file__).parents[1] / "codex_router/proxy/gateway_auth.py").read_text()
    assert "codex_router" not in source.split('"""', 2)[2]


# --- proxy keys, through the real CLI --------------------------------------------------------


def _keys(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codex_router", "proxy", "keys", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )


def test_keys_add_writes_the_key_only_to_a_new_0600_file(tmp_path: Path) -> None:
    members = tmp_path / "team" / "members.txt"
    out = tmp_path / "alice.key"
    done = _keys(tmp_path, "add", "alice", "--out", str(out), "--members-file", str(members))
    assert done.returncode == 0, done.stderr
    key = out.read_text().strip()
    assert key.startswith("sk-") and len(key) >= 43  # 32 random bytes, url-safe base64
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(members.stat().st_mode) == 0o644
    text = members.read_text()
    assert key_sha256(key) in text
    for piece in (key, key[3:11], key[-8:]):  # never the key, not even part of it
        assert piece not in done.stdout + done.stderr + text
    listed = _keys(tmp_path, "list", "--json", "--members-file", str(members))
    assert json.loads(listed.stdout) == {
        "members_file": str(members),
        "members": [{"name": "alice", "created": parse_members(text)[0].created, "revoked": None}],
    }
    assert key_sha256(key)[:8] not in listed.stdout  # no hash prefix either


def test_keys_refuse_bad_input_and_change_nothing(tmp_path: Path) -> None:
    members = tmp_path / "members.txt"
    out = tmp_path / "alice.key"
    assert _keys(tmp_path, "add", "alice", "--out", str(out), "--members-file", str(members))
    before = members.read_bytes()
    taken = tmp_path / "taken.key"
    taken.write_text("not a key\n")
    cases = [
        (["add", "alice", "--out", str(tmp_path / "new1.key")], "NAME 'alice'"),
        (["add", "b c", "--out", str(tmp_path / "new2.key")], "NAME 'b c'"),
        (["add", "bob", "--out", str(taken)], f"--out {taken}: the file exists"),
        (["rotate", "carol", "--out", str(tmp_path / "new3.key")], "NAME 'carol'"),
        (["revoke", "carol"], "NAME 'carol': no such member"),
    ]
    for args, says in cases:
        done = _keys(tmp_path, *args, "--members-file", str(members))
        assert done.returncode == 2, (args, done.stderr)
        assert says in done.stderr, (args, done.stderr)
        assert members.read_bytes() == before
    assert taken.read_text() == "not a key\n"
    assert sorted(p.name for p in tmp_path.glob("*.key")) == ["alice.key", "taken.key"]


def test_a_failed_members_file_write_leaves_no_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from codex_router.proxy import members as members_module

    def full_disk(file: MembersFile, members: object) -> None:
        raise StateError(f"cannot write the members file {file.path}: No space left on device")

    monkeypatch.setattr(members_module, "_save", full_disk)
    out = tmp_path / "alice.key"
    with pytest.raises(StateError):
        add_member(MembersFile(tmp_path / "m.txt", Resolved(None, "default")), "alice", out, T0)
    assert not out.exists()


# --- where the members file is, and when a gateway checks member keys ------------------------


def _gateway(tmp_path: Path, env: dict[str, str], flag: str | None = None) -> tuple[Any, AppDirs]:
    dirs = AppDirs(tmp_path / "config", tmp_path / "state", tmp_path / "cache")
    policy = load_policy(choose_policy_file(None, env, dirs), None)
    return resolve_gateway({"members_file": flag}, env, policy), dirs


@pytest.mark.parametrize(
    ("layer", "expected", "where"),
    [
        ("default", "config/gateway-members.txt", "default"),
        ("env", "from-env.txt", "CODEX_ROUTE_GATEWAY_MEMBERS_FILE"),
        ("flag", "from-flag.txt", "--members-file"),
        ("file", "policies/team/members.txt", "policy.yaml:2"),  # relative to the policy file
    ],
)
def test_the_members_file_resolves_with_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layer: str, expected: str, where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    policy = tmp_path / "policies" / "policy.yaml"
    policy.parent.mkdir()
    policy.write_text("gateway:\n  members_file: team/members.txt\n")
    env = {"CODEX_ROUTE_POLICY": str(policy)} if layer == "file" else {}
    if layer == "env":
        env["CODEX_ROUTE_GATEWAY_MEMBERS_FILE"] = "from-env.txt"
    gateway, dirs = _gateway(tmp_path, env, "from-flag.txt" if layer == "flag" else None)
    file = members_file(gateway, dirs)
    assert file.path == tmp_path / expected
    assert file.where.endswith(where)


def test_a_gateway_checks_member_keys_only_when_the_members_file_exists(tmp_path: Path) -> None:
    gateway, dirs = _gateway(tmp_path, {})
    assert member_auth(gateway, dirs) is None  # as before: the master key only
    path = dirs.config_dir / "gateway-members.txt"
    path.parent.mkdir(parents=True)
    path.write_text(render_members(MEMBERS))
    auth = member_auth(gateway, dirs)
    assert auth is not None and auth.active == 2 and auth.members_file.path == path
    path.write_text(render_members(MEMBERS) + "bad\n")
    with pytest.raises(PolicyError) as caught:  # the start stops before LiteLLM runs
        member_auth(gateway, dirs)
    assert caught.value.line == 7


def test_the_gateways_environment_carries_the_members_files_path_only(tmp_path: Path) -> None:
    auth = MemberAuth(MembersFile(tmp_path / "m.txt", Resolved(None, "default")), 1)
    stale = {"CODEX_ROUTE_GATEWAY_MEMBERS_FILE": "/elsewhere", "PATH": "/bin"}
    assert _with_members_file(dict(stale), None) == {"PATH": "/bin"}
    assert _with_members_file(dict(stale), auth) == {
        "PATH": "/bin",
        "CODEX_ROUTE_GATEWAY_MEMBERS_FILE": str(tmp_path / "m.txt"),
    }
