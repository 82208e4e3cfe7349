"""Comparisons across the replica: indicators (`/api/indicators`, `/api/indicators/{id}/compare`),
the map of who learned from whom (`/api/lineage`) and one record's links both ways
(`/api/relations?record=IRI`). Services: citynode/indicators.py, citynode/lineage.py.

Each answer first waits (briefly) for the facts follower to reach the head of the change log,
so a record just published or just pulled from a peer is already in it.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from citynode import indicators, lineage
from citynode.errors import BadRequest
from citynode.storage import log
from citynode.web.keys import FACTS, NODE
from citynode.web.records import json_response

routes = web.RouteTableDef()

#: How long an answer waits for the facts view to catch up before answering from what it has.
CATCH_UP_SECONDS = 2.0


async def _caught_up(request: web.Request) -> None:
    following = request.app[FACTS]
    head = await log.head(request.app[NODE].db.reader)
    await following.caught_up(head, CATCH_UP_SECONDS)


@routes.get("/api/indicators")
async def list_indicators(request: web.Request) -> web.Response:
    await _caught_up(request)
    found = await indicators.list_indicators(request.app[NODE].db)
    return json_response({"indicators": msgspec.to_builtins(found)})


@routes.get(r"/api/indicators/{indicator:[a-z0-9-]{1,80}}/compare")
async def compare(request: web.Request) -> web.Response:
    await _caught_up(request)
    result = await indicators.compare(request.app[NODE].db, request.match_info["indicator"])
    return json_response(msgspec.to_builtins(result))


@routes.get("/api/lineage")
async def who_learned_from_whom(request: web.Request) -> web.Response:
    await _caught_up(request)
    city = request.query.get("city") or None
    found = await lineage.lineage(request.app[NODE].db, city)
    return json_response({"adaptations": msgspec.to_builtins(found), "count": len(found)})


@routes.get("/api/relations")
async def relations(request: web.Request) -> web.Response:
    record = request.query.get("record", "")
    if not record.startswith(("http://", "https://")) or len(record) > 2000:
        raise BadRequest(
            "query parameter 'record' must be the IRI (id) of a record, "
            "e.g. /api/relations?record=https://medellin.example/records/apropiatic",
            parameter="record",
        )
    await _caught_up(request)
    found = await lineage.relations(request.app[NODE].db, record)
    return json_response(msgspec.to_builtins(found))
