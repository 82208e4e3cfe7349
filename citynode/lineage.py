"""Who learned from whom, and how records hang together, across every city in the replica.

A practice's `adaptedFrom` names the practice it came from, often another city's. Once the
adapting record reaches the origin's node (federation does that), both sides show the link: the
origin lists its adaptations, the adapter its source. The same table (storage/facts.py) gives a
record's results, the programmes it is part of and its parts, whichever city published them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from citynode.storage import facts
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.origins import all_origins
from protocol.errors import InvalidRecord
from protocol.readable import read_record


class RecordRef(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A record by its IRI, with what this node knows of it (`held` False: not in the replica)."""

    id: str
    held: bool
    type: str | None = None
    title: dict[str, str] | None = None
    city: str | None = None
    publisher: str | None = None


class AdaptationLink(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """`practice` was adapted from `adapted_from`, changing `changes`."""

    practice: RecordRef
    adapted_from: RecordRef
    changes: dict[str, str] | None = None
    editorial: list[str] = []
    illustrative: bool | list[str] = False


class Relations(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Every link of one record, both ways."""

    record: RecordRef
    result_of: list[RecordRef] = []
    results: list[RecordRef] = []
    part_of: list[RecordRef] = []
    parts: list[RecordRef] = []
    adapted_from: list[AdaptationLink] = []
    adaptations: list[AdaptationLink] = []


class _Refs:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.cache: dict[str, RecordRef] = {}
        self.origins: dict[str, Any] | None = None

    async def ref(self, record_id: str) -> RecordRef:
        if record_id in self.cache:
            return self.cache[record_id]
        if self.origins is None:
            self.origins = await all_origins(self.db.reader)
        row = await store.get_current(self.db.reader, record_id)
        ref = RecordRef(id=record_id, held=False)
        if row is not None and row.type != "Tombstone":
            try:
                doc = read_record(row.document()).document
            except InvalidRecord:
                doc = {}
            origin = self.origins.get(row.origin)
            ref = RecordRef(
                id=record_id,
                held=True,
                type=row.type,
                title=doc.get("title"),
                city=origin.city if origin else None,
                publisher=row.origin,
            )
        self.cache[record_id] = ref
        return ref

    async def adaptation(self, link: facts.Link) -> AdaptationLink:
        detail = link.detail or {}
        return AdaptationLink(
            practice=await self.ref(link.source),
            adapted_from=await self.ref(link.target),
            changes=detail.get("changes"),
            editorial=list(detail.get("editorial", [])),
            illustrative=detail.get("illustrative", False),
        )


async def relations(db: Database, record_id: str) -> Relations:
    refs = _Refs(db)
    out = await facts.links_from(db.reader, record_id)
    into = await facts.links_to(db.reader, record_id)

    async def targets(links: list[facts.Link], relation: str) -> list[RecordRef]:
        return [await refs.ref(link.target) for link in links if link.relation == relation]

    async def sources(links: list[facts.Link], relation: str) -> list[RecordRef]:
        return [await refs.ref(link.source) for link in links if link.relation == relation]

    def unique(items: list[RecordRef]) -> list[RecordRef]:
        return list({item.id: item for item in items}.values())

    return Relations(
        record=await refs.ref(record_id),
        result_of=await targets(out, "resultOf"),
        results=await sources(into, "resultOf"),
        part_of=unique(await targets(out, "partOf") + await sources(into, "hasPart")),
        parts=unique(await sources(into, "partOf") + await targets(out, "hasPart")),
        adapted_from=[await refs.adaptation(x) for x in out if x.relation == "adaptedFrom"],
        adaptations=[await refs.adaptation(x) for x in into if x.relation == "adaptedFrom"],
    )


async def lineage(db: Database, city: str | None = None) -> list[AdaptationLink]:
    """The federation-wide map of who learned from whom: every adaptedFrom link held, optionally
    only those where `city` (a name or a DID) adapted or was adapted from."""
    refs = _Refs(db)
    found = [await refs.adaptation(link) for link in await facts.links_of(db.reader, "adaptedFrom")]
    if city is None:
        return found
    wanted = city.casefold()
    return [
        item
        for item in found
        if any(
            wanted in ((ref.city or "").casefold(), (ref.publisher or "").casefold())
            for ref in (item.practice, item.adapted_from)
        )
    ]
