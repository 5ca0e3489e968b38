"""`run` without --dry-run, against a scripted fake codex: fallback rules, refusals, bad input.

The real codex drives the same behaviours in tests/e2e; this fake makes the rules that do not
depend on Codex itself (git-tree stop, -p check, errors before launch) fast and exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codex_router.codex.launch import error_kind

REPO = Path(__file__).resolve().parents[1]

FAKE_CODEX = """#!{python}
import json, os, sys
if sys.argv[1:] == ["--version"]:
    print("codex-cli 0.169.0"); sys.exit(0)
log = os.environ["FAKE_CODEX_LOG"]
calls = [json.loads(l) for l in open(log)] if os.path.exists(log) else []
plan = os.environ.get("FAKE_CODEX_PLAN", "ok").split(",")
step = plan[min(len(calls), len(plan) - 1)]
stdin = sys.stdin.read()
config = os.path.join(os.environ["CODEX_HOME"], "config.toml")
seen = open(config).read() if os.path.exists(config) else None
owner = [os.stat(config).st_uid, os.stat(config).st_gid] if seen is not None else None
with open(log, "a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "stdin": stdin, "config": seen, "owner": owner}}))
    f.write("\\n")
print("session id: 01a1ffd1-c7cd-7f02-9a67-86b8b2b1f2e7", file=sys.stderr)
if step.startswith("touch"):
    open("edited-by-codex.txt", "w").write("x"); step = step[len("touch-"):] or "fail"
if step == "overflow":  # Codex 0.169's words for context_length_exceeded
    print("ERROR: Codex ran out of room in the model's context window.", file=sys.stderr)
    sys.exit(1)
if step == "fail":
    print("ERROR: unexpected status 503 Service Unavailable", file=sys.stderr); sys.exit(1)
if step == "untrusted":  # Codex 0.169's words, without an ERROR prefix
    print("Not inside a trusted directory and --skip-git-repo-check was not specified.",
          file=sys.stderr); sys.exit(1)
print("done")
"""


@pytest.fixture
def fake(tmp_path: Path, isolated_env: Path):
    script = tmp_path / "codex"
    script.write_text(FAKE_CODEX.format(python=sys.executable))
    script.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    log = tmp_path / "calls.jsonl"
    env = {
        **os.environ,
        "CODEX_ROUTE_CODEX_BIN": str(script),
        "FAKE_CODEX_LOG": str(log),
        "LITELLM_API_KEY": "sk-test",
        "PYTHONPATH": str(REPO),
        # `work` is no git repository: as real Codex, the plan would refuse it (exit 8)
        "CODEX_ROUTE_SKIP_GIT_REPO_CHECK": "1",
    }

    class Fake:
        home = Path(env["CODEX_HOME"])

        def run(self, *args, plan="ok", extra=None, stdin=None):
            done = subprocess.run(
                [sys.executable, "-m", "codex_router", "run", *args],
                env={**env, "FAKE_CODEX_PLAN": plan, **(extra or {})},
                cwd=work,
                capture_output=True,
                text=True,
                timeout=60,
                input=stdin,
                stdin=None if stdin is not None else subprocess.DEVNULL,
            )
            return done

        def run_hooked(self, hook, *args, plan="ok", extra=None):
            """``run`` with ``hook`` (Python source) executed in codex-route's process first: the
            way to force an interleaving (a signal at an exact point) instead of hoping for it."""
            driver = f"{hook}\nimport sys\nfrom codex_router.entry import main\n"
            driver += f"sys.argv = ['codex-route', 'run', *{list(args)!r}]\nsys.exit(main())\n"
            return subprocess.run(
                [sys.executable, "-c", driver],
                env={**env, "FAKE_CODEX_PLAN": plan, **(extra or {})},
                cwd=work,
                capture_output=True,
                text=True,
                timeout=60,
                stdin=subprocess.DEVNULL,
            )

        @property
        def calls(self):
            return (
                [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            )

    Fake.work = work
    Fake.env = env
    return Fake()


@pytest.fixture
def proxy_port():
    """Something listening on 127.0.0.1 so the litellm path counts as ready."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    yield f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    s.close()


def test_prompt_goes_on_stdin_never_in_argv(fake, proxy_port):
    done = fake.run("fix the typo in README.md", plan="ok")
    assert done.returncode == 0, done.stderr
    [call] = fake.calls
    assert call["stdin"] == "fix the typo in README.md"
    assert "fix the typo in README.md" not in " ".join(call["argv"])
    assert call["argv"][0] == "exec" and call["argv"][-1] == "-"


def test_attachment_is_cleaned_and_framed_like_codex_does(fake):
    log = "\x1b[31mERROR\x1b[0m boom at app.py:3\n" + "progress 10%\rprogress 100%\n"
    done = fake.run("fix it", stdin=log)
    assert done.returncode == 0, done.stderr
    stdin = fake.calls[0]["stdin"]
    assert stdin.startswith("fix it\n\n<stdin>\n") and "ERROR boom at app.py:3" in stdin
    assert "\x1b" not in stdin


def test_fallback_to_the_next_path_with_our_provider_selected(fake, proxy_port):
    done = fake.run("say hi", plan="fail,ok", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port})
    assert done.returncode == 0, done.stderr
    first, second = fake.calls
    assert 'model_provider="cost-routing"' not in first["argv"]
    assert 'model_provider="cost-routing"' in second["argv"]
    assert "[model_providers.cost-routing]" in second["config"]  # codex saw the table
    assert f'base_url = "{proxy_port}"' in second["config"]
    assert "http 503" in done.stderr and "falling back to litellm" in done.stderr
    assert not (fake.home / "config.toml").exists()  # created for the attempt, removed after


def test_codex_refusing_the_directory_stops_the_walk(fake, proxy_port):
    """Before: the refusal was not even read (no ERROR prefix), every path got it, exit 6."""
    done = fake.run(
        "say hi", plan="untrusted,ok", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port}
    )
    assert done.returncode == 8, done.stderr
    assert len(fake.calls) == 1
    assert "untrusted directory" in done.stderr and "not falling back" in done.stderr
    assert "skip_git_repo_check" in done.stderr


def test_a_transient_failure_walks_on(fake, proxy_port):
    done = fake.run("say hi", plan="fail,ok", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port})
    assert done.returncode == 0 and len(fake.calls) == 2
    assert "not falling back" not in done.stderr


def test_no_fallback_after_the_working_tree_changed(fake, proxy_port):
    subprocess.run(["git", "init", "-q"], cwd=fake.work, check=True)
    done = fake.run("say hi", plan="touch,ok", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port})
    assert done.returncode == 1
    assert len(fake.calls) == 1
    assert "changed the working tree" in done.stderr and "--retry-after-changes" in done.stderr


def test_retry_after_changes_opts_in(fake, proxy_port):
    subprocess.run(["git", "init", "-q"], cwd=fake.work, check=True)
    done = fake.run(
        "say hi",
        "--retry-after-changes",
        plan="touch,ok",
        extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port},
    )
    assert done.returncode == 0, done.stderr
    assert len(fake.calls) == 2


WIDE_LONG_ALIAS = """\
aliases:
  codex-long:
    openai_model: gpt-wide
    context_window: 1000000
"""


def test_a_context_overflow_retries_the_path_with_the_long_alias(fake, tmp_path):
    policy = tmp_path / "wide.yaml"
    policy.write_text(WIDE_LONG_ALIAS)
    done = fake.run(
        "say hi", "--policy", str(policy), "--codex-provider", "standard", plan="overflow,ok"
    )
    assert done.returncode == 0, done.stderr
    first, second = fake.calls
    assert "gpt-wide" not in first["argv"] and "gpt-wide" in second["argv"]
    assert "retrying on standard with codex-long" in done.stderr


def test_no_long_alias_retry_after_the_working_tree_changed(fake, tmp_path):
    subprocess.run(["git", "init", "-q"], cwd=fake.work, check=True)
    policy = tmp_path / "wide.yaml"
    policy.write_text(WIDE_LONG_ALIAS)
    done = fake.run(
        "say hi",
        "--policy",
        str(policy),
        "--codex-provider",
        "standard",
        plan="touch-overflow,ok",
    )
    assert done.returncode == 1
    assert len(fake.calls) == 1
    assert "changed the working tree" in done.stderr


def test_a_single_failing_path_passes_codex_exit_code_through(fake):
    done = fake.run("say hi", "--codex-provider", "standard", plan="fail")
    assert done.returncode == 1
    assert "attempt 1/1 standard" in done.stderr


def test_missing_key_for_the_chosen_path_skips_it_with_the_reason(fake, proxy_port):
    env = {"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port, "LITELLM_API_KEY": ""}
    done = fake.run("say hi", "--codex-provider", "litellm", extra=env)
    # the chosen path is skipped with its reason and the walk goes on (issue 12 item 3)
    assert done.returncode == 0, done.stderr
    assert "LITELLM_API_KEY" in done.stderr
    assert "attempt 1/1 standard" in done.stderr and len(fake.calls) == 1


def test_nothing_ready_after_the_chosen_path_is_exit_6(fake, proxy_port):
    env = {"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port, "LITELLM_API_KEY": ""}
    done = fake.run("say hi", "--codex-provider", "litellm", "--avoid-openai", extra=env)
    assert done.returncode == 6
    assert "LITELLM_API_KEY" in done.stderr
    assert fake.calls == []


def test_a_profile_without_its_file_is_refused(fake):
    done = fake.run("say hi", "--", "-p", "nosuch")
    assert done.returncode == 2
    assert "nosuch.config.toml" in done.stderr
    assert fake.calls == []


def test_unparsable_config_refuses_a_managed_path_and_touches_nothing(fake, proxy_port):
    broken = b'model = "o3"\n[model_providers.x\nname = "X"\n'
    (fake.home / "config.toml").write_bytes(broken)
    done = fake.run(
        "say hi", "--codex-provider", "litellm", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port}
    )
    assert done.returncode == 5
    assert "line 2" in done.stderr and "config.toml" in done.stderr
    assert (fake.home / "config.toml").read_bytes() == broken
    assert fake.calls == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another uid")
def test_a_run_as_root_keeps_the_configs_owner_and_group(fake, proxy_port):
    config = fake.home / "config.toml"
    config.write_bytes(b'model = "o3"\n')
    os.chown(config, 12345, 23456)
    config.chmod(0o640)
    done = fake.run(
        "say hi", "--codex-provider", "litellm", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port}
    )
    assert done.returncode == 0, done.stderr
    [call] = fake.calls
    assert "[model_providers.cost-routing]" in call["config"]
    assert call["owner"] == [12345, 23456]  # while edited
    st = config.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (12345, 23456, 0o640)  # given back
    assert config.read_bytes() == b'model = "o3"\n'


@pytest.mark.parametrize(("kind", "words"), [("fifo", "a FIFO"), ("dev-zero", "character device")])
def test_a_config_that_is_not_a_regular_file_is_refused_not_read(fake, proxy_port, kind, words):
    config = fake.home / "config.toml"
    if kind == "fifo":
        os.mkfifo(config)
    else:
        config.symlink_to("/dev/zero")
    # fake.run has a timeout: a run blocked on the FIFO or reading /dev/zero fails, not hangs
    done = fake.run(
        "say hi", "--codex-provider", "litellm", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port}
    )
    assert done.returncode == 5, done.stderr
    assert str(config) in done.stderr and words in done.stderr and "regular file" in done.stderr
    assert fake.calls == []
    assert config.is_fifo() if kind == "fifo" else os.readlink(config) == "/dev/zero"


def test_an_unusable_guard_dir_refuses_before_touching_the_config(fake, proxy_port):
    original = b'model = "o3"\n'
    (fake.home / "config.toml").write_bytes(original)
    (fake.home / ".codex-route-guard").write_text("x")  # a file where the backup dir belongs
    done = fake.run(
        "say hi", "--codex-provider", "litellm", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port}
    )
    assert done.returncode == 5, done.stderr
    assert ".codex-route-guard" in done.stderr and "was not touched" in done.stderr
    assert (fake.home / "config.toml").read_bytes() == original
    assert fake.calls == []


def test_an_unusable_state_dir_does_not_stop_a_managed_run(fake, proxy_port, tmp_path):
    """The config guard's files live beside config.toml: codex-route's own dir only loses the
    run's record, which the run says."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    original = b'model = "o3"\n'
    (fake.home / "config.toml").write_bytes(original)
    done = fake.run(
        "say hi",
        "--codex-provider",
        "litellm",
        extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port, "CODEX_ROUTE_HOME": str(blocker)},
    )
    assert done.returncode == 0, done.stderr
    assert "[model_providers.cost-routing]" in fake.calls[0]["config"]
    assert "the run was not recorded" in done.stderr
    assert (fake.home / "config.toml").read_bytes() == original


def test_missing_codex_is_exit_4(fake):
    done = fake.run("say hi", extra={"CODEX_ROUTE_CODEX_BIN": "", "PATH": "/nonexistent"})
    assert done.returncode == 4
    assert "codex was not found" in done.stderr


def test_quiet_prints_only_codex(fake):
    done = fake.run("say hi", "-q", "--codex-provider", "standard")
    assert done.returncode == 0
    assert "codex-route:" not in done.stderr


@pytest.mark.parametrize(
    "line, kind",
    [
        (
            "ERROR: Missing environment variable: `LITELLM_API_KEY`.",
            "missing env var LITELLM_API_KEY",
        ),
        ("ERROR: exceeded retry limit, last status: 429 Too Many Requests", "http 429"),
        ("ERROR: unexpected status 401 Unauthorized: fake 401, url: http://x", "http 401"),
        (
            "ERROR: We’re currently experiencing high demand, which may cause temporary errors.",
            "http 5xx",
        ),
        ("ERROR: Quota exceeded. Check your plan and billing details.", "quota exceeded"),
        ("ERROR: Connection failed: error sending request for url", "connection failed"),
        (
            "ERROR: stream disconnected before completion: idle timeout waiting for SSE",
            "stream idle timeout",
        ),
        ("ERROR: stream closed before response.completed", "stream closed early"),
        ("ERROR: something new", None),
    ],
)
def test_error_kinds_hold_no_raw_text(line, kind):
    assert error_kind(line) == kind


def test_interactive_opens_the_tui_without_a_daemon_with_the_prompt_as_argument(fake):
    done = fake.run("explain the parser", "--interactive", "--codex-provider", "standard")
    assert done.returncode == 0, done.stderr
    [call] = fake.calls
    assert call["argv"][0] == "--no-daemon" and "exec" not in call["argv"]
    assert call["argv"][-1] == "explain the parser"
    assert call["stdin"] == ""  # the terminal's stdin, not a pipe codex-route writes


def test_every_run_is_recorded_without_the_prompt(fake, proxy_port):
    secret_prompt = "fix auth; token sk-canary-0123456789abcdef"
    done = fake.run(
        secret_prompt, plan="fail,ok", extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port}
    )
    assert done.returncode == 0, done.stderr
    dry = fake.run("--dry-run", "--record", secret_prompt)
    assert dry.returncode == 0, dry.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "codex_router", "history", "--json"],
        env=fake.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    records = [json.loads(line) for line in listed]
    assert [r["outcome"] for r in records] == ["dry_run", "success"]
    live = records[1]
    assert [(a["path"], a["outcome"], a["exit_code"]) for a in live["attempts"]] == [
        ("standard", "failed", 1),
        ("litellm", "ok", 0),
    ]
    assert live["attempts"][0]["error"] == "http 503"
    assert live["codex_version"] == "codex-cli 0.169.0"
    home = Path(fake.env["CODEX_ROUTE_HOME"])
    for path in home.rglob("*"):
        if path.is_file():
            assert b"sk-canary" not in path.read_bytes(), path


@pytest.mark.parametrize(
    ("prompt", "offset"),
    [("\udcff fix", 0), ("fix caf\udce9 bug", 7), ("fix \udce2\udc82 it", 4)],
    ids=["leading-0xff", "latin1-e9", "truncated-sequence"],
)
def test_prompt_argument_that_is_not_utf8_is_refused_before_anything_starts(
    fake, proxy_port, prompt, offset
):
    # argv bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape);
    # subprocess turns them back into the same raw bytes.
    original = b'model = "o3"\n'
    (fake.home / "config.toml").write_bytes(original)
    for path in ("standard", "litellm"):
        done = fake.run(
            prompt,
            "--codex-provider",
            path,
            extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port},
        )
        assert done.returncode == 2, done.stderr
        assert f"PROMPT is not valid UTF-8 (byte offset {offset})" in done.stderr
        assert "Traceback" not in done.stderr
        assert fake.calls == []
        assert (fake.home / "config.toml").read_bytes() == original


@pytest.mark.parametrize("value", ["~/.cw", "~", "~nobody/.cw"])
def test_a_codex_home_with_a_literal_tilde_is_refused_before_anything_starts(
    fake, proxy_port, value
):
    # Codex does not expand "~" in CODEX_HOME (codex 0.169: `Error finding codex home`), so
    # editing $HOME/.cw/config.toml would change a file this codex never reads.
    expanded = Path(os.path.expanduser(value.replace("~", fake.env["HOME"] + "/", 1)))
    expanded.mkdir(parents=True, exist_ok=True)
    original = b'model = "o3"\n'
    (expanded / "config.toml").write_bytes(original)
    for path in ("standard", "litellm"):
        done = fake.run(
            "say hi",
            "--codex-provider",
            path,
            extra={"CODEX_HOME": value, "CODEX_ROUTE_LITELLM_BASE_URL": proxy_port},
        )
        assert done.returncode == 5, done.stderr
        assert f"CODEX_HOME={value!r} starts with '~'" in done.stderr
        assert "hint: set CODEX_HOME to an absolute path" in done.stderr
        assert fake.calls == []
        assert (expanded / "config.toml").read_bytes() == original


SIGNAL_AFTER_THE_EDIT = """
import os, signal
from codex_router.codex import config_guard
enter = config_guard.ConfigGuard.enter
def enter_then_signal(self, *args, **kwargs):
    notices = enter(self, *args, **kwargs)  # config.toml now holds codex-route's keys
    os.kill(os.getpid(), signal.{sig})
    return notices
config_guard.ConfigGuard.enter = enter_then_signal
"""


@pytest.mark.parametrize(("sig", "code"), [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_between_the_config_write_and_the_launch_gives_the_config_back(
    fake, proxy_port, sig, code
):
    original = b'model = "o3"\n# mine\n'
    (fake.home / "config.toml").write_bytes(original)
    done = fake.run_hooked(
        SIGNAL_AFTER_THE_EDIT.format(sig=sig),
        "say hi",
        "--codex-provider",
        "litellm",
        extra={"CODEX_ROUTE_LITELLM_BASE_URL": proxy_port},
    )
    assert done.returncode == code, done.stderr
    assert fake.calls == []  # codex was never started
    assert (fake.home / "config.toml").read_bytes() == original


def _pinned(call: dict) -> list[str]:
    argv = call["argv"]
    return [argv[i + 1] for i, a in enumerate(argv) if a == "-c" and i + 1 < len(argv)]


def test_a_standard_run_first_gives_back_a_killed_runs_edit_and_pins_the_users_provider(
    fake, proxy_port
):
    from codex_router.codex.config_guard import ConfigGuard

    original = b'model = "o3"\n# mine\n'
    config = fake.home / "config.toml"
    config.write_bytes(original)
    killed = ConfigGuard(config)
    killed.enter("killed", "cost-routing", {"base_url": proxy_port, "env_key": "LITELLM_API_KEY"})
    journal = json.loads(killed.journal_path.read_bytes())
    journal["runs"]["killed"]["pid"] = _dead_pid()
    killed.journal_path.write_text(json.dumps(journal))
    done = fake.run("say hi", "--codex-provider", "standard")
    assert done.returncode == 0, done.stderr
    [call] = fake.calls
    assert call["config"] == original.decode()  # given back before codex started
    assert 'model_provider="openai"' in _pinned(call)
    assert "restored" in done.stderr and str(config) in done.stderr
    assert config.read_bytes() == original


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


USERS_OWN = (
    b'model_provider = "cost-routing"\n'
    b"[model_providers.cost-routing]\n"
    b"# my own gateway, not codex-route's\n"
    b'name = "Mine"\nbase_url = "https://gw.example/v1"\nenv_key = "MY_KEY"\n'
)


@pytest.mark.parametrize("original", [b'model = "o3"\n', USERS_OWN], ids=["default", "own-table"])
def test_a_standard_run_reaches_the_users_provider_while_another_runs_edit_is_in_the_file(
    fake, proxy_port, original
):
    from codex_router.codex.config_guard import ConfigGuard

    config = fake.home / "config.toml"
    config.write_bytes(original)
    other = ConfigGuard(config)  # a managed run of this test's (live) process holds the edit
    table = {"name": "codex-route LiteLLM proxy", "base_url": proxy_port, "env_key": "LITELLM"}
    other.enter("other", "cost-routing", table)
    try:
        done = fake.run("say hi", "--codex-provider", "standard")
    finally:
        other.leave("other")
    assert done.returncode == 0, done.stderr
    [call] = fake.calls
    assert proxy_port in call["config"]  # codex saw the other run's edit in the file …
    pins = _pinned(call)
    if original == USERS_OWN:  # … and was told the user's own selection and table
        assert 'model_provider="cost-routing"' in pins
        assert (
            'model_providers.cost-routing={name = "Mine", base_url = "https://gw.example/v1", '
            'env_key = "MY_KEY"}' in pins
        )
    else:
        assert 'model_provider="openai"' in pins
    assert config.read_bytes() == original


EDIT_LANDS_RIGHT_AFTER_THE_LOOK = """
import os
from codex_router.codex import config_guard
own_selection = config_guard.ConfigGuard.own_selection
def look_then_another_run_edits(self):
    own = own_selection(self)
    table = {{"base_url": "{url}", "env_key": "LITELLM_API_KEY"}}
    config_guard.ConfigGuard(self.config).enter("other", "cost-routing", table)
    return own
config_guard.ConfigGuard.own_selection = look_then_another_run_edits
"""


def test_a_standard_run_is_pinned_even_when_an_edit_lands_between_its_look_and_codex(
    fake, proxy_port
):
    original = b'model = "o3"\n'
    (fake.home / "config.toml").write_bytes(original)
    done = fake.run_hooked(
        EDIT_LANDS_RIGHT_AFTER_THE_LOOK.format(url=proxy_port),
        "say hi",
        "--codex-provider",
        "standard",
    )
    assert done.returncode == 0, done.stderr
    [call] = fake.calls
    assert 'model_provider = "cost-routing"' in call["config"]  # the file points elsewhere …
    assert 'model_provider="openai"' in _pinned(call)  # … codex is told the user's own


def _history(fake) -> list[dict]:
    listed = subprocess.run(
        [sys.executable, "-m", "codex_router", "history", "--json"],
        env=fake.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [json.loads(line) for line in listed]


#: Escalation on, for a 503 (the fake's "fail"); one path only (no proxy is listening).
ESCALATE = {"CODEX_ROUTE_ESCALATE_ON": "upstream_error"}


def _model(call: dict) -> str:
    argv = call["argv"]
    return argv[argv.index("-m") + 1]


def test_a_failed_light_run_escalates_once_to_the_default_role(fake):
    done = fake.run("say hi", plan="fail,ok", extra=ESCALATE)
    assert done.returncode == 0, done.stderr
    first, second = fake.calls
    assert (_model(first), _model(second)) == ("gpt-5.1-codex-mini", "gpt-5.1-codex")
    assert second["stdin"] == first["stdin"] == "say hi"
    assert "escalating to codex-default on standard (upstream error on standard)" in done.stderr
    [record] = _history(fake)
    assert record["alias"] == "codex-light" and record["outcome"] == "success"
    steps = [(a["alias"], a["outcome_kind"], a["next_step"]) for a in record["attempts"]]
    assert steps == [("codex-light", "upstream_error", "escalate"), ("codex-default", "ok", "done")]
    assert "escalating to codex-default" in record["attempts"][0]["next_reason"]


def test_escalation_happens_once_per_run(fake):
    done = fake.run("say hi", plan="fail,fail,ok", extra=ESCALATE)
    assert done.returncode == 6, done.stderr  # every attempt failed
    assert [_model(c) for c in fake.calls] == ["gpt-5.1-codex-mini", "gpt-5.1-codex"]


def test_no_escalation_after_the_working_tree_changed(fake):
    subprocess.run(["git", "init", "-q"], cwd=fake.work, check=True)
    done = fake.run("say hi", plan="touch,ok", extra=ESCALATE)
    assert done.returncode == 1
    assert len(fake.calls) == 1
    assert "changed the working tree" in done.stderr
    assert "on standard with codex-default over its edits" in done.stderr
    [record] = _history(fake)
    assert record["outcome"] == "stopped_changes"


def test_no_escalation_when_the_alias_is_forced(fake):
    done = fake.run("say hi", "--force-model", "codex-light", plan="fail,ok", extra=ESCALATE)
    assert done.returncode == 1
    assert len(fake.calls) == 1 and "escalating" not in done.stderr


def test_no_escalation_by_default(fake):
    done = fake.run("say hi", plan="fail,ok")
    assert done.returncode == 1
    assert len(fake.calls) == 1 and "escalating" not in done.stderr


def test_no_escalation_for_a_kind_not_listed(fake):
    done = fake.run("say hi", plan="fail,ok", extra={"CODEX_ROUTE_ESCALATE_ON": "turn_failed"})
    assert done.returncode == 1 and len(fake.calls) == 1


def test_after_escalating_the_walk_stays_on_the_higher_tier(fake, proxy_port):
    done = fake.run(
        "say hi",
        plan="fail,fail,ok",
        extra={**ESCALATE, "CODEX_ROUTE_LITELLM_BASE_URL": proxy_port},
    )
    assert done.returncode == 0, done.stderr
    [record] = _history(fake)
    assert [(a["path"], a["alias"]) for a in record["attempts"]] == [
        ("standard", "codex-light"),
        ("standard", "codex-default"),
        ("litellm", "codex-default"),
    ]
    assert _model(fake.calls[2]) == "codex-default"
