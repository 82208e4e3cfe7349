"""The nodes that records come from, this node included."""

from __future__ import annotations

import aiosqlite

from citynode.origins import Origin


async def put_origin(conn: aiosqlite.Connection, origin: Origin, *, is_self: bool = False) -> None:
    await conn.execute(
        "INSERT INTO origins (did, base_url, city, country, wikidata, is_self) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET base_url=excluded.base_url, "
        "city=excluded.city, country=excluded.country, wikidata=excluded.wikidata, "
        "is_self=MAX(is_self, excluded.is_self)",
        (origin.did, origin.base_url, origin.city, origin.country, origin.wikidata, int(is_self)),
    )


async def all_origins(conn: aiosqlite.Connection) -> dict[str, Origin]:
    async with conn.execute("SELECT did, base_url, city, country, wikidata FROM origins") as cursor:
        rows = await cursor.fetchall()
    return {
        row[0]: Origin(did=row[0], base_url=row[1], city=row[2], country=row[3], wikidata=row[4])
        for row in rows
    }
