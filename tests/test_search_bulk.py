"""Bulk indexing analyses text in a separate process: it must index exactly what the in-thread
path indexes for the same records."""

from __future__ import annotations

import itertools
from pathlib import Path

import aiosqlite

from bench.search_corpus import corpus
from citynode.search import index
from citynode.search.query import SearchQuery, search
from citynode.storage.search_schema import STATEMENTS
from citynode.workers import WorkerPool


async def _database(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    for statement in STATEMENTS:
        await conn.execute(statement)
    return conn


async def test_process_and_thread_analysis_index_the_same(tmp_path: Path) -> None:
    records = [(doc, origin, "verified") for doc, origin in itertools.islice(corpus(600), 600)]
    assert len(records) >= index.PROCESS_THRESHOLD
    bulk = await _database(tmp_path / "bulk.db")
    small = await _database(tmp_path / "small.db")
    pool = WorkerPool(1, name="search-analysis")
    try:
        await bulk.execute("BEGIN")
        await index.put_many(bulk, records, pool=pool)  # one call: the analysis process
        assert pool.started
        await bulk.execute("COMMIT")
        await small.execute("BEGIN")
        for start in range(0, len(records), 50):  # small calls: a worker thread
            await index.put_many(small, records[start : start + 50])
        await small.execute("COMMIT")
        query = (
            "SELECT d.id, f.title, f.summary, f.body, f.tags FROM search_fts f"
            " JOIN search_docs d ON d.docid = f.rowid ORDER BY d.id"
        )
        async with bulk.execute(query) as cursor:
            from_bulk = await cursor.fetchall()
        async with small.execute(query) as cursor:
            from_small = await cursor.fetchall()
        assert len(from_bulk) == len(records)
        assert from_bulk == from_small
        for text in ("movilidad", "water energy", '"transporte público"'):
            a = await search(bulk, SearchQuery(text=text))
            b = await search(small, SearchQuery(text=text))
            assert a.total == b.total and [h.id for h in a.hits] == [h.id for h in b.hits]
    finally:
        pool.close()
        await bulk.close()
        await small.close()
