"""Does the gateway's Redis answer the way LiteLLM will talk to it? (``proxy start --gateway``)

One connection: TLS for ``rediss://`` (the certificate verified against ``gateway.redis_ca_file``
or the system's CAs, and the host name checked, as LiteLLM's redis client does), ``AUTH`` with
``REDIS_PASSWORD`` (and ``REDIS_USERNAME``) from the gateway's environment when set (the
variables LiteLLM reads), then ``PING``. The password is sent, never shown: what goes wrong is
said with the variable's name only. :func:`judge` is the pure part.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from typing import NamedTuple

REDIS_PASSWORD_VAR = "REDIS_PASSWORD"
REDIS_USERNAME_VAR = "REDIS_USERNAME"


class RedisTarget(NamedTuple):
    """Where the gateway's Redis is and how to reach it (no secret here)."""

    host: str
    port: int
    tls: bool = False
    ca_file: str | None = None


class RedisProblem(NamedTuple):
    """Why the gateway must not start with this Redis, and what to do (no secret inside)."""

    message: str
    hint: str


def encode_command(*words: str) -> bytes:
    """A command in Redis's binary-safe protocol (a password may hold spaces or newlines)."""
    parts = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _first_line(reply: bytes) -> str:
    return reply.split(b"\r\n", 1)[0].decode("utf-8", "replace")[:160]


def judge(auth_reply: bytes | None, ping_reply: bytes) -> RedisProblem | None:
    """None when Redis accepted the credentials (if any) and answered PING; else the problem.

    ``auth_reply`` is None when no password was sent.
    """
    fix = f"set {REDIS_PASSWORD_VAR} in the gateway's environment to Redis's password"
    if auth_reply is not None and not auth_reply.startswith(b"+OK"):
        line = _first_line(auth_reply)
        if "without any password configured" in line:
            return RedisProblem(
                f"{REDIS_PASSWORD_VAR} is set but Redis has no password: LiteLLM's AUTH fails",
                f"unset {REDIS_PASSWORD_VAR}, or give Redis the password (requirepass)",
            )
        if line.startswith(("-WRONGPASS", "-ERR invalid password")):
            return RedisProblem(f"Redis refused {REDIS_PASSWORD_VAR} (wrong password)", fix)
        return RedisProblem(f"Redis refused the AUTH command: {line.split(' ', 1)[0]}", fix)
    if ping_reply.startswith(b"+PONG"):
        return None
    if not ping_reply:
        return RedisProblem(
            "Redis closed the connection without answering PING",
            "a TLS-only Redis port needs a rediss:// URL",
        )
    line = _first_line(ping_reply)
    if line.startswith("-NOAUTH"):
        return RedisProblem(f"Redis requires a password and {REDIS_PASSWORD_VAR} is not set", fix)
    if not line.startswith(("-", "+")):
        return RedisProblem(
            "the server does not speak Redis's protocol", "check the host and port of the URL"
        )
    return RedisProblem(f"Redis answered PING with {line}", "check Redis's own log")


def _read_reply(sock: socket.socket) -> bytes:
    """One simple-string or error reply (``+…``/``-…`` up to CRLF); b"" if the server closed."""
    data = b""
    while b"\r\n" not in data and len(data) < 4096:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def ping(target: RedisTarget, env: Mapping[str, str], timeout: float = 3.0) -> RedisProblem | None:
    """Connect, authenticate and PING as LiteLLM would; raises ``OSError`` if nobody answers."""
    password = env.get(REDIS_PASSWORD_VAR) or None
    username = env.get(REDIS_USERNAME_VAR) or None
    raw = socket.create_connection((target.host, target.port), timeout=timeout)
    sock: socket.socket = raw
    auth_reply: bytes | None = None
    try:
        if target.tls:
            context = ssl.create_default_context(cafile=target.ca_file)
            try:
                sock = context.wrap_socket(raw, server_hostname=target.host)
            except TimeoutError:  # a plain Redis waits for a command line, not a ClientHello
                return RedisProblem(
                    "the TLS handshake with Redis timed out",
                    "a plain (non-TLS) Redis port needs a redis:// URL",
                )
        if password is not None:
            words = ("AUTH", username, password) if username else ("AUTH", password)
            sock.sendall(encode_command(*words))
            auth_reply = _read_reply(sock)
        sock.sendall(encode_command("PING"))
        ping_reply = _read_reply(sock)
    except ssl.SSLCertVerificationError as exc:
        return RedisProblem(
            f"Redis's TLS certificate is not trusted: {exc.verify_message}",
            "set gateway.redis_ca_file (or CODEX_ROUTE_GATEWAY_REDIS_CA_FILE) to the CA that "
            "signed it",
        )
    except ssl.SSLError as exc:
        return RedisProblem(
            f"the TLS handshake with Redis failed: {exc.reason or exc}",
            "a plain (non-TLS) Redis port needs a redis:// URL",
        )
    except ConnectionResetError:
        ping_reply = b""  # e.g. a TLS-only port spoken to in plain text
    finally:
        sock.close()
    return judge(auth_reply, ping_reply)
