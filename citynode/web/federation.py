"""The `/fed/v1/` routes peers call: changes feed, inbox, peering, digests, live search.

Every request here is signed (RFC 9421) and checked by the federation guard before anything
else is read; the handlers then decode the wire message, call the federation service, encode.
Records are public (docs/DESIGN.md), so the feed is served to any node that signs its request with a
key from its DID document (that gives accountability and a per-signer rate limit), except
peers this node's operator blocked.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode.federation import live_search
from citynode.federation.errors import PeerRefused
from citynode.storage import peers as peer_store
from citynode.web.contract import Body, Routes
from citynode.web.keys import FEDERATION, NODE, SEARCH
from citynode.web.params import read_query
from citynode.web.responses import respond
from protocol.errors import InvalidMessage
from protocol.messages import (
    ChangesPage,
    DigestRequest,
    DigestResponse,
    InboxNotice,
    KeyNotice,
    PeerRequest,
    PeerResponse,
    SearchRequest,
    SearchResponse,
    decode_as,
    decode_message,
    encode_message,
)

routes = Routes("federation")


class ChangesQuery(msgspec.Struct, kw_only=True):
    after: Annotated[str, Meta(description="the cursor of the last page (`next`)")] | None = None
    limit: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None


class NoticeAccepted(msgspec.Struct, kw_only=True):
    """What the node will do about a push notice (`scheduled`, `ignored`...)."""

    status: str


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


def _message(kind: type[msgspec.Struct]) -> Body:
    return Body({"application/json": kind})


@routes.get(
    "/fed/v1/changes",
    summary="Changes feed: records and tombstones in stored order, with the next cursor "
    "(own records and, when relaying, verified records from other cities)",
    query=ChangesQuery,
    responses={200: ChangesPage},
    auth="signed",
)
async def changes(request: web.Request) -> web.Response:
    await signed(request)
    params = read_query(request, ChangesQuery)
    page = await request.app[FEDERATION].feed.changes_page(params.after, params.limit)
    return _message_response(page)


@routes.post(
    "/fed/v1/inbox",
    summary="Notices: the sender has new changes (InboxNotice), or signing keys changed "
    "(KeyNotice: re-read that DID document)",
    body=Body({"application/json": InboxNotice | KeyNotice}),
    responses={202: NoticeAccepted},
    errors=(422,),
    auth="signed",
)
async def inbox(request: web.Request) -> web.Response:
    signer, body = await signed(request)
    federation = request.app[FEDERATION]
    match decode_message(body):
        case InboxNotice() as notice:
            outcome = await federation.peering.handle_notice(signer, notice)
        case KeyNotice() as key_notice:
            outcome = await federation.key_changes.received(signer, key_notice)
        case other:
            raise InvalidMessage(
                f"the inbox takes an InboxNotice or a KeyNotice, not a {type(other).__name__}",
                expected="InboxNotice",
                got=type(other).__name__,
            )
    return respond(NoticeAccepted(status=outcome), status=202)


@routes.post(
    "/fed/v1/peers",
    summary="Peer request (PeerRequest -> PeerResponse)",
    body=_message(PeerRequest),
    responses={200: PeerResponse},
    errors=(422,),
    auth="signed",
)
async def peers(request: web.Request) -> web.Response:
    signer, body = await signed(request)
    answer = await request.app[FEDERATION].peering.handle_request(
        signer, decode_as(body, PeerRequest)
    )
    return _message_response(encode_message(answer))


@routes.post(
    "/fed/v1/search",
    summary="Live search (SearchRequest -> SearchResponse), answered only when the operator "
    "set live_search",
    body=_message(SearchRequest),
    responses={200: SearchResponse},
    errors=(422,),
    auth="signed",
)
async def live_search_answer(request: web.Request) -> web.Response:
    _, body = await signed(request)
    searching = request.app[SEARCH].searching
    return _message_response(await live_search.answer(request.app[NODE], searching, body))


@routes.post(
    "/fed/v1/digest",
    summary="Per-origin digests for reconcile",
    body=_message(DigestRequest),
    responses={200: DigestResponse},
    errors=(422,),
    auth="signed",
)
async def digest(request: web.Request) -> web.Response:
    _, body = await signed(request)
    wanted = decode_as(body, DigestRequest)
    return _message_response(encode_message(await request.app[FEDERATION].feed.digests(wanted)))
