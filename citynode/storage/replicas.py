"""What reconcile compares: the origins held and the per-origin (id, version) pairs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiosqlite


async def held_origins(conn: aiosqlite.Connection) -> list[str]:
    async with conn.execute("SELECT DISTINCT origin FROM current") as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def origin_pairs(conn: aiosqlite.Connection, origin: str) -> AsyncIterator[tuple[str, int]]:
    """(id, current version) of every record and tombstone held for one origin, by id."""
    async with conn.execute(
        "SELECT id, version FROM current WHERE origin = ? ORDER BY id", (origin,)
    ) as cursor:
        async for row in cursor:
            yield row[0], row[1]
