"""codex-route as a child process with a real terminal on the streams a test chooses.

Each of stdin, stdout and stderr is either a pty of its own (its width set to ``columns``) or a
pipe, so a test sees what a user sees on a terminal and what a script sees in a pipe.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from dataclasses import dataclass
from pathlib import Path

CLI = [sys.executable, "-m", "codex_router"]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _reader(fd: int, into: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its side
            return
        if not chunk:
            return
        into.append(chunk)


def run_cli(
    args: list[str],
    *,
    tty_stdout: bool = False,
    tty_stderr: bool = False,
    tty_stdin: bool = False,
    input: bytes | None = None,
    typed: bytes = b"",
    columns: int = 80,
    env: dict[str, str | None] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
    argv0: list[str] | None = None,
) -> Ran:
    """Run ``codex-route ARGS``; output from a pty comes back with ``\\r\\n`` turned into
    ``\\n``. ``input`` goes to a piped stdin, ``typed`` to a tty stdin (which stays open); an
    ``env`` value ``None`` removes that variable."""
    merged = {**os.environ, **(env or {}), "COLUMNS": str(columns)}
    child_env = {name: value for name, value in merged.items() if value is not None}
    masters: list[int] = []
    slaves: list[int] = []

    def terminal() -> tuple[int, int]:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
        masters.append(master)
        slaves.append(slave)
        return master, slave

    out_m, out_s = terminal() if tty_stdout else (None, subprocess.PIPE)
    err_m, err_s = terminal() if tty_stderr else (None, subprocess.PIPE)
    in_m, in_s = terminal() if tty_stdin else (None, subprocess.PIPE)
    proc = subprocess.Popen(
        [*(argv0 or CLI), *args], stdin=in_s, stdout=out_s, stderr=err_s, env=child_env, cwd=cwd
    )
    for fd in slaves:
        os.close(fd)
    if in_m is not None and typed:
        os.write(in_m, typed)  # as if typed at the terminal (Ctrl-D is b"\x04")
    got: dict[str, list[bytes]] = {"out": [], "err": []}
    threads = []
    for name, master in (("out", out_m), ("err", err_m)):
        if master is not None:
            thread = threading.Thread(target=_reader, args=(master, got[name]), daemon=True)
            thread.start()
            threads.append(thread)
    try:
        piped_out, piped_err = proc.communicate(input if not tty_stdin else None, timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for thread in threads:
            thread.join(5)
        for fd in masters:
            os.close(fd)

    def text(master: int | None, piped: bytes | None, name: str) -> str:
        raw = b"".join(got[name]) if master is not None else (piped or b"")
        return raw.decode("utf-8", "replace").replace("\r\n", "\n")

    return Ran(proc.returncode, text(out_m, piped_out, "out"), text(err_m, piped_err, "err"))
