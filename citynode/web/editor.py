"""The editor API: publish, update and withdraw records, behind bearer tokens."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import msgspec
from aiohttp import web

from citynode import rdf
from citynode.errors import BadRequest, Unauthorized, UnsupportedMediaType
from citynode.publishing import Published, require_draft_list
from citynode.record_ids import records_base
from citynode.storage.records import now_utc
from citynode.storage.tokens import find_token
from citynode.web.bodies import decode_json, decode_text, read_json
from citynode.web.contract import Body, Routes
from citynode.web.keys import NODE
from citynode.web.params import read_path
from citynode.web.records import SLUG_ROUTE, SlugPath
from citynode.web.responses import respond
from citynode.web.search import Searchable, searchable_write

routes = Routes("editor")

_JSON_TYPES = ("application/json", "application/ld+json")
#: RFC 6750 section 2.1: a bearer token is a b64token. Anything else (other bytes, spaces, bytes
#: that are not UTF-8) cannot be one of our tokens and is refused before it is hashed.
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")

Draft = dict[str, Any]
#: One draft, a list of drafts, or a JSON-LD document with "@graph": the publisher checks each
#: against the record model (protocol/records.py) and the SHACL shapes.
DRAFTS = Body(
    {
        "application/ld+json": Draft | list[Draft],
        "application/json": Draft | list[Draft],
        "text/turtle": str,
    },
    description="records without version, issued, modified, publisher and proof; id and "
    "resultOf may be relative (records/<slug>)",
)


class PublishSummary(Searchable, kw_only=True):
    """What happened to each record of the request, in order, and whether search has it yet."""

    records: list[Published]


class WithdrawSummary(Searchable, kw_only=True):
    """The tombstone published, and whether search has dropped the record yet."""

    id: str
    version: int
    type: str
    outcome: str


class WithdrawBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: dict[str, str] | None = None


def bearer_token(header: str) -> str:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1); 401 if the
    header is missing, of another scheme, or carries something that cannot be a token."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "this needs an editor token: send 'Authorization: Bearer <token>' "
            "(create one with `citynode token create`)"
        )
    if not _B64TOKEN.match(token):
        raise Unauthorized(
            "the token is not valid: a bearer token is letters, digits and -._~+/",
            invalid_token=True,
        )
    return token


async def require_editor(request: web.Request) -> str:
    """The label of the caller's token; 401 without a valid `Authorization: Bearer` token
    (the answer's `WWW-Authenticate` says why: RFC 6750 section 3)."""
    token = bearer_token(request.headers.get("Authorization", ""))
    info = await find_token(request.app[NODE].db.reader, token)
    state = info.state(now_utc()) if info is not None else None
    if info is None or state != "active":
        why = {None: "is not a token of this node", "revoked": "was revoked"}.get(
            state, f"expired at {info.expires if info else ''}"
        )
        raise Unauthorized(f"the token {why}", invalid_token=True)
    return info.label


async def _drafts(request: web.Request) -> list[dict[str, Any]]:
    node = request.app[NODE]
    body = await request.read()
    if not body:
        raise BadRequest("the request has no body: send a record as JSON-LD or Turtle")
    content_type = request.content_type
    if content_type in _JSON_TYPES:
        return require_draft_list(decode_json(body))
    if content_type == "text/turtle":
        text = decode_text(body, "Turtle")
        return await asyncio.to_thread(rdf.drafts_from_turtle, text, node.config.base_url, "body")
    raise UnsupportedMediaType(
        f"content type '{content_type}' is not accepted; send application/ld+json, "
        "application/json or text/turtle"
    )


@routes.post(
    "/api/records",
    summary="Publish new records (one draft, a list, or a JSON-LD @graph)",
    body=DRAFTS,
    responses={201: PublishSummary},
    errors=(422,),
    auth="editor",
)
async def create_records(request: web.Request) -> web.Response:
    drafts = await _drafts(request)
    outcomes = await request.app[NODE].publisher.publish(drafts, require_new=True)
    searchable = await searchable_write(request)
    return respond(PublishSummary(records=outcomes, **searchable), status=201)


_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e]*)"')
_IF_MATCH = (
    "If-Match",
    'the ETag the record was read with ("3"), or *: a mismatch answers 412 naming the current '
    "version (RFC 9110 section 13.1.1)",
)


def read_if_match(header: str | None) -> tuple[bool, frozenset[int] | None]:
    """`If-Match` (RFC 9110 section 13.1.1): (given, versions); versions None means `*`.

    Our ETags are strong, `"<version>"`; a weak tag never matches (strong comparison), and a
    tag of another form names no version, so it cannot match either.
    """
    if header is None:
        return False, None
    text = header.strip()
    if text == "*":
        return True, None
    versions: set[int] = set()
    for part in text.split(","):
        match = _ENTITY_TAG.fullmatch(part.strip())
        if match is None:
            raise BadRequest(
                f'If-Match must be "*" or entity tags like "3" (the ETag of the record), '
                f"not {header!r}",
                header="If-Match",
            )
        weak, tag = match.groups()
        if not weak and tag.isdigit() and len(tag) <= 10:
            versions.add(int(tag))
    return True, frozenset(versions)


@routes.put(
    f"/api/records/{SLUG_ROUTE}",
    summary="Publish a new version of a record",
    path=SlugPath,
    body=DRAFTS,
    headers=[_IF_MATCH],
    responses={200: PublishSummary},
    errors=(412, 422),
    auth="editor",
)
async def update_record(request: web.Request) -> web.Response:
    node = request.app[NODE]
    slug = read_path(request, SlugPath).slug
    drafts = await _drafts(request)
    if len(drafts) != 1 or not isinstance(drafts[0], dict):
        raise BadRequest("PUT takes exactly one record")
    record_id = records_base(node.config.base_url) + slug
    given = drafts[0].get("id")
    if given not in (None, record_id, f"records/{slug}"):
        raise BadRequest(
            f"the body's id ({given}) is not the record at this URL ({record_id})", field="id"
        )
    draft = {**drafts[0], "id": record_id}
    given, versions = read_if_match(request.headers.get("If-Match"))
    outcomes = await node.publisher.publish(
        [draft], expected={record_id: versions} if given else None
    )
    searchable = await searchable_write(request)
    return respond(
        PublishSummary(records=outcomes, **searchable),
        headers={"ETag": f'"{outcomes[0].version}"'},
    )


@routes.delete(
    f"/api/records/{SLUG_ROUTE}",
    summary="Withdraw a record (publishes a signed tombstone)",
    path=SlugPath,
    body=Body({"application/json": WithdrawBody}, required=False),
    headers=[_IF_MATCH],
    responses={200: WithdrawSummary},
    errors=(404, 410, 412, 422),
    auth="editor",
)
async def withdraw_record(request: web.Request) -> web.Response:
    node = request.app[NODE]
    slug = read_path(request, SlugPath).slug
    expected = '{"reason": {"es": "...", "en": "..."}}'
    reason = (await read_json(request, WithdrawBody, expected)).reason
    record_id = records_base(node.config.base_url) + slug
    given, versions = read_if_match(request.headers.get("If-Match"))
    outcome = await node.publisher.withdraw(
        record_id, reason, expected={record_id: versions} if given else None
    )
    searchable = await searchable_write(request)
    return respond(WithdrawSummary(**msgspec.structs.asdict(outcome), **searchable))
