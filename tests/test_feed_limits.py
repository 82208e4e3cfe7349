"""The descriptor's limits are what the /fed/ routes do (docs/protocol.md section 9): a page never
holds more items than `limits.maxPageSize` or more bytes than a page may, and a request body over
`limits.maxBodyBytes` is refused."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable

import msgspec

from citynode.federation.feed import Feed
from protocol.cursor import START
from protocol.httpsig.signing import sign_request
from protocol.messages import MAX_REQUEST_BYTES, ChangesPage, NodeDescriptor, decode_as
from tests.drafts import practice
from tests.federation_support import FAST, Hostile, publish
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]


def signed(peer: Hostile, method: str, url: str, body: bytes | None = None) -> dict[str, str]:
    created = int(time.time())
    headers = {"Content-Type": "application/json"} if body else {}
    headers.update(
        sign_request(
            method, url, headers, body, peer.key, peer.keyid, created, created + 60,
            secrets.token_urlsafe(16),
        )
    )  # fmt: skip
    return headers


async def test_a_page_holds_at_most_the_advertised_page_size(node_factory: Factory) -> None:
    node = await node_factory("Medellín", sections={"server": {"max_page_size": 3}}, **FAST)
    await publish(node, *(practice(f"p{n}") for n in range(5)))
    _, wire, _ = await request_json("GET", f"{node.url}/.well-known/citynode")
    descriptor = msgspec.convert(wire, NodeDescriptor)
    assert descriptor.limits.max_page_size == 3
    # The federation routes accept less than the API does: the descriptor says the smaller.
    assert descriptor.limits.max_body_bytes == MAX_REQUEST_BYTES

    peer = await Hostile().start()
    try:
        url = f"{node.url}/fed/v1/changes?limit=500"
        status, body, _ = await request_json("GET", url, headers=signed(peer, "GET", url))
        assert status == 200, body
        page = msgspec.convert(body, ChangesPage)
        assert len(page.items) == 3 and page.has_more

        inbox = f"{node.url}/fed/v1/inbox"
        big = b'{"type":"InboxNotice","sender":"x","cursor":"1.AA","pad":"'
        big += b"x" * (descriptor.limits.max_body_bytes - len(big) - 1) + b'"}'
        assert len(big) == descriptor.limits.max_body_bytes + 1
        status, body, _ = await request_json(
            "POST", inbox, data=big, headers=signed(peer, "POST", inbox, big)
        )
        assert (status, body["code"]) == (413, "payload_too_large")
    finally:
        await peer.stop()


async def test_a_page_of_large_records_is_cut_by_bytes(node_factory: Factory) -> None:
    node = await node_factory("Medellín", **FAST)
    await publish(node, *(practice(f"p{n}") for n in range(6)))
    page = decode_as(await node_feed(node, 1_000_000).changes_page(None, 100), ChangesPage)
    assert len(page.items) == 6 and not page.has_more
    bodies = [len(msgspec.json.encode(item)) for item in page.items]
    # Room for two of these records, not three: the page stops at two and says more follow.
    budget = bodies[0] + bodies[1] + 4096 + 2 + (bodies[2] // 2)
    cut = await node_feed(node, budget).changes_page(None, 100)
    page = decode_as(cut, ChangesPage)
    assert len(page.items) == 2 and page.has_more
    # Resuming from its cursor gives the rest, two at a time, and nothing twice.
    seen = [i["id"] for i in page.items]
    while page.has_more:
        page = decode_as(await node_feed(node, budget).changes_page(page.next, 100), ChangesPage)
        seen += [i["id"] for i in page.items]
    assert len(seen) == len(set(seen)) == 6
    # A single record larger than the budget still goes, alone (else the feed would stall).
    alone = decode_as(await node_feed(node, 10).changes_page(START, 100), ChangesPage)
    assert len(alone.items) == 1 and alone.has_more


def node_feed(node: RunningNode, max_page_bytes: int) -> Feed:
    return Feed(
        node.node.db, node.did, relay=True, max_page_size=500, max_page_bytes=max_page_bytes
    )
