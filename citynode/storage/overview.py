"""Reads the pages need that no other view answers: per-city counts, a practice's results, the
records that point at a record, and every current result (for comparisons).

The links between records (`resultOf`, `adaptedFrom`) are read from the signed JSON through
expression indexes (the `_PAGES` migration), so "the results of this practice" is an index
lookup, not a scan, and no second copy of the link has to be kept in step.
"""

from __future__ import annotations

import aiosqlite
import msgspec

from citynode.storage.records import StoredRecord

_COLUMNS = "r.seq, r.id, r.version, r.type, r.origin, r.modified, r.body"
#: The indexed expressions (the `_PAGES` migration): the same text in both places, or SQLite
#: will not use the index.
RESULT_OF = "json_extract(CAST(r.body AS TEXT), '$.resultOf')"
ADAPTED_FROM = "json_extract(CAST(r.body AS TEXT), '$.adaptedFrom.record')"


class CitySummary(msgspec.Struct, frozen=True, kw_only=True):
    origin: str
    records: int
    last_change: str


def _stored(row: tuple[object, ...]) -> StoredRecord:
    seq, record_id, version, kind, origin, modified, body = row
    return StoredRecord(
        seq=int(seq),  # type: ignore[call-overload]
        id=str(record_id),
        version=int(version),  # type: ignore[call-overload]
        type=str(kind),
        origin=str(origin),
        modified=str(modified),
        body=bytes(body),  # type: ignore[call-overload]
    )


async def city_summaries(conn: aiosqlite.Connection) -> list[CitySummary]:
    """Current records and the newest change per origin city (tombstones count as changes)."""
    async with conn.execute(
        "SELECT origin, SUM(type != 'Tombstone'), MAX(modified) FROM current GROUP BY origin"
    ) as cursor:
        rows = await cursor.fetchall()
    return [CitySummary(origin=r[0], records=int(r[1] or 0), last_change=r[2]) for r in rows]


async def _current_linking(
    conn: aiosqlite.Connection, expression: str, target: str, limit: int
) -> list[StoredRecord]:
    # Every version that ever linked to the target, then only those still current.
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM records r JOIN current c ON c.seq = r.seq "
        f"WHERE {expression} = ? AND c.type != 'Tombstone' ORDER BY r.modified DESC LIMIT ?",
        (target, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [_stored(tuple(row)) for row in rows]


async def results_of(
    conn: aiosqlite.Connection, practice_id: str, limit: int = 100
) -> list[StoredRecord]:
    """The current results whose `resultOf` is the practice, newest first."""
    return await _current_linking(conn, RESULT_OF, practice_id, limit)


async def adaptations_of(
    conn: aiosqlite.Connection, practice_id: str, limit: int = 100
) -> list[StoredRecord]:
    """Current practices (of any city held here) that say they were adapted from this one."""
    return await _current_linking(conn, ADAPTED_FROM, practice_id, limit)


async def current_results(conn: aiosqlite.Connection) -> list[StoredRecord]:
    """Every current result of every city (the comparison page groups their measurements)."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM current c JOIN records r ON r.seq = c.seq "
        "WHERE c.type = 'Result' ORDER BY c.seq"
    ) as cursor:
        rows = await cursor.fetchall()
    return [_stored(tuple(row)) for row in rows]
