"""Words that are true (issue 13 item 6): errors blame the file the bad value came from, the
exit-code table matches what each command it names exits with, usage errors are one ``error:``
line and a ``hint:`` (with "did you mean"), help texts and docs say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.errors import ExitCode
from codex_router.policy.settings import DEFAULT_POLICY_FILE

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


def invoke(args: list[str], **kw):
    return runner.invoke(app, args, **kw)


# ---------------------------------------------------------------- a policy error blames the user


#: A user policy whose value breaks a rule checked across layers: (id, text, line, key, needle).
CROSS_LAYER = [
    (
        "medium-above-default-complex",
        "classification:\n  medium_tokens: 999999\n",
        2,
        "classification.medium_tokens",
        "classification.complex_tokens (",
    ),
    (
        "alias-of-a-legacy-target",
        "aliases:\n  codex-deep:\n    alias_of: codex-default\n",
        3,
        "aliases.codex-deep.alias_of",
        "aliases.codex-strong.alias_of (",
    ),
    (
        "role-player-made-legacy",
        "aliases:\n  codex-hf-cheap:\n    alias_of: codex-light\n",
        3,
        "aliases.codex-hf-cheap.alias_of",
        "roles.hf-cheap (",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "needle"), [c[1:] for c in CROSS_LAYER], ids=[c[0] for c in CROSS_LAYER]
)
def test_cross_layer_policy_error_names_the_users_file_and_line(
    tmp_path: Path, text: str, line: int, key: str, needle: str
) -> None:
    user = tmp_path / "policy.yaml"
    user.write_text(text, encoding="utf-8")
    result = invoke(["policy", "validate", str(user)])
    assert result.exit_code == ExitCode.POLICY, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {user}:{line}: {key}: "), lines
    # the built-in value it clashes with is named as such, after the blame
    assert needle in lines[0] and f"{DEFAULT_POLICY_FILE}:" in lines[0]
    assert lines[1].startswith("hint: ")


def test_an_error_in_the_default_layer_alone_still_names_the_setting(tmp_path: Path) -> None:
    user = tmp_path / "policy.yaml"
    user.write_text("classification:\n  complex_tokens: 10\n", encoding="utf-8")
    result = invoke(["policy", "validate", str(user)])
    assert result.exit_code == ExitCode.POLICY
    assert result.stderr.startswith(f"error: {user}:2: classification.complex_tokens: must be")


# ---------------------------------------------------------------- the exit-code table


def _doc_rows() -> dict[int, str]:
    text = (REPO / "docs" / "reference" / "exit-codes.md").read_text("utf-8")
    return {int(k): v for k, v in re.findall(r"^\| (\d+) \| (.+?) \|$", text, re.M)}


def test_every_command_the_exit_code_table_names_exits_with_that_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_cost_usd: lots\n", encoding="utf-8")
    #: a failing invocation of each command the table may name
    failing = {
        "doctor": ["doctor", "--codex-bin", str(tmp_path / "no-codex")],
        "proxy status": ["proxy", "status"],
        "policy validate": ["policy", "validate", str(bad)],
    }
    named = {
        command: code
        for code, meaning in _doc_rows().items()
        for command in re.findall(r"`([a-z][a-z ]+)`", meaning)
        if command in failing
    }
    assert set(named) == set(failing), named
    for command, code in named.items():
        result = invoke(failing[command])
        assert result.exit_code == code, (command, result.output)


# ---------------------------------------------------------------- usage errors: one line + hint


@pytest.mark.parametrize(
    ("args", "first", "hint"),
    [
        (["runn"], "error: codex-route: No such command 'runn'", "did you mean 'run'?"),
        (["--bogus"], "error: codex-route: No such option: --bogus", "'codex-route -h'"),
        (
            ["run", "--provder", "openai", "fix it"],
            "error: codex-route run: No such option: --provder",
            "did you mean --provider?",
        ),
        (
            ["run", "--timeout"],
            "error: codex-route run: Option '--timeout' requires an argument",
            "'codex-route run -h'",
        ),
        (
            ["history", "--limit", "abc"],
            "error: codex-route history: Invalid value for '--limit'",
            "'codex-route history -h'",
        ),
        (
            ["policy", "validate"],
            "error: codex-route policy validate: Missing argument 'FILE'",
            "'codex-route policy validate -h'",
        ),
    ],
)
def test_click_usage_error_is_one_error_line_and_a_hint(
    args: list[str], first: str, hint: str
) -> None:
    result = invoke(args)
    assert result.exit_code == ExitCode.USAGE, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith(first), lines
    assert lines[1].startswith("hint: ") and hint in lines[1], lines
    assert "Usage:" not in result.output and "Try '" not in result.output


@pytest.mark.parametrize(
    ("args", "env", "needle", "hint"),
    [
        (["--provider", "opnai"], {}, "--provider: 'opnai'", "did you mean 'openai'?"),
        (
            ["--codex-provider", "litelm"],
            {},
            "--codex-provider: 'litelm'",
            "did you mean 'litellm'?",
        ),
        (
            ["--force-model", "codex-lite"],
            {},
            "--force-model: unknown alias 'codex-lite'",
            "did you mean 'codex-light'?",
        ),
        ([], {"CODEX_ROUTE_PROVIDER": "gemni"}, "CODEX_ROUTE_PROVIDER", "did you mean 'gemini'?"),
    ],
)
def test_enum_values_and_alias_names_get_did_you_mean(
    args: list[str], env: dict[str, str], needle: str, hint: str
) -> None:
    result = invoke(["run", "--dry-run", *args, "fix", "it"], env=env)
    assert result.exit_code in (ExitCode.USAGE, ExitCode.POLICY), result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and needle in lines[0], lines
    assert lines[1].startswith("hint: ") and hint in lines[1], lines


def test_alias_typo_in_a_policy_file_gets_did_you_mean(tmp_path: Path) -> None:
    user = tmp_path / "policy.yaml"
    user.write_text("task_provider_rules:\n  simple: {alias: codex-ligth}\n", encoding="utf-8")
    result = invoke(["policy", "validate", str(user)])
    assert result.exit_code == ExitCode.POLICY
    assert f"{user}:2" in result.stderr
    assert "hint: did you mean 'codex-light'?" in result.stderr


def test_template_typo_gets_did_you_mean(tmp_path: Path) -> None:
    result = invoke(["policy", "init", "--template", "startr", "--path", str(tmp_path / "p.yaml")])
    assert result.exit_code == ExitCode.USAGE
    assert "hint: did you mean 'starter'?" in result.stderr


# ---------------------------------------------------------------- docs and help say what is done


def _paragraphs(path: Path) -> list[str]:
    return [" ".join(p.split()) for p in path.read_text("utf-8").split("\n\n")]


def test_docs_that_keep_the_prompt_out_of_argv_name_the_interactive_exception() -> None:
    from codex_router.codex.argv import PROMPT_PLACEHOLDER, build_argv
    from codex_router.routing.route import PathChoice

    # the TUI does take the prompt as an argument; codex exec reads it from stdin
    choice = PathChoice("standard", True, "ready", model="gpt-5.1-codex-mini")
    assert build_argv("codex", choice, interactive=True)[-1] == PROMPT_PLACEHOLDER
    assert build_argv("codex", choice)[-1] == "-"
    claims = [
        (path.name, p)
        for path in (REPO / "README.md", REPO / "docs" / "usage.md")
        for p in _paragraphs(path)
        if re.search(r"(never|not) in argv", p)
    ]
    assert claims
    for name, paragraph in claims:
        assert "--interactive" in paragraph, (name, paragraph)
    help_text = " ".join(invoke(["run", "--help"]).stdout.split())
    assert "TUI takes the prompt as its argument" in help_text


def test_policy_show_help_describes_its_json_as_the_object_it_prints() -> None:
    import json

    shown = json.loads(invoke(["policy", "show", "--json"]).stdout)
    assert isinstance(shown, dict) and set(shown) == {"policy_file", "values"}
    help_text = " ".join(invoke(["policy", "show", "--help"]).stdout.split())
    assert "JSON list" not in help_text
    assert "One JSON object: {policy_file: {value, source}, values: [{key" in help_text


# ---------------------------------------------------------------- the proxy install hint

#: pasted, this would install whatever someone registers as codex-route on the package index
INDEX_INSTALL = re.compile(r"pip install '?codex-route\[proxy\]'?(?! @)")


def test_install_command_follows_the_way_codex_route_was_installed(tmp_path: Path) -> None:
    import json
    import shlex

    from codex_router.proxy.install import PINNED_VERSION, install_command_for

    checkout = tmp_path / "codex route"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text("[project]\nname = 'codex-route'\n", "utf-8")
    editable = json.dumps({"url": checkout.as_uri(), "dir_info": {"editable": True}})
    assert shlex.split(install_command_for(editable, "/venv/bin/python")) == [
        "/venv/bin/python",
        "-m",
        "pip",
        "install",
        "-e",
        f"{checkout}[proxy]",
    ]
    plain = json.dumps({"url": f"file://{checkout}", "dir_info": {}})
    assert shlex.split(install_command_for(plain, "/py")) == [
        "/py",
        "-m",
        "pip",
        "install",
        f"{checkout}[proxy]",
    ]
    git = json.dumps(
        {
            "url": "https://example.org/codex-route.git",
            "vcs_info": {"vcs": "git", "commit_id": "abc"},
        }
    )
    assert shlex.split(install_command_for(git, "/py"))[-1] == (
        "codex-route[proxy] @ git+https://example.org/codex-route.git@abc"
    )
    # a wheel, a checkout that is gone, or no record: the pinned LiteLLM in a venv of its own
    for other in (
        None,
        "{}",
        "not json",
        json.dumps({"url": f"file://{tmp_path}/gone", "dir_info": {}}),
    ):
        command = install_command_for(other, "/py")
        assert f"'litellm[proxy]=={PINNED_VERSION}' prisma==0.15.0" in command
        assert "export CODEX_ROUTE_LITELLM_BIN=" in command and "codex-route" not in command


def test_doctor_and_proxy_start_hint_a_command_that_works_for_this_install(tmp_path: Path) -> None:
    import json

    from codex_router.proxy.install import install_command

    command = install_command()
    assert not INDEX_INSTALL.search(command), command
    doctor = json.loads(invoke(["doctor", "--json"]).stdout)
    check = next(c for c in doctor["checks"] if c["id"] == "litellm_installed")
    assert check["fix"] == command
    started = invoke(["proxy", "start", "--no-prompt", "--litellm-bin", str(tmp_path / "none")])
    assert started.exit_code == ExitCode.FAILURE
    assert f"hint: install the pinned proxy: {command} " in started.stderr
    assert not INDEX_INSTALL.search(started.stderr)


def test_no_doc_or_help_tells_to_install_codex_route_from_the_index() -> None:
    files = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    files += sorted((REPO / "codex_router").rglob("*.py"))
    for path in files:
        for paragraph in _paragraphs(path):
            if INDEX_INSTALL.search(paragraph):
                assert "never" in paragraph or "is not on the package index" in paragraph, (
                    path,
                    paragraph,
                )


# ---------------------------------------------------------------- the standard path's reason


def test_standard_path_reason_names_the_model_it_uses_and_why(tmp_path: Path) -> None:
    from codex_router.dirs import AppDirs
    from codex_router.policy.settings import resolve_settings
    from codex_router.routing.classify import Classification
    from codex_router.routing.route import ReadinessFacts, decide_route

    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    settings = resolve_settings({}, {}, dirs)
    simple = Classification("simple", False, frozenset(), ())
    decision = decide_route(settings, simple, ReadinessFacts(frozenset(), False, ""))
    standard = next(p for p in decision.paths if p.name == "standard")
    light = settings.policy.resolve_alias(decision.alias)
    assert standard.model == light.openai_model
    assert standard.reason == (
        f"model {light.openai_model} ({decision.alias}'s openai_model, effort "
        f"{light.reasoning_effort}), your provider from config.toml"
    )
    assert "as you configured" not in standard.reason


# ---------------------------------------------------------------- shell completion


def _complete(words: str, env: dict[str, str]) -> list[str]:
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "codex_router"],
        env={
            **os.environ,
            **env,
            "_CODEX_ROUTE_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_completes_commands_options_and_values() -> None:
    import os

    env = dict(os.environ)
    assert _complete("codex-route ru", env) == ["run"]
    assert "--provider" in _complete("codex-route run --prov", env)
    assert _complete("codex-route run --provider q", env) == ["qwen"]
    assert _complete("codex-route run --codex-provider l", env) == ["litellm"]
    assert _complete("codex-route run --force-model codex-l", env) == ["codex-light", "codex-long"]
    # compress and tokens have the console script's fast path: completion still reaches the app
    assert _complete("codex-route compress --rep", env) == ["--report"]


def test_install_completion_writes_a_script_that_completes(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(
        [sys.executable, "-m", "codex_router", "--show-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "_CODEX_ROUTE_COMPLETE=complete_bash" in shown.stdout
    subprocess.run(
        [sys.executable, "-m", "codex_router", "--install-completion", "bash"],
        env=env,
        capture_output=True,
        check=True,
    )
    script = home / ".bash_completions" / "codex-route.sh"
    assert str(script) in (home / ".bashrc").read_text("utf-8")
    bash = shutil.which("bash")
    assert bash is not None
    console = Path(sys.executable).parent / "codex-route"
    assert console.is_file(), "the console script is installed beside this Python"
    env["PATH"] = f"{console.parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        [
            bash,
            "-c",
            f"source {script}; COMP_WORDS=(codex-route run --provider ge); COMP_CWORD=3; "
            '_codex_route_completion codex-route; echo "${COMPREPLY[@]}"',
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["gemini"]
    usage = (REPO / "docs" / "usage.md").read_text("utf-8")
    assert "codex-route --install-completion" in usage and "--show-completion" in usage
