"""Indexing: records in, search rows out. Runs inside the caller's write transaction.

Every function here takes the writer connection with a transaction already open and never
commits: the record, its index rows and the changes-feed entry land together or not at all.
The schema and why it looks the way it does are in `schema.py`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Final

import aiosqlite
import msgspec

from citynode.origins import Origin
from citynode.search import concepts
from citynode.search.text import BODY_FIELDS, Analysed, analyse_many, columns_of

FACET_SEP: Final = "\x1f"  # between a facet and its value
FACETS_SEP: Final = "\x1e"  # between the facet values of one record
_CHUNK: Final = 500  # host parameters per IN (...) lookup, well under SQLite's limit
_PIPELINE: Final = 125  # records analysed per step of put_many's pipeline
#: From this many records, put_many analyses text in a separate process.
PROCESS_THRESHOLD: Final = 400

_encode = msgspec.json.Encoder().encode


@dataclass(slots=True)
class _Row:
    """One record's search rows, computed in Python before any SQL runs."""

    id: str
    version: int
    docs: tuple[Any, ...]  # search_docs values after docid
    texts: bytes
    fts: tuple[str, str, str, str]
    facets: list[tuple[str, str]]


def _texts(value: Any) -> list[tuple[str, str]]:
    return [(text, lang) for lang, text in value.items()] if isinstance(value, dict) else []


def _row(doc: dict[str, Any], origin: Origin, signature: str, analysed: Analysed) -> _Row:
    goals = {g for g in map(concepts.sdg_goal, doc.get("sdgs", ())) if g}
    languages = sorted(
        {lang for field in ("title", "summary", "description") for lang in (doc.get(field) or {})}
    )
    year = (doc.get("startDate") or doc.get("issued") or "")[:4]
    facets = [
        ("city", origin.city),
        ("country", origin.country),
        ("type", doc["type"]),
        *([("status", doc["status"])] if doc.get("status") else []),
        *(("theme", iri) for iri in sorted(set(doc.get("themes", ())))),
        *(("sdg_goal", goal) for goal in sorted(goals)),
        *(("sdg_target", iri) for iri in sorted(set(doc.get("sdgs", ()))) if iri not in goals),
        *([("year", year)] if year else []),
        *(("language", lang) for lang in languages),
    ]
    texts = {
        name: doc[name] for name in ("title", "summary", "keywords", *BODY_FIELDS) if doc.get(name)
    }
    indexed = " ".join(iri for f, iri in facets if f in concepts.CONCEPT_FACETS)
    return _Row(
        id=doc["id"],
        version=int(doc.get("version", 1)),
        docs=(
            doc["id"],
            doc["type"],
            origin.did,
            origin.city,
            origin.country,
            origin.base_url,
            int(doc.get("version", 1)),
            doc.get("modified", ""),
            signature,
            indexed,
            FACETS_SEP.join(f"{f}{FACET_SEP}{v}" for f, v in facets),
        ),
        texts=_encode(texts),
        fts=(*analysed, " ".join(concepts.facet_token(f, v) for f, v in facets)),
        facets=facets,
    )


async def put(
    conn: aiosqlite.Connection, doc: dict[str, Any], origin: Origin, *, signature: str = "verified"
) -> None:
    """Index the current version of a record, replacing any earlier version.

    A Tombstone removes the record at once. A version lower than the one indexed is ignored, so a
    late, stale delivery never overwrites newer text.
    """
    await put_many(conn, [(doc, origin, signature)])


async def put_many(
    conn: aiosqlite.Connection,
    items: list[tuple[dict[str, Any], Origin, str]],
    *,
    analysed: Mapping[tuple[str, int], Analysed] | None = None,
    pool: Executor | None = None,
) -> None:
    """Index many records in a few statements (ingest, bulk publish, rebuild).

    Text analysis (fold, stopwords, stemming: about half the cost) is Python. For a big batch it
    runs in a separate process, one chunk ahead of the SQL, so analysing chunk k+1 overlaps with
    writing chunk k on the other core. Threads cannot do this: measured, an analysis thread and
    aiosqlite's thread fight over the GIL and both run ~2x slower. Small batches (a publish of a
    few records) are analysed in a worker thread: starting the process would cost more.
    `analysed` (by id and version) is text analysis already done elsewhere (ingest's verifier
    processes do it alongside the signature check): those records are not analysed again.
    `pool` is the caller's analysis process (a `citynode.workers.WorkerPool` of one worker,
    owned by the `Node`); without one, big batches are analysed in a thread too.
    """
    latest: dict[str, tuple[dict[str, Any], Origin, str]] = {}
    for doc, origin, signature in items:
        held = latest.get(doc["id"])
        if held is None or int(doc.get("version", 1)) >= int(held[0].get("version", 1)):
            latest[doc["id"]] = (doc, origin, signature)
    chunks = [list(latest.values())[n : n + _PIPELINE] for n in range(0, len(latest), _PIPELINE)]
    if not chunks:
        return
    delta: Counter[tuple[str, str]] = Counter()
    use_process = pool is not None and len(latest) >= PROCESS_THRESHOLD
    done = analysed or {}
    process = pool if use_process else None
    pending = _analyse(chunks[0], process, done)
    for n, chunk in enumerate(chunks):
        texts = await pending
        if n + 1 < len(chunks):
            pending = _analyse(chunks[n + 1], process, done)
        await _write(conn, _prepare(chunk, texts), delta)
    await _apply_counts(conn, delta)


def _analyse(
    chunk: list[tuple[dict[str, Any], Origin, str]],
    process: Executor | None,
    done: Mapping[tuple[str, int], Analysed],
) -> asyncio.Future[list[Analysed]]:
    """Start analysing a chunk: in the analysis process or a thread, unless already done."""
    loop = asyncio.get_running_loop()
    keys = [(doc["id"], int(doc.get("version", 1))) for doc, _, _ in chunk]
    if done and all(key in done for key in keys):
        ready: asyncio.Future[list[Analysed]] = loop.create_future()
        ready.set_result([done[key] for key in keys])
        return ready
    columns = [columns_of(doc) for doc, _, _ in chunk]
    return loop.run_in_executor(process, analyse_many, columns)


def _prepare(
    chunk: list[tuple[dict[str, Any], Origin, str]], analysed: list[Analysed]
) -> list[tuple[dict[str, Any], _Row | None]]:
    return [
        (doc, None if doc.get("type") == "Tombstone" else _row(doc, origin, signature, texts))
        for (doc, origin, signature), texts in zip(chunk, analysed, strict=True)
    ]


async def _write(
    conn: aiosqlite.Connection,
    prepared: list[tuple[dict[str, Any], _Row | None]],
    delta: Counter[tuple[str, str]],
) -> None:
    indexed = await _indexed_versions(conn, [doc["id"] for doc, _ in prepared])
    stale: list[tuple[int, str]] = []
    rows: list[_Row] = []
    for doc, row in prepared:
        held = indexed.get(doc["id"])
        if held is not None:
            if held[1] > int(doc.get("version", 1)):
                continue  # an older version arriving late: keep the newer one
            stale.append((held[0], held[2]))
        if row is not None:
            rows.append(row)
    await _delete(conn, stale, delta)
    if not rows:
        return
    async with conn.execute("SELECT coalesce(max(docid), 0) FROM search_docs") as cursor:
        first = int((await cursor.fetchone())[0]) + 1
    await conn.executemany(
        "INSERT INTO search_docs (docid, id, type, origin, city, country, base_url, version,"
        " modified, signature, concepts, facets)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(first + n, *row.docs) for n, row in enumerate(rows)],
    )
    await conn.executemany(
        "INSERT INTO search_texts (docid, texts) VALUES (?, ?)",
        [(first + n, row.texts) for n, row in enumerate(rows)],
    )
    await conn.executemany(
        "INSERT INTO search_fts (rowid, title, summary, body, tags) VALUES (?, ?, ?, ?, ?)",
        [(first + n, *row.fts) for n, row in enumerate(rows)],
    )
    for row in rows:
        delta.update(row.facets)


async def remove(conn: aiosqlite.Connection, record_id: str) -> None:
    """Take a record out of the index (no-op if it is not there)."""
    indexed = await _indexed_versions(conn, [record_id])
    delta: Counter[tuple[str, str]] = Counter()
    await _delete(conn, [(docid, facets) for docid, _, facets in indexed.values()], delta)
    await _apply_counts(conn, delta)


async def _indexed_versions(
    conn: aiosqlite.Connection, ids: list[str]
) -> dict[str, tuple[int, int, str]]:
    """id -> (docid, version, facets JSON) for the ids already indexed (facets as stored)."""
    found: dict[str, tuple[int, int, str]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT id, docid, version, facets FROM search_docs WHERE id IN ({marks})", chunk
        ) as cursor:
            for record_id, docid, version, facets in await cursor.fetchall():
                found[record_id] = (docid, version, facets)
    return found


async def _delete(
    conn: aiosqlite.Connection, stale: list[tuple[int, str]], delta: Counter[tuple[str, str]]
) -> None:
    if not stale:
        return
    for _, facets in stale:
        for item in facets.split(FACETS_SEP):
            facet, _, value = item.partition(FACET_SEP)
            delta[(facet, value)] -= 1
    docids = [(docid,) for docid, _ in stale]
    await conn.executemany("DELETE FROM search_fts WHERE rowid = ?", docids)
    await conn.executemany("DELETE FROM search_docs WHERE docid = ?", docids)
    await conn.executemany("DELETE FROM search_texts WHERE docid = ?", docids)


async def _apply_counts(conn: aiosqlite.Connection, delta: Counter[tuple[str, str]]) -> None:
    changes = [(f, v, n) for (f, v), n in delta.items() if n]
    if not changes:
        return
    await conn.executemany(
        "INSERT INTO search_facet_counts (facet, value, n) VALUES (?, ?, ?)"
        " ON CONFLICT (facet, value) DO UPDATE SET n = n + excluded.n",
        changes,
    )
    if any(n < 0 for _, _, n in changes):
        await conn.execute("DELETE FROM search_facet_counts WHERE n <= 0")
