"""The practice page: every field, results as charts and tables, versions with what changed,
provenance, downloads, similar practices in other cities and practices adapted from it.

Served at a record's own URL (`/records/{slug}`, HTML by content negotiation; JSON there is the
signed record itself) and, for a record held from another city, at `/practice?id=<record IRI>`,
which also serves the downloads (`format=jsonld|turtle|csv`) of any held record.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import msgspec
from aiohttp import web

from citynode import rdf
from citynode.errors import NotFound
from citynode.exports import write_csv
from citynode.lineage import relations
from citynode.node import Node
from citynode.record_ids import records_base
from citynode.search.similar import similar
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.storage.overview import results_of
from citynode.storage.peers import get_peer
from citynode.web import record_fields
from citynode.web.comparisons import caught_up as facts_caught_up
from citynode.web.contract import Routes
from citynode.web.keys import NODE, SEARCH
from citynode.web.practice_views import charts_of, is_marked
from citynode.web.provenance import signature_state
from citynode.web.render import Page, add_page, html, wants_json
from citynode.web.views import text_of
from protocol.errors import ProtocolError
from protocol.readable import read_record
from protocol.records import PRACTICE_TYPES

routes = Routes("pages")
VERSIONS_SHOWN: Final = 10
#: Fields whose change is bookkeeping, not content, in "what changed".
_BOOKKEEPING: Final = frozenset({"version", "previousVersion", "modified", "proof", "issued"})
DOWNLOADS: Final = {
    "jsonld": "application/ld+json",
    "turtle": "text/turtle",
    "csv": "text/csv",
}


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


def _readable(row: store.StoredRecord) -> tuple[dict[str, Any], tuple[str, ...]]:
    """What this node can read of a stored record, and what it set aside (a newer peer's
    terms: shown as a note, never an error; docs/DESIGN.md "Evolution")."""
    document = row.document()
    try:
        readable = read_record(document)
    except ProtocolError:
        return document, ()
    return readable.document, readable.ignored


async def provenance(node: Node, row: store.StoredRecord, origins: dict[str, Any]) -> Any:
    """Where the record came from and the path it took: published here, straight from the
    origin's node, or relayed by another peer (the peer whose feed served it is kept on ingest,
    storage/records.append)."""
    arrival = await store.arrival(node.db.reader, row.id, row.version)
    via = arrival.received_from if arrival else None
    city: str | None = _city(origins, via) if via else None
    url: str | None = None
    if via and via in origins:
        url = origins[via].base_url
    elif via:  # a relay that publishes nothing we hold: the peers table names it
        peer = await get_peer(node.db.reader, via)
        if peer is not None:
            city = f"{peer.name} ({peer.country})" if peer.country else peer.name
            url = peer.base_url
    return {
        "received_at": arrival.received_at if arrival else None,
        "via": via,
        "via_city": city,
        "via_url": url,
        "direct": via == row.origin,
    }


async def practice_values(
    request: web.Request, row: store.StoredRecord, page: Page
) -> dict[str, Any]:
    node = request.app[NODE]
    conn = node.db.reader
    document, ignored = _readable(row)
    origins = await all_origins(conn)
    lang = page.lang
    kind = str(document.get("type", row.type))
    # Links and results come from the facts view, which may hold back behind bulk writes or
    # the search index (storage/log.py): let it reach what is stored, as the API does.
    await facts_caught_up(request)
    links = await relations(node.db, row.id) if kind != "Tombstone" else None
    results: list[dict[str, Any]] = []
    if kind in PRACTICE_TYPES:
        for result_row in await results_of(conn, row.id):
            result, _ignored = _readable(result_row)
            results.append(
                {
                    "document": result,
                    "id": result_row.id,
                    "city": _city(origins, result_row.origin),
                    "charts": charts_of(result, lang, page.gettext, f"r{len(results)}"),
                }
            )
    own_charts = charts_of(document, lang, page.gettext, "self") if kind == "Result" else []
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
        "ignored": ignored,
        "row": row,
        "kind": kind,
        "own": row.origin == node.keyring.identity.did,
        "city": _city(origins, row.origin),
        "origin": origins.get(row.origin),
        "signature": signature_state(node, document),
        "key": proof.get("verificationMethod", ""),
        "signed_at": proof.get("created", ""),
        "cryptosuite": proof.get("cryptosuite", ""),
        "path": await provenance(node, row, origins),
        "illustrative_all": document.get("illustrative") is True,
        "has_illustrative": is_marked(document, "illustrative"),
        "has_editorial": is_marked(document, "editorial"),
        "results": results,
        "own_charts": own_charts,
        "links": links,
        "similar": similar_hits,
        "versions": await _what_changed(node, row),
        "other_fields": record_fields.other_fields(document),
        "field_label": lambda f: record_fields.label(f, page.gettext),
        "value_html": lambda v: record_fields.value_html(v, lang, page.gettext),
        "downloads": [(name, page.link("/practice", id=row.id, format=name)) for name in DOWNLOADS],
    }


def _city(origins: dict[str, Any], did: str) -> str:
    """A city by its node's DID, as people name it."""
    origin = origins.get(did)
    return f"{origin.city} ({origin.country})" if origin else did


async def render_practice(
    request: web.Request, row: store.StoredRecord, status: int = 200
) -> web.Response:
    """The HTML page of a stored record version (any type, tombstones included)."""
    page = Page(request)
    values = await practice_values(request, row, page)
    title, _found = text_of(values["doc"].get("title"), page.lang, page.preferred)
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
