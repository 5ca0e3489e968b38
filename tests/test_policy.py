"""Policy files: loading, validation errors naming file, line and key, templates."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from codex_router.errors import ExitCode, PolicyError
from codex_router.policy.settings import DEFAULT_POLICY_FILE, Resolved, load_policy
from codex_router.policy.templates import TEMPLATES, check_template

REPO = Path(__file__).resolve().parents[1]


def load(tmp_path: Path, text: str):
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(Resolved(str(path), "flag", "--policy")), path


def test_default_policy_is_valid_and_complete() -> None:
    policy = load_policy(Resolved(None, "default"))
    assert policy.get("default_provider") == "auto"
    for alias in (
        "codex-light",
        "codex-default",
        "codex-long",
        "codex-deep",
        "codex-no-openai",
        "codex-cheap",
        "codex-strong",
        "codex-hf-cheap",
        "codex-hf-fast",
        "codex-qwen-local",
    ):
        assert alias in policy.aliases
    assert policy.resolve_alias("codex-cheap").name == "codex-light"
    assert policy.resolve_alias("codex-strong").name == "codex-deep"
    assert all(o.layer == "default" for o in policy.origins.values())


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_are_valid(name: str) -> None:
    check_template(name)


@pytest.mark.parametrize("name", ["default", *TEMPLATES])
def test_top_level_policies_point_at_the_packaged_files(name: str) -> None:
    top = REPO / "policies" / f"{name}.yaml"
    assert top.read_bytes() == (DEFAULT_POLICY_FILE.parent / f"{name}.yaml").read_bytes()


def test_user_values_override_defaults_key_by_key(tmp_path: Path) -> None:
    policy, path = load(
        tmp_path, "max_cost_usd: 0.5\naliases:\n  codex-deep:\n    openai_model: o9\n"
    )
    assert policy.get("max_cost_usd") == 0.5
    assert policy.origins["max_cost_usd"].layer == "file"
    assert policy.origins["max_cost_usd"].line == 1
    deep = policy.aliases["codex-deep"]
    assert deep.openai_model == "o9"
    assert deep.reasoning_effort == "high"  # untouched field keeps the default
    assert policy.origins["aliases.codex-deep.openai_model"].file == str(path)
    assert policy.origins["aliases.codex-deep.reasoning_effort"].layer == "default"


def test_shorthand_task_rule_names_a_provider(tmp_path: Path) -> None:
    policy, _ = load(tmp_path, "task_provider_rules:\n  simple: qwen\n")
    assert policy.task_rules["simple"].provider == "qwen"
    assert policy.task_rules["simple"].alias is None


def test_empty_policy_file_is_the_default(tmp_path: Path) -> None:
    policy, _ = load(tmp_path, "# nothing here\n")
    assert policy.get("max_input_tokens") == 120000


BAD_POLICIES = [
    ("malformed-yaml", "max_cost_usd: [1,\nfoo: 2\n", 3, None, "invalid YAML"),
    ("tab-indent", "aliases:\n\tcodex-x: {}\n", 2, None, "invalid YAML"),
    ("unknown-key", "max_cost: 1\n", 1, "max_cost", "did you mean"),
    (
        "unknown-nested-key",
        "classification:\n  medium: 5\n",
        2,
        "classification.medium",
        "unknown key",
    ),
    (
        "unknown-alias-prop",
        "aliases:\n  codex-light:\n    modle: x\n",
        3,
        "aliases.codex-light.modle",
        "unknown key",
    ),
    ("wrong-type-bool", "avoid_openai: maybe\n", 1, "avoid_openai", "expected true or false"),
    ("wrong-type-int", "max_input_tokens: lots\n", 1, "max_input_tokens", "whole number"),
    ("negative-budget", "max_cost_usd: -1\n", 1, "max_cost_usd", "at least 0"),
    ("non-numeric-budget", "max_cost_usd: '5 dollars'\n", 1, "max_cost_usd", "expected a number"),
    ("tiny-input-budget", "max_input_tokens: 10\n", 1, "max_input_tokens", "at least 1000"),
    (
        "unknown-provider",
        "default_provider: anthropic\n",
        1,
        "default_provider",
        "auto, openai, gemini, huggingface, local-small, phi, qwen, claude, no-openai",
    ),
    (
        "unknown-path",
        "fallback_order: [standard, ollama]\n",
        1,
        "fallback_order",
        "standard, litellm, huggingface",
    ),
    (
        "repeated-path",
        "fallback_order: [standard, standard]\n",
        1,
        "fallback_order",
        "must not repeat",
    ),
    (
        "unknown-alias-in-rule",
        "task_provider_rules:\n  simple: {alias: codex-tiny}\n",
        2,
        "task_provider_rules.simple.alias",
        "valid: codex-cheap",
    ),
    ("unknown-force-model", "force_model: gpt-9\n", 1, "force_model", "unknown alias 'gpt-9'"),
    (
        "bad-task-kind",
        "task_provider_rules:\n  trivial: {alias: codex-light}\n",
        2,
        "task_provider_rules.trivial",
        "unknown key",
    ),
    ("duplicate-key", "max_cost_usd: 1\nmax_cost_usd: 2\n", 2, "max_cost_usd", "appears twice"),
    ("not-a-mapping", "- a\n- b\n", 1, None, "must be a mapping"),
    (
        "bad-url",
        "endpoints:\n  litellm_base_url: localhost:4000\n",
        2,
        "endpoints.litellm_base_url",
        "http:// or https://",
    ),
    (
        "bad-effort",
        "aliases:\n  codex-deep:\n    reasoning_effort: max\n",
        3,
        "aliases.codex-deep.reasoning_effort",
        "minimal, low, medium, high",
    ),
    (
        "thresholds-order",
        "classification:\n  medium_tokens: 9000\n  complex_tokens: 100\n",
        3,
        "classification.complex_tokens",
        "at least classification.medium_tokens",
    ),
    (
        "cut-points-order",
        "classification:\n  light_below: 1.5\n  deep_from: 0.5\n",
        3,
        "classification.deep_from",
        "at least classification.light_below",
    ),
    (
        "light-above-packaged-deep",
        "classification:\n  light_below: 2\n",
        2,
        "classification.light_below",
        "lower classification.light_below",
    ),
    (
        "cut-point-out-of-range",
        "classification:\n  deep_from: 50\n",
        2,
        "classification.deep_from",
        "at most 10",
    ),
    (
        "alias-of-unknown",
        "aliases:\n  codex-x:\n    alias_of: codex-none\n",
        3,
        "aliases.codex-x.alias_of",
        "unknown alias",
    ),
    (
        "bad-env-name",
        "aliases:\n  codex-x:\n    requires_env: ['HF TOKEN']\n",
        3,
        "aliases.codex-x.requires_env",
        "not an environment variable",
    ),
    ("section-not-mapping", "endpoints: 5\n", 1, "endpoints", "expected a mapping"),
    ("future-version", "version: 2\n", 1, "version", "at most 1"),
]


@pytest.mark.parametrize(
    ("text", "line", "key", "needle"),
    [b[1:] for b in BAD_POLICIES],
    ids=[b[0] for b in BAD_POLICIES],
)
def test_bad_policy_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str | None, needle: str
) -> None:
    with pytest.raises(PolicyError) as info:
        load(tmp_path, text)
    err = info.value
    assert err.exit_code == ExitCode.POLICY
    assert err.file == str(tmp_path / "policy.yaml")
    assert err.line == line
    if key is not None:
        assert err.key == key
    assert f"{tmp_path / 'policy.yaml'}:{line}" in err.message
    assert needle in err.message + (err.hint or "")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\xff\xfeoops", "not valid UTF-8"),
        (None, "not found"),
    ],
)
def test_unreadable_policy_files(tmp_path: Path, content: bytes | None, needle: str) -> None:
    path = tmp_path / "p.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PolicyError, match=needle):
        load_policy(Resolved(str(path), "flag", "--policy"))


def test_policy_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="directory"):
        load_policy(Resolved(str(tmp_path), "flag", "--policy"))


def _alias_bomb() -> str:
    """A "billion laughs" under a real key: 9**9 strings once expanded, and a
    ``fallback_order`` error message that would print them all."""
    lines = ["version: 1", "fallback_order:", "  - &a [" + ",".join(['"lol"'] * 9) + "]"]
    for prev, name in pairwise("abcdefghi"):
        lines.append(f"  - &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _block_nesting(levels: int) -> str:
    return "".join(f"{'  ' * i}k:\n" for i in range(levels - 1)) + f"{'  ' * (levels - 1)}k: 1\n"


#: Policies that used to take exponential time or crash (exit 70): (id, text, line, needle).
HOSTILE_POLICIES = [
    ("alias-bomb", _alias_bomb(), 3, "anchors and aliases"),
    ("anchor-only", "max_cost_usd: 1\nmax_input_tokens: &n 5000\n", 2, "anchors and aliases"),
    ("alias-use", "x: [1]\ny: *x\n", 2, "anchors and aliases"),
    ("flow-nesting-990", "x: " + "[" * 990 + "]" * 990 + "\n", 1, "nested more than"),
    ("map-nesting-990", "version: 1\nx: " + "{a: " * 990 + "1" + "}" * 990 + "\n", 2, "nested"),
    ("block-nesting-40", _block_nesting(40), 33, "nested more than 32 levels"),
    (
        "python-tag",
        "version: 1\nx: !!python/object/apply:os.system ['true']\n",
        2,
        "python/object/apply",
    ),
    ("python-name-tag", "x: !!python/name:os.system\n", 1, "python/name"),
    ("local-tag", "max_cost_usd: !dollars 5\n", 1, "tag '!dollars' is not supported"),
    ("int-5000-digits", "max_input_tokens: " + "9" * 5000 + "\n", 1, "longer than 100"),
    ("int-400-digits", "max_cost_usd: " + "9" * 400 + "\n", 1, "longer than 100"),
    ("float-400-digits", "max_cost_usd: 1." + "9" * 400 + "\n", 1, "longer than 100"),
    ("bad-int-tag", "max_input_tokens: !!int lots\n", 1, "invalid YAML value"),
    ("bad-bool-tag", "avoid_openai: !!bool maybe\n", 1, "invalid YAML value"),
    ("seq-tag-on-scalar", "fallback_order: !!seq standard\n", 1, "expected a sequence"),
]


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [h[1:] for h in HOSTILE_POLICIES],
    ids=[h[0] for h in HOSTILE_POLICIES],
)
def test_hostile_policy_is_a_policy_error_naming_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    with pytest.raises(PolicyError) as info:
        load(tmp_path, text)
    err = info.value
    assert err.exit_code == ExitCode.POLICY
    assert (err.file, err.line) == (str(tmp_path / "policy.yaml"), line)
    assert f"{tmp_path / 'policy.yaml'}:{line}: " in err.message
    assert needle in err.message
    assert err.hint


def test_plain_long_text_and_quoted_long_numbers_are_still_strings(tmp_path: Path) -> None:
    from codex_router.policy.load import parse_policy_text

    long_text = "word " * 50
    tree = parse_policy_text(f"a: {long_text}\nb: '{'9' * 500}'\nc: !!str 5\n", "p.yaml")
    assert tree["a"].value == long_text.strip()
    assert tree["b"].value == "9" * 500
    assert tree["c"].value == "5"


@pytest.mark.parametrize("command", [["policy", "validate"], ["run", "--dry-run", "--policy"]])
def test_alias_bomb_is_refused_by_the_cli(tmp_path: Path, command: list[str]) -> None:
    from typer.testing import CliRunner

    from codex_router.cli import app

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_alias_bomb(), encoding="utf-8")
    args = [*command, str(bomb)] + (["hello"] if command[0] == "run" else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.POLICY, result.stderr
    assert f"{bomb}:3: YAML anchors and aliases" in result.stderr
