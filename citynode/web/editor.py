"""The editor API: publish, update and withdraw records, behind bearer tokens."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import msgspec
from aiohttp import web

from citynode import rdf
from citynode.errors import BadRequest, Unauthorized, UnsupportedMediaType
from citynode.publishing import require_draft_list
from citynode.record_ids import records_base
from citynode.storage.records import now_utc
from citynode.storage.tokens import find_token
from citynode.web.keys import NODE
from citynode.web.records import json_response

routes = web.RouteTableDef()

_JSON_TYPES = ("application/json", "application/ld+json")


async def require_editor(request: web.Request) -> str:
    """The label of the caller's token; 401 without a valid `Authorization: Bearer` token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "this needs an editor token: send 'Authorization: Bearer <token>' "
            "(create one with `citynode token create`)"
        )
    info = await find_token(request.app[NODE].db.reader, token.strip())
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
        try:
            payload = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise BadRequest(f"the body is not valid JSON: {exc}") from None
        return require_draft_list(payload)
    if content_type == "text/turtle":
        text = body.decode("utf-8", errors="strict")
        return await asyncio.to_thread(rdf.drafts_from_turtle, text, node.config.base_url, "body")
    raise UnsupportedMediaType(
        f"content type '{content_type}' is not accepted; send application/ld+json, "
        "application/json or text/turtle"
    )


_ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e]*)"')


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


def _summary(outcomes: list[Any]) -> dict[str, Any]:
    return {"records": [msgspec.to_builtins(o) for o in outcomes]}


@routes.post("/api/records")
async def create_records(request: web.Request) -> web.Response:
    await require_editor(request)
    drafts = await _drafts(request)
    outcomes = await request.app[NODE].publisher.publish(drafts, require_new=True)
    return json_response(_summary(outcomes), status=201)


@routes.put(r"/api/records/{slug:[a-z0-9][a-z0-9-]{0,99}}")
async def update_record(request: web.Request) -> web.Response:
    await require_editor(request)
    node = request.app[NODE]
    drafts = await _drafts(request)
    if len(drafts) != 1 or not isinstance(drafts[0], dict):
        raise BadRequest("PUT takes exactly one record")
    record_id = records_base(node.config.base_url) + request.match_info["slug"]
    given = drafts[0].get("id")
    if given not in (None, record_id, f"records/{request.match_info['slug']}"):
        raise BadRequest(
            f"the body's id ({given}) is not the record at this URL ({record_id})", field="id"
        )
    draft = {**drafts[0], "id": record_id}
    given, versions = read_if_match(request.headers.get("If-Match"))
    outcomes = await node.publisher.publish(
        [draft], expected={record_id: versions} if given else None
    )
    response = json_response(_summary(outcomes))
    response.headers["ETag"] = f'"{outcomes[0].version}"'
    return response


@routes.delete(r"/api/records/{slug:[a-z0-9][a-z0-9-]{0,99}}")
async def withdraw_record(request: web.Request) -> web.Response:
    await require_editor(request)
    node = request.app[NODE]
    reason = None
    body = await request.read()
    if body:
        try:
            payload = msgspec.json.decode(body, type=dict[str, dict[str, str]])
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise BadRequest(
                f'the body must be {{"reason": {{"es": "...", "en": "..."}}}}: {exc}'
            ) from None
        reason = payload.get("reason")
    record_id = records_base(node.config.base_url) + request.match_info["slug"]
    given, versions = read_if_match(request.headers.get("If-Match"))
    outcome = await node.publisher.withdraw(
        record_id, reason, expected={record_id: versions} if given else None
    )
    return json_response(msgspec.to_builtins(outcome))
