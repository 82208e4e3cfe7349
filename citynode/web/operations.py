"""Operator endpoints: `/healthz` (alive), `/readyz` (ready to serve), `/metrics` (Prometheus).

docs/configuration.md `[ops]`; the checks and the scrape snapshot are in citynode/ops/health.py.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from citynode.errors import NotFound
from citynode.ops import health
from citynode.ops.health import Check
from citynode.web.contract import Reply, Routes
from citynode.web.keys import CONFIG, FEDERATION, FOLLOWINGS, METRICS, NODE
from citynode.web.responses import error_response, respond

routes = Routes("operations")


class Alive(msgspec.Struct, kw_only=True):
    status: Literal["alive"] = "alive"


class Ready(msgspec.Struct, kw_only=True):
    status: Literal["ready"] = "ready"
    #: check name (`database`, `follower:<view>`, `federation_worker`) -> its outcome
    checks: dict[str, Check]


@routes.get(
    "/healthz",
    summary="Liveness: the node's process answers",
    responses={200: Alive},
)
async def healthz(request: web.Request) -> web.Response:
    return respond(Alive())


@routes.get(
    "/readyz",
    summary="Readiness: the database answers, every change-log follower (search index, SPARQL "
    "store, push notices) is within ops.ready_max_lag_seconds, the federation worker runs",
    responses={200: Ready},
    errors=(503,),
)
async def readyz(request: web.Request) -> web.Response:
    app = request.app
    ops = app[CONFIG].ops
    checks = await health.readiness(
        app[NODE],
        app[FOLLOWINGS],
        app.get(FEDERATION),
        ops.ready_max_lag_seconds,
        ops.ready_max_lag_entries,
    )
    failing = [name for name, check in checks.items() if not check.ok]
    if failing:
        return error_response(
            503,
            "not_ready",
            "the node is not ready: " + ", ".join(failing),
            {"checks": msgspec.to_builtins(checks)},
        )
    return respond(Ready(checks=checks))


@routes.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format 0.0.4); 404 when ops.metrics is off",
    responses={200: Reply("the metrics", {"text/plain": str})},
    errors=(404,),
)
async def metrics(request: web.Request) -> web.Response:
    app = request.app
    if not app[CONFIG].ops.metrics:
        raise NotFound("metrics are off on this node (ops.metrics)")
    collected = app[METRICS]
    collected.state.snapshot = await health.snapshot(
        app[NODE], app[FOLLOWINGS], app.get(FEDERATION)
    )
    response = web.Response(body=generate_latest(collected.registry))
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
