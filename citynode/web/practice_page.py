"""The practice page: every field, results as charts and tables, versions with what changed,
provenance, downloads, similar practices in other cities and practices adapted from it.

Served at a record's own URL (`/records/{slug}`, HTML by content negotiation; JSON there is the
signed record itself) and, for a record held from another city, at `/practice?id=<record IRI>`,
which also serves the downloads (`format=jsonld|turtle|csv`) of any held record.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Final

import msgspec
from aiohttp import web

from citynode import rdf
from citynode.errors import NotFound
from citynode.exports import write_csv
from citynode.lineage import relations
from citynode.record_ids import records_base
from citynode.search.similar import similar
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.storage.overview import results_of
from citynode.web import record_fields
from citynode.web.charts import Point, Reference, Series, line_chart, number, year_of
from citynode.web.contract import Routes
from citynode.web.keys import NODE, SEARCH
from citynode.web.provenance import signature_state
from citynode.web.render import Page, add_page, html, wants_json
from citynode.web.views import ROLES, text_of

routes = Routes("pages")
VERSIONS_SHOWN: Final = 10
#: Fields whose change is bookkeeping, not content, in "what changed".
_BOOKKEEPING: Final = frozenset({"version", "previousVersion", "modified", "proof", "issued"})
DOWNLOADS: Final = {
    "jsonld": "application/ld+json",
    "turtle": "text/turtle",
    "csv": "text/csv",
}


def editorial_fields(document: dict[str, Any]) -> set[str]:
    """The fields whose text the publishing city did not write itself (issue 9 item 1)."""
    mark = document.get("editorial")
    return {str(f) for f in mark} if isinstance(mark, list) else set()


def charts_of(result: dict[str, Any], lang: str, gettext: Any, key: str) -> list[dict[str, Any]]:
    """One chart per indicator and unit of a result: observed over time, baseline and target."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for measurement in result.get("measurements") or []:
        name, _found = text_of(measurement.get("indicator"), lang)
        groups[(name, str(measurement.get("unit", "")))].append(measurement)
    charts = []
    for index, ((name, unit), items) in enumerate(groups.items()):
        observed: list[Point] = []
        references: list[Reference] = []
        rows = []
        for m in sorted(items, key=lambda m: str(m.get("period", ""))):
            role = str(m.get("role", "observed"))
            value = m.get("value")
            if not isinstance(value, int | float):
                continue
            period = str(m.get("period", ""))
            rows.append(
                {
                    "period": period,
                    "role": gettext(ROLES.get(role, role)),
                    "value": number(value),
                    "illustrative": bool(m.get("illustrative")),
                    "source": m.get("source"),
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
        title = f"{name} ({unit})"
        chart_id = f"chart-{key}-{index}"
        charts.append(
            {
                "id": chart_id,
                "title": title,
                "unit": unit,
                "rows": rows,
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


async def _what_changed(node: Any, row: store.StoredRecord) -> list[dict[str, Any]]:
    versions = (await store.history(node.db.reader, row.id))[:VERSIONS_SHOWN]
    out = []
    for info in versions:
        this = await store.get_version(node.db.reader, row.id, info.version)
        before = (
            await store.get_version(node.db.reader, row.id, info.version - 1)
            if info.version > 1
            else None
        )
        changed: list[str] = []
        if this is not None and before is not None:
            new, old = this.document(), before.document()
            changed = [
                k
                for k in sorted(set(new) | set(old))
                if k not in _BOOKKEEPING and new.get(k) != old.get(k)
            ]
        out.append(
            {
                "version": info.version,
                "type": info.type,
                "modified": info.modified,
                "changed": changed,
                "first": info.version == 1,
            }
        )
    return out


async def practice_values(
    request: web.Request, row: store.StoredRecord, page: Page
) -> dict[str, Any]:
    node = request.app[NODE]
    conn = node.db.reader
    document = row.document()
    origins = await all_origins(conn)
    origin = origins.get(row.origin)
    lang = page.lang
    kind = str(document.get("type", row.type))
    results: list[dict[str, Any]] = []
    if kind in ("Project", "Policy", "Programme"):
        for result_row in await results_of(conn, row.id):
            result = result_row.document()
            results.append(
                {
                    "document": result,
                    "id": result_row.id,
                    "charts": charts_of(result, lang, page.gettext, f"r{len(results)}"),
                }
            )
    own_charts = charts_of(document, lang, page.gettext, "self") if kind == "Result" else []
    parent = None
    if kind == "Result" and document.get("resultOf"):
        held = await store.get_current(conn, str(document["resultOf"]))
        parent = held.document() if held else {"id": document["resultOf"]}
    links = await relations(node.db, row.id)
    similar_hits = (
        msgspec.to_builtins(
            await similar(request.app[SEARCH].searching, row.id, limit=5, lang=lang)
        )
        if kind != "Tombstone"
        else []
    )
    proof = document.get("proof") or {}
    return {
        "doc": document,
        "row": row,
        "kind": kind,
        "own": row.origin == node.keyring.identity.did,
        "city": _city(origins, row.origin),
        "origin": origin,
        "signature": signature_state(node, document),
        "key": proof.get("verificationMethod", ""),
        "signed_at": proof.get("created", ""),
        "cryptosuite": proof.get("cryptosuite", ""),
        "editorial": editorial_fields(document),
        "results": results,
        "own_charts": own_charts,
        "parent": parent,
        "links": links,
        "similar": similar_hits,
        "versions": await _what_changed(node, row),
        "other_fields": record_fields.other_fields(document),
        "field_label": lambda f: record_fields.label(f, page.gettext),
        "value_html": lambda v: record_fields.value_html(v, lang, page.gettext),
        "downloads": [(name, page.link("/practice", id=row.id, format=name)) for name in DOWNLOADS],
    }


def _city(origins: dict[str, Any], did: str) -> str:
    origin = origins.get(did)
    return f"{origin.city} ({origin.country})" if origin else did


async def render_practice(
    request: web.Request, row: store.StoredRecord, status: int = 200
) -> web.Response:
    """The HTML page of a stored record version (any type, tombstones included)."""
    page = Page(request)
    values = await practice_values(request, row, page)
    title, _found = text_of(values["doc"].get("title"), page.lang)
    values["title"] = title or row.id
    return html(request, "practice.html", values, status=status, page=page)


async def _download(row: store.StoredRecord, fmt: str) -> web.Response:
    document = row.document()
    name = row.id.rstrip("/").rsplit("/", 1)[-1]
    if fmt == "jsonld":
        return web.Response(body=row.body, content_type=DOWNLOADS[fmt])
    if fmt == "turtle":
        body = await asyncio.to_thread(rdf.serialize, [document], "turtle")
        return web.Response(body=body, content_type=DOWNLOADS[fmt])
    return web.Response(
        text=write_csv([document]),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@add_page(
    routes,
    "/practice",
    summary="Any record this node holds, by its IRI: page, signed JSON or a download",
    query=("id",),
    media={"application/ld+json": Any, "text/turtle": str, "text/csv": str},
)
async def held_practice(request: web.Request) -> web.StreamResponse:
    """Any record this node holds, by its IRI: the page, the signed JSON, or a download."""
    node = request.app[NODE]
    record_id = request.query.get("id", "")
    row = await store.get_current(node.db.reader, record_id) if record_id else None
    if row is None:
        raise NotFound(f"this node holds no record {record_id or '(no id given)'}", id=record_id)
    fmt = request.query.get("format", "")
    if fmt in DOWNLOADS:
        return await _download(row, fmt)
    if wants_json(request):
        return web.Response(body=row.body, content_type="application/json")
    return await render_practice(request, row, 410 if row.type == "Tombstone" else 200)


@add_page(
    routes,
    "/records/{slug:[a-z0-9][a-z0-9-]{0,99}}",
    summary="A record of this node, its page in a chosen language",
    prefixed_only=True,
    media={"application/ld+json": Any},
)
async def own_practice(request: web.Request) -> web.StreamResponse:
    """A record of this node in a chosen language (the record's IRI itself negotiates)."""
    node = request.app[NODE]
    record_id = records_base(node.config.base_url) + request.match_info["slug"]
    row = await store.get_current(node.db.reader, record_id)
    if row is None:
        raise NotFound(f"there is no record {record_id}", record=record_id)
    if wants_json(request):
        return web.Response(body=row.body, content_type="application/ld+json")
    return await render_practice(request, row, 410 if row.type == "Tombstone" else 200)
