"""The local Qwen fast path and bench-local, against a fake Ollama on 127.0.0.1."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router.cli import app
from codex_router.dirs import app_dirs
from codex_router.errors import LocalModelError
from codex_router.local.ollama import percentile, run_local, stream_chat
from codex_router.policy.settings import resolve_settings

from helpers.fake_chat_server import FakeChatServer
from helpers.net import refused_url

MODEL = "qwen2.5-coder:3b"


@pytest.fixture
def ollama() -> Iterator[FakeChatServer]:
    with FakeChatServer(models={MODEL}, reply="def add(a, b): return a + b") as server:
        yield server


def test_streams_the_reply_as_it_arrives_and_measures_it(ollama: FakeChatServer) -> None:
    pieces: list[str] = []
    result = stream_chat(ollama.base_url, MODEL, "add two numbers", write=pieces.append)
    assert "".join(pieces) == "def add(a, b): return a + b"
    assert len(pieces) == 7  # one write per streamed chunk, not one at the end
    assert result.output_tokens == 7 and result.tokens_source == "usage"
    assert result.input_tokens == 11
    assert result.finish_reason == "stop"
    assert result.ttft_seconds is not None and 0 <= result.ttft_seconds <= result.total_seconds
    assert result.tokens_per_second is not None and result.tokens_per_second > 0
    sent = ollama.requests[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == MODEL and sent["body"]["stream"] is True
    assert sent["body"]["messages"] == [{"role": "user", "content": "add two numbers"}]
    assert "max_tokens" not in sent["body"]  # 0 = the server's default


def test_without_usage_counts_one_token_per_chunk() -> None:
    with FakeChatServer(models={MODEL}, reply="a b c d", send_usage=False) as server:
        result = stream_chat(server.base_url, MODEL, "x")
    assert result.output_tokens == 4 and result.tokens_source == "chunks"
    assert result.input_tokens is None


def test_max_output_tokens_is_sent_and_honoured(ollama: FakeChatServer) -> None:
    pieces: list[str] = []
    result = stream_chat(ollama.base_url, MODEL, "x", max_output_tokens=3, write=pieces.append)
    assert ollama.requests[-1]["body"]["max_tokens"] == 3
    assert result.output_tokens == 3 and result.finish_reason == "length"
    assert "".join(pieces) == "def add(a, b):"


def test_decode_rate_uses_the_time_after_the_first_token() -> None:
    with FakeChatServer(
        models={MODEL}, reply="a b c d e", first_token_delay=0.3, token_delay=0.02
    ) as server:
        result = stream_chat(server.base_url, MODEL, "x")
    assert result.ttft_seconds is not None and result.ttft_seconds >= 0.3
    # 4 tokens after the first, ~0.02 s apart: far faster than 5 tokens over the whole 0.4 s
    assert (
        result.tokens_per_second is not None and result.tokens_per_second > 5 / result.total_seconds
    )


def test_model_missing_names_the_pull_command() -> None:
    with FakeChatServer(models={"llama3:8b"}) as server, pytest.raises(LocalModelError) as info:
        stream_chat(server.base_url, MODEL, "x")
    assert MODEL in info.value.message and "not found" in info.value.message
    assert info.value.hint == f"download it: ollama pull {MODEL}"


def test_server_down_names_ollama_serve() -> None:
    url = refused_url()
    with pytest.raises(LocalModelError) as info:
        stream_chat(url, MODEL, "x")
    assert info.value.message == f"Ollama is not reachable at {url}"
    assert info.value.hint is not None and "ollama serve" in info.value.hint


def test_a_stream_that_breaks_off_is_an_error_not_a_short_answer() -> None:
    with (
        FakeChatServer(models={MODEL}) as server,
        pytest.raises(LocalModelError, match="ended before"),
    ):
        stream_chat(server.base_url, "fake-trunc", "x")


def test_http_error_carries_the_server_message() -> None:
    with (
        FakeChatServer() as server,
        pytest.raises(LocalModelError, match="HTTP 500: fake upstream internal"),
    ):
        stream_chat(server.base_url, "fake-500", "x")


def test_run_local_takes_endpoint_model_and_cap_from_the_settings(
    ollama: FakeChatServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", ollama.base_url)
    settings = resolve_settings({"max_output_tokens": 2}, os.environ, app_dirs())
    pieces: list[str] = []
    result = run_local(settings, "add", pieces.append)
    assert result.model == MODEL and result.base_url == ollama.base_url
    assert ollama.requests[-1]["body"]["max_tokens"] == 2 and "".join(pieces) == "def add(a,"


def test_run_local_reads_the_model_from_the_policy(
    ollama: FakeChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("aliases:\n  codex-qwen-local:\n    local_model: llama3:8b\n")
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", ollama.base_url)
    settings = resolve_settings({}, os.environ, app_dirs(), policy_flag=policy)
    with pytest.raises(LocalModelError) as info:
        run_local(settings, "x", lambda _t: None)
    assert ollama.requests[-1]["body"]["model"] == "llama3:8b"
    assert info.value.hint == "download it: ollama pull llama3:8b"


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([1.0], 95, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([float(i) for i in range(1, 21)], 95, 19.0),
        ([float(i) for i in range(1, 101)], 95, 95.0),
        ([5.0, 1.0, 3.0], 100, 5.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], pct: float, expected: float) -> None:
    assert percentile(values, pct) == expected


def test_bench_local_json(ollama: FakeChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", ollama.base_url)
    result = CliRunner().invoke(
        app, ["bench-local", "--runs", "3", "--json", "--max-output-tokens", "4"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["runs"] == 3 and len(data["each"]) == 3 and data["model"] == MODEL
    assert data["output_tokens"] == {"median": 4, "p95": 4}
    for key in ("ttft_seconds", "tokens_per_second", "total_seconds"):
        assert data[key]["median"] is not None and data[key]["median"] <= data[key]["p95"]
    assert [r["body"]["max_tokens"] for r in ollama.requests] == [4, 4, 4]


def test_bench_local_text(ollama: FakeChatServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", ollama.base_url)
    result = CliRunner().invoke(app, ["bench-local", "--runs", "2"])
    assert result.exit_code == 0, result.output
    assert f"{MODEL} at {ollama.base_url}, 2 runs" in result.stdout
    assert (
        "time to first token" in result.stdout
        and "median" in result.stdout
        and "p95" in result.stdout
    )


def test_bench_local_with_ollama_down_exits_1_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_ROUTE_OLLAMA_BASE_URL", refused_url())
    result = CliRunner().invoke(app, ["bench-local", "--runs", "1"])
    assert result.exit_code == 1
    assert "Ollama is not reachable" in result.stderr and "ollama serve" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["--runs", "0"], ["--max-output-tokens", "0"]])
def test_bench_local_bad_numbers_are_usage_errors(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["bench-local", *args])
    assert result.exit_code == 2
    assert args[0] in result.stderr
