"""Search routes: `GET /api/search` (local replica, or live fan-out to peers) and similar records.

Query parameters (`SearchParams`): `q` (text typed by a person: never an error), one parameter
per facet (`city`, `country`, `type`, `status`, `theme`, `sdg_goal`, `sdg_target`, `year`,
`language`; repeat a parameter for OR, combine parameters for AND), `lang` (the reader's
language), `sort` (`relevance` or `date`), `limit`, `offset`, and `scope` (`local`, the default:
the query never leaves the node; `live`: also asks peers that opted in, under one deadline).
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode.federation import live_search
from citynode.federation.live_search import LiveResult
from citynode.publishing import records_base
from citynode.search.query import FACETS, Hit, SearchQuery, SearchResult, search
from citynode.search.similar import similar
from citynode.web.contract import AnyOf, Reply, Routes
from citynode.web.keys import FEDERATION, NODE, SEARCH_CACHE
from citynode.web.params import read_path, read_query
from citynode.web.records import SLUG_ROUTE, SlugPath
from citynode.web.responses import respond

routes = Routes("search")

Facet = Annotated[list[str], Meta(description="repeat for OR; facets AND together")]


class SearchParams(msgspec.Struct, kw_only=True):
    q: Annotated[str, Meta(description='words, "a phrase"; any text is accepted')] = ""
    scope: Literal["local", "live"] = "local"
    sort: Literal["relevance", "date"] = "relevance"
    lang: Annotated[str, Meta(description="es, en or pt; else the node's first language")] = ""
    limit: Annotated[int, Meta(ge=1, le=100)] = 20
    offset: Annotated[int, Meta(ge=0, le=2_000)] = 0
    city: Facet = []
    country: Facet = []
    type: Facet = []
    status: Facet = []
    theme: Facet = []
    sdg_goal: Facet = []
    sdg_target: Facet = []
    year: Facet = []
    language: Facet = []


class SimilarParams(msgspec.Struct, kw_only=True):
    lang: str = ""
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class SimilarRecords(msgspec.Struct, kw_only=True):
    id: str
    similar: list[Hit]


def _lang(request: web.Request, asked: str) -> str:
    return asked if asked in ("es", "en", "pt") else request.app[NODE].config.node.languages[0]


def read_search(request: web.Request) -> tuple[SearchParams, SearchQuery]:
    """The search query of a request; bad paging is a 400, unknown facet values just match none."""
    params = read_query(request, SearchParams)
    facets = {name: getattr(params, name) for name in FACETS if getattr(params, name)}
    query = SearchQuery(
        text=params.q,
        facets=facets,
        lang=_lang(request, params.lang),
        sort=params.sort,
        limit=params.limit,
        offset=params.offset,
    )
    return params, query


@routes.get(
    "/api/search",
    summary="Search the records this node holds (scope=local, the default) or also ask peers "
    "live (scope=live): ranked hits, facets with counts, and why each hit matched",
    query=SearchParams,
    responses={200: Reply("results", {"application/json": AnyOf(SearchResult, LiveResult)})},
)
async def search_records(request: web.Request) -> web.Response:
    node = request.app[NODE]
    params, query = read_search(request)
    if params.scope == "live":
        client = request.app[FEDERATION].client
        return respond(await live_search.live(node, client, query))
    cache = request.app[SEARCH_CACHE]
    key = cache.key(query)
    generation = node.db.generation
    body = cache.get(key, generation)
    if body is None:
        body = msgspec.json.encode(await search(node.db.reader, query))
        cache.put(key, generation, body)
    return web.Response(body=body, content_type="application/json")


@routes.get(
    f"/records/{SLUG_ROUTE}/similar",
    summary="Practices of other cities most like this record (shared themes, goals and words)",
    path=SlugPath,
    query=SimilarParams,
    responses={200: SimilarRecords},
)
async def similar_records(request: web.Request) -> web.Response:
    node = request.app[NODE]
    record_id = records_base(node.config.base_url) + read_path(request, SlugPath).slug
    params = read_query(request, SimilarParams)
    hits = await similar(
        node.db.reader, record_id, limit=params.limit, lang=_lang(request, params.lang)
    )
    return respond(SimilarRecords(id=record_id, similar=hits))
