"""The key session: pasted keys reach the proxy's environment and nothing else (no response, log or
file), and the app's buffers holding them are zeroed once the proxy has them."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from codex_router.dashboard import app as app_module
from codex_router.dashboard.app import create_app
from codex_router.dashboard.keyform import KeyFormError, parse_key_form, wipe
from codex_router.dashboard.keysession import KeySession
from codex_router.dirs import app_dirs
from codex_router.errors import ProxyError
from codex_router.proxy.process import stop_proxy
from codex_router.proxy.session import pid_alive

from helpers.fake_litellm import make_fake_litellm
from helpers.net import free_port

FAKE_KEY = "sk-proj-FAKEkeyPastedInTheForm-0123456789abcdefXYZ"
FAKE_HF = "hf_FakeTokenPastedInTheForm0123456789"
TOKEN = "keys-test-token-0123456789abcdefghijkl"
PORT = 48789
ORIGIN = f"http://127.0.0.1:{PORT}"


# ---------------------------------------------------------------- the form's body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"OPENAI_API_KEY=sk-abc", {"OPENAI_API_KEY": b"sk-abc"}),
        (b"OPENAI_API_KEY=sk%2Dabc%3d%3D", {"OPENAI_API_KEY": b"sk-abc=="}),
        (b"OPENAI_API_KEY=+sk-abc%0A+", {"OPENAI_API_KEY": b"sk-abc"}),  # a paste's spaces
        (b"OPENAI_API_KEY=&HF_TOKEN=hf_x", {"HF_TOKEN": b"hf_x"}),  # empty: not given
        (b"OTHER=1&HF_TOKEN=hf_x&GEMINI_API_KEY", {"HF_TOKEN": b"hf_x"}),
        (b"HF_TOKEN=a&HF_TOKEN=b", {"HF_TOKEN": b"b"}),  # the last one, as browsers send
        (b"ANTHROPIC_API_KEY=sk-ant%", {"ANTHROPIC_API_KEY": b"sk-ant%"}),  # a lone % stays
        (b"GEMINI_API_KEY=AIza%41", {"GEMINI_API_KEY": b"AIzaA"}),
        (b"", {}),
    ],
)
def test_parse_key_form(body: bytes, expected: dict[str, bytes]) -> None:
    parsed = parse_key_form(bytearray(body))
    assert {k: bytes(v) for k, v in parsed.items()} == expected
    assert all(isinstance(v, bytearray) for v in parsed.values())


@pytest.mark.parametrize("value", [b"sk-a%00b", b"sk+a+b", b"sk-%C3%A9", b"sk-a%09b"])
def test_a_value_that_is_no_key_is_refused_by_name(value: bytes) -> None:
    with pytest.raises(KeyFormError) as info:
        parse_key_form(bytearray(b"HF_TOKEN=hf_ok&OPENAI_API_KEY=" + value))
    assert str(info.value).startswith("OPENAI_API_KEY: ")
    assert "sk" not in str(info.value)  # never any part of the value


def test_wipe_zeroes_in_place() -> None:
    buffer = bytearray(b"sk-secret")
    same = buffer
    wipe([buffer])
    assert same is buffer and buffer == bytearray(9)


# ---------------------------------------------------------------- the session and the proxy


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exe = make_fake_litellm(tmp_path / "fakevenv")
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BIN", str(exe))
    monkeypatch.setenv("FAKE_LITELLM_REPORT", str(tmp_path / "report.json"))
    monkeypatch.setenv("CODEX_ROUTE_LITELLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    yield exe
    stop_proxy(app_dirs(), grace=3.0)  # whatever a test started, even when it failed


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _report(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "report.json").read_text())


def test_the_session_hands_the_keys_over_and_zeroes_them(fake_bin: Path, tmp_path: Path) -> None:
    session = KeySession(app_dirs(), dict(os.environ))
    keys = {"OPENAI_API_KEY": bytearray(FAKE_KEY.encode()), "HF_TOKEN": bytearray(FAKE_HF.encode())}
    buffers = list(keys.values())
    result = session.start(keys, timeout=30)
    assert not result.already_running
    digests = _report(tmp_path)["env_sha256"]
    assert digests["OPENAI_API_KEY"] == _sha(FAKE_KEY) and digests["HF_TOKEN"] == _sha(FAKE_HF)
    assert all(b == bytearray(len(b)) for b in buffers)  # zeroed, same length
    assert session.given == ("HF_TOKEN", "OPENAI_API_KEY")
    assert session.started_pid == result.record.pid
    stopped = session.stop_own()
    assert stopped is not None and stopped.stopped and not pid_alive(result.record.pid)


def test_a_pasted_key_wins_over_the_environment(
    fake_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    session = KeySession(app_dirs(), dict(os.environ))
    session.start({"OPENAI_API_KEY": bytearray(FAKE_KEY.encode())}, timeout=30)
    assert _report(tmp_path)["env_sha256"]["OPENAI_API_KEY"] == _sha(FAKE_KEY)


def test_the_keys_are_zeroed_when_the_start_fails(
    fake_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LITELLM_MODE", "die")
    session = KeySession(app_dirs(), dict(os.environ))
    buffer = bytearray(FAKE_KEY.encode())
    with pytest.raises(ProxyError, match="exited with code 3"):
        session.start({"OPENAI_API_KEY": buffer}, timeout=30)
    assert buffer == bytearray(len(FAKE_KEY)) and session.started_pid is None


# ---------------------------------------------------------------- through the app


def _everything_on_disk(*roots: Path) -> str:
    text = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                text.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(text)


def test_the_key_form_end_to_end(
    fake_bin: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    handed: list[bytearray] = []

    def spying_parse(body: bytearray) -> dict[str, bytearray]:
        handed.append(body)  # the request body's buffer
        keys = parse_key_form(body)
        handed.extend(keys.values())  # and each key's
        return keys

    monkeypatch.setattr(app_module, "parse_key_form", spying_parse)
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    answers: list[str] = []
    with TestClient(app, base_url=ORIGIN) as client:  # runs the lifespan: its shutdown too
        answers.append(client.get(f"/keys?token={TOKEN}").text)
        started = client.post(
            "/keys/start",
            data={"OPENAI_API_KEY": FAKE_KEY, "GEMINI_API_KEY": "", "HF_TOKEN": FAKE_HF},
            headers={"origin": ORIGIN},
            follow_redirects=False,
        )
        answers.append(started.text + json.dumps(dict(started.headers)))
        assert started.status_code == 303 and started.headers["location"] == "/keys"
        page = client.get("/keys").text
        answers.append(page)
        assert "proxy started on port" in page and "HF_TOKEN, OPENAI_API_KEY" in page
        assert "<code>OPENAI_API_KEY</code>: given to the running proxy" in page
        for path in ("/", "/history", "/paths", "/spend"):
            answers.append(client.get(path).text)
        pid = _report(tmp_path)["pid"]
        assert pid_alive(pid)
    # the dashboard's shutdown stopped the proxy its key session started
    assert not pid_alive(pid)

    digests = _report(tmp_path)["env_sha256"]
    assert digests["OPENAI_API_KEY"] == _sha(FAKE_KEY) and digests["HF_TOKEN"] == _sha(FAKE_HF)
    assert "GEMINI_API_KEY" not in digests  # left empty: not given (nor in the environment)
    # every buffer that held the form is zeroed
    assert len(handed) == 3 and all(b == bytearray(len(b)) for b in handed)
    # nowhere: no answer, no log record, no output, no file of codex-route, Codex or HOME
    out, err = capfd.readouterr()
    home = Path(os.environ["HOME"])
    places = {
        "responses": "\n".join(answers),
        "logs": caplog.text,
        "output": out + err,
        "files": _everything_on_disk(app_dirs().state_dir, app_dirs().config_dir, home),
    }
    for where, text in places.items():
        for secret in (FAKE_KEY, FAKE_HF, FAKE_KEY[8:24]):
            assert secret not in text, where


def test_the_stop_button_stops_the_proxy(fake_bin: Path, tmp_path: Path) -> None:
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    client = TestClient(app, base_url=ORIGIN)
    client.get(f"/?token={TOKEN}")
    form = {"GEMINI_API_KEY": FAKE_KEY}
    assert "proxy started" in client.post("/keys/start", data=form, headers={"origin": ORIGIN}).text
    pid = _report(tmp_path)["pid"]
    again = client.post("/keys/start", data=form, headers={"origin": ORIGIN}).text
    assert f"a proxy already runs (PID {pid})" in again
    stopped = client.post("/keys/stop", headers={"origin": ORIGIN}).text
    assert f"proxy (PID {pid}) stopped" in stopped and not pid_alive(pid)
    assert "<code>GEMINI_API_KEY</code>: given" not in stopped


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "paste at least one key"),
        ({"OPENAI_API_KEY": "sk a b"}, "OPENAI_API_KEY: an API key is printable ASCII"),
    ],
)
def test_a_form_without_a_usable_key_starts_nothing(
    fake_bin: Path, tmp_path: Path, body: dict[str, str], message: str
) -> None:
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    client = TestClient(app, base_url=ORIGIN)
    client.get(f"/?token={TOKEN}")
    page = client.post("/keys/start", data=body, headers={"origin": ORIGIN}).text
    assert message in page and "sk a b" not in page
    assert not (tmp_path / "report.json").exists()  # no proxy was started


def test_an_oversized_form_is_refused(fake_bin: Path) -> None:
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    client = TestClient(app, base_url=ORIGIN)
    client.get(f"/?token={TOKEN}")
    big = {"OPENAI_API_KEY": "x" * (70 * 1024)}
    response = client.post("/keys/start", data=big, headers={"origin": ORIGIN})
    assert response.status_code == 413
