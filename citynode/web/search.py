"""Search routes: `GET /api/search` (local replica, or live fan-out to peers) and similar records.

Query parameters: `q` (text typed by a person: never an error), one parameter per facet
(`city`, `country`, `type`, `status`, `theme`, `sdg_goal`, `sdg_target`, `year`, `published`,
`language`; repeat a parameter for OR, combine parameters for AND; short values such as
`theme=connectivity` or `sdg_goal=11` and IRIs both work, an unknown value is a 400 listing the
valid ones), `lang` (the reader's language; else Accept-Language; else the language of the query
words), `sort` (`relevance` or `date`), `limit`, `offset`, `scope` (`local`, the default: the
query never leaves the node; `live`: also asks peers that opted in, under one deadline), and
`wait_for` (a change-log position, as a write answers it: wait, up to a few seconds, until the
index holds it, so a search sees its own writes).
"""

from __future__ import annotations

import re
from typing import Final

import msgspec
from aiohttp import web

from citynode.errors import BadRequest
from citynode.federation import live_search
from citynode.publishing import records_base, slug_of
from citynode.search.cache import SearchCache
from citynode.search.query import SearchQuery, SearchResult
from citynode.search.schema import FACETS
from citynode.search.similar import similar
from citynode.storage import log as change_log
from citynode.web.federation import FEDERATION
from citynode.web.keys import NODE, SEARCH
from citynode.web.records import int_param, json_response

routes = web.RouteTableDef()
SEARCH_CACHE = web.AppKey("search_cache", SearchCache)

_SORTS: Final = ("relevance", "date")
_TAG: Final = re.compile(r"^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,3}$")
_encode = msgspec.json.Encoder().encode


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


def read_query(request: web.Request) -> SearchQuery:
    """The search query of a request; bad paging or sort is a 400 (facets are checked later)."""
    sort = request.query.get("sort", "relevance")
    if sort not in _SORTS:
        raise BadRequest(f"sort must be relevance or date, not '{sort}'", parameter="sort")
    lang = request.query.get("lang", "")
    if lang and not _TAG.match(lang):
        raise BadRequest(f"lang must be a language tag such as es, en or pt-BR, not '{lang}'")
    if not lang:
        lang = accepted_language(request.headers.get("Accept-Language", ""))
    unknown = [
        name
        for name in request.query
        if name not in FACETS
        and name not in ("q", "lang", "sort", "limit", "offset", "scope", "wait_for")
    ]
    if unknown:
        raise BadRequest(
            f"unknown search parameter {unknown[0]!r}; facets are " + ", ".join(FACETS),
            parameter=unknown[0],
        )
    facets = {name: request.query.getall(name) for name in FACETS if name in request.query}
    return SearchQuery(
        text=request.query.get("q", ""),
        facets=facets,
        lang=lang,
        sort=sort,  # type: ignore[arg-type]
        limit=int_param(request, "limit", 20, 1, 100) or 20,
        offset=int_param(request, "offset", 0, 0, 10_000) or 0,
    )


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


@routes.get("/api/search")
async def search_records(request: web.Request) -> web.Response:
    node = request.app[NODE]
    scope = request.query.get("scope", "local")
    if scope not in ("local", "live"):
        raise BadRequest(f"scope must be local or live, not '{scope}'", parameter="scope")
    query = read_query(request)
    wait_for = int_param(request, "wait_for", 0, 0, 2**62)
    if wait_for:
        await request.app[SEARCH].searchable(wait_for)
    if scope == "live":
        client = request.app[FEDERATION].client
        answer = await live_search.live(node, request.app[SEARCH].searching, client, query)
        return json_response(msgspec.to_builtins(answer))
    body = await local_search(request, query)
    return web.Response(body=body, content_type="application/json")


async def searchable_write(request: web.Request) -> dict[str, object]:
    """After a write: wait until the index holds it; what the answer says about that."""
    position = await change_log.head(request.app[NODE].db.reader)
    searchable = await request.app[SEARCH].searchable(position)
    answer: dict[str, object] = {"position": position, "searchable": searchable}
    if not searchable:
        answer["searchable_hint"] = (
            f"the search index has not reached this write yet; add wait_for={position} to "
            "/api/search to wait for it"
        )
    return answer


@routes.get(r"/records/{slug:[a-z0-9][a-z0-9-]{0,99}}/similar")
async def similar_records(request: web.Request) -> web.Response:
    """Practices of other cities most like this record (shared themes, goals and words)."""
    node = request.app[NODE]
    record_id = records_base(node.config.base_url) + request.match_info["slug"]
    slug_of(record_id, node.config.base_url)
    query = read_query(request)
    lang = query.lang or node.config.node.languages[0]
    searching = request.app[SEARCH].searching
    hits = await similar(searching, record_id, limit=query.limit, lang=lang)
    return json_response({"id": record_id, "similar": msgspec.to_builtins(hits)})


__all__ = ["SEARCH", "SEARCH_CACHE", "SearchResult", "read_query", "searchable_write"]
