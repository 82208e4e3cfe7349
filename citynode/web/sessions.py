"""Signing in on the pages: a session cookie opened with an editor token, and CSRF tokens.

The cookie (`cn_session`) is HttpOnly, SameSite=Strict and, when the node is served over TLS
(its base URL is https, as behind a proxy), Secure. Every form carries a CSRF token that must
equal the visitor's `cn_csrf` cookie (the double-submit pattern, OWASP CSRF Prevention Cheat
Sheet); with SameSite=Strict cookies a cross-site form post has neither.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web
from multidict import MultiDictProxy

from citynode.errors import BadRequest, Forbidden
from citynode.storage import sessions as store
from citynode.storage.records import now_utc
from citynode.storage.sessions import EditorSession
from citynode.web.keys import NODE

SESSION_COOKIE: Final = "cn_session"
CSRF_COOKIE: Final = "cn_csrf"
CSRF_FIELD: Final = "csrf"
SESSION_SECONDS: Final = 8 * 3600

#: Who is signed in on this request, and the visitor's CSRF token (set by the middleware).
EDITOR: web.RequestKey[EditorSession | None] = web.RequestKey("editor")
CSRF = web.RequestKey("csrf", str)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _secure(request: web.Request) -> bool:
    return request.secure or request.app[NODE].config.base_url.startswith("https://")


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
        path="/",
        max_age=SESSION_SECONDS if name == SESSION_COOKIE else None,
    )


@web.middleware
async def session_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is signed in (`request["editor"]`) and the visitor's CSRF token (`request["csrf"]`)."""
    request[EDITOR] = None
    secret = request.cookies.get(SESSION_COOKIE)
    if secret and len(secret) < 200:
        node = request.app[NODE]
        request[EDITOR] = await store.session_of(node.db.reader, secret, time.time(), now_utc())
    csrf = request.cookies.get(CSRF_COOKIE, "")
    fresh = not (20 <= len(csrf) <= 100)
    if fresh:
        csrf = secrets.token_urlsafe(32)
    request[CSRF] = csrf
    response = await handler(request)
    if fresh and response.content_type == "text/html" and not response.prepared:
        set_cookie(request, response, CSRF_COOKIE, csrf)
    return response


def editor_of(request: web.Request) -> EditorSession | None:
    return request.get(EDITOR)


def check_csrf(request: web.Request, form: Any) -> None:
    """403 unless the form's token matches the visitor's cookie."""
    sent = str(form.get(CSRF_FIELD, ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise Forbidden(
            "this form has expired or was sent from another site: reload the page and send it "
            "again",
            field=CSRF_FIELD,
        )


async def sign_in(request: web.Request, token: str) -> str | None:
    """A new session secret for a valid token, or None."""
    node = request.app[NODE]
    found = await store.token_of(node.db.reader, token.strip(), now_utc())
    if found is None:
        return None
    async with node.db.transaction(notify=False) as conn:
        return await store.open_session(conn, found.token_id, time.time(), SESSION_SECONDS)


async def sign_out(request: web.Request) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        async with request.app[NODE].db.transaction(notify=False) as conn:
            await store.close_session(conn, secret)


async def posted_form(request: web.Request) -> MultiDictProxy[Any]:
    """The posted form, once its CSRF token is checked; a body that is not a form is a 400."""
    try:
        form = await request.post()
    except (ValueError, UnicodeDecodeError, AssertionError, LookupError) as exc:
        raise BadRequest(f"the body is not a form this page can read: {exc}"[:300]) from None
    check_csrf(request, form)
    return form
