"""Atom feeds: `/feeds/practices.atom` (this node's practices), `/feeds/replica.atom` (every
city's), `/search.atom?q=...&theme=...` (any search, newest first: the search API's parameters).

`lang=es|en|pt` chooses the language of titles and summaries (else the node's first language).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode.opendata import feeds
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.web.contract import Reply, Routes
from citynode.web.keys import NODE, SEARCH
from citynode.web.params import read_query
from citynode.web.search import SearchParams, read_search
from protocol.records import PRACTICE_TYPES

routes = Routes("open data")
ATOM = Reply("an Atom feed (RFC 4287)", {feeds.MEDIA_TYPE: str})
NOT_MODIFIED = Reply("the feed has not changed since the ETag given")
IF_NONE_MATCH = ("If-None-Match", "the ETag of the feed last read: 304 while it holds")


class FeedQuery(msgspec.Struct, kw_only=True):
    lang: Annotated[str, Meta(description="es, en or pt; else the node's first language")] = ""


def _lang(request: web.Request, asked: str | None = None) -> str:
    lang = read_query(request, FeedQuery).lang if asked is None else asked
    return lang if lang in ("es", "en", "pt") else request.app[NODE].config.node.languages[0]


async def _feed(
    request: web.Request,
    title: str,
    rows: list[store.StoredRecord],
    alternate: str,
    lang: str | None = None,
) -> web.Response:
    node = request.app[NODE]
    cities = await all_origins(node.db.reader)
    lang = _lang(request, lang)
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


@routes.get(
    "/feeds/practices.atom",
    summary="Atom feed of this node's practices, newest change first",
    query=FeedQuery,
    headers=[IF_NONE_MATCH],
    responses={200: ATOM, 304: NOT_MODIFIED},
)
async def own_practices(request: web.Request) -> web.Response:
    node = request.app[NODE]
    rows = await _newest(request, (node.identity.did,))
    base = node.config.base_url
    return await _feed(request, f"{node.config.node.name}: practices", rows, f"{base}/records")


@routes.get(
    "/feeds/replica.atom",
    summary="Atom feed of every city's practices this node holds, newest first",
    query=FeedQuery,
    headers=[IF_NONE_MATCH],
    responses={200: ATOM, 304: NOT_MODIFIED},
)
async def replica(request: web.Request) -> web.Response:
    node = request.app[NODE]
    rows = await _newest(request, None)
    base = node.config.base_url
    title = f"Practices of every city {node.config.node.name} federates with"
    return await _feed(request, title, rows, f"{base}/records?origin=all")


@routes.get(
    "/search.atom",
    summary="Any search as an Atom feed, newest first: the /api/search parameters (scope is "
    "always local)",
    query=SearchParams,
    headers=[IF_NONE_MATCH],
    responses={200: ATOM, 304: NOT_MODIFIED},
)
async def search_feed(request: web.Request) -> web.Response:
    """A search as a feed: the same parameters as `/api/search`, sorted by date."""
    node = request.app[NODE]
    params, query = read_search(request)
    if params.wait_for:
        await request.app[SEARCH].searchable(params.wait_for)
    query.sort = "date"
    most = node.config.opendata.feed_entries
    query.limit = min(query.limit, most) if "limit" in request.query else min(most, 100)
    found = await request.app[SEARCH].searching.search(query)
    rows = [
        row
        for hit in found.hits
        if (row := await store.get_current(node.db.reader, hit.id)) is not None
        and row.type != "Tombstone"
    ]
    # Newest first, and among records changed in the same second the one stored last (the
    # index keeps whole seconds): a reader sees a new entry on top.
    rows.sort(key=lambda row: (row.modified, row.seq), reverse=True)
    words = f" '{query.text}'" if query.text else ""
    alternate = str(request.url.with_path("/api/search"))
    title = f"Search{words} on {node.config.node.name}'s node"
    return await _feed(request, title, rows, alternate, lang=query.lang)
