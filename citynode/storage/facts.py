"""Facts about records that other records and comparisons need: links and indicator values.

A change-log follower (storage/log.py) keeps two tables in step with the store, for every
record held (the node's own and its peers'), from each record's readable part
(protocol/readable.py: a peer's newer terms are set aside, never an error):
- `record_links`: resultOf, partOf, hasPart and adaptedFrom, so a practice shows the results,
  parts and adaptations that point at it from any city (the lineage map of who learned from
  whom is this table's adaptedFrom rows);
- `observations`: every measurement that names an indicator (`measures`), so comparing an
  indicator across cities is one indexed query, not a scan of every record.

Both are derived views: dropping them and replaying the log rebuilds them.
"""

from __future__ import annotations

from typing import Any, Final

import aiosqlite
import msgspec

from citynode.storage.db import Database
from citynode.storage.records import StoredRecord
from protocol.errors import ProtocolError
from protocol.readable import read_record

NAME: Final = "facts"
RELATIONS: Final = ("resultOf", "partOf", "hasPart", "adaptedFrom")

_encode = msgspec.json.Encoder().encode


def _links(doc: dict[str, Any]) -> list[tuple[str, str, bytes | None]]:
    out: list[tuple[str, str, bytes | None]] = []
    if isinstance(doc.get("resultOf"), str):
        out.append(("resultOf", doc["resultOf"], None))
    for relation in ("partOf", "hasPart"):
        out.extend((relation, target, None) for target in doc.get(relation, ()))
    for item in doc.get("adaptedFrom", ()):
        detail = {k: item[k] for k in ("changes", "illustrative", "editorial") if k in item}
        out.append(("adaptedFrom", item["practice"], _encode(detail) if detail else None))
    return out


def _observations(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows = []
    for position, item in enumerate(doc.get("measurements", ())):
        if not item.get("measures"):
            continue
        marked = item.get("illustrative", False)
        rows.append(
            (
                position,
                item["measures"],
                item.get("role") or "observed",
                item["period"],
                float(item["value"]),
                item.get("unitCode"),
                item.get("unit"),
                1 if marked is True or (isinstance(marked, list) and marked) else 0,
                doc.get("resultOf"),
            )
        )
    return rows


async def _replace(conn: aiosqlite.Connection, entry: StoredRecord) -> None:
    await conn.execute("DELETE FROM record_links WHERE source = ?", (entry.id,))
    await conn.execute("DELETE FROM observations WHERE record = ?", (entry.id,))
    if entry.type == "Tombstone":
        return
    try:
        doc = read_record(entry.document()).document
    except ProtocolError:
        return  # stored before this node could read it; nothing to derive
    await conn.executemany(
        "INSERT OR REPLACE INTO record_links (source, relation, target, origin, detail) "
        "VALUES (?, ?, ?, ?, ?)",
        [(entry.id, rel, target, entry.origin, detail) for rel, target, detail in _links(doc)],
    )
    await conn.executemany(
        "INSERT OR REPLACE INTO observations (record, position, origin, indicator, role, period,"
        " value, unit_code, unit, illustrative, result_of) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [(entry.id, row[0], entry.origin, *row[1:]) for row in _observations(doc)],
    )


class FactsFollower:
    """Keeps `record_links` and `observations` in step with the change log; the position is
    saved in the same transaction as the rows, so a crash never leaves the two apart."""

    name = NAME

    def __init__(self, db: Database) -> None:
        self.db = db

    async def position(self) -> int:
        rows = list(
            await self.db.reader.execute_fetchall(
                "SELECT position FROM log_positions WHERE follower = ?", (NAME,)
            )
        )
        return int(rows[0][0]) if rows else 0

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        async with self.db.transaction(notify=False) as conn:
            for entry in entries:
                await _replace(conn, entry)
            await conn.execute(
                "INSERT INTO log_positions (follower, position) VALUES (?, ?)"
                " ON CONFLICT (follower) DO UPDATE SET position = excluded.position",
                (NAME, upto),
            )


class Link(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    relation: str
    target: str
    origin: str
    detail: dict[str, Any] | None = None


def _link(row: Any) -> Link:
    detail = msgspec.json.decode(row[4]) if row[4] else None
    return Link(source=row[0], relation=row[1], target=row[2], origin=row[3], detail=detail)


async def links_from(conn: aiosqlite.Connection, source: str) -> list[Link]:
    rows = await conn.execute_fetchall(
        "SELECT source, relation, target, origin, detail FROM record_links WHERE source = ?"
        " ORDER BY relation, target",
        (source,),
    )
    return [_link(row) for row in rows]


async def links_to(conn: aiosqlite.Connection, target: str) -> list[Link]:
    rows = await conn.execute_fetchall(
        "SELECT source, relation, target, origin, detail FROM record_links WHERE target = ?"
        " ORDER BY relation, source",
        (target,),
    )
    return [_link(row) for row in rows]


async def links_of(conn: aiosqlite.Connection, relation: str) -> list[Link]:
    rows = await conn.execute_fetchall(
        "SELECT source, relation, target, origin, detail FROM record_links WHERE relation = ?"
        " ORDER BY origin, source, target",
        (relation,),
    )
    return [_link(row) for row in rows]


class Observation(msgspec.Struct, frozen=True, kw_only=True):
    record: str
    position: int
    origin: str
    indicator: str
    role: str
    period: str
    value: float
    unit_code: str | None
    unit: str | None
    illustrative: bool
    result_of: str | None


async def observations(
    conn: aiosqlite.Connection, indicator: str | None = None
) -> list[Observation]:
    sql = (
        "SELECT record, position, origin, indicator, role, period, value, unit_code, unit,"
        " illustrative, result_of FROM observations"
    )
    params: tuple[str, ...] = ()
    if indicator is not None:
        sql += " WHERE indicator = ?"
        params = (indicator,)
    sql += " ORDER BY origin, period, record, position"
    rows = await conn.execute_fetchall(sql, params)
    return [
        Observation(
            record=r[0], position=r[1], origin=r[2], indicator=r[3], role=r[4], period=r[5],
            value=r[6], unit_code=r[7], unit=r[8], illustrative=bool(r[9]), result_of=r[10],
        )
        for r in rows
    ]  # fmt: skip
