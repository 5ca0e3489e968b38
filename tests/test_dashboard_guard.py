"""The dashboard's security rules (docs/ui.md, "Security model"), one test per point: the token on
every route (pages, static files, form posts), the cookie flow, the Host check against DNS
rebinding, same-origin form posts, and the headers on every answer, refusals included."""

from __future__ import annotations

import os

import pytest
from starlette.testclient import TestClient

from codex_router.dashboard.app import create_app
from codex_router.dashboard.guard import (
    CONTENT_SECURITY_POLICY,
    Verdict,
    cookie_name,
    judge,
)
from codex_router.dirs import app_dirs

TOKEN = "s3ssion-token-for-the-test_0123456789abcdef"
PORT = 48787
ORIGIN = f"http://127.0.0.1:{PORT}"

#: Every route: pages, a static file, and the two form posts (method, path).
ROUTES = [
    ("GET", "/"),
    ("GET", "/history"),
    ("GET", "/paths"),
    ("GET", "/keys"),
    ("GET", "/spend"),
    ("GET", "/static/style.css"),
    ("GET", "/static/charts.js"),
    ("POST", "/keys/start"),
    ("POST", "/keys/stop"),
]


def _judge(**over: object) -> Verdict:
    request: dict[str, object] = dict(
        method="GET",
        path="/",
        query="",
        host=f"127.0.0.1:{PORT}",
        origin=None,
        referer=None,
        cookie_token=TOKEN,
        token=TOKEN,
        port=PORT,
    )
    request.update(over)
    return judge(**request)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({}, 0),
        ({"host": f"localhost:{PORT}"}, 0),
        ({"host": f"LOCALHOST:{PORT}"}, 0),
        ({"host": "127.0.0.1"}, 400),  # no port: not this dashboard's origin
        ({"host": f"127.0.0.1:{PORT + 1}"}, 400),
        ({"host": f"attacker.example:{PORT}"}, 400),  # DNS rebinding
        ({"host": None}, 400),
        ({"cookie_token": None}, 403),
        ({"cookie_token": TOKEN[:-1]}, 403),
        ({"cookie_token": TOKEN + "x"}, 403),
        ({"cookie_token": "é"}, 403),  # non-ASCII never raises
        ({"cookie_token": None, "query": f"token={TOKEN}"}, 303),
        ({"cookie_token": None, "query": "token=wrong"}, 403),
        ({"cookie_token": None, "query": f"token={TOKEN}", "host": "evil:1"}, 400),
        # a change: the cookie alone is not enough, the origin must be this one
        ({"method": "POST"}, 403),
        ({"method": "POST", "origin": ORIGIN}, 0),
        ({"method": "POST", "origin": f"http://localhost:{PORT}"}, 403),  # not the Host's origin
        ({"method": "POST", "origin": "http://attacker.example"}, 403),
        ({"method": "POST", "origin": "null"}, 403),
        ({"method": "POST", "referer": f"{ORIGIN}/keys"}, 0),
        ({"method": "POST", "referer": "http://attacker.example/page"}, 403),
        ({"method": "POST", "origin": ORIGIN, "cookie_token": None}, 403),
        ({"method": "DELETE", "origin": "http://attacker.example"}, 403),
        # Referrer-Policy no-referrer: browsers send Origin null even from our own form; the
        # fetch metadata (which no page can forge) tells our own form from another site's
        ({"method": "POST", "origin": "null", "fetch_site": "same-origin"}, 0),
        ({"method": "POST", "fetch_site": "same-origin"}, 0),
        ({"method": "POST", "origin": "null", "fetch_site": "cross-site"}, 403),
        ({"method": "POST", "origin": "null", "fetch_site": "same-site"}, 403),  # another port
        ({"method": "POST", "origin": "null", "fetch_site": "none"}, 403),
        ({"method": "POST", "origin": "http://attacker.example", "fetch_site": "same-origin"}, 403),
        # a token in a POST's URL authenticates it but sets no cookie (no redirect of a POST)
        ({"method": "POST", "origin": ORIGIN, "cookie_token": None, "query": f"token={TOKEN}"}, 0),
    ],
)
def test_judge(change: dict[str, object], status: int) -> None:
    assert _judge(**change).status == status


def test_the_token_redirect_keeps_the_other_parameters() -> None:
    verdict = _judge(cookie_token=None, path="/history", query=f"alias=light&token={TOKEN}&page=2")
    assert verdict == Verdict(303, location="/history?alias=light&page=2")


@pytest.fixture
def client() -> TestClient:
    app = create_app(app_dirs(), dict(os.environ), token=TOKEN, port=PORT)
    return TestClient(app, base_url=ORIGIN, follow_redirects=False)


def _logged_in(client: TestClient) -> TestClient:
    first = client.get(f"/?token={TOKEN}")
    assert first.status_code == 303 and first.headers["location"] == "/"
    return client


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_needs_the_token(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers={"origin": ORIGIN})
    assert response.status_code == 403
    assert "codex-route ui" in response.text  # says how to get in, and nothing else
    wrong = client.cookies.set(cookie_name(PORT), "not-the-token")
    assert wrong is None
    assert client.request(method, path, headers={"origin": ORIGIN}).status_code == 403


def test_the_cookie_flow(client: TestClient) -> None:
    first = client.get(f"/history?token={TOKEN}&alias=x")
    assert first.status_code == 303
    assert first.headers["location"] == "/history?alias=x"  # the clean URL: no token in it
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{cookie_name(PORT)}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    # with the cookie every route answers
    for method, path in ROUTES:
        if method == "GET":
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:300])


def test_static_files_need_the_token_too(client: TestClient) -> None:
    assert client.get("/static/style.css").status_code == 403
    _logged_in(client)
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


@pytest.mark.parametrize("host", ["attacker.example", f"attacker.example:{PORT}", "127.0.0.1:1"])
def test_a_foreign_host_is_refused_even_with_the_token(client: TestClient, host: str) -> None:
    _logged_in(client)
    for method, path in ROUTES:
        response = client.request(method, path, headers={"host": host, "origin": ORIGIN})
        assert response.status_code == 400, (host, path)
    assert client.get(f"/?token={TOKEN}", headers={"host": host}).status_code == 400


@pytest.mark.parametrize("path", ["/keys/start", "/keys/stop"])
def test_a_cross_origin_post_is_refused_with_the_cookie(client: TestClient, path: str) -> None:
    _logged_in(client)
    body = {"OPENAI_API_KEY": "sk-x"}
    assert client.post(path, data=body).status_code == 403  # no Origin, no Referer
    evil = {"origin": "http://attacker.example"}
    assert client.post(path, data=body, headers=evil).status_code == 403
    evil_referer = {"referer": "http://attacker.example/form.html"}
    assert client.post(path, data=body, headers=evil_referer).status_code == 403
    withheld = {"origin": "null", "sec-fetch-site": "cross-site"}
    assert client.post(path, data=body, headers=withheld).status_code == 403


def test_a_same_origin_post_gets_through(client: TestClient) -> None:
    _logged_in(client)
    response = client.post("/keys/stop", headers={"origin": ORIGIN})
    assert response.status_code == 303 and response.headers["location"] == "/keys"
    page = client.get("/keys")
    assert "no proxy was running" in page.text
    # what a browser sends from our own form under Referrer-Policy: no-referrer
    own_form = {"origin": "null", "sec-fetch-site": "same-origin"}
    assert client.post("/keys/stop", headers=own_form).status_code == 303


def _security_headers_present(headers: object) -> None:
    got = dict(headers)  # type: ignore[call-overload]
    assert got["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert got["x-content-type-options"] == "nosniff"
    assert got["referrer-policy"] == "no-referrer"
    assert got["cache-control"] == "no-store"


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    refused = client.get("/")
    _security_headers_present(refused.headers)
    _security_headers_present(client.get("/", headers={"host": "evil"}).headers)
    redirect = client.get(f"/?token={TOKEN}")
    _security_headers_present(redirect.headers)
    for method, path in ROUTES:
        if method == "GET":
            _security_headers_present(client.get(path).headers)
    _security_headers_present(client.get("/no-such-page").headers)
    _security_headers_present(client.post("/keys/stop", headers={"origin": ORIGIN}).headers)


def test_no_page_carries_an_inline_script(client: TestClient) -> None:
    """The CSP forbids inline script; a page that had one would break in the browser."""
    _logged_in(client)
    for method, path in ROUTES:
        if method == "GET" and not path.startswith("/static"):
            html = client.get(path).text
            for tag in html.split("<script")[1:]:
                opening = tag.split(">", 1)[0]
                assert 'src="/static/' in opening or 'type="application/json"' in opening, (
                    path,
                    opening,
                )
            assert " on" + "click=" not in html and "javascript:" not in html
            assert "https://" not in html and "http://" not in html  # no CDN, nothing remote
