"""The `/fed/v1/` routes peers call: changes feed, inbox, peering, digests.

Every request here is signed (RFC 9421) and checked by the federation guard before anything
else is read; the handlers then decode the wire message, call the federation service, encode.
Records are public (docs/DESIGN.md), so the feed is served to any node that signs its request with a
key from its DID document (that gives accountability and a per-signer rate limit), except
peers this node's operator blocked.
"""

from __future__ import annotations

from aiohttp import web

from citynode.errors import BadRequest
from citynode.federation import live_search
from citynode.federation.errors import PeerRefused
from citynode.federation.service import Federation
from citynode.storage import peers as peer_store
from citynode.web.keys import NODE
from citynode.web.records import json_response
from protocol.messages import (
    DigestRequest,
    InboxNotice,
    KeyNotice,
    PeerRequest,
    decode_as,
    decode_message,
    encode_message,
)

FEDERATION = web.AppKey("federation", Federation)

routes = web.RouteTableDef()


async def signed(request: web.Request) -> tuple[str, bytes]:
    """(signer DID, body) of a verified request from a node this one does not block."""
    federation = request.app[FEDERATION]
    federation.guard.check_size(request.content_length)
    body = await request.read()
    signer = await federation.guard.authenticate(
        request.method, request.raw_path, request.headers, body, request.remote
    )
    peer = await peer_store.get_peer(request.app[NODE].db.reader, signer)
    if peer is not None and peer.sync.state == "blocked":
        raise PeerRefused(f"{signer} is blocked by this node's operator", signer=signer)
    return signer, body


def _message_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


@routes.get("/fed/v1/changes")
async def changes(request: web.Request) -> web.Response:
    await signed(request)
    raw_limit = request.query.get("limit")
    if raw_limit is not None and not raw_limit.isdigit():
        raise BadRequest("'limit' must be a whole number", parameter="limit")
    page = await request.app[FEDERATION].feed.changes_page(
        request.query.get("after"), int(raw_limit) if raw_limit else None
    )
    return _message_response(page)


@routes.post("/fed/v1/inbox")
async def inbox(request: web.Request) -> web.Response:
    """Notices: "pull me" (`InboxNotice`) and "my keys changed" (`KeyNotice`)."""
    signer, body = await signed(request)
    federation = request.app[FEDERATION]
    match decode_message(body):
        case InboxNotice() as notice:
            outcome = await federation.peering.handle_notice(signer, notice)
        case KeyNotice() as key_notice:
            outcome = await federation.key_changes.received(signer, key_notice)
        case other:
            raise BadRequest(
                f"the inbox takes an InboxNotice or a KeyNotice, not a {type(other).__name__}"
            )
    return json_response({"status": outcome}, status=202)


@routes.post("/fed/v1/peers")
async def peers(request: web.Request) -> web.Response:
    signer, body = await signed(request)
    answer = await request.app[FEDERATION].peering.handle_request(
        signer, decode_as(body, PeerRequest)
    )
    return _message_response(encode_message(answer))


@routes.post("/fed/v1/search")
async def live_search_answer(request: web.Request) -> web.Response:
    _, body = await signed(request)
    return _message_response(await live_search.answer(request.app[NODE], body))


@routes.post("/fed/v1/digest")
async def digest(request: web.Request) -> web.Response:
    _, body = await signed(request)
    wanted = decode_as(body, DigestRequest)
    return _message_response(encode_message(await request.app[FEDERATION].feed.digests(wanted)))
