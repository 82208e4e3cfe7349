"""`GET /catalog`: the node's DCAT-AP 3 catalog, JSON-LD or Turtle by content negotiation.

The facts behind it (records per type, their dates and themes) are one SQL pass each; the
serialized catalog is kept until the store changes and for at most `CACHE_SECONDS`, so a
harvester polling it costs nothing while nothing changes.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
import pyoxigraph as ox
from aiohttp import web
from msgspec import Meta

from citynode import rdf
from citynode.opendata import catalog
from citynode.opendata.sparql_results import JSONLD, TURTLE
from citynode.storage import summaries
from citynode.storage.origins import all_origins
from citynode.storage.records import now_utc
from citynode.web.contract import Reply, Routes
from citynode.web.keys import CATALOG_CACHE, NODE
from citynode.web.negotiation import choose
from citynode.web.params import read_query

routes = Routes("open data")

CACHE_SECONDS = 30.0
OFFERED = (JSONLD, TURTLE, "application/json")


class CatalogQuery(msgspec.Struct, kw_only=True):
    format: Annotated[str, Meta(description="jsonld or turtle, instead of an Accept header")] = ""


@routes.get(
    "/catalog",
    summary="The node's DCAT-AP 3 catalog: a dataset per record type and one for the replica, a "
    "distribution per dump, the SPARQL endpoint as a data service",
    query=CatalogQuery,
    headers=[("Accept", "application/ld+json (the default) or text/turtle")],
    responses={
        200: Reply(
            "the catalog",
            {JSONLD: list[dict[str, Any]], TURTLE: str, "application/json": list[dict[str, Any]]},
        )
    },
    errors=(406,),
)
async def get_catalog(request: web.Request) -> web.Response:
    node = request.app[NODE]
    wanted = read_query(request, CatalogQuery).format
    media = choose(request.headers.get("Accept"), OFFERED, wanted or None)
    cache = request.app[CATALOG_CACHE]
    fresh = cache.generation == node.db.generation and time.monotonic() - cache.made < CACHE_SECONDS
    if not fresh:
        facts = catalog.CatalogFacts(
            own=await summaries.type_summaries(node.db.reader, node.identity.did),
            replica=await summaries.type_summaries(node.db.reader, None),
            origins=await all_origins(node.db.reader),
            modified=now_utc(),
        )
        triples = catalog.build(node.config, node.identity.did, facts)
        cache.bodies = {
            TURTLE: rdf.write(triples, ox.RdfFormat.TURTLE, catalog.PREFIXES),
            JSONLD: rdf.write(triples, ox.RdfFormat.JSON_LD),
        }
        cache.generation, cache.made = node.db.generation, time.monotonic()
    body = cache.bodies[TURTLE if media == TURTLE else JSONLD]
    response = web.Response(body=body, headers={"Vary": "Accept"})
    response.content_type = JSONLD if media == "application/json" else media
    return response
