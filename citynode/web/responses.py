"""Responses: a Struct (or builtins) as JSON, and the error shape's bytes.

Handlers answer with `respond(SomeStruct(...))`; the Struct is the one the route declares in its
contract (citynode/web/contract.py), so what is served is what `/openapi.json` says.
"""

from __future__ import annotations

import math
from typing import Any, Final

import msgspec
from aiohttp import web

_encoder = msgspec.json.Encoder()
#: Seconds a 429 asks the client to wait when the refusal names no time of its own.
DEFAULT_RETRY_AFTER: Final = 1


def respond(
    value: Any,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> web.Response:
    """`value` (a Struct, or builtins for free-form documents) as a JSON response."""
    return web.Response(
        status=status, body=_encoder.encode(value), content_type=content_type, headers=headers
    )


def error_body(code: str, message: str, detail: dict[str, Any] | None = None) -> bytes:
    return _encoder.encode({"code": code, "message": message, "detail": detail or {}})


def error_response(
    status: int,
    code: str,
    message: str,
    detail: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An error in the shape every error has. A 429 always says when to retry (RFC 6585
    section 4, RFC 9110 section 10.2.3: `Retry-After` in whole seconds), from the refusal's
    `retry_after_seconds` when it gives one."""
    if status == 429 and not (headers and "Retry-After" in headers):
        seconds = (detail or {}).get("retry_after_seconds", DEFAULT_RETRY_AFTER)
        headers = {**(headers or {}), "Retry-After": str(max(1, math.ceil(seconds)))}
    return web.Response(
        status=status,
        body=error_body(code, message, detail),
        content_type="application/json",
        headers=headers,
    )
