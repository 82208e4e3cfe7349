"""The city page: a node's profile, its practices by theme, and its peers.

`/city` is this node's city; `/city?origin=<DID>` any city whose records this node holds (its
peers are known only to its own node, so the page links there).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final

import msgspec
from aiohttp import web

from citynode.errors import NotFound
from citynode.storage import peers as peer_store
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.web.contract import Routes
from citynode.web.keys import NODE
from citynode.web.render import Page, add_page, reply
from citynode.web.views import concept_label, text_of
from protocol.records import PRACTICE_TYPES

routes = Routes("pages")
MAX_LISTED: Final = 500
_VISIBLE_PEERS: Final = ("idle", "due", "syncing", "backoff", "caught_up")


@add_page(routes, "/city", summary="A city: profile, practices by theme, peers", query=("origin",))
async def city(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    page = Page(request)
    own = node.keyring.identity.did
    did = request.query.get("origin") or own
    origins = await all_origins(node.db.reader)
    origin = origins.get(did)
    if origin is None:
        raise NotFound(f"this node holds no records of the city {did}", origin=did)
    rows = await store.list_current(
        node.db.reader,
        store.ListFilter(origins=(did,), types=PRACTICE_TYPES, limit=MAX_LISTED),
    )
    by_theme: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        document = row.document()
        title, title_lang = text_of(document.get("title"), page.lang)
        item = {"id": row.id, "type": row.type, "title": title, "title_lang": title_lang}
        for theme in document.get("themes") or ["none"]:
            by_theme[theme].append(item)
    themes = sorted(
        (
            {
                "theme": theme,
                "label": concept_label(theme, page.lang) if theme != "none" else None,
                "practices": sorted(items, key=lambda i: i["title"]),
            }
            for theme, items in by_theme.items()
        ),
        key=lambda t: (t["label"] is None, t["label"] or ""),
    )
    peers = []
    if did == own:
        peers = [
            {"city": p.name, "country": p.country, "url": p.base_url, "did": p.did}
            for p in await peer_store.list_peers(node.db.reader)
            if p.sync.state in _VISIBLE_PEERS
        ]
    config = node.config.node
    data = {
        "did": did,
        "city": origin.city,
        "country": origin.country,
        "url": origin.base_url,
        "wikidata": origin.wikidata,
        "population": msgspec.to_builtins(origin.population) if origin.population else None,
        "self": did == own,
        "languages": config.languages if did == own else None,
        "illustrative": config.illustrative if did == own else None,
        "practices": len(rows),
        "themes": themes,
        "peers": peers if did == own else None,
    }
    return reply(request, "city.html", {"city": data}, data, page=page)
