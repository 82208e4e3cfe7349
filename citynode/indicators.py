"""Comparable indicators across the cities in this node's replica (issue 9, "Comparable
indicators"): which cities report each indicator, and one indicator's series per city in one
unit, per capita where that means something, each point linked to its signed record.

The API (`/api/indicators`, `/api/indicators/{id}/compare`) and the compare page read these
typed Structs. The observations come from the facts follower (storage/facts.py), so a
comparison is one indexed query, whatever the size of the replica.
"""

from __future__ import annotations

from typing import Final

import msgspec

import vocab
from citynode.errors import NotFound
from citynode.origins import Origin
from citynode.storage import facts
from citynode.storage.db import Database
from citynode.storage.origins import all_origins
from protocol import ucum
from protocol.messages import Population
from protocol.records import INDICATOR_NS

ROLES: Final = ("observed", "baseline", "target")


class City(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    did: str
    name: str
    country: str
    base_url: str
    population: Population | None = None


class Indicator(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One indicator of the scheme, and the cities of the replica that report it."""

    id: str
    iri: str
    label: dict[str, str]
    definition: dict[str, str]
    unit: str
    per_capita_per: int | None = None
    sdg_indicator: str | None = None
    exact_match: list[str] = []
    related_match: list[str] = []
    cities: list[City] = []
    points: int = 0


class Point(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One measurement, as reported and in the indicator's canonical unit."""

    record: str
    result_of: str | None
    role: str
    period: str
    reported_value: float
    reported_unit: str | None
    unit_label: str | None
    value: float | None
    per_capita: float | None
    illustrative: bool
    #: Why `value` is missing: the reported unit does not convert to the canonical one.
    problem: str | None = None


class Series(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One city's points for the indicator, by role, in period order."""

    city: City
    observed: list[Point] = []
    baseline: list[Point] = []
    target: list[Point] = []


class Comparison(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    indicator: Indicator
    unit: str
    #: Per-capita values are per this many inhabitants (None: not meaningful for this one).
    per_capita_per: int | None
    cities: list[Series]


def _city(origin: Origin | None, did: str) -> City:
    if origin is None:
        return City(did=did, name=did, country="", base_url="")
    return City(
        did=did,
        name=origin.city,
        country=origin.country,
        base_url=origin.base_url,
        population=origin.population,
    )


def _indicator(concept: vocab.Concept, cities: list[City], points: int) -> Indicator:
    return Indicator(
        id=concept.notation or concept.iri.removeprefix(INDICATOR_NS),
        iri=concept.iri,
        label=dict(concept.pref_label),
        definition=dict(concept.definition),
        unit=concept.unit or "1",
        per_capita_per=concept.per_capita_per,
        sdg_indicator=concept.sdg_indicator,
        exact_match=list(concept.exact_match),
        related_match=list(concept.related_match),
        cities=cities,
        points=points,
    )


def find(identifier: str) -> vocab.Concept:
    """An indicator by its short id (`people-trained`) or its IRI; `NotFound` otherwise."""
    iri = identifier if identifier.startswith(INDICATOR_NS) else INDICATOR_NS + identifier
    concept = vocab.concepts().get(iri)
    if concept is None or concept.scheme != vocab.INDICATOR_SCHEME:
        known = ", ".join(c.notation or c.iri for c in vocab.indicators())
        raise NotFound(
            f"there is no indicator '{identifier}'; the indicators are: {known}",
            indicator=identifier,
        )
    return concept


async def list_indicators(db: Database) -> list[Indicator]:
    """Every indicator of the scheme, with the cities in the replica that report it."""
    origins = await all_origins(db.reader)
    by_indicator: dict[str, dict[str, int]] = {}
    for row in await facts.observations(db.reader):
        counts = by_indicator.setdefault(row.indicator, {})
        counts[row.origin] = counts.get(row.origin, 0) + 1
    out = []
    for concept in vocab.indicators():
        counts = by_indicator.get(concept.iri, {})
        cities = sorted(
            (_city(origins.get(did), did) for did in counts), key=lambda city: city.name
        )
        out.append(_indicator(concept, cities, sum(counts.values())))
    return out


def _point(row: facts.Observation, canonical: str, per: int | None, city: City) -> Point:
    value: float | None = None
    per_capita: float | None = None
    problem: str | None = None
    try:
        if row.unit_code is None:
            raise ucum.UnitError("the measurement gives no UCUM unit code", rule="ucum")
        value = ucum.convert(row.value, row.unit_code, canonical)
    except ucum.UnitError as exc:
        problem = exc.message
    if value is not None and per is not None and city.population is not None:
        per_capita = round(value / city.population.count * per, 6)
    return Point(
        record=row.record,
        result_of=row.result_of,
        role=row.role,
        period=row.period,
        reported_value=row.value,
        reported_unit=row.unit_code,
        unit_label=row.unit,
        value=round(value, 9) if value is not None else None,
        per_capita=per_capita,
        illustrative=row.illustrative,
        problem=problem,
    )


async def compare(db: Database, identifier: str) -> Comparison:
    """One indicator across every city in the replica, in its canonical unit."""
    concept = find(identifier)
    canonical = concept.unit or "1"
    origins = await all_origins(db.reader)
    rows = await facts.observations(db.reader, concept.iri)
    by_city: dict[str, dict[str, list[Point]]] = {}
    cities: dict[str, City] = {}
    for row in rows:
        city = cities.setdefault(row.origin, _city(origins.get(row.origin), row.origin))
        point = _point(row, canonical, concept.per_capita_per, city)
        by_city.setdefault(row.origin, {}).setdefault(row.role, []).append(point)
    series = [
        Series(
            city=cities[did],
            **{
                role: sorted(points.get(role, []), key=lambda p: (p.period, p.record))
                for role in ROLES
            },
        )
        for did, points in by_city.items()
    ]
    series.sort(key=lambda s: s.city.name)
    return Comparison(
        indicator=_indicator(concept, [s.city for s in series], len(rows)),
        unit=canonical,
        per_capita_per=concept.per_capita_per,
        cities=series,
    )
