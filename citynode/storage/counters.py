"""Counters an operator reads: rejected inputs by kind and by source (peer DID, client IP)."""

from __future__ import annotations

import aiosqlite


async def bump(conn: aiosqlite.Connection, name: str, source: str = "", by: int = 1) -> None:
    """Add to a counter; must run inside a write transaction."""
    await conn.execute(
        "INSERT INTO counters (name, source, value) VALUES (?, ?, ?) "
        "ON CONFLICT (name, source) DO UPDATE SET value = value + excluded.value",
        (name, source, by),
    )


async def read_counters(conn: aiosqlite.Connection) -> dict[str, dict[str, int]]:
    """name -> source -> value."""
    result: dict[str, dict[str, int]] = {}
    async with conn.execute("SELECT name, source, value FROM counters ORDER BY name") as cursor:
        async for name, source, value in cursor:
            result.setdefault(name, {})[source] = value
    return result
