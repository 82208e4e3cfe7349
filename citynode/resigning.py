"""Re-signing: `citynode key rotate --resign` gives this node's records new versions signed with
the key it signs with now.

Why: a record signed by a key revoked from a time before the record was signed shows as
`revoked` everywhere (citynode/trust.py); the same content signed again with the new key is a
new version every peer verifies. Content is unchanged; `version`, `previousVersion`,
`modified` and the proof are new. Tombstones are re-signed too, so a withdrawal stays
verifiable.
"""

from __future__ import annotations

from collections.abc import Callable

from citynode.publishing import Published, Publisher
from citynode.record_ids import version_iri
from citynode.storage import records as store
from protocol.records import parse_record


async def resign(
    publisher: Publisher, *, batch: int = 500, progress: Callable[[int], None] | None = None
) -> list[Published]:
    """New versions of this node's current records and tombstones signed with another key
    than the active one, same content, signed with the active key (`key rotate --resign`).

    Batches of `batch` records, each settled in its own write transaction (the current
    version is read there, so a concurrent edit is built on, never overwritten).
    """
    outcomes: list[Published] = []
    rows = await store.all_current(
        publisher.db.reader, publisher.identity.did, include_tombstones=True
    )
    ids = [row.id for row in rows]
    for start in range(0, len(ids), batch):
        done = await _resign_batch(publisher, ids[start : start + batch])
        outcomes.extend(done)
        if progress is not None:
            progress(len(ids[start : start + batch]))
    return outcomes


async def _resign_batch(publisher: Publisher, ids: list[str]) -> list[Published]:
    outcomes: list[Published] = []
    items: list[store.NewVersion] = []
    async with publisher.db.transaction() as conn:
        await publisher.keyring.refresh(conn)
        identity = publisher.identity
        stamp = store.now_utc()
        for record_id in ids:
            current = await store.get_current(conn, record_id)
            if current is None:
                continue
            previous = current.document()
            proof = previous.get("proof") or {}
            if proof.get("verificationMethod") == identity.verification_method:
                continue
            successor = {
                **{k: v for k, v in previous.items() if k != "proof"},
                "version": current.version + 1,
                "previousVersion": version_iri(record_id, current.version),
                "modified": max(stamp, str(previous.get("modified", ""))),
            }
            signed, body = publisher.sign(parse_record(successor))
            items.append(store.new_version_of(signed, body))
            outcomes.append(
                Published(
                    id=record_id,
                    version=current.version + 1,
                    type=current.type,
                    outcome="resigned",
                )
            )
        if items:
            # The search index and push notices follow the change log (storage/log.py).
            await store.append(conn, items)
    return outcomes
