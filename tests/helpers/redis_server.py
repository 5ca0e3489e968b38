"""A throwaway ``redis-server`` on 127.0.0.1 for the team tests and benchmarks.

A free port, a temp dir, no persistence (``--save ''``, ``--appendonly no``); stopped by PID.
Optionally with a password (``requirepass``, in a 0600 config file rather than on argv) and/or
TLS only (``tls-port``, plain port 0) with a throwaway CA from :func:`make_tls_files`.
``scripts/test.sh`` installs Debian's ``redis-server`` (built with TLS) when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

from helpers.net import free_port


class TlsFiles(NamedTuple):
    """A throwaway CA and a server certificate it signed for 127.0.0.1 (and localhost)."""

    ca: Path
    cert: Path
    key: Path


def make_tls_files(directory: Path) -> TlsFiles:
    """Generate the CA and the server certificate with the ``openssl`` CLI (valid one day)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl is not installed (Debian: apt-get install openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    (directory / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, cwd=directory)

    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=codex-route test CA")  # fmt: skip
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "san.cnf")  # fmt: skip
    return files


def redis_server_bin() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def _encode(*words: str) -> bytes:
    return b"".join(
        [f"*{len(words)}\r\n".encode()]
        + [b"$%d\r\n%s\r\n" % (len(w.encode()), w.encode()) for w in words]
    )


class RedisServer:
    """``with RedisServer(bin, tmp) as redis: redis.url``; ``password``/``tls`` secure it."""

    def __init__(
        self,
        binary: str,
        directory: Path,
        *,
        password: str | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.password = password
        self.tls = tls
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://127.0.0.1:{self.port}/0"

    def _connect(self, timeout: float) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        if self.tls is None:
            return sock
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        return context.wrap_socket(sock, server_hostname="127.0.0.1")

    def command(self, *words: str) -> bytes:
        """One command (after AUTH when there is a password); the raw reply (enough for tests)."""
        with self._connect(timeout=5) as sock:
            if self.password is not None:
                sock.sendall(_encode("AUTH", self.password))
                if not sock.recv(64).startswith(b"+OK"):
                    raise RuntimeError("the test Redis refused its own password")
            sock.sendall(_encode(*words))
            return sock.recv(65536)

    def _ping(self) -> bool:
        try:
            return self.command("PING").startswith(b"+PONG")
        except (OSError, RuntimeError):
            return False

    def _config_file(self) -> Path:
        """Secrets and TLS paths in a 0600 file: a password on argv would show in ``ps``."""
        lines = []
        if self.password is not None:
            # quoted: a test password may hold spaces (never a quote or backslash)
            lines.append(f'requirepass "{self.password}"')
        if self.tls is not None:
            lines += [
                f"tls-port {self.port}",
                f"tls-cert-file {self.tls.cert}",
                f"tls-key-file {self.tls.key}",
                f"tls-ca-cert-file {self.tls.ca}",
                "tls-auth-clients no",
            ]
        path = self.directory / "redis.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("\n".join(lines) + "\n")
        return path

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            self.binary,
            str(self._config_file()),
            "--port",
            str(0 if self.tls else self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.directory),
        ]
        log = (self.directory / "redis.log").open("wb")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while not self._ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start; see {self.directory}/redis.log")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
