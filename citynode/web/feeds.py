"""Atom feeds: `/feeds/practices.atom` (this node's practices), `/feeds/replica.atom` (every
city's), `/search.atom?q=...&theme=...` (any search, newest first: the search API's parameters).

`lang=es|en|pt` chooses the language of titles and summaries (else the node's first language).
"""

from __future__ import annotations

import hashlib

from aiohttp import web

from citynode.opendata import feeds
from citynode.search.query import search
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.web.keys import NODE
from citynode.web.search import read_query
from protocol.records import PRACTICE_TYPES

routes = web.RouteTableDef()


def _lang(request: web.Request) -> str:
    lang = request.query.get("lang", "")
    return lang if lang in ("es", "en", "pt") else request.app[NODE].config.node.languages[0]


async def _feed(
    request: web.Request, title: str, rows: list[store.StoredRecord], alternate: str
) -> web.Response:
    node = request.app[NODE]
    cities = await all_origins(node.db.reader)
    lang = _lang(request)
    entries = [
        feeds.record_entry(
            row.document(), cities[row.origin].city if row.origin in cities else "", lang
        )
        for row in rows
    ]
    feed = feeds.Feed(
        id=str(request.url),
        title=title,
        self_url=str(request.url),
        alternate_url=alternate,
        author=node.config.node.name,
        updated=max((e.updated for e in entries), default=store.now_utc()),
        entries=entries,
    )
    body = feeds.render(feed)
    # Feed readers poll: a validator of the entries (not of the body's `updated`, which is the
    # newest entry's time anyway) lets them skip an unchanged feed (RFC 9110 13.1.2).
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Vary": "Accept-Encoding"}
    if etag in {t.strip() for t in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    response = web.Response(body=body, headers=headers)
    response.content_type = feeds.MEDIA_TYPE
    response.charset = "utf-8"
    return response


async def _newest(
    request: web.Request, origins: tuple[str, ...] | None
) -> list[store.StoredRecord]:
    node = request.app[NODE]
    where = store.ListFilter(
        origins=origins, types=PRACTICE_TYPES, limit=node.config.opendata.feed_entries
    )
    return await store.list_current(node.db.reader, where)


@routes.get("/feeds/practices.atom")
async def own_practices(request: web.Request) -> web.Response:
    node = request.app[NODE]
    rows = await _newest(request, (node.identity.did,))
    base = node.config.base_url
    return await _feed(request, f"{node.config.node.name}: practices", rows, f"{base}/records")


@routes.get("/feeds/replica.atom")
async def replica(request: web.Request) -> web.Response:
    node = request.app[NODE]
    rows = await _newest(request, None)
    base = node.config.base_url
    title = f"Practices of every city {node.config.node.name} federates with"
    return await _feed(request, title, rows, f"{base}/records?origin=all")


@routes.get("/search.atom")
async def search_feed(request: web.Request) -> web.Response:
    """A search as a feed: the same parameters as `/api/search`, sorted by date."""
    node = request.app[NODE]
    query = read_query(request)
    query.sort = "date"
    query.limit = (
        min(query.limit, node.config.opendata.feed_entries)
        if "limit" in request.query
        else node.config.opendata.feed_entries
    )
    found = await search(node.db.reader, query)
    rows = [
        row
        for hit in found.hits
        if (row := await store.get_current(node.db.reader, hit.id)) is not None
        and row.type != "Tombstone"
    ]
    words = f" '{query.text}'" if query.text else ""
    alternate = str(request.url.with_path("/api/search"))
    return await _feed(request, f"Search{words} on {node.config.node.name}'s node", rows, alternate)
