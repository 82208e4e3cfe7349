"""The operator's peer API (editor token): list, add, approve, block, remove, sync now."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from citynode.errors import BadRequest, NotFound
from citynode.federation.peering import peer_did
from citynode.federation.service import peer_view
from citynode.web.editor import require_editor
from citynode.web.federation import FEDERATION
from citynode.web.records import json_response
from citynode.web.wellknown import followers_lag

routes = web.RouteTableDef()

_ACTIONS = ("approve", "block", "remove", "sync")


class _PeerBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    peer: str | None = None
    url: str | None = None
    reason: str | None = None


async def _body(request: web.Request) -> _PeerBody:
    raw = await request.read()
    try:
        return msgspec.json.decode(raw or b"{}", type=_PeerBody)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BadRequest(f'the body must be {{"peer": "DID or URL"}}: {exc}') from None


@routes.get("/api/peers")
async def list_peers(request: web.Request) -> web.Response:
    await require_editor(request)
    return json_response(
        {
            "peers": await request.app[FEDERATION].peer_views(),
            "index_lag": followers_lag(request),
        }
    )


@routes.post("/api/peers")
async def add_peer(request: web.Request) -> web.Response:
    await require_editor(request)
    body = await _body(request)
    url = body.url or body.peer
    if not url:
        raise BadRequest('send {"url": "https://city.example"}', field="url")
    federation = request.app[FEDERATION]
    peer = await federation.peering.add(url)
    return json_response(peer_view(peer, federation.clock()), status=201)


@routes.post(r"/api/peers/{action:[a-z]+}")
async def act_on_peer(request: web.Request) -> web.Response:
    await require_editor(request)
    action = request.match_info["action"]
    if action not in _ACTIONS:
        raise NotFound(f"no peer action '{action}'; one of {', '.join(_ACTIONS)}")
    body = await _body(request)
    federation = request.app[FEDERATION]
    if action == "sync":
        outcomes = await federation.worker.sync_now(peer_did(body.peer) if body.peer else None)
        return json_response({"peers": [msgspec.to_builtins(o) for o in outcomes]})
    if not body.peer:
        raise BadRequest('send {"peer": "DID or URL of the peer"}', field="peer")
    result: Any
    if action == "approve":
        result = peer_view(await federation.peering.approve(body.peer), federation.clock())
    elif action == "block":
        result = peer_view(
            await federation.peering.block(body.peer, body.reason), federation.clock()
        )
    else:
        result = {"removed": await federation.peering.remove(body.peer)}
    return json_response(result)
