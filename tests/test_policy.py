"""Policy files: loading, validation errors naming file, line and key, templates."""

from __future__ import annotations

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
        "auto, openai, gemini, no-openai, huggingface, qwen",
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
