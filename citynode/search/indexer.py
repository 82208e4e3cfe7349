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
from collections.abc import Iterator, Mapping, Sequence
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
        # Results first (a tenth of the records): their practices' years depend on them.
        results = await asyncio.to_thread(_read_results, entries)
        practices = await self._practices_of_results(entries, results)
        await asyncio.to_thread(self._write, entries, results, practices, upto)

    async def _practices_of_results(
        self, entries: Sequence[StoredRecord], results: Mapping[int, dict[str, Any]]
    ) -> list[tuple[StoredRecord, dict[str, Any] | None]]:
        """Practices without a start date whose results are in this batch (not in it themselves)."""
        in_batch = {entry.id for entry in entries}
        wanted = {
            doc["resultOf"] for doc in results.values() if isinstance(doc.get("resultOf"), str)
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
        entries: Sequence[StoredRecord],
        results: Mapping[int, dict[str, Any]],
        practices: Sequence[tuple[StoredRecord, dict[str, Any] | None]],
        upto: int,
    ) -> None:
        """Delete the old documents, add the new ones, commit (in a thread).

        Each record is read and made into its index document one at a time, as tantivy's
        threads index the previous ones: the batch is never held decoded (memory), and the
        Python work runs beside the engine's instead of before it (bench/RESULTS.md).
        """
        searcher = self.engine.searcher
        batch_years: dict[str, list[str]] = {}
        for doc in results.values():
            year = schema.result_year(doc)
            if year and isinstance(doc.get("resultOf"), str):
                batch_years.setdefault(doc["resultOf"], []).append(year)
        every = [*entries, *(stored for stored, _ in practices)]
        known = {stored.seq: doc for stored, doc in practices}
        delete = [entry.id for entry in every if searcher.doc_freq("id", entry.id)]

        def documents() -> Iterator[bytes]:
            for entry in every:
                if entry.type == "Tombstone":
                    continue
                doc = results.get(entry.seq) or known.get(entry.seq) or _readable(entry)
                if doc is None:
                    continue
                years: list[str] = []
                if entry.type != "Result" and not schema.year_of(doc.get("startDate")):
                    indexed = _indexed_result_years(self.engine, entry.id)
                    years = [*indexed, *batch_years.get(entry.id, [])]
                yield schema.document(doc, entry.seq, self._origins.get(entry.origin), years)

        self.engine.write(documents(), delete, upto)


def _read_results(entries: list[StoredRecord]) -> dict[int, dict[str, Any]]:
    """The readable part of each result in the batch, by log position."""
    found = {}
    for entry in entries:
        if entry.type == "Result":
            doc = _readable(entry)
            if doc is not None and doc.get("type") == "Result":
                found[entry.seq] = doc
    return found


def _readable(entry: StoredRecord) -> dict[str, Any] | None:
    return None if entry.type == "Tombstone" else schema.readable(entry.body)


def _indexed_result_years(engine: Engine, practice_id: str) -> list[str]:
    """The years of a practice's results as the index holds them."""
    query = Query.term_query(engine.index.schema, "result_of", practice_id)
    answer = engine.searcher.aggregate(query, {"years": {"terms": {"field": "year", "size": 1000}}})
    return [str(bucket["key"]) for bucket in answer["years"]["buckets"]]
