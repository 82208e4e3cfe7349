"""Signing keys in SQLite: this node's own (public half and lifecycle) and the ones it learned.

- `keys`: this node's keys. The private halves live in files (`citynode/identity.py`); a row
  holds the public key and its lifecycle (created, retired, revoked), so the DID document can
  list every key a record was ever signed with.
- `origin_keys`: the keys of other nodes as their DID documents last said (written when a DID
  document is read, `federation/keys.py`), so the signature status of a held record can be
  judged at read time after a restart too (`citynode/trust.py`).

Writes run inside the caller's write transaction; reads take any connection.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import aiosqlite
import msgspec

KeyState = Literal["active", "retired", "revoked"]


class OwnKey(msgspec.Struct, frozen=True, kw_only=True):
    """One of this node's signing keys (times as stored: RFC 3339, UTC)."""

    key_id: str  # the fragment: "key-1"
    public_multibase: str
    created: str
    retired: str | None = None
    revoked: str | None = None

    @property
    def state(self) -> KeyState:
        if self.revoked is not None:
            return "revoked"
        return "retired" if self.retired is not None else "active"


class OriginKey(msgspec.Struct, frozen=True, kw_only=True):
    """Another node's key as its DID document listed it (`method`: the full key id)."""

    did: str
    method: str
    public_multibase: str
    created: str | None = None
    retired: str | None = None
    revoked: str | None = None


async def list_keys(conn: aiosqlite.Connection) -> list[OwnKey]:
    """This node's keys, oldest first."""
    async with conn.execute(
        "SELECT key_id, public_multibase, created, retired, revoked FROM keys "
        "ORDER BY created, key_id"
    ) as cursor:
        rows = await cursor.fetchall()
    return [
        OwnKey(key_id=r[0], public_multibase=r[1], created=r[2], retired=r[3], revoked=r[4])
        for r in rows
    ]


async def count_keys(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM keys") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def insert_key(
    conn: aiosqlite.Connection, key_id: str, public_multibase: str, created: str
) -> None:
    await conn.execute(
        "INSERT INTO keys (key_id, public_multibase, created) VALUES (?, ?, ?)",
        (key_id, public_multibase, created),
    )


async def retire_active(conn: aiosqlite.Connection, at: str) -> list[str]:
    """Retire every active key at `at`; the ids retired."""
    async with conn.execute(
        "SELECT key_id FROM keys WHERE retired IS NULL AND revoked IS NULL"
    ) as cursor:
        active = [str(row[0]) for row in await cursor.fetchall()]
    await conn.execute(
        "UPDATE keys SET retired = ? WHERE retired IS NULL AND revoked IS NULL", (at,)
    )
    return active


async def revoke(conn: aiosqlite.Connection, key_id: str, at: str) -> bool:
    """Mark a key revoked from `at` (it stops signing then too); False if there is no such key."""
    cursor = await conn.execute(
        "UPDATE keys SET revoked = ?, retired = COALESCE(MIN(retired, ?), ?) WHERE key_id = ?",
        (at, at, at, key_id),
    )
    return cursor.rowcount > 0


async def fingerprint(conn: aiosqlite.Connection) -> str:
    """A short text that changes whenever this node's keys change (polled by running nodes)."""
    async with conn.execute(
        "SELECT group_concat(key_id || '/' || coalesce(retired, '') || '/' "
        "|| coalesce(revoked, ''), ',') FROM (SELECT * FROM keys ORDER BY key_id)"
    ) as cursor:
        row = await cursor.fetchone()
    return str(row[0] or "") if row else ""


async def origin_fingerprint(conn: aiosqlite.Connection) -> str:
    """Changes whenever the stored keys of other nodes change."""
    async with conn.execute("SELECT COUNT(*), coalesce(max(updated), '') FROM origin_keys") as c:
        row = await c.fetchone()
    return f"{row[0]}/{row[1]}" if row else ""


async def put_origin_keys(
    conn: aiosqlite.Connection, did: str, keys: Iterable[OriginKey], updated: str
) -> bool:
    """Replace what is stored of `did`'s keys; True if anything changed (`updated`: a time
    with microseconds, so every change moves `origin_fingerprint`)."""
    wanted = {key.method: key for key in keys}
    held = {key.method: key for key in await origin_keys(conn, did)}
    if wanted == held:
        return False
    await conn.execute("DELETE FROM origin_keys WHERE did = ?", (did,))
    await conn.executemany(
        "INSERT INTO origin_keys (did, method, public_multibase, created, retired, revoked,"
        " updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (did, k.method, k.public_multibase, k.created, k.retired, k.revoked, updated)
            for k in wanted.values()
        ],
    )
    return True


async def origin_keys(conn: aiosqlite.Connection, did: str | None = None) -> list[OriginKey]:
    """The stored keys of one other node, or of every one."""
    sql = "SELECT did, method, public_multibase, created, retired, revoked FROM origin_keys"
    params: tuple[str, ...] = ()
    if did is not None:
        sql += " WHERE did = ?"
        params = (did,)
    async with conn.execute(sql + " ORDER BY did, method", params) as cursor:
        rows = await cursor.fetchall()
    return [
        OriginKey(
            did=r[0], method=r[1], public_multibase=r[2], created=r[3], retired=r[4], revoked=r[5]
        )
        for r in rows
    ]
