"""The local dashboard (``codex-route ui``, docs/ui.md): a small Starlette app on 127.0.0.1.

``app`` builds the app (routes, Jinja2 templates with autoescape, static files) behind the
request guard of ``guard`` (session token, Host and Origin checks, security headers); ``pages``
computes what each page shows from the same functions ``status``, ``run``'s codex probe,
``history`` and the adaptive router use; ``keyform`` and ``keysession`` are the key session
(provider keys pasted into a form, handed to the LiteLLM proxy's environment only, buffers
zeroed); ``serve`` runs it with uvicorn. ``series`` and ``spend`` turn the history's
statistics into charts; ``report`` writes them as one self-contained HTML file
(``stats --html``).

Starlette, uvicorn and Jinja2 are the optional extra ``ui``: only this package imports them, and
no other package imports this one but ``commands`` (inside the ``ui`` and ``stats`` commands).

May import: errors, dirs, urls, fsutil, policy, routing, codex, run, proxy, history, doctor,
views
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codex_router.dirs import AppDirs

#: The libraries of the ``ui`` extra (import names).
UI_LIBRARIES = ("starlette", "uvicorn", "jinja2")


def require_ui_extra(what: str) -> None:
    """Fail with the install command when the ``ui`` extra is missing (before importing it).

    ``what`` names the flag or command that needs it, for the message.
    """
    import importlib.util  # lazy: only the commands that need the extra ask

    from codex_router.errors import MissingExtraError

    missing = [name for name in UI_LIBRARIES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"{what} needs the dashboard's libraries, and {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed",
            hint="pip install 'codex-route[ui]' (or pipx inject codex-route "
            "starlette uvicorn jinja2)",
        )


def run_ui(
    dirs: AppDirs,
    env: Mapping[str, str],
    *,
    port: int,
    open_browser: bool,
    announce: Callable[[str], None],
) -> None:
    """``codex-route ui``: check the extra, then serve until Ctrl-C (:mod:`.serve`)."""
    require_ui_extra("codex-route ui")
    from .serve import serve  # lazy: uvicorn and Starlette, present only with the extra

    serve(dirs, env, port=port, open_browser=open_browser, announce=announce)
