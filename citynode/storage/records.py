"""Record versions in SQLite: append (inside a write transaction) and read.

Rows are immutable: a new version is a new row keyed by (id, version); `current` points at the
newest one. The sequence number `seq` is assigned by SQLite in the write transaction, so the
changes feed serves records in the order they were stored and a cursor never expires.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import msgspec


class NewVersion(msgspec.Struct, frozen=True, kw_only=True):
    """A verified record version about to be stored (body: its exact signed JSON bytes)."""

    id: str
    version: int
    type: str
    origin: str
    modified: str
    status: str | None
    body: bytes


def new_version_of(signed: dict[str, Any], body: bytes) -> NewVersion:
    """The storage row for a signed record (publishing and federation ingest)."""
    return NewVersion(
        id=signed["id"],
        version=signed["version"],
        type=signed["type"],
        origin=signed["publisher"],
        modified=signed["modified"],
        status=signed.get("status"),
        body=body,
    )


class StoredRecord(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    id: str
    version: int
    type: str
    origin: str
    modified: str
    body: bytes

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = msgspec.json.decode(self.body)
        return doc


class VersionInfo(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    seq: int
    type: str
    modified: str


def now_utc() -> str:
    """The time in the format records use (RFC 3339, UTC, seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def held_versions(conn: aiosqlite.Connection, ids: list[str]) -> dict[str, int]:
    """The current version held for each id (ids not held are absent)."""
    held: dict[str, int] = {}
    # SQLite limits bound parameters (32766 in 3.32+); chunk to stay well under it.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            f"SELECT id, version FROM current WHERE id IN ({marks})", chunk
        ) as cursor:
            async for row in cursor:
                held[row[0]] = row[1]
    return held


async def append(
    conn: aiosqlite.Connection, items: list[NewVersion], received_from: str | None = None
) -> list[NewVersion]:
    """Store the versions newer than the ones held; return those stored (in stored order).

    `received_from`: the DID of the peer whose feed served them (None: published or imported
    here), so a page can show the path a record took (the origin's node, or a relay).

    Must run inside `Database.transaction()`. Idempotent: a version not newer than the one held
    is dropped, and so is a lower version of the same id in the batch. A tombstone is a version
    like any other, so it wins over every lower one. A few statements per batch, not per record:
    through aiosqlite each call is a thread hop, and per-record calls made storing the slowest
    step of ingest (measured ~2,400 records/s against ~10,000 with executemany).
    """
    newest: dict[str, NewVersion] = {}
    for item in items:
        held = newest.get(item.id)
        if held is None or item.version > held.version:
            newest[item.id] = item
    held_now = await held_versions(conn, list(newest))
    fresh = [v for v in newest.values() if held_now.get(v.id, 0) < v.version]
    if not fresh:
        return []
    before = await _last_stored_seq(conn)
    received = now_utc()
    await conn.executemany(
        "INSERT INTO records (id, version, type, origin, modified, received_at, received_from,"
        " body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (v.id, v.version, v.type, v.origin, v.modified, received, received_from, v.body)
            for v in fresh
        ],
    )
    # The sequence numbers SQLite just assigned: one writer, inside our transaction, and rows
    # are never deleted, so every row above `before` is one of ours.
    async with conn.execute("SELECT id, seq FROM records WHERE seq > ?", (before,)) as cursor:
        seqs = {record_id: seq for record_id, seq in await cursor.fetchall()}
    await conn.executemany(
        "INSERT INTO current (id, version, seq, type, origin, status, modified) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version=excluded.version, "
        "seq=excluded.seq, type=excluded.type, origin=excluded.origin, "
        "status=excluded.status, modified=excluded.modified",
        [(v.id, v.version, seqs[v.id], v.type, v.origin, v.status, v.modified) for v in fresh],
    )
    return fresh


class Arrival(msgspec.Struct, frozen=True, kw_only=True):
    """When a version was stored here, and from which peer's feed (None: published here, or
    stored before the node kept it)."""

    received_at: str
    received_from: str | None


async def arrival(conn: aiosqlite.Connection, record_id: str, version: int) -> Arrival | None:
    async with conn.execute(
        "SELECT received_at, received_from FROM records WHERE id = ? AND version = ?",
        (record_id, version),
    ) as cursor:
        row = await cursor.fetchone()
    return Arrival(received_at=row[0], received_from=row[1]) if row else None


async def _last_stored_seq(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COALESCE(MAX(seq), 0) FROM records") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


_COLUMNS = "r.seq, r.id, r.version, r.type, r.origin, r.modified, r.body"


def _stored(row: Any) -> StoredRecord:
    return StoredRecord(
        seq=row[0],
        id=row[1],
        version=row[2],
        type=row[3],
        origin=row[4],
        modified=row[5],
        body=bytes(row[6]),
    )


async def get_current(conn: aiosqlite.Connection, record_id: str) -> StoredRecord | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM current c JOIN records r ON r.seq = c.seq WHERE c.id = ?",
        (record_id,),
    ) as cursor:
        row = await cursor.fetchone()
    return _stored(row) if row else None


async def get_version(
    conn: aiosqlite.Connection, record_id: str, version: int
) -> StoredRecord | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM records r WHERE r.id = ? AND r.version = ?",
        (record_id, version),
    ) as cursor:
        row = await cursor.fetchone()
    return _stored(row) if row else None


async def history(conn: aiosqlite.Connection, record_id: str) -> list[VersionInfo]:
    async with conn.execute(
        "SELECT version, seq, type, modified FROM records WHERE id = ? ORDER BY version DESC",
        (record_id,),
    ) as cursor:
        rows = await cursor.fetchall()
    return [VersionInfo(version=r[0], seq=r[1], type=r[2], modified=r[3]) for r in rows]


class Signing(msgspec.Struct, frozen=True, kw_only=True):
    """The facts of a stored version that its signature status is judged on (citynode/trust.py)."""

    publisher: str
    key_id: str
    signed_at: str


async def signing_facts(conn: aiosqlite.Connection, ids: list[str]) -> dict[str, Signing]:
    """Publisher, proof key id and proof time of the current version of each id."""
    found: dict[str, Signing] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        async with conn.execute(
            "SELECT c.id, json_extract(CAST(r.body AS TEXT), '$.publisher'),"
            " json_extract(CAST(r.body AS TEXT), '$.proof.verificationMethod'),"
            " json_extract(CAST(r.body AS TEXT), '$.proof.created')"
            f" FROM current c JOIN records r ON r.seq = c.seq WHERE c.id IN ({marks})",
            chunk,
        ) as cursor:
            for record_id, publisher, key_id, signed_at in await cursor.fetchall():
                if all(isinstance(v, str) for v in (publisher, key_id, signed_at)):
                    found[record_id] = Signing(
                        publisher=publisher, key_id=key_id, signed_at=signed_at
                    )
    return found


class ListFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which current records `list_current` returns. `origins=None` means every origin."""

    origins: tuple[str, ...] | None = None
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    modified_since: str | None = None
    include_tombstones: bool = False
    before_seq: int | None = None
    limit: int = 50


async def list_current(conn: aiosqlite.Connection, where: ListFilter) -> list[StoredRecord]:
    """Current records, newest stored first, paged by `before_seq` (keyset paging)."""
    clauses: list[str] = []
    params: list[Any] = []
    if where.origins is not None:
        clauses.append(f"c.origin IN ({','.join('?' * len(where.origins))})")
        params.extend(where.origins)
    if where.types:
        clauses.append(f"c.type IN ({','.join('?' * len(where.types))})")
        params.extend(where.types)
    elif not where.include_tombstones:
        clauses.append("c.type != 'Tombstone'")
    if where.statuses:
        clauses.append(f"c.status IN ({','.join('?' * len(where.statuses))})")
        params.extend(where.statuses)
    if where.modified_since:
        clauses.append("c.modified >= ?")
        params.append(where.modified_since)
    if where.before_seq is not None:
        clauses.append("c.seq < ?")
        params.append(where.before_seq)
    sql = f"SELECT {_COLUMNS} FROM current c JOIN records r ON r.seq = c.seq"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY c.seq DESC LIMIT ?"
    params.append(where.limit)
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return [_stored(row) for row in rows]


async def changes(
    conn: aiosqlite.Connection, after_seq: int, limit: int, origins: tuple[str, ...] | None = None
) -> list[StoredRecord]:
    """The current version of every record stored after `after_seq`, in stored order.

    A record updated since is served once, at its newest position: a reader that follows the
    cursor sees every record's latest version without the superseded ones.
    """
    sql = f"SELECT {_COLUMNS} FROM current c JOIN records r ON r.seq = c.seq WHERE c.seq > ?"
    params: list[Any] = [after_seq]
    if origins is not None:
        sql += f" AND c.origin IN ({','.join('?' * len(origins))})"
        params.extend(origins)
    sql += " ORDER BY c.seq LIMIT ?"
    params.append(limit)
    # One call on the connection's thread (execute, fetch, close): the followers read here on
    # every commit, and a statement left open across an await would hold the shared reader's
    # snapshot for whatever else runs on it meanwhile.
    rows = await conn.execute_fetchall(sql, params)
    return [_stored(row) for row in rows]


async def last_seq(conn: aiosqlite.Connection) -> int:
    rows = list(await conn.execute_fetchall("SELECT COALESCE(MAX(seq), 0) FROM current"))
    return int(rows[0][0]) if rows else 0


async def count_current(conn: aiosqlite.Connection, origin: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM current WHERE type != 'Tombstone'"
    params: tuple[str, ...] = ()
    if origin is not None:
        sql += " AND origin = ?"
        params = (origin,)
    async with conn.execute(sql, params) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def count_by_origin(conn: aiosqlite.Connection) -> dict[tuple[str, str], int]:
    """(origin DID, city) -> current records (tombstones left out), for the metrics."""
    sql = (
        "SELECT c.origin, COALESCE(o.city, ''), COUNT(*) FROM current c"
        " LEFT JOIN origins o ON o.did = c.origin WHERE c.type != 'Tombstone' GROUP BY c.origin"
    )
    async with conn.execute(sql) as cursor:
        rows = await cursor.fetchall()
    return {(row[0], row[1]): int(row[2]) for row in rows}


async def all_current(
    conn: aiosqlite.Connection, origin: str | None = None, include_tombstones: bool = False
) -> list[StoredRecord]:
    """Every current record (exports, dumps): in stored order."""
    sql = f"SELECT {_COLUMNS} FROM current c JOIN records r ON r.seq = c.seq"
    clauses = []
    params: list[Any] = []
    if origin is not None:
        clauses.append("c.origin = ?")
        params.append(origin)
    if not include_tombstones:
        clauses.append("c.type != 'Tombstone'")
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY c.seq"
    async with conn.execute(sql, params) as cursor:
        rows = await cursor.fetchall()
    return [_stored(row) for row in rows]


class DumpState(msgspec.Struct, frozen=True, kw_only=True):
    """What a dump of some origins holds: for validators (ETag, Last-Modified)."""

    records: int
    last_seq: int
    last_received: str | None


def _origin_clause(origin: str | None, types: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if origin is not None:
        clauses.append("c.origin = ?")
        params.append(origin)
    if types:
        # A withdrawn record's tombstone still counts for the validators of its former type.
        marks = ",".join("?" * len(types))
        clauses.append(f"(c.type IN ({marks}) OR c.type = 'Tombstone')")
        params.extend(types)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


async def dump_state(
    conn: aiosqlite.Connection, origin: str | None = None, types: tuple[str, ...] = ()
) -> DumpState:
    """Count, newest position and newest arrival of the current records (tombstones count:
    a withdrawal changes what a dump holds)."""
    where, params = _origin_clause(origin, types)
    async with conn.execute(
        "SELECT COUNT(*), COALESCE(MAX(c.seq), 0), MAX(r.received_at) FROM current c "
        f"JOIN records r ON r.seq = c.seq {where}",
        params,
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return DumpState(records=int(row[0]), last_seq=int(row[1]), last_received=row[2])


async def text_languages(
    conn: aiosqlite.Connection,
    origin: str | None,
    types: tuple[str, ...],
    terms: tuple[str, ...],
    nested: tuple[str, ...] = (),
) -> list[str]:
    """The language tags the current records' language maps use, under `terms` of the record
    and `nested` terms of its measurements, sorted. Asked of SQLite's JSON functions (no record
    decoded in Python) in the caller's read transaction: a streamed CSV dump names its
    language columns (`title_fr`...) before its first row, and they match the rows it streams."""
    where, params = _origin_clause(origin, types)
    where = f"{where} AND" if where else "WHERE"
    found: set[str] = set()
    for path, names in (("$", terms), ("$.measurements", nested)):
        if not names:
            continue
        marks = ",".join("?" * len(names))
        # Each member `f` of the record (or of each measurement `m`) that is one of `names`
        # and a language map -> its keys `t`, the tags. json_each of a value that is not an
        # object (a string is not JSON text) is given '{}' instead: a peer's record kept with
        # parts of odd shapes never fails the question.
        members = (
            "json_each(CAST(r.body AS TEXT)) f"
            if path == "$"
            else f"json_each(CAST(r.body AS TEXT), '{path}') m, "
            "json_each(CASE WHEN m.type = 'object' THEN m.value ELSE '{}' END) f"
        )
        async with conn.execute(
            f"SELECT DISTINCT t.key FROM current c JOIN records r ON r.seq = c.seq, {members}, "
            "json_each(CASE WHEN f.type = 'object' THEN f.value ELSE '{}' END) t "
            f"{where} c.type != 'Tombstone' AND f.key IN ({marks})",
            [*params, *names],
        ) as cursor:
            found.update(str(row[0]) for row in await cursor.fetchall() if row[0] is not None)
    return sorted(found)


async def stream_current(
    conn: aiosqlite.Connection,
    origin: str | None = None,
    types: tuple[str, ...] = (),
    batch: int = 500,
) -> AsyncIterator[list[StoredRecord]]:
    """Every current record (no tombstones), in stored order, `batch` at a time (keyset paging:
    constant memory however large the store)."""
    where, params = _origin_clause(origin, types)
    where = f"{where} AND" if where else "WHERE"
    position = 0
    while True:
        async with conn.execute(
            f"SELECT {_COLUMNS} FROM current c JOIN records r ON r.seq = c.seq {where} "
            "c.seq > ? AND c.type != 'Tombstone' ORDER BY c.seq LIMIT ?",
            [*params, position, batch],
        ) as cursor:
            rows = [_stored(row) for row in await cursor.fetchall()]
        if not rows:
            return
        yield rows
        position = rows[-1].seq
