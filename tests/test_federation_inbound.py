"""Inbound protection: every /fed/ request is signed, fresh, unreplayed, with a matching digest
and a key from the signer's DID document; refusals are counted."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from protocol.httpsig.signing import sign_request
from protocol.messages import InboxNotice, encode_message
from protocol.structured_fields import InnerList, parse_dictionary
from tests.federation_support import FAST, Hostile, fed
from tests.support import RunningNode

Factory = Callable[..., Awaitable[RunningNode]]


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    peer = await Hostile().start()
    yield peer
    await peer.stop()


async def send(method: str, url: str, headers: dict[str, str], body: bytes | None = None):  # type: ignore[no-untyped-def]
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, headers=headers, data=body) as resp,
    ):
        return resp.status, await resp.json()


async def test_refusals_say_how_to_sign(node_factory: Factory, hostile: Hostile) -> None:
    """A 401 carries a challenge and `Accept-Signature` (RFC 9421 section 5.1): what to cover."""
    node = await node_factory("Medellín", **FAST)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{node.url}/fed/v1/changes") as resp:
            assert resp.status == 401
            challenge = resp.headers["WWW-Authenticate"]
            assert challenge.startswith("Signature ") and 'error="signature_missing"' in challenge
            wanted = read_accept(resp.headers["Accept-Signature"])
            assert wanted == ("@method", "@target-uri")
        inbox = f"{node.url}/fed/v1/inbox"
        notice = encode_message(InboxNotice(sender=hostile.did, cursor="1.AQ"))
        async with session.post(inbox, data=notice) as resp:
            assert resp.status == 401
            wanted = read_accept(resp.headers["Accept-Signature"])
            assert wanted == ("@method", "@target-uri", "content-digest")


def read_accept(field: str) -> tuple[str, ...]:
    (member,) = parse_dictionary(field).values()
    assert isinstance(member, InnerList)
    assert member.params == {"alg": "ed25519", "tag": "citynode/1"}
    return tuple(str(item.value) for item in member.items)


async def test_signed_requests_are_checked(node_factory: Factory, hostile: Hostile) -> None:
    node = await node_factory("Medellín", **FAST)
    url = f"{node.url}/fed/v1/changes?limit=10"

    # Unsigned.
    status, body = await send("GET", url, {})
    assert (status, body["code"]) == (401, "signature_missing")

    # Signed properly: served, with the page format.
    headers = hostile.signed_headers("GET", url)
    status, body = await send("GET", url, headers)
    assert status == 200 and body["type"] == "ChangesPage" and body["node"] == node.did

    # The same request again: a replay.
    status, body = await send("GET", url, headers)
    assert (status, body["code"]) == (401, "nonce_replayed")

    # Signed ten minutes ago: expired.
    old = hostile.signed_headers("GET", url, created=int(time.time()) - 600)
    status, body = await send("GET", url, old)
    assert (status, body["code"]) == (401, "signature_expired")

    # A key id the signer's DID document does not list.
    unknown = hostile.signed_headers("GET", url, keyid=f"{hostile.did}#key-9")
    status, body = await send("GET", url, unknown)
    assert (status, body["code"]) == (401, "unknown_key")

    # A body changed after signing: the digest no longer matches.
    inbox = f"{node.url}/fed/v1/inbox"
    notice = encode_message(InboxNotice(sender=hostile.did, cursor="1.AQ"))
    headers = hostile.signed_headers("POST", inbox, notice)
    tampered = notice.replace(b"1.AQ", b"1.Ag")
    status, body = await send("POST", inbox, headers, tampered)
    assert (status, body["code"]) == (401, "digest_mismatch")

    # Signed for another URL (the signature covers @target-uri).
    headers = hostile.signed_headers("GET", f"{node.url}/fed/v1/changes?limit=11")
    status, body = await send("GET", url, headers)
    assert (status, body["code"]) == (401, "bad_signature")

    # A valid notice from a node that is not a peer: refused, not scheduled.
    headers = hostile.signed_headers("POST", inbox, notice)
    status, body = await send("POST", inbox, headers, notice)
    assert (status, body["code"]) == (403, "peer_refused")

    counters = await node.node.counters()
    for code in ("signature_missing", "nonce_replayed", "signature_expired", "unknown_key"):
        assert sum(counters[f"rejected.{code}"].values()) >= 1, code


async def test_oversized_bodies_and_floods_are_refused(
    node_factory: Factory, hostile: Hostile
) -> None:
    node = await node_factory(
        "Medellín", **{**FAST, "inbound_rate_per_second": 1.0, "inbound_burst": 3}
    )
    inbox = f"{node.url}/fed/v1/inbox"
    big = b'{"type":"InboxNotice","sender":"x","cursor":"' + b"A" * 300_000 + b'"}'
    status, body = await send("POST", inbox, hostile.signed_headers("POST", inbox, big), big)
    assert (status, body["code"]) == (413, "payload_too_large")
    url = f"{node.url}/fed/v1/changes"
    statuses = []
    for _ in range(6):
        status, _ = await send("GET", url, hostile.signed_headers("GET", url))
        statuses.append(status)
    assert 429 in statuses and statuses[0] == 200, statuses


async def test_a_nonce_is_a_replay_only_from_the_same_signer(node_factory: Factory) -> None:
    node = await node_factory("Medellín", **FAST)
    url = f"{node.url}/fed/v1/changes"
    first, second = await Hostile().start(), await Hostile().start()
    try:
        created = int(time.time())

        def headers(peer: Hostile) -> dict[str, str]:
            return dict(
                sign_request(
                    "GET", url, {}, None, peer.key, peer.keyid, created, created + 60, "n-1"
                )
            )

        assert (await send("GET", url, headers(first)))[0] == 200
        # Another signer chose the same nonce: its own request, not a replay of the first.
        assert (await send("GET", url, headers(second)))[0] == 200
        status, body = await send("GET", url, headers(second))
        assert (status, body["code"]) == (401, "nonce_replayed")
    finally:
        await first.stop()
        await second.stop()


async def test_a_notice_of_an_unknown_kind_is_ignored(node_factory: Factory) -> None:
    # docs/protocol.md 7.2: `kind` names what changed; a kind from a newer revision is not
    # ours to act on, so it schedules nothing (and is still answered, not refused).
    node = await node_factory("Medellín", **FAST)
    peer = await Hostile().start()
    try:
        await fed(node).peering.add(peer.url)
        await fed(node).worker.sync_now(peer.did)
        peering = fed(node).peering
        later = InboxNotice(sender=peer.did, cursor="1.Zg", kind="vocabulary")
        assert await peering.handle_notice(peer.did, later) == "ignored"
        row = next(p for p in await fed(node).peer_views() if p["did"] == peer.did)
        assert row["state"] == "idle", row
        news = InboxNotice(sender=peer.did, cursor="1.Zg")
        assert await peering.handle_notice(peer.did, news) == "scheduled"
    finally:
        await peer.stop()
