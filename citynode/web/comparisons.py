"""Comparisons across the replica: indicators (`/api/indicators`, `/api/indicators/{id}/compare`),
the map of who learned from whom (`/api/lineage`) and one record's links both ways
(`/api/relations?record=IRI`). Services: citynode/indicators.py, citynode/lineage.py.

Each answer first waits (briefly) for the facts follower to reach the head of the change log,
so a record just published or just pulled from a peer is already in it.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode import indicators, lineage
from citynode.indicators import Comparison, Indicator
from citynode.lineage import AdaptationLink, Relations
from citynode.storage import log
from citynode.web.contract import Routes
from citynode.web.keys import FACTS, NODE
from citynode.web.params import read_path, read_query
from citynode.web.responses import respond

routes = Routes("comparisons")

#: How long an answer waits for the facts view to catch up before answering from what it has.
CATCH_UP_SECONDS = 2.0


class IndicatorPath(msgspec.Struct, kw_only=True):
    indicator: Annotated[
        str,
        Meta(
            pattern=r"^[a-z0-9-]{1,80}$",
            description="an indicator's short id (people-trained); GET /api/indicators lists them",
        ),
    ]


class LineageQuery(msgspec.Struct, kw_only=True):
    city: (
        Annotated[
            str,
            Meta(
                max_length=400,
                description="a city's name or its node's DID: only the adaptations it made or "
                "was the source of",
            ),
        ]
        | None
    ) = None


class RelationsQuery(msgspec.Struct, kw_only=True):
    record: Annotated[
        str,
        Meta(
            pattern=r"^https?://[^\s<>\"{}|\\^`]+$",
            max_length=2000,
            description="the IRI (id) of a record, "
            "e.g. https://medellin.example/records/apropiatic",
        ),
    ]


class IndicatorList(msgspec.Struct, frozen=True, kw_only=True):
    indicators: list[Indicator]


class Lineage(msgspec.Struct, frozen=True, kw_only=True):
    adaptations: list[AdaptationLink]
    count: int


async def caught_up(request: web.Request) -> None:
    following = request.app[FACTS]
    head = await log.head(request.app[NODE].db.reader)
    await following.caught_up(head, CATCH_UP_SECONDS)


@routes.get(
    "/api/indicators",
    summary="The comparable indicators, with the cities of the replica that report each",
    responses={200: IndicatorList},
)
async def list_indicators(request: web.Request) -> web.Response:
    await caught_up(request)
    found = await indicators.list_indicators(request.app[NODE].db)
    return respond(IndicatorList(indicators=found))


@routes.get(
    r"/api/indicators/{indicator:[a-z0-9-]{1,80}}/compare",
    summary="One indicator across every city in the replica: observed, baseline and target "
    "series in the canonical unit, per capita where meaningful, each point linked to its "
    "signed record",
    path=IndicatorPath,
    responses={200: Comparison},
    errors=(404,),
)
async def compare_indicator(request: web.Request) -> web.Response:
    indicator = read_path(request, IndicatorPath).indicator
    await caught_up(request)
    return respond(await indicators.compare(request.app[NODE].db, indicator))


@routes.get(
    "/api/lineage",
    summary="Who learned from whom: every adaptedFrom link in the replica",
    query=LineageQuery,
    responses={200: Lineage},
)
async def who_learned_from_whom(request: web.Request) -> web.Response:
    city = read_query(request, LineageQuery).city
    await caught_up(request)
    found = await lineage.lineage(request.app[NODE].db, city)
    return respond(Lineage(adaptations=found, count=len(found)))


@routes.get(
    "/api/relations",
    summary="One record's links, both ways: results, partOf, parts, adaptedFrom, adaptations "
    "(from any city)",
    query=RelationsQuery,
    responses={200: Relations},
)
async def relations(request: web.Request) -> web.Response:
    record = read_query(request, RelationsQuery).record
    await caught_up(request)
    return respond(await lineage.relations(request.app[NODE].db, record))
