"""A stand-in for the ``litellm`` executable, for the fast proxy tests (the real one is in
tests/test_proxy_real.py). Installed by :func:`make_fake_litellm` into a fake environment with
a ``litellm-<version>.dist-info`` beside it, as pip would lay it out.

Run as ``litellm --config FILE --host H --port N``. ``FAKE_LITELLM_MODE`` decides:
``ok`` serves ``/health/readiness`` and ``/v1/models`` (the config's model names, master key
required); ``die`` exits 3 at once; ``hang`` never listens. It writes a report to
``FAKE_LITELLM_REPORT``: its PID, argv, and sha256 digests of the key variables it received
(never the values).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPORTED_VARS = (
    "LITELLM_MASTER_KEY",
    "HF_TOKEN",
    "GEMINI_API_KEY",
    "OPENAI_API_KEY",
    "LITELLM_LOCAL_MODEL_COST_MAP",
    "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY",
)


def make_fake_litellm(
    root: Path, version: str = "1.106.2", extra_files: tuple[str, ...] = ()
) -> Path:
    """A fake environment under ``root``; returns its ``bin/litellm``."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    site = root / "lib" / "python3.11" / "site-packages"
    dist = site / f"litellm-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: litellm\nVersion: {version}\n")
    for name in extra_files:
        (site / name).write_text("")
    exe = bin_dir / "litellm"
    exe.write_text(f"#!{sys.executable}\n" + Path(__file__).read_text())
    exe.chmod(0o755)
    return exe


def _args() -> dict[str, str]:
    out, argv = {}, sys.argv[1:]
    for i, a in enumerate(argv):
        if a.startswith("--") and i + 1 < len(argv):
            out[a[2:]] = argv[i + 1]
    return out


def _models(config: str) -> list[str]:
    import yaml

    data = yaml.safe_load(Path(config).read_text())
    return sorted({e["model_name"] for e in data.get("model_list", [])})


def main() -> int:
    args = _args()
    report = os.environ.get("FAKE_LITELLM_REPORT")
    if report:
        digests = {
            v: hashlib.sha256(os.environ[v].encode()).hexdigest()
            for v in REPORTED_VARS
            if v in os.environ
        }
        Path(report).write_text(
            json.dumps({"pid": os.getpid(), "argv": sys.argv, "env_sha256": digests})
        )
    mode = os.environ.get("FAKE_LITELLM_MODE", "ok")
    print(f"fake litellm starting in mode {mode}", flush=True)
    if mode == "die":
        print("error: something went wrong at startup", flush=True)
        return 3
    if mode == "hang":
        while True:
            time.sleep(1)
    models = _models(args["config"])
    key = os.environ["LITELLM_MASTER_KEY"]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *a: object) -> None:
            print("fake litellm: " + fmt % a, flush=True)

        def _send(self, code: int, obj: object) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/health/readiness":
                return self._send(200, {"status": "healthy", "db": "Not connected"})
            if self.path == "/v1/models":
                if self.headers.get("Authorization") != f"Bearer {key}":
                    return self._send(401, {"error": {"message": "Authentication Error"}})
                return self._send(200, {"data": [{"id": m, "object": "model"} for m in models]})
            return self._send(404, {"error": {"message": "not found"}})

    ThreadingHTTPServer((args["host"], int(args["port"])), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
