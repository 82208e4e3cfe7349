"""Search routes: `GET /api/search` (local replica, or live fan-out to peers) and similar records.

Query parameters (`SearchParams`): `q` (text typed by a person: never an error), one parameter
per facet (`city`, `country`, `type`, `status`, `theme`, `sdg_goal`, `sdg_target`, `year`,
`published`, `language`; repeat a parameter for OR, combine parameters for AND; short values
such as `theme=connectivity` or `sdg_goal=11` and IRIs both work, an unknown value is a 400
listing the valid ones), `lang` (the reader's language; else Accept-Language; else the language
of the query words), `sort` (`relevance` or `date`), `limit`, `offset`, `scope` (`local`, the
default: the query never leaves the node; `live`: also asks peers that opted in, under one
deadline), and `wait_for` (a change-log position, as a write answers it: wait, up to a few
seconds, until the index holds it, so a search sees its own writes).

The service behind them is `app[SEARCH].searching.search(SearchQuery) -> SearchResult`
(citynode/search/query.py), the one function pages and the CLI call too.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode.federation import live_search
from citynode.federation.live_search import LiveResult
from citynode.record_ids import records_base
from citynode.search.query import Hit, SearchQuery, SearchResult
from citynode.search.schema import FACETS
from citynode.search.similar import similar
from citynode.storage import log as change_log
from citynode.web.contract import AnyOf, Reply, Routes
from citynode.web.keys import FEDERATION, NODE, SEARCH, SEARCH_CACHE
from citynode.web.params import read_path, read_query
from citynode.web.records import SLUG_ROUTE, SlugPath
from citynode.web.responses import respond

routes = Routes("search")

_TAG_PATTERN: Final = r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,3}"
_TAG: Final = re.compile(f"^{_TAG_PATTERN}$")
_encode = msgspec.json.Encoder().encode

Facet = Annotated[list[str], Meta(description="repeat for OR; facets AND together")]
Lang = Annotated[
    str,
    Meta(
        pattern=f"^({_TAG_PATTERN})?$",
        description="the reader's language (BCP 47: es, en, pt-BR...); else Accept-Language",
    ),
]


class SearchParams(msgspec.Struct, kw_only=True):
    q: Annotated[str, Meta(description='words, "a phrase", -word; any text is accepted')] = ""
    scope: Literal["local", "live"] = "local"
    sort: Literal["relevance", "date"] = "relevance"
    lang: Lang = ""
    limit: Annotated[int, Meta(ge=1, le=100)] = 20
    offset: Annotated[int, Meta(ge=0, le=10_000)] = 0
    wait_for: Annotated[
        int,
        Meta(
            ge=0,
            description="a write's change-log position (its answer's `position`): wait up to "
            "5 s until the index holds it",
        ),
    ] = 0
    city: Facet = []
    country: Facet = []
    type: Annotated[list[str], Meta(description="project, policy, programme, result")] = []
    status: Annotated[list[str], Meta(description="planned, ongoing, completed...")] = []
    theme: Annotated[list[str], Meta(description="connectivity, EDUC... or an IRI")] = []
    sdg_goal: Annotated[list[str], Meta(description="11, or an IRI")] = []
    sdg_target: Annotated[list[str], Meta(description="11.2, or an IRI")] = []
    year: Annotated[list[str], Meta(description="the practice's own year")] = []
    published: Annotated[list[str], Meta(description="the year first published")] = []
    language: Facet = []


class SimilarParams(msgspec.Struct, kw_only=True):
    lang: Lang = ""
    limit: Annotated[int, Meta(ge=1, le=100)] = 20


class SimilarRecords(msgspec.Struct, kw_only=True):
    id: str
    similar: list[Hit]


class Searchable(msgspec.Struct, kw_only=True):
    """What a write's answer says about search: its log position, and whether the index held
    it when the answer was sent (else how to wait for it)."""

    position: int = 0
    searchable: bool = True
    searchable_hint: str | None = None


def accepted_language(header: str) -> str:
    """The reader's preferred language from an Accept-Language header ("" for none)."""
    best, best_q = "", 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if _TAG.match(tag) and q > best_q:
            best, best_q = tag, q
    return best


def read_search(request: web.Request) -> tuple[SearchParams, SearchQuery]:
    """The search query of a request; bad paging or sort is a 400 (facet values are checked by
    the search itself, which names the valid ones)."""
    params = read_query(request, SearchParams)
    facets = {name: getattr(params, name) for name in FACETS if getattr(params, name)}
    query = SearchQuery(
        text=params.q,
        facets=facets,
        lang=params.lang or accepted_language(request.headers.get("Accept-Language", "")),
        sort=params.sort,
        limit=params.limit,
        offset=params.offset,
    )
    return params, query


async def local_search(request: web.Request, query: SearchQuery) -> bytes:
    """The encoded answer of the local index, from the cache when the index has not changed."""
    service = request.app[SEARCH]
    cache = request.app[SEARCH_CACHE]
    key = cache.key(query)
    generation = service.engine.position()
    body = cache.get(key, generation)
    if body is None:
        body = _encode(await service.searching.search(query))
        cache.put(key, generation, body)
    return body


@routes.get(
    "/api/search",
    summary="Search the records this node holds (scope=local, the default) or also ask peers "
    "live (scope=live): ranked hits, facets with exact counts, and why each hit matched",
    query=SearchParams,
    responses={200: Reply("results", {"application/json": AnyOf(SearchResult, LiveResult)})},
)
async def search_records(request: web.Request) -> web.Response:
    node = request.app[NODE]
    params, query = read_search(request)
    if params.wait_for:
        await request.app[SEARCH].searchable(params.wait_for)
    if params.scope == "live":
        client = request.app[FEDERATION].client
        searching = request.app[SEARCH].searching
        return respond(await live_search.live(node, searching, client, query))
    body = await local_search(request, query)
    return web.Response(body=body, content_type="application/json")


async def searchable_write(request: web.Request) -> dict[str, Any]:
    """After a write: wait until the index holds it; the `Searchable` fields of the answer."""
    position = await change_log.head(request.app[NODE].db.reader)
    searchable = await request.app[SEARCH].searchable(position)
    hint = None
    if not searchable:
        hint = (
            f"the search index has not reached this write yet; add wait_for={position} to "
            "/api/search to wait for it"
        )
    return {"position": position, "searchable": searchable, "searchable_hint": hint}


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
    lang = params.lang or node.config.node.languages[0]
    searching = request.app[SEARCH].searching
    hits = await similar(searching, record_id, limit=params.limit, lang=lang)
    return respond(SimilarRecords(id=record_id, similar=hits))
