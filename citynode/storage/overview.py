"""Reads the pages need that no other view answers: per-city counts, and the current results of
a practice (its links come from the facts view, storage/facts.py, which every city's records
feed: a peer's result of our practice shows here too).
"""

from __future__ import annotations

import aiosqlite
import msgspec

from citynode.storage.records import StoredRecord

_COLUMNS = "r.seq, r.id, r.version, r.type, r.origin, r.modified, r.body"


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


async def results_of(
    conn: aiosqlite.Connection, practice_id: str, limit: int = 100
) -> list[StoredRecord]:
    """The current results whose `resultOf` is the practice (any city's), newest first."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM record_links l JOIN current c ON c.id = l.source "
        "JOIN records r ON r.seq = c.seq WHERE l.target = ? AND l.relation = 'resultOf' "
        "AND c.type != 'Tombstone' ORDER BY c.modified DESC LIMIT ?",
        (practice_id, limit),
    ) as cursor:
        rows = await cursor.fetchall()
    return [_stored(tuple(row)) for row in rows]
