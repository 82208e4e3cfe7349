"""The compare page: one indicator across every city that reports it, one chart and one table,
each point linked to the signed result it comes from.

Until the vocabulary's indicator scheme and `/api/indicators` land (issue 9 item 2), an
indicator is a measurement's name (its English label when it has one, else its first) and its
unit, both folded: two cities' figures line up only when both say the same thing in the same
unit, so no unit is converted here. `indicators()` is the seam the indicator API replaces.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any, Final

import msgspec
from aiohttp import web

from citynode.node import Node
from citynode.storage.origins import all_origins
from citynode.storage.overview import current_results
from citynode.web.charts import Point, Series, line_chart, number, year_of
from citynode.web.contract import Routes
from citynode.web.keys import NODE
from citynode.web.render import Page, add_page, reply
from citynode.web.views import text_of

routes = Routes("pages")
LISTED: Final = 200


class Observation(msgspec.Struct, kw_only=True):
    city: str
    country: str
    origin: str
    record: str
    period: str
    role: str
    value: float
    illustrative: bool


class Indicator(msgspec.Struct, kw_only=True):
    key: str
    names: dict[str, str]
    unit: str
    cities: list[str]
    observations: list[Observation]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def indicator_key(names: dict[str, str], unit: str) -> str:
    name = names.get("en") or next(iter(names.values()), "")
    return f"{_fold(name)}|{_fold(unit)}"


async def indicators(node: Node) -> list[Indicator]:
    """Every indicator reported by a current result of any city, with every observation."""
    origins = await all_origins(node.db.reader)
    found: dict[str, Indicator] = {}
    cities: dict[str, set[str]] = defaultdict(set)
    for row in await current_results(node.db.reader):
        document = row.document()
        origin = origins.get(row.origin)
        for m in document.get("measurements") or []:
            names = m.get("indicator")
            value = m.get("value")
            if not isinstance(names, dict) or not isinstance(value, int | float):
                continue
            unit = str(m.get("unit", ""))
            key = indicator_key(names, unit)
            entry = found.setdefault(
                key, Indicator(key=key, names=dict(names), unit=unit, cities=[], observations=[])
            )
            city = origin.city if origin else row.origin
            cities[key].add(city)
            entry.observations.append(
                Observation(
                    city=city,
                    country=origin.country if origin else "",
                    origin=row.origin,
                    record=row.id,
                    period=str(m.get("period", "")),
                    role=str(m.get("role", "observed")),
                    value=float(value),
                    illustrative=bool(m.get("illustrative") or document.get("illustrative")),
                )
            )
    for key, entry in found.items():
        entry.cities = sorted(cities[key])
    return sorted(found.values(), key=lambda i: (-len(i.cities), i.key))


def _chart(indicator: Indicator, lang: str, page: Page) -> Any:
    name, _found = text_of(indicator.names, lang)
    per_city: dict[str, list[Point]] = defaultdict(list)
    for obs in indicator.observations:
        x = year_of(obs.period)
        if obs.role == "observed" and x is not None:
            per_city[obs.city].append(Point(x=x, y=obs.value, label=obs.period))
    series = [Series(name=city, points=points) for city, points in sorted(per_city.items())]
    description = "; ".join(
        f"{o.city}: {number(o.value)} {indicator.unit} ({o.period}, {page.gettext(o.role)})"
        for o in indicator.observations
    )
    title = f"{name} ({indicator.unit})"
    return line_chart("compare", title, description, indicator.unit, series)


@add_page(
    routes,
    "/compare",
    summary="One indicator across every city that reports it",
    query=("indicator",),
)
async def compare(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    page = Page(request)
    every = await indicators(node)
    chosen_key = request.query.get("indicator")
    chosen = next((i for i in every if i.key == chosen_key), None)
    if chosen is None and chosen_key is None and every:
        chosen = every[0]
    listed = every[:LISTED]
    values: dict[str, Any] = {
        "indicators": listed,
        "chosen": chosen,
        "unknown": chosen_key is not None and chosen is None,
        "chart": _chart(chosen, page.lang, page) if chosen else None,
    }
    data: dict[str, Any] = {
        "indicators": [
            {"key": i.key, "names": i.names, "unit": i.unit, "cities": i.cities} for i in listed
        ],
        "indicator": msgspec.to_builtins(chosen) if chosen else None,
    }
    return reply(request, "compare.html", values, data, page=page)
