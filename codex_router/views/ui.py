"""Rendering for ``codex-route ui``: the URL on stdout (data), how to stop it on stderr."""

from __future__ import annotations

import sys


def print_url(url: str) -> None:
    """The dashboard's URL (it carries the session's token) on stdout, flushed at once so a
    script reading it does not wait for the server to end."""
    sys.stdout.write(url + "\n")
    sys.stdout.flush()
    sys.stderr.write("codex-route ui: serving on 127.0.0.1; Ctrl-C stops it\n")
    sys.stderr.flush()
