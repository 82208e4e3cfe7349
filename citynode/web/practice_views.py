"""How the practice page shows vocabulary 1.1's parts of a record: marks, money, organisations'
registries, coordinates, and a result's measurements as charts.

Pure functions over a record's readable JSON (protocol/readable.py), shared by the practice page
and its templates (`templates/practice_parts.html`).

Marks (protocol/records.py `_Marked`): any object of a record may say `illustrative` (true: all of
it; a list: those fields) and `editorial` (the fields whose text the publishing city did not
write). The page shows each mark beside what it marks, in words, never by colour alone.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Final
from urllib.parse import urlsplit

from babel.numbers import UnknownCurrencyError, format_currency

from citynode.web.charts import Point, Reference, Series, line_chart, year_of
from citynode.web.views import (
    ROLES,
    Gettext,
    concept_label,
    number_text,
    period_text,
    text_of,
    unit_text,
)
from protocol.records import INDICATOR_NS

#: Registries an organisation or a place may be named in, by host, as people call them.
REGISTRIES: Final = {
    "www.wikidata.org": "Wikidata",
    "ror.org": "ROR",
    "www.geonames.org": "GeoNames",
    "sws.geonames.org": "GeoNames",
    "www.openstreetmap.org": "OpenStreetMap",
}


def mark_kinds(obj: Any, field: str | None = None) -> list[str]:
    """The marks to show: of the whole object (`field` None: illustrative when it says true),
    or of one of its fields (in its illustrative list, in its editorial list)."""
    if not isinstance(obj, dict):
        return []
    illustrative = obj.get("illustrative")
    editorial = obj.get("editorial")
    if field is None:
        return ["illustrative"] if illustrative is True else []
    kinds = []
    if isinstance(illustrative, list) and field in illustrative:
        kinds.append("illustrative")
    if isinstance(editorial, list) and field in editorial:
        kinds.append("editorial")
    return kinds


def is_marked(document: dict[str, Any], kind: str) -> bool:
    """Whether the record or any object in it carries the mark (the page then explains it)."""
    if kind == "illustrative" and document.get("illustrative") not in (None, False, []):
        return True
    if kind == "editorial" and document.get("editorial"):
        return True
    for value in document.values():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, dict) and is_marked(item, kind) for item in items):
            return True
    return False


def money_text(value: float, currency: str, lang: str) -> str:
    """An amount in its ISO 4217 currency, as the reader writes money (COP 1.200.000.000)."""
    try:
        return format_currency(value, currency, locale=lang)
    except (UnknownCurrencyError, ValueError):
        return f"{number_text(value, lang)} {currency}"


def registry_name(iri: str) -> str:
    """Which registry an IRI is in (Wikidata, ROR...), or its host."""
    host = urlsplit(iri).hostname or iri
    return REGISTRIES.get(host, host)


def coordinates_text(latitude: float, longitude: float, lang: str) -> str:
    return f"{number_text(round(latitude, 5), lang)}°, {number_text(round(longitude, 5), lang)}°"


def indicator_id(iri: str) -> str:
    return iri.removeprefix(INDICATOR_NS)


def charts_of(
    result: dict[str, Any], lang: str, gettext: Gettext, key: str
) -> list[dict[str, Any]]:
    """One chart per indicator and unit of a result: observed over time, baseline and target.

    An indicator is the scheme's (`measures`, named by its label) or, in records from before
    the scheme, the measurement's own name; its unit the stated words, else the UCUM code.
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for measurement in result.get("measurements") or []:
        measures = str(measurement.get("measures") or "")
        name, _found = text_of(measurement.get("indicator"), lang)
        if measures:
            name = concept_label(measures, lang)
        unit = str(measurement.get("unit") or unit_text(measurement.get("unitCode")))
        groups[(measures, name, unit)].append(measurement)
    charts = []
    for index, ((measures, name, unit), items) in enumerate(groups.items()):
        observed: list[Point] = []
        references: list[Reference] = []
        rows = []
        for m in sorted(items, key=lambda m: str(m.get("period", ""))):
            role = str(m.get("role") or "observed")
            value = m.get("value")
            if not isinstance(value, int | float) or role not in ROLES:
                continue
            period = str(m.get("period", ""))
            rows.append(
                {
                    "period": period_text(period, lang),
                    "role": gettext(ROLES[role]),
                    "value": number_text(value, lang),
                    "marks": mark_kinds(m) + mark_kinds(m, "value") + mark_kinds(m, "period"),
                    "source": m.get("source"),
                    "unit_code": m.get("unitCode"),
                }
            )
            x = year_of(period)
            if role == "observed" and x is not None:
                observed.append(Point(x=x, y=float(value), label=period))
            elif role in ("baseline", "target"):
                references.append(
                    Reference(kind=role, name=gettext(ROLES[role]), y=float(value), label=period)
                )
        summary = "; ".join(f"{r['role']} {r['value']} {unit} ({r['period']})" for r in rows)
        title = f"{name} ({unit})" if unit else name
        chart_id = f"chart-{key}-{index}"
        charts.append(
            {
                "id": chart_id,
                "title": title,
                "unit": unit,
                "rows": rows,
                "indicator": indicator_id(measures) if measures else None,
                "svg": line_chart(
                    chart_id,
                    title,
                    summary,
                    unit,
                    [Series(name=gettext("observed"), points=observed)] if observed else [],
                    references,
                ),
            }
        )
    return charts
