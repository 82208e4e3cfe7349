"""The home page: a search box, facets, the cities of the federation, the newest practices.

As JSON (`Accept: application/json`) it is the node descriptor with the count of records this
node published, as `/` has always answered, plus the cities and the newest practices.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from citynode.search.query import SearchQuery
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.storage.overview import city_summaries
from citynode.web.contract import Routes
from citynode.web.keys import NODE, SEARCH
from citynode.web.render import Page, add_page, reply
from citynode.web.wellknown import descriptor

routes = Routes("pages")
NEWEST = 8
HOME_FACETS = ("theme", "type", "city", "sdg_goal")


async def cities_of(request: web.Request) -> list[dict[str, Any]]:
    """Every city whose records this node holds, itself first, with counts and last change."""
    node = request.app[NODE]
    origins = await all_origins(node.db.reader)
    own = node.keyring.identity.did
    rows = []
    for summary in await city_summaries(node.db.reader):
        origin = origins.get(summary.origin)
        rows.append(
            {
                "did": summary.origin,
                "city": origin.city if origin else summary.origin,
                "country": origin.country if origin else "",
                "url": origin.base_url if origin else "",
                "records": summary.records,
                "last_change": summary.last_change,
                "self": summary.origin == own,
            }
        )
    rows.sort(key=lambda row: (not row["self"], row["city"]))
    return rows


@add_page(routes, "/", summary="The home page: search box, facets, cities, newest practices")
async def home(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    page = Page(request)
    found = await request.app[SEARCH].searching.search(SearchQuery(limit=NEWEST, lang=page.lang))
    cities = await cities_of(request)
    info: dict[str, Any] = msgspec.to_builtins(descriptor(request))
    info["records_published"] = await store.count_current(node.db.reader, node.keyring.identity.did)
    info["cities"] = cities
    info["newest"] = msgspec.to_builtins(found.hits)
    values = {
        "cities": cities,
        "hits": msgspec.to_builtins(found.hits),
        "facets": {f: msgspec.to_builtins(found.facets.get(f, [])) for f in HOME_FACETS},
        "total": found.total,
    }
    return reply(request, "home.html", values, info, page=page)
