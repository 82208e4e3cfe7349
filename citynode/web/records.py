"""Read-only record routes: the list, one record (content-negotiated), and its versions."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode import rdf
from citynode.errors import BadRequest, NotFound
from citynode.record_ids import records_base
from citynode.storage import records as store
from citynode.storage.origins import all_origins
from citynode.web import negotiation as neg
from citynode.web.contract import Reply, Routes
from citynode.web.keys import NODE
from citynode.web.params import read_path, read_query
from citynode.web.practice_page import render_practice
from citynode.web.responses import respond
from protocol.records import PRACTICE_TYPES, STATUS_NS, Record

routes = Routes("records")

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]
SLUG_ROUTE = r"{slug:[a-z0-9][a-z0-9-]{0,99}}"
_STATUSES = ("planned", "ongoing", "completed", "suspended", "discontinued")
TypeName = Literal["Project", "Policy", "Programme", "Result", "Tombstone", "Practice"]
#: A signed record as stored: one of the record model's types (protocol/records.py).
RECORD_MEDIA: dict[str, Any] = {
    neg.JSONLD: Record,
    neg.JSON: Record,
    neg.TURTLE: str,
    neg.NTRIPLES: str,
    neg.HTML: str,
}


class SlugPath(msgspec.Struct, kw_only=True):
    slug: Slug


class VersionPath(msgspec.Struct, kw_only=True):
    slug: Slug
    version: Annotated[int, Meta(ge=1, le=2**31)]


class RecordsQuery(msgspec.Struct, kw_only=True):
    type: Annotated[
        list[TypeName], Meta(description="repeat for several; Practice = all three")
    ] = []
    status: Annotated[
        list[str], Meta(description="planned, ongoing, completed, suspended or discontinued")
    ] = []
    modified_since: (
        Annotated[
            str,
            Meta(
                pattern=r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$",
                description="a date (2024-05-01) or a UTC time (2024-05-01T10:00:00Z)",
            ),
        ]
        | None
    ) = None
    origin: Annotated[str, Meta(description="self (default), all, or an origin's DID")] = "self"
    limit: Annotated[int, Meta(ge=1, le=5000)] = 50
    before: Annotated[int, Meta(ge=1, le=2**62, description="the page cursor of `next`")] | None = (
        None
    )


class RecordQuery(msgspec.Struct, kw_only=True):
    version: Annotated[int, Meta(ge=1, le=2**31)] | None = None
    format: (
        Annotated[
            str,
            Meta(description="jsonld, json, turtle (ttl), nt (ntriples) or html; overrides Accept"),
        ]
        | None
    ) = None
    lang: Annotated[str, Meta(description="the reader's language for the HTML page")] | None = None


class FormatQuery(msgspec.Struct, kw_only=True):
    format: Annotated[str, Meta(description="jsonld, json, turtle, nt or html")] | None = None
    lang: str | None = None


class OriginCity(msgspec.Struct, kw_only=True):
    did: str
    city: str | None
    country: str | None


class RecordSummary(msgspec.Struct, kw_only=True):
    id: str
    type: str
    version: int
    modified: str
    status: str | None
    title: dict[str, str]
    #: verified | revoked | unverified, judged now (citynode/trust.py)
    signature: str
    origin: OriginCity


class RecordPage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A page of current records, newest first; `next` is the following page's URL."""

    items: list[RecordSummary]
    count: int
    next: str | None = None


class VersionEntry(msgspec.Struct, kw_only=True):
    version: int
    type: str
    modified: str
    url: str


class VersionHistory(msgspec.Struct, kw_only=True):
    id: str
    current: int
    versions: list[VersionEntry]


def _statuses(values: list[str]) -> tuple[str, ...]:
    out = []
    for raw in values:
        slug = raw.removeprefix(STATUS_NS)
        if slug not in _STATUSES:
            raise BadRequest(
                f"status '{raw}' is not one of {', '.join(_STATUSES)}", parameter="status"
            )
        out.append(STATUS_NS + slug)
    return tuple(out)


def _types(values: list[TypeName]) -> tuple[str, ...]:
    types = tuple(t for t in values if t != "Practice")
    return types + PRACTICE_TYPES if "Practice" in values else types


def _title(document: dict[str, Any]) -> dict[str, str]:
    title = document.get("title")
    return title if isinstance(title, dict) else {}


@routes.get(
    "/records",
    summary="Current records, newest first",
    description="`origin=all` includes the records held from other cities.",
    query=RecordsQuery,
    responses={200: RecordPage},
)
async def list_records(request: web.Request) -> web.Response:
    node = request.app[NODE]
    params = read_query(request, RecordsQuery)
    if params.limit > node.config.server.max_page_size:
        raise BadRequest(
            f"query parameter 'limit' must be between 1 and {node.config.server.max_page_size}",
            parameter="limit",
        )
    origins: tuple[str, ...] | None
    if params.origin == "self":
        origins = (node.identity.did,)
    elif params.origin == "all":
        origins = None
    else:
        origins = (params.origin,)
    where = store.ListFilter(
        origins=origins,
        types=_types(params.type),
        statuses=_statuses(params.status),
        modified_since=params.modified_since,
        before_seq=params.before,
        limit=params.limit,
    )
    rows = await store.list_current(node.db.reader, where)
    cities = await all_origins(node.db.reader)
    items = []
    for row in rows:
        document = row.document()
        city = cities.get(row.origin)
        status = document.get("status")
        items.append(
            RecordSummary(
                id=row.id,
                type=row.type,
                version=row.version,
                modified=row.modified,
                status=status if isinstance(status, str) else None,
                title=_title(document),
                signature=node.known_keys.status_of(document),
                origin=OriginCity(
                    did=row.origin,
                    city=city.city if city else None,
                    country=city.country if city else None,
                ),
            )
        )
    page = RecordPage(items=items, count=len(items))
    if len(rows) == params.limit:
        query = dict(request.query)
        query["before"] = str(rows[-1].seq)
        page.next = str(request.rel_url.with_query(query))
    return respond(page)


async def _record_or_404(request: web.Request, version: int | None = None) -> store.StoredRecord:
    node = request.app[NODE]
    path = read_path(request, SlugPath) if version is None else read_path(request, VersionPath)
    slug = path.slug
    record_id = records_base(node.config.base_url) + slug
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
    request: web.Request,
    row: store.StoredRecord,
    format_param: str | None,
    *,
    gone_if_tombstone: bool = True,
) -> web.Response:
    chosen = neg.choose(request.headers.get("Accept"), neg.RECORD_TYPES, format_param)
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


@routes.get(
    f"/records/{SLUG_ROUTE}",
    summary="One record, by content negotiation (Accept or ?format=)",
    path=SlugPath,
    query=RecordQuery,
    responses={
        200: Reply("the record, exactly as signed in JSON-LD", RECORD_MEDIA),
        410: Reply("withdrawn: the signed tombstone", RECORD_MEDIA),
    },
    errors=(404, 406),
)
async def get_record(request: web.Request) -> web.Response:
    params = read_query(request, RecordQuery)
    row = await _record_or_404(request, params.version)
    return await _represent(request, row, params.format)


@routes.get(
    f"/records/{SLUG_ROUTE}/versions",
    summary="The record's version history",
    path=SlugPath,
    responses={200: VersionHistory},
    errors=(404,),
)
async def list_versions(request: web.Request) -> web.Response:
    row = await _record_or_404(request)
    node = request.app[NODE]
    versions = await store.history(node.db.reader, row.id)
    return respond(
        VersionHistory(
            id=row.id,
            current=row.version,
            versions=[
                VersionEntry(
                    version=v.version,
                    type=v.type,
                    modified=v.modified,
                    url=f"{row.id}/versions/{v.version}",
                )
                for v in versions
            ],
        )
    )


@routes.get(
    f"/records/{SLUG_ROUTE}/versions/{{version:\\d{{1,10}}}}",
    summary="One version of a record (a tombstone is served with 200 here)",
    path=VersionPath,
    query=FormatQuery,
    responses={200: Reply("the version", RECORD_MEDIA)},
    errors=(404, 406),
)
async def get_version(request: web.Request) -> web.Response:
    version = read_path(request, VersionPath).version
    row = await _record_or_404(request, version)
    params = read_query(request, FormatQuery)
    return await _represent(request, row, params.format, gone_if_tombstone=False)
