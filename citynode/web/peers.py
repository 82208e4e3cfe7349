"""The operator's peer API (editor token): list, add, approve, block, remove, sync now."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from aiohttp import web
from msgspec import Meta

from citynode.errors import BadRequest
from citynode.federation.peering import peer_did
from citynode.federation.service import peer_view
from citynode.federation.worker import PeerOutcome
from citynode.storage.log import Lag
from citynode.storage.peers import Peer
from citynode.web.bodies import read_json
from citynode.web.contract import Body, Routes
from citynode.web.keys import FEDERATION
from citynode.web.responses import respond
from citynode.web.wellknown import followers_lag

routes = Routes("peers")

Reference = Annotated[str, Meta(min_length=1, max_length=2000, description="a DID or base URL")]


class PeerBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    peer: Reference | None = None
    url: Reference | None = None
    reason: Annotated[str, Meta(max_length=2000)] | None = None


class PeerView(msgspec.Struct, kw_only=True):
    """A peer as the operator sees it (`citynode peer list` prints the same)."""

    did: str
    url: str
    city: str
    country: str
    state: str
    cursor: str | None
    lag_records: int
    lag_seconds: float
    last_success: str | None
    last_error: str | None
    failures: int
    next_attempt: str | None
    rejected: int
    records_pulled: int
    their_answer: str | None
    added_by: str


class PeerList(msgspec.Struct, kw_only=True):
    peers: list[PeerView]
    #: How far the search index and push notices are behind the store (`entries`, `seconds`).
    index_lag: dict[str, Lag] = {}


class SyncReport(msgspec.Struct, kw_only=True):
    peers: list[PeerOutcome]


class Removed(msgspec.Struct, kw_only=True):
    removed: str


_BODY = Body({"application/json": PeerBody}, required=False)
_EXPECTED = '{"peer": "DID or URL of the peer"}'


def _view(view: dict[str, Any]) -> PeerView:
    return msgspec.convert(view, PeerView)


async def _peer_body(request: web.Request) -> PeerBody:
    return await read_json(request, PeerBody, _EXPECTED)


def _reference(body: PeerBody) -> str:
    if not body.peer:
        raise BadRequest(f"send {_EXPECTED}", field="peer")
    return body.peer


def _shown(request: web.Request, peer: Peer) -> PeerView:
    return _view(peer_view(peer, request.app[FEDERATION].clock()))


@routes.get(
    "/api/peers",
    summary="Peers with state, cursor, lag, last success, last error, rejected",
    responses={200: PeerList},
    auth="editor",
)
async def list_peers(request: web.Request) -> web.Response:
    views = await request.app[FEDERATION].peer_views()
    return respond(PeerList(peers=[_view(v) for v in views], index_lag=followers_lag(request)))


@routes.post(
    "/api/peers",
    summary="Add a peer by URL (fetches its descriptor, asks it to peer back)",
    body=_BODY,
    responses={201: PeerView},
    errors=(403, 409, 422, 502, 503, 504),
    auth="editor",
)
async def add_peer(request: web.Request) -> web.Response:
    body = await _peer_body(request)
    url = body.url or body.peer
    if not url:
        raise BadRequest('send {"url": "https://city.example"}', field="url")
    peer = await request.app[FEDERATION].peering.add(url)
    return respond(_shown(request, peer), status=201)


@routes.post(
    "/api/peers/approve",
    summary="Approve a peer that asked to peer (or unblock one)",
    body=_BODY,
    responses={200: PeerView},
    errors=(404,),
    auth="editor",
)
async def approve_peer(request: web.Request) -> web.Response:
    peer = await request.app[FEDERATION].peering.approve(_reference(await _peer_body(request)))
    return respond(_shown(request, peer))


@routes.post(
    "/api/peers/block",
    summary="Stop exchanging records with a peer (`reason` is shown in the peer list)",
    body=_BODY,
    responses={200: PeerView},
    errors=(404,),
    auth="editor",
)
async def block_peer(request: web.Request) -> web.Response:
    body = await _peer_body(request)
    peer = await request.app[FEDERATION].peering.block(_reference(body), body.reason)
    return respond(_shown(request, peer))


@routes.post(
    "/api/peers/remove",
    summary="Forget a peer",
    body=_BODY,
    responses={200: Removed},
    errors=(404,),
    auth="editor",
)
async def remove_peer(request: web.Request) -> web.Response:
    removed = await request.app[FEDERATION].peering.remove(_reference(await _peer_body(request)))
    return respond(Removed(removed=removed))


@routes.post(
    "/api/peers/sync",
    summary="Pull from every peer now (or from `peer` only) and report what arrived",
    body=_BODY,
    responses={200: SyncReport},
    errors=(404,),
    auth="editor",
)
async def sync_peers(request: web.Request) -> web.Response:
    body = await _peer_body(request)
    worker = request.app[FEDERATION].worker
    outcomes = await worker.sync_now(peer_did(body.peer) if body.peer else None)
    return respond(SyncReport(peers=outcomes))
