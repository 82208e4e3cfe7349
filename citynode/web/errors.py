"""The one place errors become HTTP responses: {"code", "message", "detail"} everywhere.

Two doors lead here: `error_middleware` for everything a handler raises, and
`ShapedRequestHandler.handle_error` for what aiohttp's HTTP parser refuses before any handler
runs (a URL or header line too long, a malformed header, a bad chunk): aiohttp answers those
itself in plain text and no middleware sees them (aio-libs/aiohttp issues 3287 and 9882), so
the node's servers use this handler (citynode/server.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from aiohttp import web

from citynode.errors import NodeError, StorageFull
from citynode.storage.db import is_full
from citynode.web.keys import NODE
from citynode.web.responses import error_response
from protocol.errors import InvalidRecord, ProtocolError, VerificationError

log = logging.getLogger("citynode.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    431: "headers_too_large",
}


def _status_of(exc: ProtocolError) -> int:
    if isinstance(exc, VerificationError | InvalidRecord):
        return 422
    return 400


def _count(request: web.Request, code: str) -> None:
    node = request.app.get(NODE)
    if node is not None:
        node.rejections.add(f"rejected.{code}", request.remote or "")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except NodeError as exc:
        if exc.status >= 400 and exc.status < 500 and exc.status not in (404, 406):
            _count(request, exc.code)
        response = error_response(exc.status, exc.code, exc.message, exc.detail)
        response.headers.update(exc.headers)
        return response
    except ProtocolError as exc:
        _count(request, exc.code)
        return error_response(_status_of(exc), exc.code, exc.message, exc.detail)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        if exc.status == 413:
            _count(request, code)
        message = exc.reason if exc.status != 404 else f"nothing is served at {request.path}"
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(exc.status, code, message, {"path": request.path}, headers)
    except Exception as exc:
        if is_full(exc):  # a write outside Database.transaction
            full = StorageFull("the node's storage is full: nothing was written")
            return error_response(full.status, full.code, full.message)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the node failed to answer; see its log")


class ShapedRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, answering its own parser errors in the error shape."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            # What aiohttp does (log with the traceback, refuse if the answer began) plus our shape.
            super().handle_error(request, status, exc, message)
            code, text = "internal_error", "the node failed to answer; see its log"
        else:
            # A client's malformed request is not the node's error: one line, no traceback.
            log.info("refused a request that is not valid HTTP from %s: %s", request.remote, exc)
            if request.writer.output_size > 0:
                raise ConnectionError("an answer was already sent on this connection")
            code = _HTTP_CODES.get(status, "bad_request")
            reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            text = f"the request could not be read as HTTP ({reason}): {_parser_words(exc)}"
        response = error_response(status, code, text)
        response.force_close()
        return response


def _parser_words(exc: BaseException | None) -> str:
    # aiohttp's HttpProcessingError carries a `message`; its str() repeats the status code.
    words = getattr(exc, "message", None) or (str(exc) if exc else "")
    return str(words).strip()[:300] or "malformed request"
