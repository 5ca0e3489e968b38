"""Extra codex arguments must not swap the provider of a managed path (issue 11, item 18).

``codex-route run … -- -c model_provider=x`` (in any of codex's spellings) would make codex talk
to another provider while the run is recorded as ``litellm``: refused with exit 2 before anything
is launched or written, ``--dry-run`` included. A plan whose only path is ``standard`` runs codex
as the user configured it, so there the override passes through.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.codex.passthrough import (
    check_provider_overrides,
    config_overrides,
    profile_names,
    provider_overrides,
)
from codex_router.errors import ExitCode, UsageError

REPO = Path(__file__).resolve().parents[1]

OVERRIDES = [
    (("-c", "model_provider=openai"), "-c model_provider=openai"),
    (("-c", 'model_provider="openai"'), '-c model_provider="openai"'),
    (("-c", " model_provider = openai"), "-c model_provider=openai"),
    (("--config", "model_provider=openai"), "--config model_provider=openai"),
    (("-cmodel_provider=openai",), "-cmodel_provider=openai"),
    (("-c=model_provider=openai",), "-c=model_provider=openai"),
    (("--config=model_provider=openai",), "--config=model_provider=openai"),
    (
        ("-c", "model_providers.cost-routing.env_key=OPENAI_API_KEY"),
        "-c model_providers.cost-routing.env_key=OPENAI_API_KEY",
    ),
    (
        ("-c", 'model_providers."cost-routing".base_url="https://api.openai.com/v1"'),
        '-c model_providers.cost-routing.base_url="https://api.openai.com/v1"',
    ),
    (("-c", "model_providers={}"), "-c model_providers={}"),
    (("--oss",), "--oss"),
    (("--local-provider", "ollama"), "--local-provider"),
    (("--local-provider=lmstudio",), "--local-provider=lmstudio"),
]
HARMLESS = [
    (),
    ("-c", "model_reasoning_effort=high"),
    ("-c", "model=o3"),
    ("--config", "model_provider_extra=1"),
    ("-s", "read-only", "--json"),
    ("-p", "mine"),
]


@pytest.mark.parametrize(("args", "named"), OVERRIDES)
@pytest.mark.parametrize("paths", [("litellm",), ("huggingface",), ("litellm", "standard")])
def test_provider_overrides_are_refused_when_a_managed_path_is_planned(
    args: tuple[str, ...], named: str, paths: tuple[str, ...]
) -> None:
    assert provider_overrides(("--json", *args, "-s", "read-only")) == [named]
    with pytest.raises(UsageError) as caught:
        check_provider_overrides(args, paths)
    assert named in str(caught.value)
    assert caught.value.exit_code == ExitCode.USAGE
    assert "--codex-provider standard" in (caught.value.hint or "")


@pytest.mark.parametrize(("args", "named"), OVERRIDES)
def test_a_standard_only_plan_lets_provider_overrides_through(
    args: tuple[str, ...], named: str
) -> None:
    check_provider_overrides(args, ("standard",))


@pytest.mark.parametrize("args", HARMLESS)
def test_other_codex_arguments_pass_on_managed_paths(args: tuple[str, ...]) -> None:
    check_provider_overrides(args, ("litellm", "huggingface", "standard"))


def test_config_overrides_and_profiles_are_read_as_codex_reads_them() -> None:
    args = ("-c", 'a."b".c = 1', "--config=d=2", "-ce=3", "-p", "x", "--profile=y", "-pz")
    assert [(k, v) for _f, k, v in config_overrides(args)] == [
        ("a.b.c", "1"),
        ("d", "2"),
        ("e", "3"),
    ]
    assert profile_names(args) == ["x", "y", "z"]


def test_dry_run_shows_the_refusal() -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--dry-run",
            "--codex-provider",
            "litellm",
            "say hi",
            "--",
            "-c",
            "model_provider=x",
        ],
    )
    assert result.exit_code == ExitCode.USAGE
    assert "model_provider=x" in result.stderr and "--codex-provider standard" in result.stderr


def test_dry_run_on_the_standard_path_keeps_the_override_in_argv() -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--dry-run",
            "--json",
            "--codex-provider",
            "standard",
            "say hi",
            "--",
            "-c",
            "model_provider=x",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "model_provider=x" in json.loads(result.stdout)["codex_argv"]


@pytest.mark.parametrize(("args", "named"), OVERRIDES[:1] + OVERRIDES[7:8] + OVERRIDES[10:11])
def test_a_real_run_is_refused_before_codex_starts_or_the_config_changes(
    tmp_path: Path, args: tuple[str, ...], named: str
) -> None:
    codex = tmp_path / "codex"
    marker = tmp_path / "codex-started"
    codex.write_text(f"#!/bin/sh\ntouch {marker}\necho codex-cli 0.169.0\n")
    codex.chmod(0o755)
    config = Path(os.environ["CODEX_HOME"]) / "config.toml"
    config.write_bytes(b'model = "o3"\n')
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "codex_router",
            "run",
            "--codex-provider",
            "litellm",
            "hi",
            "--",
            *args,
        ],
        env={
            **os.environ,
            "CODEX_ROUTE_CODEX_BIN": str(codex),
            "LITELLM_API_KEY": "sk-test",
            "PYTHONPATH": str(REPO),
        },
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == ExitCode.USAGE, done.stderr
    assert named in done.stderr
    assert not marker.exists()  # not even the --version probe
    assert config.read_bytes() == b'model = "o3"\n'
