"""Abuse that cannot starve others: hostile clients on another loopback address (127.0.0.2).

Unverified requests are charged to their source address, verified ones to their signer, and DID
documents fetched for unknown signers are bounded per source (federation/inbound.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from tests.drafts import practice
from tests.federation_support import FAST, Hostile, current, fed, follow, publish
from tests.support import RunningNode

Factory = Callable[..., Awaitable[RunningNode]]
HOSTILE_SOURCE = "127.0.0.2"


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    peer = Hostile()
    peer.fetched: list[str] = []  # type: ignore[misc]

    async def path_did_document(request: web.Request) -> web.Response:
        # Documents for made-up DIDs like did:web:127.0.0.1%3APORT:u7 (counted, then 404).
        peer.fetched.append(request.match_info["name"])  # type: ignore[attr-defined]
        return web.Response(status=404)

    peer.runner.app.router.add_get("/{name}/did.json", path_did_document)
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def from_elsewhere() -> AsyncIterator[aiohttp.ClientSession]:
    """A client whose requests come from 127.0.0.2, not from the peers' 127.0.0.1."""
    connector = aiohttp.TCPConnector(local_addr=(HOSTILE_SOURCE, 0), force_close=True, limit=20)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def flood(
    session: aiohttp.ClientSession,
    url: str,
    headers_for: Callable[[int], dict[str, str]],
    per_second: float,
    seconds: float,
) -> list[int]:
    """Send signed GETs at a steady rate, each on time whether or not the last was answered
    (a hostile client does not wait); the statuses answered."""

    async def one(n: int) -> int:
        await asyncio.sleep(n / per_second)
        async with session.get(url, headers=headers_for(n)) as response:
            await response.read()
            return response.status

    return list(await asyncio.gather(*(one(n) for n in range(int(per_second * seconds)))))


async def signed_gets(url: str, hostile: Hostile, times: int) -> list[tuple[int, str, str]]:
    """Signed GETs one after the other: each answer's status, error code and Retry-After."""
    answers = []
    async with aiohttp.ClientSession() as session:
        for _ in range(times):
            async with session.get(url, headers=hostile.signed_headers("GET", url)) as response:
                code = (await response.json())["code"] if response.status != 200 else ""
                answers.append((response.status, code, response.headers.get("Retry-After", "")))
    return answers


async def test_forged_requests_naming_a_real_peer_do_not_starve_it(
    node_factory: Factory, hostile: Hostile, from_elsewhere: aiohttp.ClientSession
) -> None:
    # Small budgets, so a flood at 50/s would empty the real peer's bucket within a second.
    limits = {
        "inbound_rate_per_second": 5.0,
        "inbound_burst": 10,
        "inbound_source_rate_per_second": 20.0,
        "inbound_source_burst": 20,
    }
    a = await node_factory("Medellín", **{**FAST, **limits})
    b = await node_factory("Lisboa", **FAST)
    await follow(b, a)
    await publish(a, practice("wifi"))
    url = f"{a.url}/fed/v1/changes"

    def forged(n: int) -> dict[str, str]:
        # Signed with the hostile key, but naming B's real key id.
        return hostile.signed_headers("GET", url, keyid=f"{b.did}#key-1")

    async def real_peer() -> list[str | None]:
        errors: list[str | None] = []
        for n in range(10):
            if n == 5:
                await publish(a, practice("aulas"))
            outcomes = await fed(b).worker.sync_now(a.did)
            errors.extend(o.error for o in outcomes)
            await asyncio.sleep(0.25)
        return errors

    statuses, errors = await asyncio.gather(
        flood(from_elsewhere, url, forged, per_second=50, seconds=3.0), real_peer()
    )
    assert errors == [None] * 10, errors  # the real peer was never refused
    assert statuses.count(401) >= 10 and 429 in statuses, statuses  # the forger was
    assert not set(statuses) - {401, 429}, statuses
    assert await current(b, f"{a.url}/records/aulas") is not None
    refused = (await a.node.counters())["rejected.too_many_requests"]
    assert refused.get(HOSTILE_SOURCE, 0) >= 1 and "127.0.0.1" not in refused, refused


async def test_verified_signers_are_limited_after_the_check(
    node_factory: Factory, hostile: Hostile
) -> None:
    a = await node_factory(
        "Medellín", **{**FAST, "inbound_rate_per_second": 1.0, "inbound_burst": 3}
    )
    url = f"{a.url}/fed/v1/changes"
    statuses = [(status, code) for status, code, _ in await signed_gets(url, hostile, 6)]
    assert statuses[:3] == [(200, "")] * 3, statuses
    assert (429, "too_many_requests") in statuses[3:], statuses


async def test_a_429_says_when_to_retry(node_factory: Factory, hostile: Hostile) -> None:
    # RFC 6585 section 4 and RFC 9110 section 10.2.3: the refusal carries Retry-After in whole
    # seconds, which a peer's client waits out before it asks again (citynode/outbound.py).
    a = await node_factory(
        "Medellín", **{**FAST, "inbound_rate_per_second": 1.0, "inbound_burst": 3}
    )
    url = f"{a.url}/fed/v1/changes"
    answers = await signed_gets(url, hostile, 6)
    refusals = [(code, retry_after) for status, code, retry_after in answers if status == 429]
    assert refusals, "the signer was never limited"
    for code, retry_after in refusals:
        assert code == "too_many_requests", refusals
        assert retry_after.isdigit() and int(retry_after) >= 1, refusals


async def test_unknown_signers_cannot_make_the_node_fetch_without_bound(
    node_factory: Factory, hostile: Hostile, from_elsewhere: aiohttp.ClientSession
) -> None:
    a = await node_factory("Medellín", **FAST)
    c = await node_factory("Montevideo", **FAST)
    url = f"{a.url}/fed/v1/changes"
    port = hostile.url.rsplit(":", 1)[1]

    def made_up(n: int) -> dict[str, str]:
        return hostile.signed_headers("GET", url, keyid=f"did:web:127.0.0.1%3A{port}:u{n}#key-1")

    statuses = await flood(from_elsewhere, url, made_up, per_second=100, seconds=1.5)
    fetched = len(hostile.fetched)  # type: ignore[attr-defined]
    # At most the per-source burst (5) plus one a second of refill.
    assert 1 <= fetched <= 8, (fetched, len(statuses))
    assert 429 in statuses and statuses.count(429) >= len(statuses) - 8, statuses
    # A genuine new signer from another address is not held back by that flood.
    async with aiohttp.ClientSession() as session:
        signed = fed(c).client.signer
        assert signed is not None
        headers = dict(signed("GET", url, {}, None))
        async with session.get(url, headers=headers) as response:
            assert response.status == 200, await response.text()
