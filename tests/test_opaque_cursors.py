"""A peer's cursors are opaque (docs/protocol.md 7.1.2): a node whose feed positions are not
citynode sequence numbers still peers, its cursors travel back as they came, and only cursors
outside the wire form are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
from aiohttp import web

from protocol.did import did_from_base_url
from protocol.messages import InboxNotice
from tests.federation_support import FAST, Hostile, fed, versions
from tests.support import RunningNode

Factory = Callable[..., Awaitable[RunningNode]]


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    peer = await Hostile().start()
    yield peer
    await peer.stop()


def record(peer: Hostile, slug: str) -> dict[str, Any]:
    unsigned = {
        "@context": ["https://w3id.org/citynode/v1", "https://w3id.org/security/data-integrity/v2"],
        "type": "Project",
        "id": f"{peer.url}/records/{slug}",
        "version": 1,
        "issued": "2024-05-01T10:00:00Z",
        "modified": "2024-05-01T10:00:00Z",
        "publisher": did_from_base_url(peer.url),
        "title": {"en": f"Practice {slug}"},
        "summary": {"en": "What was done."},
        "status": "https://w3id.org/citynode/status#ongoing",
    }
    return peer.sign_record(unsigned, peer.key, peer.keyid)


def paged_feed(peer: Hostile, pages: dict[str | None, tuple[list[dict[str, Any]], str, bool]]):  # type: ignore[no-untyped-def]
    """A feed keyed by the `after` it is asked with (None: no cursor), cursors of its own."""

    async def feed(request: web.Request) -> web.Response:
        items, next_cursor, more = pages[request.query.get("after")]
        body = {"type": "ChangesPage", "node": peer.did, "items": items, "next": next_cursor}
        body["hasMore"] = more
        return web.Response(body=msgspec.json.encode(body), content_type="application/json")

    return feed


async def test_foreign_cursors_are_sent_back_as_they_came(
    node_factory: Factory, hostile: Hostile
) -> None:
    node = await node_factory("Lisboa", **FAST)
    first, second = record(hostile, "one"), record(hostile, "two")
    hostile.feed = paged_feed(
        hostile,
        {
            None: ([first], "2024-05-01T10~0001", True),
            "2024-05-01T10~0001": ([second], "log.offset_77", False),
            "log.offset_77": ([], "log.offset_77", False),
        },
    )
    await fed(node).peering.add(hostile.url)
    await fed(node).worker.sync_now(hostile.did)
    assert await versions(node) == {first["id"]: 1, second["id"]: 1}
    # The first pull named no cursor; each next one the peer's own, verbatim.
    afters = [request.partition("after=")[2].partition("&")[0] for request in hostile.requests]
    assert afters[:2] == ["", "2024-05-01T10~0001"], hostile.requests
    row = next(p for p in await fed(node).peer_views() if p["did"] == hostile.did)
    assert (row["state"], row["cursor"]) == ("idle", "log.offset_77")

    # A notice with the peer's own cursor form is scheduled, not refused.
    notice = InboxNotice(sender=hostile.did, cursor="log.offset_78")
    assert await fed(node).peering.handle_notice(hostile.did, notice) == "scheduled"


@pytest.mark.parametrize("bad", ["page 2", "a&limit=1", "é", "x" * 256, ""])
async def test_a_cursor_outside_the_wire_form_is_refused(
    node_factory: Factory, hostile: Hostile, bad: str
) -> None:
    node = await node_factory("Lisboa", **FAST)
    hostile.feed = paged_feed(hostile, {None: ([record(hostile, "one")], bad, False)})
    await fed(node).peering.add(hostile.url)
    await fed(node).worker.sync_now(hostile.did)
    row = next(p for p in await fed(node).peer_views() if p["did"] == hostile.did)
    assert row["state"] == "backoff", row
    assert "cursor" in row["last_error"] or "next" in row["last_error"], row["last_error"]
    assert await versions(node) == {}


async def test_a_page_with_items_must_move_the_cursor(
    node_factory: Factory, hostile: Hostile
) -> None:
    node = await node_factory("Lisboa", **FAST)
    one = record(hostile, "one")
    hostile.feed = paged_feed(
        hostile, {None: ([one], "c1", True), "c1": ([record(hostile, "two")], "c1", True)}
    )
    await fed(node).peering.add(hostile.url)
    await fed(node).worker.sync_now(hostile.did)
    row = next(p for p in await fed(node).peer_views() if p["did"] == hostile.did)
    assert row["state"] == "backoff" and "does not move" in row["last_error"], row
    # The first page was stored with its cursor; the repeating one was not.
    assert await versions(node) == {one["id"]: 1}
    assert row["cursor"] == "c1"
