"""The nodes that records come from, this node included."""

from __future__ import annotations

import aiosqlite

from citynode.origins import Origin
from protocol.messages import Population


async def put_origin(conn: aiosqlite.Connection, origin: Origin, *, is_self: bool = False) -> None:
    people = origin.population
    await conn.execute(
        "INSERT INTO origins (did, base_url, city, country, wikidata, is_self, population, "
        "population_year, population_source, population_illustrative) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET "
        "base_url=excluded.base_url, city=excluded.city, country=excluded.country, "
        "wikidata=excluded.wikidata, is_self=MAX(is_self, excluded.is_self), "
        "population=excluded.population, population_year=excluded.population_year, "
        "population_source=excluded.population_source, "
        "population_illustrative=excluded.population_illustrative",
        (
            origin.did,
            origin.base_url,
            origin.city,
            origin.country,
            origin.wikidata,
            int(is_self),
            people.count if people else None,
            people.year if people else None,
            people.source if people else None,
            int(people.illustrative) if people else 0,
        ),
    )


async def all_origins(conn: aiosqlite.Connection) -> dict[str, Origin]:
    async with conn.execute(
        "SELECT did, base_url, city, country, wikidata, population, population_year, "
        "population_source, population_illustrative FROM origins"
    ) as cursor:
        rows = await cursor.fetchall()
    return {
        row[0]: Origin(
            did=row[0],
            base_url=row[1],
            city=row[2],
            country=row[3],
            wikidata=row[4],
            population=Population(
                count=row[5], year=row[6], source=row[7], illustrative=bool(row[8])
            )
            if row[5] and row[6]
            else None,
        )
        for row in rows
    }
