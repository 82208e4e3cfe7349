"""Federation between real nodes on loopback: peering, pull, push, relay, convergence."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from citynode.federation.verifier import POOL_THRESHOLD
from citynode.publishing import Publisher
from citynode.storage import log as change_log
from citynode.storage.db import Database
from citynode.web.keys import SEARCH
from tests.drafts import STATUS, practice
from tests.federation_support import (
    FAST,
    current,
    fed,
    follow,
    indexed_ids,
    publish,
    stored_rows,
    versions,
    wait_for,
)
from tests.support import RunningNode, request_json

Factory = Callable[..., Awaitable[RunningNode]]


async def test_pull_from_a_peer(node_factory: Factory) -> None:
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    await publish(a, practice("wifi"), practice("aulas"))
    await follow(b, a)
    outcomes = await fed(b).worker.sync_now(a.did)
    # B's own worker may have pulled already (peering wakes it): both pulls together stored 2.
    assert [o.error for o in outcomes] == [None], outcomes
    assert fed(b).worker.stored_by_peer[a.did] == 2
    held = await versions(b)
    assert held[f"{a.url}/records/wifi"] == 1
    _, page, _ = await request_json("GET", f"{b.url}/records?origin=all")
    cities = {item["id"]: item["origin"]["city"] for item in page["items"]}
    assert cities[f"{a.url}/records/wifi"] == "Medellín"


async def chain(node_factory: Factory) -> tuple[RunningNode, RunningNode, RunningNode]:
    """A -> B -> C: B follows A, C follows B only (C gets A's records through B's relay)."""
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    c = await node_factory("Montevideo", **FAST)
    await follow(b, a)
    await follow(c, b)
    return a, b, c


async def test_chain_relays_and_converges_with_push(node_factory: Factory) -> None:
    a, b, c = await chain(node_factory)
    record_id = f"{a.url}/records/wifi"

    async def at_c(version: int) -> bool:
        row = await current(c, record_id)
        return row is not None and row.version == version

    # Publish: pushed A -> B, relayed B -> C, no manual sync.
    await publish(a, practice("wifi"))
    await wait_for(lambda: at_c(1), what="C to get A's record through B")
    row = await current(c, record_id)
    assert row is not None and row.origin == a.did
    assert row.document()["proof"]["verificationMethod"].startswith(a.did)
    status, page, _ = await request_json("GET", f"{c.url}/records?origin=all")
    assert [item["origin"]["city"] for item in page["items"]] == ["Medellín"]
    # C never talked to A: the city came from A's descriptor, the keys from A's DID document.
    assert a.did not in {p["did"] for p in await fed(c).peer_views()}

    # Update.
    status, _, _ = await request_json(
        "PUT",
        f"{a.url}/api/records/wifi",
        json=practice("wifi", status=STATUS + "completed"),
        headers=a.auth(),
    )
    assert status == 200
    await wait_for(lambda: at_c(2), what="the update to reach C")
    assert (await current(b, record_id)).version == 2  # type: ignore[union-attr]

    # Withdraw: the tombstone reaches B and C and takes the record out of their search index.
    status, _, _ = await request_json("DELETE", f"{a.url}/api/records/wifi", headers=a.auth())
    assert status == 200
    await wait_for(lambda: at_c(3), what="the tombstone to reach C")
    for node in (b, c):
        row = await current(node, record_id)
        assert row is not None and row.type == "Tombstone"
        await node.runner.app[SEARCH].searchable(row.seq)
        assert record_id not in indexed_ids(node)
    status, page, _ = await request_json("GET", f"{c.url}/records?origin=all")
    assert page["items"] == []
    # Every version stored once per node.
    for node in (b, c):
        rows = await stored_rows(node)
        assert sorted(rows) == sorted(set(rows))


async def test_relayed_record_is_searchable_at_the_end_of_the_chain(node_factory: Factory) -> None:
    a, _, c = await chain(node_factory)
    title = {"es": "Biblioteca de parque", "en": "Park library"}
    await publish(a, practice("biblioteca", title=title))

    async def indexed() -> bool:
        _, found, _ = await request_json(
            "GET", f"{c.url}/api/search", params={"q": "biblioteca", "city": "Medellín"}
        )
        return [h["id"] for h in found["hits"]] == [f"{a.url}/records/biblioteca"]

    await wait_for(indexed, what="the record in C's search index")


async def test_two_relays_of_the_same_origin_store_each_version_once(
    node_factory: Factory,
) -> None:
    a = await node_factory("Medellín", **FAST)
    b1 = await node_factory("Lisboa", **FAST)
    b2 = await node_factory("Montevideo", **FAST)
    # No background worker at C: a push-driven pull there would race the explicit sync below
    # and store part of the records before it (seen under load).
    c = await node_factory("Quito", worker=False, **FAST)
    for relay in (b1, b2):
        await follow(relay, a)
        await follow(c, relay)
    await publish(a, *(practice(f"p{i}") for i in range(5)))
    for relay in (b1, b2):
        await fed(relay).worker.sync_now(a.did)
    outcomes = await fed(c).worker.sync_now()
    assert sum(o.stored for o in outcomes) == 5, outcomes
    await fed(c).worker.sync_now()
    rows = [row for row in await stored_rows(c) if row[0].startswith(a.url)]
    assert len(rows) == 5 and len(set(rows)) == 5


async def test_a_big_page_is_verified_in_the_pool(node_factory: Factory) -> None:
    """Pages over the pool threshold are checked in worker processes: the replica's search index
    must hold exactly what the origin's does."""
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    drafts = [
        practice(f"grande{i}", title={"es": f"Biblioteca número {i}", "en": f"Library {i}"})
        for i in range(POOL_THRESHOLD + 36)
    ]
    await publish(a, *drafts)
    await follow(b, a)
    outcomes = await fed(b).worker.sync_now(a.did)
    assert sum(o.stored for o in outcomes) == len(drafts)
    await b.runner.app[SEARCH].searchable(await change_log.head(b.node.db.reader))
    assert indexed_ids(a) == indexed_ids(b) and len(indexed_ids(b)) == len(drafts)
    _, found, _ = await request_json("GET", f"{b.url}/api/search", params={"q": "bibliotecas"})
    assert found["total"] == len(drafts)


async def test_a_write_by_another_process_is_pushed_to_peers(node_factory: Factory) -> None:
    """The push notifier follows the change log: a record stored by another process on A's
    home (a CLI `publish` beside `serve`) reaches B by push, long before B's 60 s poll."""
    a = await node_factory("Medellín", **FAST)
    b = await node_factory("Lisboa", **FAST)
    await follow(b, a)
    await fed(b).worker.sync_now(a.did)
    sent = fed(a).notifier.stats["sent"]
    other = await Database.open(a.node.db.path)  # a second writer, like another process
    try:
        publisher = Publisher(other, a.node.keyring, a.node.origin)
        await publisher.publish([practice("desde-la-cli")], shacl=False)
    finally:
        await other.close()
    record_id = f"{a.url}/records/desde-la-cli"
    took = await wait_for(lambda: _held(b, record_id), within=10.0, what="the record at B")
    assert took < 3.0, took
    assert fed(a).notifier.stats["sent"] > sent


async def _held(node: RunningNode, record_id: str) -> bool:
    return await current(node, record_id) is not None
