"""Finding the codex binary: ``--codex-bin`` > ``CODEX_ROUTE_CODEX_BIN`` > ``PATH``.

Locating is cheap and done for every plan; the ``--version`` probe starts a process (about
60 ms through the npm launcher), so only commands that will run codex, and ``doctor``, pay it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codex_router.errors import CodexNotFoundError

VERSION_PROBE_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class CodexBinary:
    path: str | None  # None: not found
    source: str  # "flag" | "env" | "path" | "missing"
    origin: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {"path": self.path, "source": self.source, "origin": self.origin}


def locate_codex(flag: str | None, env: Mapping[str, str]) -> CodexBinary:
    """Where codex is, and which layer said so; a named but unusable file is an error."""
    for value, source, origin in (
        (flag, "flag", "--codex-bin"),
        (env.get("CODEX_ROUTE_CODEX_BIN", "").strip() or None, "env", "CODEX_ROUTE_CODEX_BIN"),
    ):
        if value:
            found = shutil.which(value) if os.sep not in value else value
            if found is None or not Path(found).is_file() or not os.access(found, os.X_OK):
                raise CodexNotFoundError(
                    f"{origin} names {value!r}, which is not an executable file",
                    hint="point it at the codex binary, e.g. $(npm root -g)/../bin/codex",
                )
            return CodexBinary(str(Path(found).absolute()), source, origin)
    found = shutil.which("codex", path=env.get("PATH"))
    if found is None:
        return CodexBinary(None, "missing")
    return CodexBinary(found, "path", "PATH")


def require_codex(binary: CodexBinary) -> str:
    if binary.path is None:
        raise CodexNotFoundError(
            "codex was not found on PATH",
            hint="install it with `npm install -g @openai/codex`, or pass --codex-bin",
        )
    return binary.path


def probe_version(path: str, timeout: float = VERSION_PROBE_TIMEOUT_SECONDS) -> str:
    """Run ``codex --version`` and return the version text (e.g. ``codex-cli 0.169.0``)."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise CodexNotFoundError(f"{path} --version did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise CodexNotFoundError(f"cannot run {path}: {exc.strerror}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CodexNotFoundError(f"{path} --version exited {done.returncode}: {tail[0]}")
    return done.stdout.strip()
