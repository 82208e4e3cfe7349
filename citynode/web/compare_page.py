"""The compare page: one indicator of the vocabulary's indicator scheme across every city that
reports it, on one chart and one table, in the indicator's canonical UCUM unit (per capita where
the scheme says that means something), each point linked to the signed record it comes from.

Everything it shows comes from the indicator service (citynode/indicators.py), the same typed
answer as `/api/indicators` and `/api/indicators/{id}/compare`; as JSON the page is those two
answers side by side.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web

from citynode import indicators
from citynode.indicators import Comparison, Indicator, Point
from citynode.web import charts
from citynode.web.comparisons import caught_up
from citynode.web.contract import Routes
from citynode.web.keys import NODE
from citynode.web.render import Page, add_page, reply
from citynode.web.views import ROLES, text_of, unit_text

routes = Routes("pages")
ROLE_ORDER: Final = ("observed", "baseline", "target")


class ComparePage(msgspec.Struct, frozen=True, kw_only=True):
    """The page as JSON: the indicators (as `/api/indicators`) and the chosen comparison (as
    `/api/indicators/{id}/compare`), with whether values are shown per capita."""

    indicators: list[Indicator]
    comparison: Comparison | None
    per_capita: bool


def _shown(point: Point, per_capita: bool) -> float | None:
    return point.per_capita if per_capita else point.value


def chart_of(comparison: Comparison, per_capita: bool, page: Page) -> Any:
    """Observed values per city over time; each city's series its own marker and colour."""
    name, _found = text_of(comparison.indicator.label, page.lang)
    unit = unit_label(comparison, per_capita, page)
    series: list[charts.Series] = []
    described: list[str] = []
    for each in comparison.cities:
        points = []
        for point in each.observed:
            value = _shown(point, per_capita)
            x = charts.year_of(point.period)
            if value is None or x is None:
                continue
            points.append(charts.Point(x=x, y=value, label=point.period))
            described.append(f"{each.city.name}: {charts.number(value)} ({point.period})")
        if points:
            series.append(charts.Series(name=each.city.name, points=points))
    title = f"{name} ({unit})"
    return charts.line_chart("compare", title, "; ".join(described), unit, series)


def unit_label(comparison: Comparison, per_capita: bool, page: Page) -> str:
    unit = unit_text(comparison.unit)
    if per_capita and comparison.per_capita_per:
        return page.gettext("%(unit)s per %(n)s inhabitants") % {
            "unit": unit,
            "n": page.number(comparison.per_capita_per),
        }
    return unit


def table_rows(comparison: Comparison, page: Page) -> list[dict[str, Any]]:
    """Every point of every city, observed then baseline then target, in period order."""
    rows = []
    for each in comparison.cities:
        for role in ROLE_ORDER:
            for point in getattr(each, role):
                rows.append({"city": each.city, "point": point, "role": ROLES[role]})
    return rows


def _reported(indicator: Indicator) -> tuple[int, str]:
    return (-len(indicator.cities), indicator.id)


@add_page(
    routes,
    "/compare",
    summary="One indicator across every city that reports it, in one unit",
    query=("indicator", "per_capita"),
    media={"application/json": ComparePage},
)
async def compare(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    page = Page(request)
    await caught_up(request)
    every = await indicators.list_indicators(node.db)
    reported = sorted((i for i in every if i.cities), key=_reported)
    wanted = request.query.get("indicator")
    if wanted:
        # An unknown id is a 404 naming the valid ones (the page in the reader's language).
        concept = indicators.find(wanted)
        chosen: str | None = concept.notation or concept.iri
    else:
        chosen = reported[0].id if reported else None
    comparison = await indicators.compare(node.db, chosen) if chosen else None
    per_capita = bool(
        comparison and comparison.per_capita_per and request.query.get("per_capita") == "1"
    )
    values: dict[str, Any] = {
        "indicators": reported,
        "unreported": [i for i in every if not i.cities],
        "comparison": comparison,
        "per_capita": per_capita,
        "unit": unit_label(comparison, per_capita, page) if comparison else "",
        "chart": chart_of(comparison, per_capita, page) if comparison else None,
        "rows": table_rows(comparison, page) if comparison else [],
        "missing_population": [s.city.name for s in comparison.cities if s.city.population is None]
        if comparison
        else [],
        "shown": _shown,
    }
    data = ComparePage(indicators=every, comparison=comparison, per_capita=per_capita)
    return reply(request, "compare.html", values, data, page=page)
