"""Responses: a Struct (or builtins) as JSON, and the error shape's bytes.

Handlers answer with `respond(SomeStruct(...))`; the Struct is the one the route declares in its
contract (citynode/web/contract.py), so what is served is what `/openapi.json` says.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

_encoder = msgspec.json.Encoder()


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
    return web.Response(
        status=status,
        body=error_body(code, message, detail),
        content_type="application/json",
        headers=headers,
    )
