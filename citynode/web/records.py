"""Read-only record routes: the list, one record (content-negotiated), and its versions."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import msgspec
from aiohttp import web

from citynode import rdf
from citynode.errors import BadRequest, NotFound
from citynode.publishing import records_base, slug_of
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.web import negotiation as neg
from citynode.web.keys import NODE
from citynode.web.practice_page import render_practice
from protocol.records import PRACTICE_TYPES, RECORD_TYPES, STATUS_NS

routes = web.RouteTableDef()

_STATUSES = ("planned", "ongoing", "completed", "suspended", "discontinued")


def json_response(
    value: Any, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(value), content_type=content_type)


def int_param(
    request: web.Request, name: str, default: int | None, low: int, high: int
) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            f"query parameter '{name}' must be a whole number, not '{raw}'", parameter=name
        ) from None
    if not low <= value <= high:
        raise BadRequest(
            f"query parameter '{name}' must be between {low} and {high}", parameter=name
        )
    return value


def _statuses(request: web.Request) -> tuple[str, ...]:
    out = []
    for raw in request.query.getall("status", []):
        slug = raw.removeprefix(STATUS_NS)
        if slug not in _STATUSES:
            raise BadRequest(
                f"status '{raw}' is not one of {', '.join(_STATUSES)}", parameter="status"
            )
        out.append(STATUS_NS + slug)
    return tuple(out)


def _types(request: web.Request) -> tuple[str, ...]:
    types = tuple(request.query.getall("type", []))
    for value in types:
        if value not in RECORD_TYPES and value != "Practice":
            raise BadRequest(
                f"type '{value}' is not one of {', '.join(RECORD_TYPES)}", parameter="type"
            )
    if "Practice" in types:
        types = tuple(t for t in types if t != "Practice") + PRACTICE_TYPES
    return types


def _title(document: dict[str, Any]) -> dict[str, str]:
    title = document.get("title")
    return title if isinstance(title, dict) else {}


@routes.get("/records")
async def list_records(request: web.Request) -> web.Response:
    """Current records, newest first. `origin=all` includes records held from other cities."""
    node = request.app[NODE]
    limit = int_param(request, "limit", 50, 1, node.config.server.max_page_size) or 50
    before = int_param(request, "before", None, 1, 2**62)
    origin = request.query.get("origin", "self")
    origins: tuple[str, ...] | None
    if origin == "self":
        origins = (node.identity.did,)
    elif origin == "all":
        origins = None
    else:
        origins = (origin,)
    modified_since = request.query.get("modified_since")
    if modified_since is not None and not _SINCE.match(modified_since):
        raise BadRequest(
            "modified_since must be a date (2024-05-01) or a UTC time (2024-05-01T10:00:00Z)",
            parameter="modified_since",
        )
    where = store.ListFilter(
        origins=origins,
        types=_types(request),
        statuses=_statuses(request),
        modified_since=modified_since,
        before_seq=before,
        limit=limit,
    )
    rows = await store.list_current(node.db.reader, where)
    cities = await all_origins(node.db.reader)
    items = []
    for row in rows:
        document = row.document()
        city = cities.get(row.origin)
        items.append(
            {
                "id": row.id,
                "type": row.type,
                "version": row.version,
                "modified": row.modified,
                "status": document.get("status"),
                "title": _title(document),
                "origin": {
                    "did": row.origin,
                    "city": city.city if city else None,
                    "country": city.country if city else None,
                },
            }
        )
    page: dict[str, Any] = {"items": items, "count": len(items)}
    if len(rows) == limit:
        query = dict(request.query)
        query["before"] = str(rows[-1].seq)
        page["next"] = str(request.rel_url.with_query(query))
    return json_response(page)


_SINCE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$")


async def _record_or_404(request: web.Request, version: int | None = None) -> store.StoredRecord:
    node = request.app[NODE]
    slug = request.match_info["slug"]
    record_id = records_base(node.config.base_url) + slug
    slug_of(record_id, node.config.base_url)
    row = (
        await store.get_version(node.db.reader, record_id, version)
        if version is not None
        else await store.get_current(node.db.reader, record_id)
    )
    if row is None:
        suffix = f" at version {version}" if version is not None else ""
        raise NotFound(f"there is no record {record_id}{suffix}", record=record_id)
    return row


async def _represent(
    request: web.Request, row: store.StoredRecord, *, gone_if_tombstone: bool = True
) -> web.Response:
    chosen = neg.choose(
        request.headers.get("Accept"), neg.RECORD_TYPES, request.query.get("format")
    )
    status = 410 if gone_if_tombstone and row.type == "Tombstone" else 200
    headers = {
        "Vary": "Accept",
        "ETag": f'"{row.version}"',
        "Link": f'<{row.id}/versions>; rel="version-history"',
    }
    if chosen in (neg.JSONLD, neg.JSON):
        # The stored bytes are exactly what was signed: serve them untouched.
        return web.Response(status=status, body=row.body, content_type=chosen, headers=headers)
    document = row.document()
    if chosen == neg.HTML:
        response = await render_practice(request, row, status)
        response.headers.update(headers)
        return response
    fmt = "turtle" if chosen == neg.TURTLE else "nt"
    body = await asyncio.to_thread(rdf.serialize, [document], fmt)
    return web.Response(status=status, body=body, content_type=chosen, headers=headers)


@routes.get(r"/records/{slug:[a-z0-9][a-z0-9-]{0,99}}")
async def get_record(request: web.Request) -> web.Response:
    version = int_param(request, "version", None, 1, 2**31)
    return await _represent(request, await _record_or_404(request, version))


@routes.get(r"/records/{slug:[a-z0-9][a-z0-9-]{0,99}}/versions")
async def list_versions(request: web.Request) -> web.Response:
    row = await _record_or_404(request)
    node = request.app[NODE]
    versions = await store.history(node.db.reader, row.id)
    return json_response(
        {
            "id": row.id,
            "current": row.version,
            "versions": [
                {
                    "version": v.version,
                    "type": v.type,
                    "modified": v.modified,
                    "url": f"{row.id}/versions/{v.version}",
                }
                for v in versions
            ],
        }
    )


@routes.get(r"/records/{slug:[a-z0-9][a-z0-9-]{0,99}}/versions/{version:\d{1,10}}")
async def get_version(request: web.Request) -> web.Response:
    version = int(request.match_info["version"])
    row = await _record_or_404(request, version)
    return await _represent(request, row, gone_if_tombstone=False)
