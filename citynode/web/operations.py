"""Operator endpoints: `/healthz` (alive), `/readyz` (ready to serve), `/metrics` (Prometheus).

docs/configuration.md `[ops]`; the checks and the scrape snapshot are in citynode/ops/health.py.
"""

from __future__ import annotations

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from citynode.ops import health
from citynode.web.errors import error_response
from citynode.web.federation import FEDERATION
from citynode.web.keys import CONFIG, FOLLOWINGS, METRICS, NODE
from citynode.web.records import json_response

routes = web.RouteTableDef()
#: Only added when `ops.metrics` is on.
metrics_routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "alive"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    app = request.app
    checks = await health.readiness(
        app[NODE], app[FOLLOWINGS], app.get(FEDERATION), app[CONFIG].ops.ready_max_lag_seconds
    )
    body = {name: msgspec.to_builtins(check) for name, check in checks.items()}
    failing = [name for name, check in checks.items() if not check.ok]
    if failing:
        return error_response(
            503, "not_ready", "the node is not ready: " + ", ".join(failing), {"checks": body}
        )
    return json_response({"status": "ready", "checks": body})


@metrics_routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    collected = app[METRICS]
    collected.state.snapshot = await health.snapshot(
        app[NODE], app[FOLLOWINGS], app.get(FEDERATION)
    )
    response = web.Response(body=generate_latest(collected.registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
