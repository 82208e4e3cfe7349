"""Errors as pages for people: a browser that asked for HTML gets the error in words, in its
language, with the same status; every other client keeps the one JSON error shape.

It sits outside `error_middleware`, which has already turned every error into that JSON shape:
this only re-renders it for requests whose Accept names text/html (browsers always do; API
clients and tests asking `*/*` or JSON never get HTML).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec
from aiohttp import web

from citynode.web.render import html
from citynode.web.responses import error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def wants_page(request: web.Request) -> bool:
    """Whether an error should be a page: the client named text/html before any JSON."""
    accept = request.headers.get("Accept", "")
    html_at = accept.find("text/html")
    json_at = accept.find("json")
    return html_at >= 0 and (json_at < 0 or html_at < json_at) and request.method in ("GET", "POST")


@web.middleware
async def page_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or not wants_page(request):
            raise
        response = error_response(
            exc.status,
            "not_found" if exc.status == 404 else "http_error",
            exc.reason if exc.status != 404 else f"nothing is served at {request.path}",
        )
    if response.status < 400 or response.content_type != "application/json":
        return response
    if not wants_page(request) or not isinstance(response, web.Response) or response.body is None:
        return response
    try:
        error = msgspec.json.decode(bytes(response.body))  # type: ignore[arg-type]
    except msgspec.DecodeError:
        return response
    if not isinstance(error, dict) or "code" not in error:
        return response
    page = html(
        request, "error.html", {"error": error, "status": response.status}, status=response.status
    )
    if "Retry-After" in response.headers:  # a 429 page says when to retry, as the JSON does
        page.headers["Retry-After"] = response.headers["Retry-After"]
    return page
