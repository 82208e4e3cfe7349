"""The search indexer: a follower of the change log (storage/log.py) that keeps the index in step.

Publish and ingest only store; this follower reads what was stored after its position, in
batches, and replaces those records in the index: a tombstone deletes, any other version deletes
the old document and adds the new one, in one tantivy commit that also records the position
(engine.py). Writes by other processes (a CLI `publish` beside `serve`) reach it through the
log's poll, within a second.

A practice without a start date takes its year from its results (schema.practice_year), so a
batch holding results also re-indexes their practices when those have no start date.

Each record is indexed by its readable part (schema.readable, protocol/readable.py): a peer's
newer terms or odd values are set aside, so no record can fail a batch; a record not even
readable in part is left out of the index (and out of hits).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Final

from tantivy import Query

from citynode.origins import Origin
from citynode.search import schema
from citynode.search.engine import Engine
from citynode.storage import records as store
from citynode.storage.db import Database
from citynode.storage.origins import all_origins
from citynode.storage.records import StoredRecord

NAME: Final = "search"


class Indexer:
    """The `Follower` that writes the search index (one per writable engine)."""

    name = NAME

    def __init__(self, db: Database, engine: Engine) -> None:
        self.db = db
        self.engine = engine
        self._origins: dict[str, Origin] = {}

    async def position(self) -> int:
        return self.engine.position()

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        if any(entry.origin not in self._origins for entry in entries):
            self._origins = await all_origins(self.db.reader)
        # Reading (decode and check) 5,000 entries takes a few hundred ms: off the event loop.
        documents = await asyncio.to_thread(_read_all, entries)
        practices = await self._practices_of_results(documents)
        await asyncio.to_thread(self._write, documents, practices, upto)

    async def _practices_of_results(
        self, documents: Sequence[tuple[StoredRecord, dict[str, Any] | None]]
    ) -> list[tuple[StoredRecord, dict[str, Any] | None]]:
        """Practices without a start date whose results are in this batch (not in it themselves)."""
        in_batch = {entry.id for entry, _ in documents}
        wanted = {
            doc["resultOf"]
            for _, doc in documents
            if doc is not None
            and doc.get("type") == "Result"
            and isinstance(doc.get("resultOf"), str)
        } - in_batch
        found: list[tuple[StoredRecord, dict[str, Any] | None]] = []
        for practice_id in sorted(wanted):
            stored = await store.get_current(self.db.reader, practice_id)
            if stored is None or stored.type == "Tombstone":
                continue
            doc = _readable(stored)
            if doc is not None and not schema.year_of(doc.get("startDate")):
                found.append((stored, doc))
        return found

    def _write(
        self,
        documents: Sequence[tuple[StoredRecord, dict[str, Any] | None]],
        practices: Sequence[tuple[StoredRecord, dict[str, Any] | None]],
        upto: int,
    ) -> None:
        searcher = self.engine.searcher
        batch_years: dict[str, list[str]] = {}
        for _, doc in documents:
            if (
                doc is not None
                and doc.get("type") == "Result"
                and isinstance(doc.get("resultOf"), str)
            ):
                year = schema.result_year(doc)
                if year:
                    batch_years.setdefault(doc["resultOf"], []).append(year)
        delete: list[str] = []
        add: list[bytes] = []
        for entry, doc in [*documents, *practices]:
            if searcher.doc_freq("id", entry.id):
                delete.append(entry.id)
            if entry.type == "Tombstone" or doc is None:
                continue
            years: list[str] = []
            if entry.type != "Result" and not schema.year_of(doc.get("startDate")):
                indexed = _indexed_result_years(self.engine, entry.id)
                years = [*indexed, *batch_years.get(entry.id, [])]
            add.append(schema.document(doc, entry.seq, self._origins.get(entry.origin), years))
        self.engine.write(add, delete, upto)


def _read_all(entries: list[StoredRecord]) -> list[tuple[StoredRecord, dict[str, Any] | None]]:
    return [(entry, _readable(entry)) for entry in entries]


def _readable(entry: StoredRecord) -> dict[str, Any] | None:
    return None if entry.type == "Tombstone" else schema.readable(entry.body)


def _indexed_result_years(engine: Engine, practice_id: str) -> list[str]:
    """The years of a practice's results as the index holds them."""
    query = Query.term_query(engine.index.schema, "result_of", practice_id)
    answer = engine.searcher.aggregate(query, {"years": {"terms": {"field": "year", "size": 1000}}})
    return [str(bucket["key"]) for bucket in answer["years"]["buckets"]]
