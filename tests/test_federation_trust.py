"""Peers that misbehave: garbage feeds, forged, re-signed and tampered records, keys that change.

The hostile peer is a real server on loopback (tests/federation_support.Hostile); the honest
node must refuse, count, keep serving and store nothing bad.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest
from aiohttp import web

from citynode.identity import read_private_key, revoke_key, rotate_key
from citynode.storage.records import now_utc
from tests.drafts import practice
from tests.federation_support import (
    FAST,
    Hostile,
    current,
    fed,
    follow,
    publish,
    versions,
)
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    peer = await Hostile().start()
    yield peer
    await peer.stop()


async def peer_row(node: RunningNode, did: str) -> dict[str, Any]:
    return next(p for p in await fed(node).peer_views() if p["did"] == did)


async def pull_from(node: RunningNode, hostile: Hostile) -> dict[str, Any]:
    await fed(node).peering.add(hostile.url)
    await fed(node).worker.sync_now(hostile.did)
    return await peer_row(node, hostile.did)


async def still_serving(node: RunningNode) -> None:
    status, _, _ = await request_json("GET", f"{node.url}/records?origin=all")
    assert status == 200


def raw_feed(body: bytes, content_type: str = "application/json", delay: float = 0.0):  # type: ignore[no-untyped-def]
    async def feed(request: web.Request) -> web.StreamResponse:
        if delay:
            await asyncio.sleep(delay)
        return web.Response(body=body, headers={"Content-Type": content_type})

    return feed


GOOD_PAGE_START = b'{"type":"ChangesPage","node":"%s","items":[],"next":"1.AA"}'


@pytest.mark.parametrize(
    ("case", "body", "content_type", "words"),
    [
        ("garbage", b"\x00\xffnot json at all", "application/json", "not JSON"),
        (
            "truncated",
            b'{"type":"ChangesPage","node":"x","items":[{"id":',
            "application/json",
            "not JSON",
        ),
        ("wrong type", b"<html>hello</html>", "text/html", "not JSON"),
        (
            "wrong message",
            b'{"type":"InboxNotice","sender":"x","cursor":"1.AA"}',
            "application/json",
            "expected a ChangesPage",
        ),
    ],
)
async def test_a_peer_serving_garbage_is_refused(
    node_factory: Factory,
    hostile: Hostile,
    case: str,
    body: bytes,
    content_type: str,
    words: str,
) -> None:
    node = await node_factory("Medellín", **FAST)
    hostile.feed = raw_feed(body, content_type)
    row = await pull_from(node, hostile)
    assert row["state"] == "backoff", (case, row)
    assert words in row["last_error"], (case, row["last_error"])
    assert await versions(node) == {}
    await still_serving(node)


async def test_a_slow_peer_times_out(node_factory: Factory, hostile: Hostile) -> None:
    node = await node_factory("Medellín", **{**FAST, "request_timeout_seconds": 0.5})
    hostile.feed = raw_feed(b"{}", delay=5.0)
    row = await pull_from(node, hostile)
    assert row["state"] == "backoff"
    assert "did not answer within" in row["last_error"]
    await still_serving(node)


async def genuine(node_factory: Factory) -> tuple[RunningNode, dict[str, Any]]:
    """An honest origin A and one of its signed records."""
    a = await node_factory("Medellín", **FAST)
    await publish(a, practice("wifi"))
    _, record, _ = await request_json("GET", f"{a.url}/records/wifi")
    return a, record


async def test_forged_resigned_and_tampered_records_are_rejected_and_counted(
    node_factory: Factory, hostile: Hostile
) -> None:
    a, record = await genuine(node_factory)
    await publish(a, practice("aulas"))
    _, good, _ = await request_json("GET", f"{a.url}/records/aulas")
    node = await node_factory("Lisboa", **FAST)
    forged_id = f"{a.url}/records/forged"
    items = [
        # Forged: claims A as publisher, signed with the hostile node's key.
        hostile.sign_record({**record, "id": forged_id}, hostile.key, hostile.keyid),
        # Forged under A's key id: the signature is not A's.
        hostile.sign_record(
            {**record, "id": forged_id, "version": 7}, hostile.key, f"{a.did}#key-1"
        ),
        # Re-signed by another node under the origin's id: publisher changed to the hostile
        # node, but the id stays under A's base URL.
        hostile.sign_record(
            {**record, "publisher": hostile.did, "version": 2}, hostile.key, hostile.keyid
        ),
        # Tampered relay: A's genuine record with its title changed.
        {**record, "title": {"es": "Otro título"}},
        # And one genuine record, which must still be taken.
        good,
    ]
    hostile.serve_items(items)
    row = await pull_from(node, hostile)
    assert row["rejected"] == 4, row
    assert row["state"] == "idle"
    held = await versions(node)
    assert held == {good["id"]: 1}, held
    counters = await node.node.counters()
    reasons = {name for name, by in counters.items() if hostile.did in by}
    assert {
        "rejected.key_not_publishers",
        "rejected.signature_mismatch",
        "rejected.id_outside_publisher",
    } <= reasons
    await still_serving(node)


async def test_a_record_signed_with_a_key_not_in_the_did_document(
    node_factory: Factory, hostile: Hostile
) -> None:
    a, record = await genuine(node_factory)
    a_key = read_private_key(a.node.config.keys_path, "key-1")
    node = await node_factory("Lisboa", **FAST)
    unknown = hostile.sign_record(
        {**record, "version": 2, "modified": now_utc()}, a_key, f"{a.did}#key-9"
    )
    hostile.serve_items([unknown])
    row = await pull_from(node, hostile)
    assert row["rejected"] == 1
    assert await versions(node) == {}
    counters = await node.node.counters()
    assert counters["rejected.unknown_key"][hostile.did] == 1


async def test_key_rotated_mid_stream(node_factory: Factory) -> None:
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    await follow(b, a)
    await publish(a, practice("antes"))
    await fed(b).worker.sync_now(a.did)
    async with a.node.db.transaction() as conn:
        await rotate_key(conn, a.node.config.keys_path, now_utc())
    await a.node.reload_identity()
    await publish(a, practice("despues"))
    outcomes = await fed(b).worker.sync_now(a.did)
    # The push notice may have had B pull it already: either way it is stored, and verified.
    assert [o.error for o in outcomes] == [None], outcomes
    after = await current(b, f"{a.url}/records/despues")
    assert after is not None
    assert after.document()["proof"]["verificationMethod"] == f"{a.did}#key-2"
    assert (await current(b, f"{a.url}/records/antes")) is not None


async def test_records_signed_with_a_revoked_key_are_rejected(
    node_factory: Factory, hostile: Hostile
) -> None:
    a, record = await genuine(node_factory)
    # The node caches DID documents briefly here, so it re-reads A's after the revocation.
    node = await node_factory("Lisboa", **{**FAST, "did_cache_seconds": 0.2})
    await follow(node, a)
    await fed(node).worker.sync_now(a.did)
    stolen = read_private_key(a.node.config.keys_path, "key-1")
    async with a.node.db.transaction() as conn:
        await rotate_key(conn, a.node.config.keys_path, now_utc())
        await revoke_key(conn, a.node.config.keys_path, "key-1", now_utc())
    await a.node.reload_identity()
    await asyncio.sleep(1.1)  # the forgery is dated after the revocation (1 s resolution)
    forged = hostile.sign_record(
        {**record, "version": 2, "modified": now_utc(), "title": {"es": "Falso"}},
        stolen,
        f"{a.did}#key-1",
    )
    hostile.serve_items([forged])
    await asyncio.sleep(0.25)
    row = await pull_from(node, hostile)
    assert row["rejected"] == 1, row
    counters = await node.node.counters()
    assert counters["rejected.key_revoked"][hostile.did] == 1
    held = await current(node, record["id"])
    assert held is not None and held.version == 1  # the record signed before still stands


async def test_a_tombstone_wins_and_older_versions_are_dropped(
    node_factory: Factory, hostile: Hostile
) -> None:
    a, record = await genuine(node_factory)
    node = await node_factory("Lisboa", **FAST)
    await follow(node, a)
    await fed(node).worker.sync_now(a.did)
    status, _, _ = await request_json("DELETE", f"{a.url}/api/records/wifi", headers=a.auth())
    assert status == 200
    await fed(node).worker.sync_now(a.did)
    held = await current(node, record["id"])
    assert held is not None and held.type == "Tombstone" and held.version == 2
    # A relay serving the old version afterwards changes nothing (and it is not a rejection).
    hostile.serve_items([record])
    row = await pull_from(node, hostile)
    assert row["rejected"] == 0
    held = await current(node, record["id"])
    assert held is not None and held.type == "Tombstone"
    assert msgspec.json.decode(held.body)["type"] == "Tombstone"
