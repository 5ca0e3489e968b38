"""The dashboard's Starlette app: its routes, templates and static files, behind the guard.

:func:`create_app` builds one app for one session (its token and port); every route, the static
files included, sits behind :class:`~codex_router.dashboard.guard.RequestGuard`. Pages are
Jinja2 templates with autoescape on; no page carries an inline script (the CSP forbids it).
The Keys form's body is read into a ``bytearray`` and decoded by
:mod:`~codex_router.dashboard.keyform` without ever becoming a ``str``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from codex_router.dirs import AppDirs
from codex_router.errors import CodexRouteError
from codex_router.proxy.process import proxy_status

from . import pages
from .guard import RequestGuard
from .keyform import MAX_FORM_BYTES, KeyFormError, parse_key_form, wipe
from .keysession import KeySession

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

#: The pages of the navigation bar (base.html), in order.
NAV = (
    ("/", "Overview"),
    ("/spend", "Spend & savings"),
    ("/history", "History"),
    ("/paths", "Paths"),
    ("/keys", "Keys"),
)


def templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return Jinja2Templates(env=environment)


def create_app(
    dirs: AppDirs,
    env: Mapping[str, str],
    *,
    token: str,
    port: int,
    key_session: KeySession | None = None,
) -> RequestGuard:
    """The dashboard for one session: ``token`` is required on every request, ``port`` is the
    one the Host header must name."""
    views = templates()
    session = key_session if key_session is not None else KeySession(dirs, env)
    # the Keys page's last message, for the page that follows a form (no key in it, ever)
    notice: dict[str, str] = {}

    def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        context = {"nav": NAV, "here": request.url.path, **context}
        return views.TemplateResponse(request, name, context, status_code=status)

    async def overview(request: Request) -> Response:
        data = await run_in_threadpool(pages.overview, dirs, env, now=pages.now())
        return render(request, "overview.html", data)

    async def history(request: Request) -> Response:
        params = dict(request.query_params)
        data = await run_in_threadpool(pages.history_page, dirs, params, now=pages.now())
        return render(request, "history.html", data, 400 if data["error"] else 200)

    async def paths(request: Request) -> Response:
        data = await run_in_threadpool(pages.paths_page, dirs, env, now=pages.now())
        return render(request, "paths.html", data)

    async def spend(request: Request) -> Response:
        # helper B's module: the charts' data, shared with `stats --html`
        from .spend import spend_context

        since = request.query_params.get("since", "").strip() or None
        try:
            data = await run_in_threadpool(spend_context, dirs, since)
        except CodexRouteError as exc:
            return render(request, "message.html", {"title": "Spend", "text": exc.message}, 400)
        return render(request, "spend.html", data)

    async def keys(request: Request) -> Response:
        status = await run_in_threadpool(proxy_status, dirs)
        data = pages.keys_page(session.given, session.names_in_environment())
        data["proxy"] = status.to_dict()
        data["message"] = notice.pop("message", "")
        data["error"] = notice.pop("error", "")
        return render(request, "keys.html", data)

    async def keys_start(request: Request) -> Response:
        try:
            size = int(request.headers.get("content-length", ""))
        except ValueError:
            return Response("a form needs a Content-Length\n", status_code=411)
        if not 0 <= size <= MAX_FORM_BYTES:
            return Response("the form is too large\n", status_code=413)
        # one buffer of the announced size, filled in place: growing it would leave copies
        body = bytearray(size)
        try:
            filled = 0
            async for chunk in request.stream():
                if filled + len(chunk) > size:
                    raise KeyFormError("the form is longer than its Content-Length")
                body[filled : filled + len(chunk)] = chunk
                filled += len(chunk)
            if filled != size:
                raise KeyFormError("the form is shorter than its Content-Length")
            keys = parse_key_form(body)
        except KeyFormError as exc:
            notice["error"] = str(exc)
            return RedirectResponse("/keys", status_code=303)
        finally:
            wipe([body])
        if not keys:
            notice["error"] = "paste at least one key"
            return RedirectResponse("/keys", status_code=303)
        names = ", ".join(sorted(keys))
        try:
            result = await run_in_threadpool(session.start, keys)
        except CodexRouteError as exc:
            notice["error"] = exc.message + (f" ({exc.hint})" if exc.hint else "")
            return RedirectResponse("/keys", status_code=303)
        finally:
            wipe(keys.values())  # start() wiped them already; a failure before it must too
        if result.already_running:
            notice["error"] = (
                f"a proxy already runs (PID {result.record.pid}): stop it first to start one "
                f"with {names}"
            )
        else:
            notice["message"] = (
                f"proxy started on port {result.record.port} with {names}; it serves "
                + (", ".join(result.record.aliases) or "no alias")
            )
        return RedirectResponse("/keys", status_code=303)

    async def keys_stop(request: Request) -> Response:
        try:
            result = await run_in_threadpool(session.stop)
        except CodexRouteError as exc:
            notice["error"] = exc.message
            return RedirectResponse("/keys", status_code=303)
        notice["message"] = (
            f"proxy (PID {result.pid}) stopped" if result.stopped else "no proxy was running"
        )
        return RedirectResponse("/keys", status_code=303)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            # the dashboard ends (Ctrl-C): a proxy the key session started ends with it
            await run_in_threadpool(session.stop_own)

    routes = [
        Route("/", overview),
        Route("/history", history),
        Route("/paths", paths),
        Route("/spend", spend),
        Route("/keys", keys),
        Route("/keys/start", keys_start, methods=["POST"]),
        Route("/keys/stop", keys_stop, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
    ]
    # the guard wraps everything, Starlette's own error pages and the static files included
    return RequestGuard(Starlette(routes=routes, lifespan=lifespan), token=token, port=port)
