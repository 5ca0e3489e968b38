"""The local Qwen fast path: one streamed chat completion from Ollama's OpenAI-compatible API.

For simple tasks ``run --provider qwen`` can skip Codex and the proxy altogether: the prompt goes
straight to ``{ollama_base_url}/chat/completions`` (``http://127.0.0.1:11434/v1`` and
``qwen2.5-coder:3b`` by default, both from the policy), the reply is written as it arrives, and
the run records time to first token and tokens per second. ``bench-local`` measures the same.

Output tokens come from the stream's ``usage`` (asked for with ``stream_options.include_usage``);
a server that sends none is counted one token per content chunk, which is how Ollama streams.
Tokens per second is the decode rate: tokens after the first over the time after the first.

httpx (~40 ms) is imported only where a request is sent: ``run --provider qwen --dry-run`` and
``doctor`` load this module but send nothing through it.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from codex_router.errors import LocalModelError, PolicyError, UsageError
from codex_router.policy.model import Policy
from codex_router.policy.roles import Role
from codex_router.policy.settings import Settings
from codex_router.urls import is_loopback

if TYPE_CHECKING:
    import httpx

DEFAULT_LOCAL_MODEL = "qwen2.5-coder:3b"
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 120.0  # between two chunks: a cold model load can take a while
BENCH_PROMPT = "Write a Python function that reverses the words of a sentence. Code only."
BENCH_MAX_OUTPUT_TOKENS = 128

Writer = Callable[[str], Any]


@dataclass(frozen=True)
class LocalResult:
    """One completion: what was measured (never the prompt, never the reply text)."""

    model: str
    base_url: str
    output_tokens: int
    tokens_source: str  # "usage" (the server counted) | "chunks" (one per content chunk)
    input_tokens: int | None
    ttft_seconds: float | None  # None: no content at all
    total_seconds: float
    tokens_per_second: float | None
    finish_reason: str | None
    max_output_tokens: int = 0  # the cap sent (0: the server's default)
    target_tokens_per_second: float | None = None  # the alias's target, reported against

    @property
    def meets_target(self) -> bool | None:
        """Whether the decode rate reached the alias's target (None: no target or no rate)."""
        if self.target_tokens_per_second is None or self.tokens_per_second is None:
            return None
        return self.tokens_per_second >= self.target_tokens_per_second

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            "output_tokens": self.output_tokens,
            "tokens_source": self.tokens_source,
            "input_tokens": self.input_tokens,
            "ttft_seconds": _round(self.ttft_seconds),
            "total_seconds": _round(self.total_seconds),
            "tokens_per_second": _round(self.tokens_per_second, 2),
            "finish_reason": self.finish_reason,
            "max_output_tokens": self.max_output_tokens,
            "target_tokens_per_second": self.target_tokens_per_second,
            "meets_target": self.meets_target,
        }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def local_model_name(policy: Policy, alias: str | None = None) -> str:
    """The Ollama model of ``alias`` (default: the alias that plays the ``local`` role)."""
    alias = policy.alias_for(Role.LOCAL) if alias is None else alias
    model = policy.resolve_alias(alias).local_model
    if not model:
        raise PolicyError(
            "has no local_model, so the local path has no model to ask Ollama for",
            key=f"aliases.{alias}.local_model",
            hint=f"set aliases.{alias}.local_model: {DEFAULT_LOCAL_MODEL}",
        )
    return str(model)


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:300]
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        return str(err.get("message", err))[:300]
    return str(err or data)[:300]


def _http_error(status: int, body: bytes, model: str, base_url: str) -> LocalModelError:
    message = _error_message(body)
    if status == 404 or "not found" in message.lower():
        return LocalModelError(
            f"Ollama at {base_url} does not have the model {model}: {message}",
            hint=f"download it: ollama pull {model}",
        )
    return LocalModelError(
        f"Ollama at {base_url} answered HTTP {status}: {message}",
        hint="check the server's own log (journalctl -u ollama, or the terminal "
        "running ollama serve)",
    )


def stream_chat(
    base_url: str,
    model: str,
    prompt: str,
    *,
    max_output_tokens: int = 0,
    write: Writer | None = None,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
    transport: httpx.BaseTransport | None = None,
) -> LocalResult:
    """Stream one chat completion; ``write`` gets each piece of text as it arrives.

    ``max_output_tokens`` > 0 caps the answer (``max_tokens``); 0 leaves the server's default.
    Raises :class:`LocalModelError` with the command that fixes it when Ollama is down, lacks
    the model, answers an error, or the stream breaks off.
    """
    import httpx  # lazy: ~40 ms; a qwen dry run and doctor load this module but send nothing

    url = base_url.rstrip("/") + "/chat/completions"
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if max_output_tokens > 0:
        body["max_tokens"] = max_output_tokens
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    chunks = 0
    usage: dict[str, Any] | None = None
    finish: str | None = None
    done = False
    first: float | None = None
    last: float | None = None
    started = time.perf_counter()
    try:
        # A loopback server must not be reached through an HTTP(S)_PROXY from the environment.
        with (
            httpx.Client(
                timeout=timeout, transport=transport, trust_env=not is_loopback(base_url)
            ) as client,
            client.stream(
                "POST", url, json=body, headers={"Authorization": "Bearer ollama"}
            ) as resp,
        ):
            if resp.status_code != 200:
                raise _http_error(resp.status_code, resp.read(), model, base_url)
            for line in resp.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    done = True
                    break
                try:
                    event = json.loads(payload)
                except ValueError:
                    raise LocalModelError(
                        f"Ollama at {base_url} sent a malformed stream event"
                    ) from None
                if event.get("error"):
                    raise _http_error(500, json.dumps(event).encode(), model, base_url)
                if event.get("usage"):
                    usage = event["usage"]
                for choice in event.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        now = time.perf_counter()
                        first = now if first is None else first
                        last = now
                        chunks += 1
                        if write is not None:
                            write(text)
                    finish = choice.get("finish_reason") or finish
    except httpx.ConnectError:
        raise LocalModelError(
            f"Ollama is not reachable at {base_url}",
            hint="start it with: ollama serve (or point endpoints.ollama_base_url / "
            "CODEX_ROUTE_OLLAMA_BASE_URL at your server)",
        ) from None
    except httpx.TimeoutException:
        raise LocalModelError(
            f"Ollama at {base_url} did not answer in time",
            hint="the first request loads the model; try again, or check ollama ps",
        ) from None
    except httpx.HTTPError as exc:
        raise LocalModelError(
            f"the stream from Ollama at {base_url} broke off: {type(exc).__name__}"
        ) from None
    total = time.perf_counter() - started
    if not done and finish is None:
        raise LocalModelError(
            f"the stream from Ollama at {base_url} ended before the answer was complete",
            hint="check the server's log; a crash or an out-of-memory kill stops streams",
        )
    out_tokens = int(usage.get("completion_tokens") or 0) if usage else 0
    source = "usage" if usage and out_tokens else "chunks"
    if source == "chunks":
        out_tokens = chunks
    rate = None
    if first is not None and last is not None:
        rate = (
            (out_tokens - 1) / (last - first)
            if out_tokens > 1 and last > first
            else out_tokens / total
        )
    in_tokens = (
        int(usage["prompt_tokens"]) if usage and usage.get("prompt_tokens") is not None else None
    )
    return LocalResult(
        model,
        base_url,
        out_tokens,
        source,
        in_tokens,
        None if first is None else first - started,
        total,
        rate,
        finish,
        max_output_tokens,
    )


def output_cap(settings: Settings, alias: str) -> int:
    """The answer's cap: ``max_output_tokens`` within the alias's own cap (0: none)."""
    asked = int(settings["max_output_tokens"] or 0)
    own = settings.policy.resolve_alias(alias).max_output_tokens or 0
    return min(c for c in (asked, own) if c) if (asked or own) else 0


def run_local(
    settings: Settings, prompt_text: str, write: Writer, alias: str | None = None
) -> LocalResult:
    """The local fast path: endpoint from the settings; model, output cap and tokens/s target
    from ``alias`` (default: the ``local`` role's) within ``max_output_tokens``."""
    alias = settings.policy.alias_for(Role.LOCAL) if alias is None else alias
    result = stream_chat(
        settings["ollama_base_url"],
        local_model_name(settings.policy, alias),
        prompt_text,
        max_output_tokens=output_cap(settings, alias),
        write=write,
    )
    target = settings.policy.resolve_alias(alias).target_tokens_per_second
    return replace(result, target_tokens_per_second=target)


# --- bench-local ---------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p50 of [1, 2, 3, 4] is 2; p95 of 20 values is the 19th)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class BenchReport:
    """The runs of `bench-local` against one Ollama model."""

    model: str
    base_url: str
    runs: tuple[LocalResult, ...] = field(default=())

    def _stat(self, name: str) -> dict[str, float | None]:
        values = [getattr(r, name) for r in self.runs if getattr(r, name) is not None]
        if not values:
            return {"median": None, "p95": None}
        return {
            "median": round(statistics.median(values), 4),
            "p95": round(percentile(values, 95), 4),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            "runs": len(self.runs),
            "ttft_seconds": self._stat("ttft_seconds"),
            "tokens_per_second": self._stat("tokens_per_second"),
            "total_seconds": self._stat("total_seconds"),
            "output_tokens": self._stat("output_tokens"),
            "each": [r.to_dict() for r in self.runs],
        }


def bench_local(
    settings: Settings,
    *,
    runs: int,
    prompt: str = BENCH_PROMPT,
    max_output_tokens: int = BENCH_MAX_OUTPUT_TOKENS,
    on_run: Callable[[int, LocalResult], Any] | None = None,
) -> BenchReport:
    """Run ``runs`` completions against the local model; the reply text is discarded."""
    if runs < 1:
        raise UsageError(f"--runs: must be at least 1, got {runs}")
    base_url = settings["ollama_base_url"]
    model = local_model_name(settings.policy)
    results = []
    for i in range(runs):
        result = stream_chat(base_url, model, prompt, max_output_tokens=max_output_tokens)
        results.append(result)
        if on_run is not None:
            on_run(i, result)
    return BenchReport(model, base_url, tuple(results))
