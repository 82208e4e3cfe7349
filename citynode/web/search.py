"""Search routes: `GET /api/search` (local replica, or live fan-out to peers) and similar records.

Query parameters: `q` (text typed by a person: never an error), one parameter per facet
(`city`, `country`, `type`, `status`, `theme`, `sdg_goal`, `sdg_target`, `year`, `language`;
repeat a parameter for OR, combine parameters for AND), `lang` (the reader's language), `sort`
(`relevance` or `date`), `limit`, `offset`, and `scope` (`local`, the default: the query never
leaves the node; `live`: also asks peers that opted in, under one deadline).
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from citynode.errors import BadRequest
from citynode.federation import live_search
from citynode.record_ids import records_base, slug_of
from citynode.search.cache import SearchCache
from citynode.search.query import FACETS, SearchQuery, search
from citynode.search.similar import similar
from citynode.web.federation import FEDERATION
from citynode.web.keys import NODE
from citynode.web.records import int_param, json_response

routes = web.RouteTableDef()
SEARCH_CACHE = web.AppKey("search_cache", SearchCache)

_SORTS = ("relevance", "date")


def read_query(request: web.Request) -> SearchQuery:
    """The search query of a request; bad paging is a 400, unknown facet values just match none."""
    sort = request.query.get("sort", "relevance")
    if sort not in _SORTS:
        raise BadRequest(f"sort must be relevance or date, not '{sort}'", parameter="sort")
    lang = request.query.get("lang", "")
    if lang not in ("es", "en", "pt"):
        lang = request.app[NODE].config.node.languages[0]
    facets = {name: request.query.getall(name) for name in FACETS if name in request.query}
    return SearchQuery(
        text=request.query.get("q", ""),
        facets=facets,
        lang=lang,
        sort=sort,  # type: ignore[arg-type]
        limit=int_param(request, "limit", 20, 1, 100) or 20,
        offset=int_param(request, "offset", 0, 0, 2_000) or 0,
    )


@routes.get("/api/search")
async def search_records(request: web.Request) -> web.Response:
    node = request.app[NODE]
    scope = request.query.get("scope", "local")
    if scope not in ("local", "live"):
        raise BadRequest(f"scope must be local or live, not '{scope}'", parameter="scope")
    query = read_query(request)
    if scope == "live":
        client = request.app[FEDERATION].client
        return json_response(msgspec.to_builtins(await live_search.live(node, client, query)))
    cache = request.app[SEARCH_CACHE]
    key = cache.key(query)
    generation = node.db.generation
    body = cache.get(key, generation)
    if body is None:
        body = msgspec.json.encode(await search(node.db.reader, query, keys=node.known_keys))
        cache.put(key, generation, body)
    return web.Response(body=body, content_type="application/json")


@routes.get(r"/records/{slug:[a-z0-9][a-z0-9-]{0,99}}/similar")
async def similar_records(request: web.Request) -> web.Response:
    """Practices of other cities most like this record (shared themes, goals and words)."""
    node = request.app[NODE]
    record_id = records_base(node.config.base_url) + request.match_info["slug"]
    slug_of(record_id, node.config.base_url)
    query = read_query(request)
    hits = await similar(
        node.db.reader, record_id, limit=query.limit, lang=query.lang, keys=node.known_keys
    )
    return json_response({"id": record_id, "similar": msgspec.to_builtins(hits)})
