"""Recovery: nodes killed in the middle of a sync resume from the cursor, losing and duplicating
nothing; reconcile repairs what pull missed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from msgspec.structs import replace

from citynode.storage.peers import get_peer, write_sync
from tests.drafts import practice
from tests.federation_support import (
    FAST,
    bound_socket,
    fed,
    follow,
    publish,
    stored_rows,
    versions,
    wait_for,
)
from tests.support import RunningNode, start_node

Factory = Callable[..., Awaitable[RunningNode]]
SMALL_PAGES = {**FAST, "page_size": 5, "pages_per_turn": 1}
COUNT = 40


def port_of(node: RunningNode) -> int:
    return int(node.url.rsplit(":", 1)[1])


async def records_from(node: RunningNode, origin: RunningNode) -> int:
    return sum(1 for record_id in await versions(node) if record_id.startswith(origin.url))


async def test_puller_killed_mid_sync_resumes_from_its_cursor(node_factory: Factory) -> None:
    a = await node_factory("Medellín", **FAST)
    await publish(a, *(practice(f"p{i:02}") for i in range(COUNT)))
    b = await node_factory("Lisboa", **SMALL_PAGES)
    await follow(b, a)

    # Kill B while its sync is under way (a task cancelled mid-pull, then the server stopped).
    sync = asyncio.create_task(fed(b).worker.sync_now(a.did))
    await wait_for(lambda: _at_least(b, a, 10), what="B to be part way through")
    sync.cancel()
    await asyncio.gather(sync, return_exceptions=True)
    await b.stop()

    b = await start_node(b.home, name="Lisboa", sock=bound_socket(port_of(b)))
    try:
        held_before = await records_from(b, a)
        peer = next(p for p in await fed(b).peer_views() if p["did"] == a.did)
        assert 10 <= held_before < COUNT and peer["cursor"], (held_before, peer)
        # The dead run's lease was released at start-up: the peer is due, or the restarted
        # node's own worker already took it up again.
        assert peer["state"] in ("due", "syncing"), peer
        outcomes = await fed(b).worker.sync_now(a.did)
        # Only what was missing arrived (by this pull or the restarted worker's).
        assert outcomes[0].stored <= COUNT - held_before, outcomes
        assert await records_from(b, a) == COUNT
        rows = await stored_rows(b)
        assert len(rows) == len(set(rows)) == COUNT
    finally:
        await b.stop()


async def _at_least(node: RunningNode, origin: RunningNode, count: int) -> bool:
    return await records_from(node, origin) >= count


async def test_served_peer_killed_mid_sync_then_back(node_factory: Factory) -> None:
    a_sock = bound_socket()
    a = await node_factory("Medellín", sock=a_sock, **FAST)
    await publish(a, *(practice(f"p{i:02}") for i in range(COUNT)))
    # B's background worker is off: the test steps it (run_once) to stop A between pages.
    b = await node_factory("Lisboa", **{**SMALL_PAGES, "worker": False})
    await follow(b, a)
    await fed(b).worker.run_once()
    await fed(b).worker.run_once()
    assert await records_from(b, a) == 10
    port = port_of(a)
    await a.stop()
    outcomes = await fed(b).worker.sync_now(a.did)
    assert outcomes[0].state == "backoff" and outcomes[0].error, outcomes
    a = await start_node(a.home, name="Medellín", sock=bound_socket(port))
    try:

        async def complete() -> bool:
            await fed(b).worker.sync_now(a.did)
            return await records_from(b, a) == COUNT

        # The guarded client backs off from the host that failed; retry until it lets us.
        await wait_for(complete, within=30, what="B to finish after A came back")
        rows = await stored_rows(b)
        assert len(rows) == len(set(rows)) == COUNT
    finally:
        await a.stop()


async def test_reconcile_repairs_what_pull_missed(node_factory: Factory) -> None:
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    await publish(a, *(practice(f"p{i}") for i in range(3)))
    await follow(b, a)
    await fed(b).worker.sync_now(a.did)
    # Lose a record at B behind the feed's back (a restored old backup, say).
    lost = f"{a.url}/records/p1"
    async with b.node.db.transaction() as conn:
        await conn.execute("DELETE FROM current WHERE id = ?", (lost,))
        await conn.execute("DELETE FROM records WHERE id = ?", (lost,))
    assert await records_from(b, a) == 2
    # Pull alone cannot see it (the cursor is past it); make the reconcile due now.
    peer = await get_peer(b.node.db.reader, a.did)
    assert peer is not None
    async with b.node.db.transaction() as conn:
        await write_sync(conn, a.did, replace(peer.sync, reconcile_at=0.0))
    await fed(b).worker.sync_now(a.did)
    assert await records_from(b, a) == 3
