"""A fake OpenAI Responses API server on 127.0.0.1 for end-to-end tests with the real Codex.

Codex 0.169 accepts ``response.output_item.done`` then ``response.completed`` as a whole turn.
Modes: ``ok``, ``500``, ``401``, ``403``, ``429``, ``hang`` (accepts, never answers),
``truncated`` (one event, then the connection closes: a cut stream), ``stall`` (one event, then
silence: Codex's idle timeout), ``slow`` (ok after a delay), ``failed_turn`` (a
``response.completed`` whose status is ``failed``: Codex exits 0 without an answer), ``quota``
(429 with ``insufficient_quota``), ``context_overflow`` (400 with ``context_length_exceeded``),
``failed:<code>`` (200, then ``response.failed`` with that error code). A ``refused`` endpoint is
a port nothing listens on: :func:`helpers.net.refused_url`.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLY_TEXT = "hello from the fake responses server"
#: The Responses API's error code for an input above the model's context window.
CONTEXT_CODE = "context_length_exceeded"


def _sse(event: dict) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


def ok_events(text: str = REPLY_TEXT) -> list[bytes]:
    item = {
        "type": "message",
        "role": "assistant",
        "id": "msg_1",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    usage = {
        "input_tokens": 123,
        "input_tokens_details": {"cached_tokens": 20},
        "output_tokens": 7,
        "output_tokens_details": {"reasoning_tokens": 2},
        "total_tokens": 130,
    }
    return [
        _sse({"type": "response.output_item.done", "output_index": 0, "item": item}),
        _sse({"type": "response.completed", "response": {"id": "resp_1", "usage": usage}}),
    ]


class FakeResponses:
    def __init__(
        self,
        mode: str = "ok",
        *,
        delay: float = 0.0,
        text: str = REPLY_TEXT,
        by_model: dict[str, str] | None = None,
    ) -> None:
        self.mode = mode
        self.by_model = by_model or {}  # model → mode, for requests naming that model
        self.delay = delay
        self.text = text
        self.requests: list[dict] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # websocket probes and /models: not offered
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {}
                server.requests.append(
                    {
                        "path": self.path,
                        "model": payload.get("model"),
                        "input": payload.get("input"),
                        "authorization": self.headers.get("authorization"),
                        "time": time.time(),
                    }
                )
                server._answer(self, server.by_model.get(payload.get("model"), server.mode))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def _answer(self, h: BaseHTTPRequestHandler, mode: str) -> None:
        if mode == "hang":
            self.release.wait(600)
            return
        errors = {"quota": (429, "insufficient_quota"), "context_overflow": (400, CONTEXT_CODE)}
        if mode in ("500", "401", "403", "429") or mode in errors:
            status, code = errors.get(mode) or (int(mode), "fake")
            error = {"message": f"fake {status} {code}", "type": code, "code": code}
            body = json.dumps({"error": error}).encode()
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if self.delay:
            time.sleep(self.delay)
        events = ok_events(self.text)
        if mode in ("truncated", "stall"):
            events = events[:1]
        elif mode == "failed_turn":
            failed = {"id": "resp_1", "status": "failed", "error": {"code": "server_error"}}
            events = [_sse({"type": "response.completed", "response": failed})]
        elif mode.startswith("failed:"):
            error = {"code": mode.split(":", 1)[1], "message": "fake failed response"}
            events = [
                _sse({"type": "response.created", "response": {"id": "resp_1"}}),
                _sse({"type": "response.failed", "response": {"id": "resp_1", "error": error}}),
            ]
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Connection", "close")
        h.end_headers()
        for event in events:
            h.wfile.write(event)
            h.wfile.flush()
        if mode == "stall":
            self.release.wait(600)
        h.close_connection = True

    def __enter__(self) -> FakeResponses:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def user_texts(request: dict) -> list[str]:
    """The text parts of the user messages in one recorded Responses request."""
    texts = []
    for item in request.get("input") or []:
        if isinstance(item, dict) and item.get("role") == "user":
            for part in item.get("content") or []:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
    return texts
