"""What the current records of a node cover, per record type: for the DCAT catalog.

One pass of SQL per question over the current rows (JSON read by SQLite's json functions, so no
record is decoded in Python); the catalog caches the answer (opendata/catalog.py).
"""

from __future__ import annotations

from typing import Any

import aiosqlite
import msgspec


class TypeSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The current records of one type: how many, the time they cover, their themes."""

    type: str
    records: int
    first_issued: str | None
    last_modified: str | None
    #: Earliest start and latest end the records give (dates, or periods of results).
    first_date: str | None
    last_date: str | None
    themes: tuple[str, ...] = ()
    #: The places the records name (`spatial`: Wikidata IRIs).
    places: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()


_BODY = "CAST(r.body AS TEXT)"


def _where(origin: str | None) -> tuple[str, list[Any]]:
    if origin is None:
        return "WHERE c.type != 'Tombstone'", []
    return "WHERE c.type != 'Tombstone' AND c.origin = ?", [origin]


async def type_summaries(conn: aiosqlite.Connection, origin: str | None) -> list[TypeSummary]:
    """One summary per record type held (for `origin`, or every origin when None)."""
    where, params = _where(origin)
    # A result's period is "2020/2023" or "2021": its first and last four characters are years.
    sql = f"""
        SELECT c.type, COUNT(*), MIN(json_extract({_BODY}, '$.issued')), MAX(c.modified),
               MIN(COALESCE(json_extract({_BODY}, '$.startDate'),
                            substr(json_extract({_BODY}, '$.period'), 1, 4))),
               MAX(COALESCE(json_extract({_BODY}, '$.endDate'),
                            substr(json_extract({_BODY}, '$.period'), -4)))
        FROM current c JOIN records r ON r.seq = c.seq {where} GROUP BY c.type ORDER BY c.type
    """
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    themes = await _distinct(conn, "$.themes", where, params)
    # json_each over a single value (a record's one `spatial`) gives that value.
    places = await _distinct(conn, "$.spatial", where, params)
    publishers: dict[str, set[str]] = {}
    async with conn.execute(
        f"SELECT DISTINCT c.type, c.origin FROM current c {where}", params
    ) as cursor:
        for kind, did in await cursor.fetchall():
            publishers.setdefault(kind, set()).add(did)
    return [
        TypeSummary(
            type=row[0],
            records=int(row[1]),
            first_issued=row[2],
            last_modified=row[3],
            first_date=row[4],
            last_date=row[5],
            themes=tuple(sorted(themes.get(row[0], ()))),
            places=tuple(sorted(places.get(row[0], ()))),
            publishers=tuple(sorted(publishers.get(row[0], ()))),
        )
        for row in rows
    ]


async def _distinct(
    conn: aiosqlite.Connection, path: str, where: str, params: list[Any]
) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    async with conn.execute(
        f"SELECT DISTINCT c.type, j.value FROM current c JOIN records r ON r.seq = c.seq, "
        f"json_each({_BODY}, '{path}') j {where}",
        params,
    ) as cursor:
        for kind, value in await cursor.fetchall():
            found.setdefault(kind, set()).add(str(value))
    return found
