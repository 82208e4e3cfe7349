"""`GET /dumps/{file}`: whole-store dumps, streamed, gzipped when asked, with validators.

The body is written a chunk of records at a time from one SQLite read transaction (a consistent
state however long the download takes), each chunk encoded in a thread, each write waiting for
the client to take it: memory stays flat whatever the store holds (bench/opendata_bench.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Literal

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode.errors import NotFound, TooManyRequests
from citynode.opendata import dumps
from citynode.storage import records as store
from citynode.web.contract import Reply, Routes
from citynode.web.keys import DUMP_SLOTS, NODE
from citynode.web.params import read_path, read_query
from protocol.records import PRACTICE_TYPES

routes = Routes("open data")

DumpType = Literal["Practice", "Project", "Policy", "Programme", "Result"]


class DumpPath(msgspec.Struct, kw_only=True):
    name: Annotated[
        str,
        Meta(
            pattern=r"^[a-z]+\.[a-z]+$",
            description="records.jsonld, records.ttl, records.nq, records.csv or results.csv",
        ),
    ]


class DumpQuery(msgspec.Struct, kw_only=True):
    origin: Annotated[
        dumps.Origin,
        Meta(description="self: this node's records (the default); all: the whole replica"),
    ] = "self"
    type: Annotated[
        list[DumpType],
        Meta(description="one kind of record (repeat for several); Practice: all three"),
    ] = []


def read_types(values: list[str]) -> tuple[str, ...]:
    """`type=Project` (repeatable; `Practice` means the three practice types): one dataset of
    the catalog per record type."""
    types: list[str] = []
    for value in values:
        types.extend(PRACTICE_TYPES if value == "Practice" else (value,))
    return tuple(sorted(set(types)))


def wants_gzip(request: web.Request) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _http_date(stamp: str | None) -> datetime:
    if not stamp:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def not_modified(request: web.Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 13.1.2 and 13.2.2: If-None-Match wins over If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False  # an unreadable date is ignored (RFC 9110 13.1.3)
    return False


@routes.get(
    r"/dumps/{name:[a-z]+\.[a-z]+}",
    summary="A whole-store dump, streamed: records.jsonld (the signed records), records.ttl, "
    "records.nq (a named graph per record), records.csv and results.csv (the CSV import "
    "templates); gzip with Accept-Encoding",
    path=DumpPath,
    query=DumpQuery,
    headers=[
        ("Accept-Encoding", "gzip for a compressed body"),
        ("If-None-Match", "an ETag of this dump: 304 while it holds"),
        ("If-Modified-Since", "304 when no record arrived since"),
    ],
    responses={
        200: Reply("the dump", {f.media_type: str for f in dumps.FILES.values()}),
        304: Reply("not modified since the ETag or date given"),
    },
    errors=(404, 429),
)
async def dump(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    name = read_path(request, DumpPath).name
    file = dumps.FILES.get(name)
    if file is None:
        raise NotFound(
            f"there is no dump {name}; the dumps are " + ", ".join(dumps.FILES),
            dumps=list(dumps.FILES),
        )
    params = read_query(request, DumpQuery)
    origin = params.origin
    types = read_types(list(params.type))
    gzip = wants_gzip(request)
    origin_did = node.identity.did if origin == "self" else None
    slots = request.app[DUMP_SLOTS]
    if slots.running >= slots.limit:
        raise TooManyRequests(
            f"{slots.limit} dumps are streaming from this node now; retry in a minute",
            retry_after_seconds=60,
        )
    slots.running += 1
    try:
        return await _stream(request, file, origin, types, gzip, origin_did)
    finally:
        slots.running -= 1


async def _stream(
    request: web.Request,
    file: dumps.DumpFile,
    origin: dumps.Origin,
    types: tuple[str, ...],
    gzip: bool,
    origin_did: str | None,
) -> web.StreamResponse:
    node = request.app[NODE]
    async with node.db.snapshot() as conn:
        state = await store.dump_state(conn, origin_did, types)
        etag = dumps.etag(state, file, origin, gzip, types)
        modified = _http_date(state.last_received)
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(modified, usegmt=True),
            "Vary": "Accept-Encoding",
            "Cache-Control": "no-cache",
        }
        if not_modified(request, etag, modified):
            return web.Response(status=304, headers=headers)
        response = web.StreamResponse(headers=headers)
        response.content_type = file.media_type
        if file.media_type.startswith("text/"):
            response.charset = "utf-8"
        if gzip:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Disposition"] = f'attachment; filename="{file.name}"'
        await response.prepare(request)
        if request.method == "HEAD":
            return response
        encoder = await dumps.Encoder.opened(conn, file, origin, origin_did, types, gzip)
        batches = store.stream_current(conn, origin_did, types)
        async for piece in dumps.body(encoder, batches):
            await response.write(piece)
    await response.write_eof()
    return response
