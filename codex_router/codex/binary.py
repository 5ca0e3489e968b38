"""Finding the codex binary: ``--codex-bin`` > ``CODEX_ROUTE_CODEX_BIN`` > ``CODEX_CLI_PATH``
(the environment, then a ``CODEX_CLI_PATH = "…"`` line in ``$CODEX_HOME/config.toml``) > ``PATH``.

``CODEX_CLI_PATH`` is the earlier cost-routing script's name: as there, it counts only when it
names an existing file (here: an executable one), and is passed over silently otherwise.

Locating is cheap and done for every plan; the ``--version`` probe starts a process (about
60 ms through the npm launcher), so only commands that will run codex, and ``doctor``, pay it.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from codex_router.dirs import codex_home
from codex_router.errors import CodexNotFoundError, CodexRouteError

VERSION_PROBE_TIMEOUT_SECONDS = 10.0

#: The earlier cost-routing script's variable (and config.toml line) for the codex binary.
LEGACY_CODEX_VAR = "CODEX_CLI_PATH"
#: A ``CODEX_CLI_PATH = '…'`` or ``= "…"`` line anywhere in config.toml (any table, as the earlier
#: script read it: the path has no quote characters).
_LEGACY_CONFIG_LINE = re.compile(
    r"""^[ \t]*CODEX_CLI_PATH[ \t]*=[ \t]*(["'])([^"'\r\n]*)\1""", re.MULTILINE
)


class CodexBinary(NamedTuple):
    """The codex executable a run would use, and how it was found."""

    path: str | None  # None: not found
    source: str  # "flag" | "env" | "file" (config.toml) | "path" | "missing"
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
    legacy = _legacy_codex(env)
    if legacy is not None:
        return legacy
    found = shutil.which("codex", path=env.get("PATH"))
    if found is None:
        return CodexBinary(None, "missing")
    return CodexBinary(found, "path", "PATH")


def _executable_file(value: str) -> Path | None:
    path = Path(value).expanduser()
    return path.absolute() if path.is_file() and os.access(path, os.X_OK) else None


def _legacy_codex(env: Mapping[str, str]) -> CodexBinary | None:
    """``CODEX_CLI_PATH`` from the environment, else from config.toml, if it names codex."""
    value = env.get(LEGACY_CODEX_VAR, "").strip()
    found = _executable_file(value) if value else None
    if found is not None:
        return CodexBinary(str(found), "env", LEGACY_CODEX_VAR)
    # lazy, as below: only a plan without --codex-bin or a usable variable reads config.toml
    from codex_router.fsutil import read_regular_bytes

    try:
        config = codex_home(env) / "config.toml"
        # a regular file only: a FIFO or /dev/zero is never read (the config checks report it)
        text = read_regular_bytes(config).decode("utf-8", errors="replace")
    except (OSError, CodexRouteError):  # no config, or a bad CODEX_HOME the run reports itself
        return None
    match = _LEGACY_CONFIG_LINE.search(text)
    found = _executable_file(match.group(2).strip()) if match and match.group(2).strip() else None
    if match is None or found is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    return CodexBinary(str(found), "file", f"{LEGACY_CODEX_VAR} in {config}:{line}")


def require_codex(binary: CodexBinary) -> str:
    if binary.path is None:
        raise CodexNotFoundError(
            "codex was not found on PATH",
            hint="install it with `npm install -g @openai/codex`, or pass --codex-bin",
        )
    return binary.path


def probe_version(
    path: str, timeout: float = VERSION_PROBE_TIMEOUT_SECONDS, env: Mapping[str, str] | None = None
) -> str:
    """Run ``codex --version`` and return the version text (e.g. ``codex-cli 0.169.0``)."""
    try:
        done = subprocess.run(
            [path, "--version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
            env=None if env is None else dict(env),
        )
    except subprocess.TimeoutExpired:
        raise CodexNotFoundError(f"{path} --version did not answer within {timeout:g} s") from None
    except OSError as exc:
        raise CodexNotFoundError(f"cannot run {path}: {exc.strerror}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CodexNotFoundError(f"{path} --version exited {done.returncode}: {tail[0]}")
    return done.stdout.strip()


#: npm's platform packages, as the launcher (``@openai/codex/bin/codex.js``) maps them.
_NPM_PLATFORM_PACKAGES = {
    ("linux", "x86_64"): ("codex-linux-x64", "x86_64-unknown-linux-musl"),
    ("linux", "aarch64"): ("codex-linux-arm64", "aarch64-unknown-linux-musl"),
    ("darwin", "x86_64"): ("codex-darwin-x64", "x86_64-apple-darwin"),
    ("darwin", "arm64"): ("codex-darwin-arm64", "aarch64-apple-darwin"),
}


class LaunchTarget(NamedTuple):
    """What to execute for a located codex: the native binary behind npm's node launcher, if any."""

    argv0: str
    env: dict[str, str]  # variables the launcher would have set for the binary
    via: str  # "native" | "as-is"


def launch_target(path: str) -> LaunchTarget:
    """Skip npm's node launcher (~60–100 ms of Node start) and exec the binary it would exec.

    The launcher only finds the platform binary and ``execve``s it with two variables set; doing
    the same here gives the same process for a tenth of the start-up. Anything unexpected (another
    layout, another platform, a wrapper script of the user's) runs the path as it is.
    """
    real = Path(os.path.realpath(path))
    if real.name != "codex.js" or real.parent.name != "bin":
        return LaunchTarget(path, {}, "as-is")
    root = real.parent.parent
    key = (sys.platform if sys.platform != "linux2" else "linux", platform.machine())
    package = _NPM_PLATFORM_PACKAGES.get(key)
    if package is None:
        return LaunchTarget(path, {}, "as-is")
    name, triple = package
    for vendor in (
        root / "node_modules" / "@openai" / name / "vendor",
        root.parent / name / "vendor",
        root / "vendor",
    ):
        native = vendor / triple / "bin" / "codex"
        if native.is_file() and os.access(native, os.X_OK):
            return LaunchTarget(
                str(native),
                {"CODEX_MANAGED_PACKAGE_ROOT": str(root), "CODEX_MANAGED_BY_NPM": "1"},
                "native",
            )
    return LaunchTarget(path, {}, "as-is")


def probe_version_cached(
    path: str,
    cache_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = VERSION_PROBE_TIMEOUT_SECONDS,
) -> str:
    """:func:`probe_version`, remembered per binary (path, size, mtime): an upgrade re-probes."""
    try:
        st = os.stat(path)
    except OSError:
        return probe_version(path, timeout, env)
    key = f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"
    cache = Path(cache_dir) / "codex-version.json"
    try:
        known = json.loads(cache.read_text())
        cached = known.get("version")
        if known.get("key") == key and isinstance(cached, str):
            return cached
    except (OSError, ValueError, AttributeError):
        pass
    version = probe_version(path, timeout, env)
    # lazy: tempfile ~2 ms; the dry run imports this module (locate_codex) but writes nothing
    from codex_router.fsutil import atomic_write_bytes

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(cache, json.dumps({"key": key, "version": version}).encode())
    except OSError:
        pass  # a cache that cannot be written only costs the next run a probe
    return version
