"""Crash logs for unexpected errors: versions and traceback, never the environment or argv.

argv can hold the prompt and the environment can hold keys, so neither is written.
"""

from __future__ import annotations

import platform
import sys
import time
import traceback
from pathlib import Path

from codex_router import __version__
from codex_router.dirs import app_dirs


def write_crash_log(exc: BaseException) -> Path | None:
    """Write ``crash-<time>.log`` in the state dir; None when that is impossible."""
    try:
        state = app_dirs().state_dir
        state.mkdir(parents=True, exist_ok=True)
        path = state / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
        body = (
            f"codex-route {__version__}\npython {sys.version.split()[0]} on {platform.platform()}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        )
        path.write_text(body, encoding="utf-8")
        return path
    except OSError:
        return None
