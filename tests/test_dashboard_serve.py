"""``codex-route ui`` as a process: it binds 127.0.0.1 only, prints its URL with the token, answers
it, logs no request, and stops cleanly on Ctrl-C (exit 0) or SIGTERM."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from codex_router.dashboard.serve import bind
from codex_router.errors import UsageError

from helpers.net import free_port

URL = re.compile(r"^http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{40,})$")


def test_bind_listens_on_loopback_only() -> None:
    session = bind(0)
    try:
        host, port = session.sock.getsockname()
        assert host == "127.0.0.1" and port == session.port > 0
        assert session.url == f"http://127.0.0.1:{port}/?token={session.token}"
        assert len(session.token) >= 40
        other = bind(0)
        other.sock.close()
        assert other.token != session.token  # a fresh token per session
    finally:
        session.sock.close()


def test_a_taken_port_is_a_usage_error() -> None:
    session = bind(0)
    try:
        with pytest.raises(UsageError, match=f"--port: {session.port} on 127.0.0.1 is already"):
            bind(session.port)
    finally:
        session.sock.close()
    with pytest.raises(UsageError, match="--port: 70000 is not a TCP port"):
        bind(70000)


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


@pytest.fixture
def ui_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "codex_router", "ui", "--port", "0", "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, BROWSER="false"),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        match = URL.match(line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        yield proc, int(match.group(1)), match.group(2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _addresses_besides_loopback() -> list[str]:
    """This machine's other IPv4 addresses (those a non-loopback bind would also answer on)."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def test_ui_serves_the_printed_url_and_stops_on_ctrl_c(
    ui_process: tuple[subprocess.Popen[str], int, str],
) -> None:
    proc, port, token = ui_process
    first = _get(port, f"/?token={token}")
    assert first.status == 303
    cookie = first.getheader("set-cookie", "").split(";", 1)[0]
    assert cookie.endswith(token)
    page = _get(port, "/", {"Cookie": cookie})
    assert page.status == 200
    assert _get(port, "/").status == 403  # no token, no page
    for address in _addresses_besides_loopback():
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, port)) != 0, address  # nothing listens there

    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "error" not in err.lower() and "Traceback" not in err
    # no request was logged: neither the token nor a path reached the output
    assert token not in out + err and "GET /" not in out + err
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # the port is closed


def test_ui_stops_on_sigterm(ui_process: tuple[subprocess.Popen[str], int, str]) -> None:
    proc, _port, _token = ui_process
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM), err
    assert "Traceback" not in err


def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        done = subprocess.run(
            [sys.executable, "-m", "codex_router", "ui", "--port", str(port), "--no-open"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"--port: {port} on 127.0.0.1 is already in use" in done.stderr
    assert "codex-route ui --port 0" in done.stderr
    assert done.stdout == ""


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


DASHBOARD_LIBRARIES = ("starlette", "uvicorn", "jinja2", "codex_router.dashboard")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["ui", "--help"], ["run", "--help"], ["run", "--dry-run", "--no-stdin", "x"]],
)
def test_help_and_run_load_nothing_of_the_dashboard(argv: list[str]) -> None:
    code = (
        "import sys\nfrom codex_router.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = _run_python(code)
    loaded = set(done.stdout.split())
    assert not {m for m in loaded for lib in DASHBOARD_LIBRARIES if m.split(".")[0] == lib}
    assert not {m for m in loaded if m.startswith("codex_router.dashboard")}


@pytest.mark.parametrize("missing", ["uvicorn", "starlette", "jinja2"])
def test_without_the_ui_extra_the_command_says_what_to_install(missing: str) -> None:
    code = (
        f"import sys\nsys.modules[{missing!r}] = None  # as if not installed\n"
        "from codex_router.cli import main\n"
        "sys.exit(main(['ui', '--port', '0', '--no-open']))\n"
    )
    done = _run_python(code)
    assert done.returncode == 1, done.stderr
    assert f"error: codex-route ui needs the dashboard's libraries, and {missing} is not" in (
        done.stderr
    )
    assert "hint: pip install 'codex-route[ui]'" in done.stderr
    assert done.stdout == ""
