"""The dashboard's request guard: who may talk to it, and the headers every answer carries.

:func:`judge` is pure (a request's method, path, Host, Origin/Referer, token and cookie → a
:class:`Verdict`); :class:`RequestGuard` is the ASGI middleware that applies it in front of every
route, the static files included. The rules (docs/ui.md, "Security model"):

- Host must be ``127.0.0.1:PORT`` or ``localhost:PORT``: a page on another site whose name
  resolves to 127.0.0.1 (DNS rebinding) sends its own name and is refused (400);
- the session token, in the ``token`` query parameter or the session cookie, compared in
  constant time; without it, 403. A GET with the right token in its URL sets the cookie
  (HttpOnly, SameSite=Strict) and redirects to the same URL without the token;
- a request that changes something (anything but GET/HEAD) needs an Origin, or else a Referer,
  of this very origin: a form posted from another site is refused (403) even with the cookie.
  Under ``Referrer-Policy: no-referrer`` a browser sends ``Origin: null`` (and no Referer) even
  with a form of the page's own origin (the Fetch standard's rule for that policy); then the
  browser's ``Sec-Fetch-Site: same-origin``, which no page can set, stands for it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit

#: The query parameter the printed URL carries the token in.
TOKEN_PARAM = "token"
#: Methods that change nothing; every other one needs a same-origin Origin or Referer.
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: The hosts the dashboard answers to (with its port).
LOCAL_HOSTS = ("127.0.0.1", "localhost")

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: Sent with every answer, refusals and redirects included.
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def cookie_name(port: int) -> str:
    """Cookies are shared by every port of a host: one name per port keeps two dashboards apart."""
    return f"codex_route_ui_{port}"


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset(f"{host}:{port}" for host in LOCAL_HOSTS)


class Verdict(NamedTuple):
    """What to do with a request: let it through (status 0), refuse it, or set the cookie and
    redirect to ``location``."""

    status: int  # 0: allowed; 303: set the cookie and redirect; 400/403: refused
    reason: str = ""
    location: str = ""


ALLOWED = Verdict(0)


def _same(given: str | None, expected: str) -> bool:
    """Constant-time equality of a presented token with the session's."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def judge(
    *,
    method: str,
    path: str,
    query: str,
    host: str | None,
    origin: str | None,
    referer: str | None,
    cookie_token: str | None,
    token: str,
    port: int,
    fetch_site: str | None = None,
) -> Verdict:
    """The guard's decision for one request (see the module docstring)."""
    if host is None or host.lower() not in allowed_hosts(port):
        return Verdict(400, "this dashboard answers only to 127.0.0.1 or localhost on its port")
    pairs = parse_qsl(query, keep_blank_values=True)
    url_token = next((value for name, value in pairs if name == TOKEN_PARAM), None)
    by_url = _same(url_token, token)
    if not (by_url or _same(cookie_token, token)):
        return Verdict(403, "open the dashboard with the URL `codex-route ui` printed")
    if method.upper() not in SAFE_METHODS:
        own = f"http://{host.lower()}"
        if origin is not None and origin != "null":
            claimed = _origin_of(origin)
        elif referer:
            claimed = _origin_of(referer)
        else:
            # Origin withheld (null) by the no-referrer policy: the fetch metadata says who sent it
            claimed = own if (fetch_site or "").lower() == "same-origin" else None
        if claimed != own:
            return Verdict(403, "a change must come from a page of this dashboard")
    if by_url and method.upper() in SAFE_METHODS:
        rest = urlencode([(name, value) for name, value in pairs if name != TOKEN_PARAM])
        return Verdict(303, location=path + (f"?{rest}" if rest else ""))
    return ALLOWED


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is the same as none
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class RequestGuard:
    """ASGI middleware: :func:`judge` on every HTTP request, security headers on every answer."""

    def __init__(self, app: ASGIApp, *, token: str, port: int) -> None:
        self.app = app
        self.token = token
        self.port = port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: nothing of a request to judge
            await self.app(scope, receive, send)
            return
        verdict = judge(
            method=scope["method"],
            path=scope["path"],
            query=bytes(scope.get("query_string", b"")).decode("latin-1"),
            host=_header(scope, b"host"),
            origin=_header(scope, b"origin"),
            referer=_header(scope, b"referer"),
            cookie_token=_cookie(scope, cookie_name(self.port)),
            token=self.token,
            port=self.port,
            fetch_site=_header(scope, b"sec-fetch-site"),
        )
        if verdict.status == 0:

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = _with_security_headers(message.get("headers", []))
                await send(message)

            await self.app(scope, receive, send_with_headers)
            return
        headers: list[tuple[bytes, bytes]] = [(b"content-type", b"text/plain; charset=utf-8")]
        body = (verdict.reason + "\n").encode()
        if verdict.status == 303:
            cookie = f"{cookie_name(self.port)}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            headers += [(b"location", verdict.location.encode()), (b"set-cookie", cookie.encode())]
            body = b""
        headers.append((b"content-length", str(len(body)).encode()))
        await send(
            {
                "type": "http.response.start",
                "status": verdict.status,
                "headers": _with_security_headers(headers),
            }
        )
        await send({"type": "http.response.body", "body": body})


def _with_security_headers(headers: Any) -> list[tuple[bytes, bytes]]:
    names = {name.encode() for name, _ in SECURITY_HEADERS}
    kept = [(bytes(k), bytes(v)) for k, v in headers if bytes(k).lower() not in names]
    return kept + [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS]
