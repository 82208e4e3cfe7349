"""The one place errors become HTTP responses: {"code", "message", "detail"} everywhere."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from citynode.errors import NodeError
from citynode.web.keys import NODE
from protocol.errors import InvalidRecord, ProtocolError, VerificationError

log = logging.getLogger("citynode.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_body(code: str, message: str, detail: dict[str, Any] | None = None) -> bytes:
    return msgspec.json.encode({"code": code, "message": message, "detail": detail or {}})


def error_response(
    status: int, code: str, message: str, detail: dict[str, Any] | None = None
) -> web.Response:
    return web.Response(
        status=status, body=error_body(code, message, detail), content_type="application/json"
    )


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
        code = {
            404: "not_found",
            405: "method_not_allowed",
            413: "payload_too_large",
        }.get(exc.status, "http_error")
        if exc.status == 413:
            _count(request, code)
        message = exc.reason if exc.status != 404 else f"nothing is served at {request.path}"
        return error_response(exc.status, code, message, {"path": request.path})
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "the node failed to answer; see its log")
