"""Links between records, checked when this node publishes: resultOf, partOf, hasPart and
adaptedFrom must point where they say, and partOf/hasPart may never make a cycle.

The record model checks what one record says on its own (protocol/record_rules.py: a record is
not part of, nor adapted from, itself). What needs the other records held here (this node's and
its peers') is checked here, against the store and the rest of the batch being published.
"""

from __future__ import annotations

from typing import Any, Final

import aiosqlite

from citynode.storage import facts
from citynode.storage import records as store
from protocol.errors import InvalidRecord
from protocol.readable import read_record
from protocol.records import PRACTICE_TYPES, Record, Result, Tombstone, record_to_builtins

#: A partOf chain deeper than this is refused rather than walked further.
MAX_DEPTH: Final = 100


def _links_out(record: Record) -> bool:
    return not isinstance(record, Tombstone) and bool(
        record.part_of or record.has_part or getattr(record, "adapted_from", None)
    )


def _kind(type_name: str) -> str:
    return "practice" if type_name in PRACTICE_TYPES else "result"


class Held:
    """What the checks know of the records: the batch's versions, else the stored ones. Built
    once per batch; only records that link to others cost a lookup."""

    def __init__(self, conn: aiosqlite.Connection, batch: list[Record]) -> None:
        self.conn = conn
        self.batch = {
            record.id: record_to_builtins(record) for record in batch if _links_out(record)
        }
        self.all_ids = {record.id: record for record in batch}
        self.cache: dict[str, dict[str, Any] | None] = {}

    async def document(self, record_id: str) -> dict[str, Any] | None:
        if record_id in self.batch:
            return self.batch[record_id]
        if record_id in self.all_ids:
            return record_to_builtins(self.all_ids[record_id])
        if record_id not in self.cache:
            row = await store.get_current(self.conn, record_id)
            doc: dict[str, Any] | None = None
            if row is not None:
                try:
                    doc = read_record(row.document()).document
                except InvalidRecord:
                    doc = None
            self.cache[record_id] = doc
        return self.cache[record_id]

    async def parents(self, record_id: str) -> list[str]:
        """Records that `record_id` is part of: its own partOf, and every record that lists it
        in hasPart (in the batch, or held: the facts table)."""
        found: list[str] = []
        doc = await self.document(record_id)
        if doc is not None:
            found.extend(doc.get("partOf", ()))
        for other_id, other in self.batch.items():
            if record_id in other.get("hasPart", ()):
                found.append(other_id)
        for link in await facts.links_to(self.conn, record_id):
            if link.relation == "hasPart" and link.source not in self.batch:
                found.append(link.source)
        return list(dict.fromkeys(found))


def _error(record: Record, path: str, rule: str, words: str) -> InvalidRecord:
    return InvalidRecord(
        f"record {record.id}: '{path}' {words}",
        record=record.id,
        field=path.split(".")[-1].split("[")[0],
        path=path,
        rule=rule,
    )


async def check_references(record: Record, held: Held) -> None:
    """Raise `InvalidRecord` for the first link of `record` that does not hold.

    A record that declares no link adds no edge, so it cannot close a partOf cycle (the stored
    records have none): it costs nothing here, which keeps bulk publishing fast.
    """
    if isinstance(record, Tombstone) or not _links_out(record):
        return
    own_kind = _kind(type(record).__name__)
    for relation in ("partOf", "hasPart"):
        targets = record.part_of if relation == "partOf" else record.has_part
        for index, target in enumerate(targets):
            doc = await held.document(target)
            path = f"{relation}[{index}]"
            if doc is None:
                raise _error(
                    record,
                    path,
                    "known-record",
                    f"is {target}, which this node does not hold (publish it first, or sync "
                    "from the city that published it)",
                )
            if _kind(str(doc.get("type"))) != own_kind:
                raise _error(
                    record,
                    path,
                    "part-of-same-kind",
                    f"is {target}, a {doc.get('type')}: a practice is part of a practice (a "
                    "programme), a result part of a result; results belong to practices "
                    "through resultOf",
                )
    await _no_cycle(record, held)
    if not isinstance(record, Result):
        for index, adaptation in enumerate(record.adapted_from):
            doc = await held.document(adaptation.practice)
            if doc is not None and doc.get("type") not in PRACTICE_TYPES:
                raise _error(
                    record,
                    f"adaptedFrom[{index}].practice",
                    "adapted-from-practice",
                    f"is {adaptation.practice}, a {doc.get('type')}, not a practice",
                )


async def _no_cycle(record: Record, held: Held) -> None:
    """Walk up from the record through partOf (and others' hasPart); meeting it again is a
    cycle: A part of B part of A."""
    start = record.id
    trail: dict[str, str] = {}
    frontier = [start]
    depth = 0
    while frontier and depth < MAX_DEPTH:
        depth += 1
        nxt: list[str] = []
        for node in frontier:
            for parent in await held.parents(node):
                if parent == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(trail[chain[-1]])
                    words = " is part of ".join([*reversed(chain), start])
                    raise _error(record, "partOf", "part-of-cycle", f"makes a cycle: {words}")
                if parent not in trail:
                    trail[parent] = node
                    nxt.append(parent)
        frontier = nxt
