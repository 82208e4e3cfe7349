"""Atom feeds read by a feed reader (feedparser): a node's practices, the replica, a search."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import feedparser

from tests.drafts import THEME, practice, result
from tests.federation_support import publish
from tests.opendata_support import three_cities
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]


async def read(url: str, **kwargs: Any) -> Any:
    """feedparser fetches the feed itself (blocking urllib), as a reader would."""
    feed = await asyncio.to_thread(feedparser.parse, url, **kwargs)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


async def test_a_feed_reader_follows_a_search(medellin: RunningNode) -> None:
    await publish(
        medellin,
        practice("wifi-parques", title={"es": "Wifi en parques", "en": "Wi-Fi in parks"}),
        practice(
            "huertas",
            title={"es": "Huertas urbanas", "en": "Urban gardens"},
            summary={"es": "Huertas comunitarias en barrios.", "en": "Community gardens."},
            themes=[THEME + "public-space"],
            sdgs=["http://metadata.un.org/sdg/11.7"],
        ),
    )
    # The theme as its IRI: the only form the search on main takes (issue 8 adds short values).
    query = urlencode({"q": "wifi", "theme": THEME + "connectivity", "lang": "en"})
    url = f"{medellin.url}/search.atom?{query}"
    feed = await read(url)
    assert feed.version == "atom10"
    assert [e.title for e in feed.entries] == ["Wi-Fi in parks"]
    entry = feed.entries[0]
    assert entry.id == f"{medellin.url}/records/wifi-parques"
    assert entry.link == entry.id and entry.author == "Medellín"
    assert {t.term for t in entry.tags} >= {THEME + "connectivity", "Project"}
    # Nothing new: the reader's conditional request gets a 304.
    again = await asyncio.to_thread(feedparser.parse, url, etag=feed.etag)
    assert again.status == 304
    # A new practice that matches appears, newest first; one that does not, does not.
    await publish(
        medellin,
        practice("wifi-bibliotecas", title={"es": "Wifi en bibliotecas", "en": "Library Wi-Fi"}),
        practice("aulas", title={"es": "Aulas", "en": "Classrooms"}, themes=[THEME + "education"]),
    )
    feed = await read(url, etag=feed.etag)
    assert [e.title for e in feed.entries] == ["Library Wi-Fi", "Wi-Fi in parks"]


async def test_the_node_feed_holds_its_practices_in_the_readers_language(
    medellin: RunningNode,
) -> None:
    await publish(medellin, practice("wifi"), result("wifi-r", of="wifi"))
    feed = await read(f"{medellin.url}/feeds/practices.atom?lang=es")
    assert [e.title for e in feed.entries] == ["Parques con wifi wifi"]  # results are not practices
    assert feed.entries[0].title_detail.language == "es"
    assert feed.entries[0].summary == "Internet gratis en parques públicos."
    assert feed.feed.links[0].href.endswith("/feeds/practices.atom?lang=es")


async def test_the_replica_feed_holds_every_city(node_factory: Factory) -> None:
    nodes = await three_cities(node_factory)
    feed = await read(f"{nodes[0].url}/feeds/replica.atom")
    assert {e.author for e in feed.entries} == {"Medellín", "Lisboa", "Montevideo"}
    _, page, _ = await request_json(
        "GET", f"{nodes[0].url}/records?origin=all&type=Practice&limit=50"
    )
    # Newest stored first, as /records lists them: the same records in the same order.
    assert [e.id for e in feed.entries] == [item["id"] for item in page["items"]]
