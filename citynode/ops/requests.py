"""The request path's own bookkeeping: request ids, access logs, latency metrics, slow clients.

`request_middleware` runs outermost: it gives every request an id (the proxy's `X-Request-Id`
when it sends a sane one, as nginx's `$request_id` is, else a new one), puts it in the logging
context and in the response's `X-Request-Id` header (on every response, streamed ones too,
through `on_response_prepare`), times the request for the metrics by route pattern, and writes
one access-log line.

Slow clients (issue 12): a connection that has not sent a whole request head within
`server.header_timeout_seconds` is closed by aiohttp's keep-alive timer (`handler_args`: it runs
from the moment a connection opens, and fires while no request is being handled), and
`body_deadline` answers 408 to a request whose body has not fully arrived within
`server.body_timeout_seconds`. Neither holds anything else: the event loop serves every other
connection meanwhile, and the connection is closed afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Middleware

from citynode.config import NodeConfig
from citynode.ops.forwarded import Network, client_address
from citynode.ops.logs import REQUEST_ID
from citynode.ops.metrics import Metrics
from citynode.web.errors import Handler
from citynode.web.responses import error_response

access_log = logging.getLogger("citynode.access")

HEADER: Final = "X-Request-Id"
#: The request's id, for the response header (set on the request the server made).
REQUEST_ID_KEY: Final = web.RequestKey("request_id", str)
_SANE_ID: Final = re.compile(r"^[A-Za-z0-9._-]{8,128}$")


def route_of(request: web.Request) -> str:
    """The route's pattern (`/records/{slug}`), never the raw path: a bounded label set."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def request_middleware(
    config: NodeConfig, metrics: Metrics, networks: tuple[Network, ...]
) -> Middleware:
    log_requests = config.ops.access_log

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _SANE_ID.match(incoming) else secrets.token_hex(16)
        request[REQUEST_ID_KEY] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            exc.headers[HEADER] = request_id
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away (nginx's code for it)
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_of(request)
            metrics.observe(route, request.method, status, seconds)
            if log_requests:
                access_log.info(
                    "%s %s %d",
                    request.method,
                    request.path,
                    status,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "route": route,
                        "status": status,
                        "ms": round(seconds * 1000, 2),
                        "client": client_address(
                            request.remote, request.headers.get("X-Forwarded-For", ""), networks
                        ),
                    },
                )
            REQUEST_ID.reset(token)

    return middleware


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the id goes out with every response, streamed ones included."""
    request_id = request.get(REQUEST_ID_KEY)
    if request_id and HEADER not in response.headers:
        response.headers[HEADER] = request_id


def body_deadline(seconds: float, count: Callable[[web.Request], None]) -> Middleware:
    """A request body must arrive within `seconds`; else 408 and the connection is closed.

    A timer, not a timeout around the handler: a handler that has its whole body may take as
    long as its work takes. `count(request)` records the refusal (by client address).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists or request.content.is_eof():
            return await handler(request)
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            if not request.content.is_eof():
                expired = True
                task.cancel()

        timer = asyncio.get_running_loop().call_later(seconds, expire)
        try:
            return await handler(request)
        except asyncio.CancelledError:
            if not expired or task.uncancel() > 0:
                raise
            count(request)
            response = error_response(
                408,
                "request_timeout",
                f"the request body did not arrive within {seconds:g} seconds",
                {"timeout_seconds": seconds},
            )
            response.force_close()
            return response
        finally:
            timer.cancel()

    return middleware
