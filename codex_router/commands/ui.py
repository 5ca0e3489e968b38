"""``codex-route ui``: the local dashboard (docs/ui.md) on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)


def ui(
    port: int = typer.Option(
        8787, "--port", metavar="N", help="Port on 127.0.0.1; 0 picks a free one."
    ),
    no_open: bool = typer.Option(
        False, "--no-open", help="Print the URL only; do not open a browser."
    ),
) -> None:
    """Serve the local dashboard (overview, spend & savings, history, paths, keys) on
    127.0.0.1 until Ctrl-C.

    Prints the URL with this session's token on stdout and opens it in the browser. Needs the
    ui extra: pip install 'codex-route[ui]'.
    """
    # lazy: --help imports every command module; the dashboard's libraries are an optional extra
    import os

    from codex_router.dashboard import run_ui
    from codex_router.dirs import app_dirs
    from codex_router.views.ui import print_url

    run_ui(app_dirs(), os.environ, port=port, open_browser=not no_open, announce=print_url)
