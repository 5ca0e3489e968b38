"""A fake OpenAI-compatible chat-completions server on 127.0.0.1, for tests and benchmarks.

It stands in for two real things that cannot run here: Ollama's ``/v1`` API (the local Qwen) and
any chat-completions upstream behind LiteLLM (Hugging Face router, a test deployment).

``POST /v1/chat/completions`` (stream and non-stream). The requested model decides:

* a name ending in ``fake-500`` → HTTP 500; ``fake-429`` → HTTP 429; ``fake-401`` → HTTP 401
  (a key the upstream refuses); ``fake-trunc`` → the stream
  breaks off after two pieces (no finish_reason, no ``[DONE]``);
* otherwise, if ``models`` is given and the name is not in it → HTTP 404 with Ollama's own
  "model … not found, try pulling it first";
* otherwise an answer: ``reply`` split into words, one chunk per word (as Ollama streams
  tokens), capped at ``max_tokens`` words (finish_reason ``length``), with ``usage`` when the
  client asks for it (``stream_options.include_usage``) and ``send_usage`` is on.

``response_delay`` slows every answer (a slow endpoint); ``rate_limited`` (switchable while the
server runs) answers every chat request 429 whatever the model (a rate-limited key).

Every request is recorded in :attr:`FakeChatServer.requests` (path, body, whether an
Authorization header came); never anything else. Runs as a script too:
``python tests/helpers/fake_chat_server.py PORT`` (used by the benchmarks).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_REPLY = "hi from the fake upstream"


class FakeChatServer:
    def __init__(
        self,
        *,
        models: set[str] | None = None,
        reply: str = DEFAULT_REPLY,
        send_usage: bool = True,
        first_token_delay: float = 0.0,
        token_delay: float = 0.0,
        response_delay: float = 0.0,
        port: int = 0,
    ) -> None:
        self.models = models
        self.reply = reply
        self.send_usage = send_usage
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        #: seconds before any chat answer (stream or not): a slow upstream
        self.response_delay = response_delay
        #: answer every chat request 429 whatever the model (a rate-limited key or endpoint);
        #: may be switched while the server runs
        self.rate_limited = False
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeChatServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, path: str, body: dict[str, Any], has_auth: bool) -> None:
        with self._lock:
            self.requests.append({"path": path, "body": body, "has_auth": has_auth})

    def models_requested(self) -> list[str]:
        with self._lock:
            return [
                r["body"].get("model", "")
                for r in self.requests
                if r["path"].endswith("/chat/completions")
            ]


class _Handler(BaseHTTPRequestHandler):
    fake: FakeChatServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def _json(self, code: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        fake = self.fake
        names = sorted(fake.models or {"fake-ok"})
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            return self._json(
                200, {"object": "list", "data": [{"id": m, "object": "model"} for m in names]}
            )
        if self.path.rstrip("/") == "/api/tags":
            return self._json(200, {"models": [{"name": m, "model": m} for m in names]})
        if self.path.rstrip("/") == "/api/version":
            return self._json(200, {"version": "0.0.0-fake"})
        return self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return self._json(400, {"error": {"message": "body is not JSON"}})
        fake.record(self.path, body, bool(self.headers.get("Authorization")))
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._json(404, {"error": {"message": "only /v1/chat/completions here"}})
        model = str(body.get("model", ""))
        if fake.response_delay:
            time.sleep(fake.response_delay)
        if fake.rate_limited:
            model = "fake-429"
        if model.endswith("fake-500"):
            return self._json(
                500, {"error": {"message": "fake upstream internal error", "type": "server_error"}}
            )
        if model.endswith("fake-429"):
            return self._json(
                429,
                {"error": {"message": "fake upstream rate limited", "type": "rate_limit_error"}},
            )
        if model.endswith("fake-401"):
            return self._json(
                401,
                {
                    "error": {
                        # OpenAI's own 401 wording: LiteLLM classes an invalid_request_error
                        # without it as a bad request, not an authentication error
                        "message": "Incorrect API key provided.",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
            )
        if (
            fake.models is not None
            and model not in fake.models
            and not model.endswith("fake-trunc")
        ):
            return self._json(
                404,
                {
                    "error": {
                        "message": f'model "{model}" not found, try pulling it first',
                        "type": "api_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
        words = fake.reply.split(" ")
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        finish = "stop"
        if isinstance(limit, int) and 0 < limit < len(words):
            words, finish = words[:limit], "length"
        pieces = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        usage = {
            "prompt_tokens": 11,
            "completion_tokens": len(pieces),
            "total_tokens": 11 + len(pieces),
        }
        cid = f"chatcmpl-fake{int(time.time() * 1000)}"
        if not body.get("stream"):
            return self._json(
                200,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "usage": usage,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": finish,
                            "message": {"role": "assistant", "content": "".join(pieces)},
                        }
                    ],
                },
            )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()

        def send(obj: dict[str, Any]) -> None:
            self.wfile.write(b"data: " + json.dumps(obj).encode() + b"\n\n")
            self.wfile.flush()

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> None:
            send(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                }
            )

        chunk({"role": "assistant", "content": ""})
        if fake.first_token_delay:
            time.sleep(fake.first_token_delay)
        if model.endswith("fake-trunc"):
            chunk({"content": "partial "})
            chunk({"content": "answer"})
            self.close_connection = True
            return
        for i, piece in enumerate(pieces):
            if i and fake.token_delay:
                time.sleep(fake.token_delay)
            chunk({"content": piece})
        chunk({}, finish)
        if fake.send_usage and (body.get("stream_options") or {}).get("include_usage"):
            send(
                {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            )
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


if __name__ == "__main__":
    server = FakeChatServer(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(f"fake chat server on {server.base_url}", flush=True)
    server.httpd.serve_forever()
