"""Evolution without breaking the federation (issue 9 item 4), and text in any language:

- a record in French publishes, federates and is found by a French query at the peer;
- a record carrying terms this node does not know (from a newer node) is verified, kept and
  relayed under its origin's signature, shown and indexed by the part this node reads, while
  publishing the same terms locally is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from citynode.storage import log as change_log
from citynode.storage import records as store
from protocol.readable import read_record
from tests.federation_support import FAST, Hostile, fed, follow, publish
from tests.support import RunningNode, request_json

STATUS = "https://w3id.org/citynode/status#ongoing"
FRENCH = {
    "id": "records/ateliers-numeriques",
    "type": "Programme",
    "title": {"fr": "Ateliers numériques dans les médiathèques de quartier"},
    "summary": {
        "fr": "Des ateliers gratuits pour apprendre à utiliser un ordinateur et internet, "
        "animés par des médiateurs numériques dans chaque médiathèque."
    },
    "status": STATUS,
}


async def test_a_french_record_publishes_federates_and_is_found_in_french(
    node_factory: Callable[..., Awaitable[RunningNode]],
) -> None:
    lyon = await node_factory("Lyon", country="FR", profile={"languages": ["fr"]}, **FAST)
    medellin = await node_factory("Medellín", **FAST)
    await publish(lyon, FRENCH)
    await follow(medellin, lyon)
    await fed(medellin).worker.sync_now()
    record_id = f"{lyon.url}/{FRENCH['id']}"
    assert await store.get_current(medellin.node.db.reader, record_id) is not None
    for node in (lyon, medellin):
        # The index follows the change log: wait until it holds what the node stored.
        head = await change_log.head(node.node.db.reader)
        status, body, _ = await request_json(
            "GET",
            f"{node.url}/api/search",
            params={"q": "médiathèques", "lang": "fr", "wait_for": head},
        )
        assert status == 200, body
        assert [hit["id"] for hit in body["hits"]] == [record_id], body
        assert body["hits"][0]["title"] == FRENCH["title"]["fr"]
    _, descriptor, _ = await request_json("GET", f"{lyon.url}/.well-known/citynode")
    assert descriptor["languages"] == ["fr"]


def _future_record(hostile: Hostile) -> dict[str, Any]:
    """A record as a newer node would publish it: a term and a nested term nobody knows yet."""
    return hostile.sign_record(
        {
            "@context": [
                "https://w3id.org/citynode/v1",
                "https://w3id.org/security/data-integrity/v2",
            ],
            "id": f"{hostile.url}/records/future",
            "type": "Result",
            "version": 1,
            "issued": "2026-01-01T00:00:00Z",
            "modified": "2026-01-01T00:00:00Z",
            "publisher": hostile.did,
            "title": {
                "en": "People trained, with a confidence interval",
                "fr": "Personnes formées",
            },
            "status": STATUS,
            "resultOf": f"{hostile.url}/records/programme",
            "uncertaintyModel": "https://example.org/bootstrap",
            "measurements": [
                {
                    "type": "Measurement",
                    "measures": "https://w3id.org/citynode/indicator#people-trained",
                    "value": 320,
                    "unitCode": "{person}",
                    "period": "2025",
                    "role": "observed",
                    "confidenceInterval": [300, 340],
                }
            ],
        },
        hostile.key,
        hostile.keyid,
    )


async def test_unknown_terms_are_kept_relayed_and_ignored_not_refused(
    node_factory: Callable[..., Awaitable[RunningNode]],
) -> None:
    hostile = await Hostile().start()
    try:
        future = _future_record(hostile)
        hostile.serve_items([future])
        relay = await node_factory("Medellín", **FAST)
        reader = await node_factory("Lisboa", country="PT", **FAST)
        await fed(relay).peering.add(hostile.url)
        await fed(relay).worker.sync_now(hostile.did)
        held = await store.get_current(relay.node.db.reader, future["id"])
        assert held is not None, "a record with unknown terms must be kept"
        # Kept byte for byte: the origin's signature still holds at the next node.
        assert held.document() == future
        readable = read_record(held.document())
        assert set(readable.ignored) == {
            "uncertaintyModel",
            "measurements[0].confidenceInterval",
        }
        # Relayed: a third node pulls it from the relay and verifies it with the origin's key.
        await follow(reader, relay)
        await fed(reader).worker.sync_now(relay.did)
        relayed = await store.get_current(reader.node.db.reader, future["id"])
        assert relayed is not None and relayed.document() == future
        # Shown by the part it knows: the measurement counts in the comparison.
        _, body, _ = await request_json(
            "GET", f"{reader.url}/api/indicators/people-trained/compare"
        )
        points = [p for s in body["cities"] for p in s["observed"]]
        assert [(p["record"], p["value"]) for p in points] == [(future["id"], 320.0)]
        # Indexed by the part it knows, and found.
        head = await change_log.head(reader.node.db.reader)
        _, found, _ = await request_json(
            "GET", f"{reader.url}/api/search", params={"q": "confidence interval", "wait_for": head}
        )
        assert [hit["id"] for hit in found["hits"]] == [future["id"]], found
        # Publishing the same unknown term locally is still refused, naming it.
        draft = {
            "id": "records/local",
            "type": "Programme",
            "title": {"es": "Local"},
            "summary": {"es": "Local"},
            "status": STATUS,
            "uncertaintyModel": "https://example.org/bootstrap",
        }
        status, error, _ = await request_json(
            "POST", f"{relay.url}/api/records", json=[draft], headers=relay.auth()
        )
        assert status == 422, error
        assert "unknown term `uncertaintyModel`" in error["message"]
    finally:
        await hostile.stop()
