"""``run --provider qwen`` on a simple task: Ollama answers directly (fake Ollama on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs

from helpers.fake_chat_server import FakeChatServer

MODEL = "qwen2.5-coder:3b"
PROMPT = "what does ls -la print"
REPLY = "It lists all files with details"


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeChatServer]:
    with FakeChatServer(models={MODEL}, reply=REPLY) as server:
        monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", server.base_url)
        yield server


def _run(*args: str) -> object:
    return CliRunner().invoke(app, ["run", "--no-stdin", *args])


def _history() -> list[dict]:
    result = CliRunner().invoke(app, ["history", "--json", "--limit", "10"])
    assert result.exit_code == 0, result.output
    text = result.stdout.strip()
    data = (
        json.loads(text)
        if text.startswith("[")
        else [json.loads(line) for line in text.splitlines()]
    )
    return data


def test_simple_task_is_answered_by_ollama_directly_and_recorded(ollama: FakeChatServer) -> None:
    result = _run("--provider", "qwen", PROMPT)
    assert result.exit_code == 0, result.output
    assert result.stdout == REPLY + "\n"
    assert f"codex-qwen-local answers this simple task directly: Ollama {MODEL}" in result.stderr
    assert f"local {MODEL}: 6 tokens, first token" in result.stderr and "tok/s" in result.stderr
    sent = ollama.requests[-1]["body"]
    assert (
        sent["model"] == MODEL
        and sent["messages"][0]["content"] == PROMPT
        and "max_tokens" not in sent
    )
    runs = _history()
    assert runs[0]["outcome"] == "success" and runs[0]["alias"] == "codex-qwen-local"
    attempt = runs[0]["attempts"][0]
    assert attempt["path"] == "local" and attempt["model"] == MODEL and attempt["outcome"] == "ok"
    assert attempt["usage"]["output_tokens"] == 6


def test_the_prompt_is_not_stored(ollama: FakeChatServer) -> None:
    assert _run("--provider", "qwen", PROMPT).exit_code == 0
    db = app_dirs().state_dir
    for path in db.rglob("*"):
        if path.is_file():
            assert PROMPT.encode() not in path.read_bytes(), path
            assert REPLY.encode() not in path.read_bytes(), path


def test_max_output_tokens_reaches_ollama(ollama: FakeChatServer) -> None:
    result = _run("--provider", "qwen", "--max-output-tokens", "3", PROMPT)
    assert result.exit_code == 0, result.output
    assert ollama.requests[-1]["body"]["max_tokens"] == 3
    assert result.stdout == "It lists all\n"


def test_ollama_down_is_a_clear_error_and_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", f"http://127.0.0.1:{port}/v1")
    # asked for explicitly: without --local-answer the plan degrades (test_provider_degradation)
    result = _run("--provider", "qwen", "--local-answer", PROMPT)
    assert result.exit_code == 1
    assert "Ollama is not reachable" in result.stderr and "ollama serve" in result.stderr
    runs = _history()
    assert runs[0]["outcome"] == "failed" and runs[0]["attempts"][0]["outcome"] == "failed"
    assert "not reachable" in runs[0]["attempts"][0]["error"]


def test_model_missing_names_ollama_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeChatServer(models={"llama3:8b"}) as server:
        monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", server.base_url)
        result = _run("--provider", "qwen", "--local-answer", PROMPT)
    assert result.exit_code == 1 and f"ollama pull {MODEL}" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--provider", "qwen", "--codex-provider", "litellm", PROMPT],  # Codex asked for explicitly
        [
            "--provider",
            "qwen",
            "refactor the authentication module across the whole codebase and "
            "redesign its session architecture for security",
        ],  # not a simple task
        ["--provider", "gemini", PROMPT],  # not the local provider
    ],
)
def test_only_simple_qwen_tasks_take_the_fast_path(args: list[str], ollama: FakeChatServer) -> None:
    result = _run("--dry-run", *args)
    assert result.exit_code == 0, result.output
    assert "answers this simple task directly" not in result.stderr


def test_dry_run_says_the_local_model_answers(ollama: FakeChatServer) -> None:
    result = _run("--dry-run", "--json", "--provider", "qwen", PROMPT)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["alias"] == "codex-qwen-local"
    assert "note: codex-qwen-local answers this simple task directly" in result.stderr
    assert ollama.requests == []  # a dry run asks nothing
