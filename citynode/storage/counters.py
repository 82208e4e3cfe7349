"""Counters an operator reads: rejected inputs by kind and by source (peer DID, client IP)."""

from __future__ import annotations

from collections import Counter

import aiosqlite

from citynode.storage.db import Database

_UPSERT = (
    "INSERT INTO counters (name, source, value) VALUES (?, ?, ?) "
    "ON CONFLICT (name, source) DO UPDATE SET value = value + excluded.value"
)


async def bump(conn: aiosqlite.Connection, name: str, source: str = "", by: int = 1) -> None:
    """Add to a counter; must run inside a write transaction."""
    await conn.execute(_UPSERT, (name, source, by))


class Tally:
    """Counts taken on the request path in memory and written to the database in batches.

    A refused request must cost the node almost nothing: writing its count in its own
    transaction (an fsync under synchronous=FULL) would let a flood of bad requests turn into a
    flood of disk writes. `flush` writes everything pending in one transaction.
    """

    def __init__(self) -> None:
        self._pending: Counter[tuple[str, str]] = Counter()

    def add(self, name: str, source: str = "") -> None:
        self._pending[(name, source)] += 1

    async def flush(self, db: Database) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, Counter()
        async with db.transaction() as conn:
            await conn.executemany(_UPSERT, [(n, s, v) for (n, s), v in pending.items()])


async def read_counters(conn: aiosqlite.Connection) -> dict[str, dict[str, int]]:
    """name -> source -> value."""
    result: dict[str, dict[str, int]] = {}
    async with conn.execute("SELECT name, source, value FROM counters ORDER BY name") as cursor:
        async for name, source, value in cursor:
            result.setdefault(name, {})[source] = value
    return result
