"""Peer nodes and their persisted sync state (one row per peer; see migration 3).

The sync state itself is `protocol.sync.PeerSync`, stored as JSON; every change to it goes
through `apply`, which reads, transitions and writes inside one write transaction, so the worker,
the inbox handler and the operator's commands never overwrite each other's updates.
"""

from __future__ import annotations

import random
from typing import Any

import aiosqlite
import msgspec

from protocol.sync import (
    Event,
    PeerSync,
    SyncPolicy,
    decode_peer_sync,
    encode_peer_sync,
    transition,
)


class Peer(msgspec.Struct, kw_only=True):
    """A peer node as the operator sees it."""

    did: str
    base_url: str
    name: str
    country: str
    sync: PeerSync
    remote_cursor: str | None = None
    caught_up_at: float | None = None
    rejected: int = 0
    remote_status: str | None = None
    added_by: str = "operator"
    added_at: float = 0.0


_COLUMNS = (
    "did, base_url, name, country, sync, remote_cursor, caught_up_at, rejected, remote_status, "
    "added_by, added_at"
)


def _peer(row: Any) -> Peer:
    return Peer(
        did=row[0],
        base_url=row[1],
        name=row[2],
        country=row[3],
        sync=decode_peer_sync(bytes(row[4])),
        remote_cursor=row[5],
        caught_up_at=row[6],
        rejected=row[7],
        remote_status=row[8],
        added_by=row[9],
        added_at=row[10],
    )


async def insert_peer(conn: aiosqlite.Connection, peer: Peer) -> None:
    """Add a peer (inside a write transaction); an existing row keeps its sync state."""
    await conn.execute(
        f"INSERT INTO peers ({_COLUMNS}, state, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET "
        "base_url=excluded.base_url, name=excluded.name, country=excluded.country",
        (
            peer.did,
            peer.base_url,
            peer.name,
            peer.country,
            encode_peer_sync(peer.sync),
            peer.remote_cursor,
            peer.caught_up_at,
            peer.rejected,
            peer.remote_status,
            peer.added_by,
            peer.added_at,
            peer.sync.state,
            peer.sync.next_attempt_at,
        ),
    )


async def get_peer(conn: aiosqlite.Connection, did: str) -> Peer | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM peers WHERE did = ?", (did,)) as cursor:
        row = await cursor.fetchone()
    return _peer(row) if row else None


async def list_peers(conn: aiosqlite.Connection) -> list[Peer]:
    async with conn.execute(f"SELECT {_COLUMNS} FROM peers ORDER BY name, did") as cursor:
        rows = await cursor.fetchall()
    return [_peer(row) for row in rows]


async def runnable_dids(conn: aiosqlite.Connection, now: float) -> list[str]:
    """Peers the worker should `Tick` now (protocol.sync.is_runnable, as an indexed query)."""
    async with conn.execute(
        "SELECT did FROM peers WHERE state IN ('idle', 'due', 'syncing', 'backoff') "
        "AND next_attempt_at <= ? ORDER BY next_attempt_at",
        (now,),
    ) as cursor:
        return [row[0] for row in await cursor.fetchall()]


async def next_wake(conn: aiosqlite.Connection) -> float | None:
    """The earliest time any peer needs the worker."""
    async with conn.execute(
        "SELECT MIN(next_attempt_at) FROM peers "
        "WHERE state IN ('idle', 'due', 'syncing', 'backoff')"
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None or row[0] is None else float(row[0])


async def write_sync(conn: aiosqlite.Connection, did: str, sync: PeerSync) -> None:
    await conn.execute(
        "UPDATE peers SET sync = ?, state = ?, next_attempt_at = ? WHERE did = ?",
        (encode_peer_sync(sync), sync.state, sync.next_attempt_at, did),
    )


async def apply(
    conn: aiosqlite.Connection,
    did: str,
    event: Event,
    now: float,
    rng: random.Random,
    policy: SyncPolicy,
) -> PeerSync | None:
    """Feed one event to a peer's state machine and store the result (in a write transaction).

    None when the peer is unknown (removed meanwhile).
    """
    async with conn.execute("SELECT sync FROM peers WHERE did = ?", (did,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    before = decode_peer_sync(bytes(row[0]))
    after = transition(before, event, now, rng, policy)
    if after != before:
        await write_sync(conn, did, after)
    return after


async def note_remote_cursor(conn: aiosqlite.Connection, did: str, cursor: str) -> None:
    """Remember the furthest feed position the peer announced (for the operator's lag)."""
    await conn.execute("UPDATE peers SET remote_cursor = ? WHERE did = ?", (cursor, did))


async def mark_caught_up(conn: aiosqlite.Connection, did: str, now: float) -> None:
    await conn.execute("UPDATE peers SET caught_up_at = ? WHERE did = ?", (now, did))


async def add_rejected(conn: aiosqlite.Connection, did: str, count: int) -> None:
    await conn.execute("UPDATE peers SET rejected = rejected + ? WHERE did = ?", (count, did))


async def set_remote_status(conn: aiosqlite.Connection, did: str, status: str) -> None:
    await conn.execute("UPDATE peers SET remote_status = ? WHERE did = ?", (status, did))


async def delete_peer(conn: aiosqlite.Connection, did: str) -> bool:
    cursor = await conn.execute("DELETE FROM peers WHERE did = ?", (did,))
    return (cursor.rowcount or 0) > 0
