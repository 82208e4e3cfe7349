"""The operator's page: peers with their state, lag and last error in words; approve or block
pending peers, add a peer, sync now; the node's keys and their dates; the editor tokens.

Behind the same sign-in as the editor (editor tokens are the node's only credential). Actions
are POST forms with CSRF tokens that call the federation service, as `/api/peers` does.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from citynode.errors import BadRequest, NodeError
from citynode.federation.peering import peer_did
from citynode.storage.keys import list_keys
from citynode.storage.peers import list_peers
from citynode.storage.records import now_utc
from citynode.storage.tokens import list_tokens
from citynode.web.contract import Routes
from citynode.web.editor_pages import _require
from citynode.web.keys import FEDERATION, NODE
from citynode.web.render import Page, add_page, reply
from citynode.web.sessions import posted_form
from citynode.web.views import N_
from protocol.errors import ProtocolError

routes = Routes("pages")
ACTIONS: Final = ("approve", "block", "sync", "remove")
STATES: Final = {
    "pending_approval": N_("waiting for your approval"),
    "idle": N_("in step"),
    "due": N_("about to sync"),
    "syncing": N_("syncing now"),
    "backoff": N_("failing, will retry"),
    "blocked": N_("blocked"),
    "removed": N_("removed"),
}
ERRORS: Final = {
    "network": N_("The peer could not be reached (connection refused or name not found)."),
    "timeout": N_("The peer did not answer in time."),
    "server_error": N_("The peer answered with a server error."),
    "rate_limited": N_("The peer asked us to slow down."),
    "refused": N_("The peer does not accept our signature or has not approved us."),
    "gone": N_("The peer's feed is gone: it moved or left."),
    "invalid": N_(
        "The peer sent something invalid (a record that failed verification, or bad data)."
    ),
    "too_large": N_("The peer's answer was larger than our limits."),
    "ssrf_refused": N_("The peer's address is not allowed (a private or local address)."),
    "lease_expired": N_("A sync started and never finished; it will be retried."),
}


@add_page(routes, "/operator", summary="The operator: peers, keys, tokens", redirects=True)
async def operator(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    return await _render(request, page)


async def _render(
    request: web.Request, page: Page, message: str | None = None, status: int = 200
) -> web.StreamResponse:
    node = request.app[NODE]
    federation = request.app[FEDERATION]
    peers = await federation.peer_views()
    kinds = {}
    for peer in await list_peers(node.db.reader):
        kinds[peer.did] = peer.sync.last_error_kind
    for view in peers:
        view["error_kind"] = kinds.get(view["did"])
    identity = node.keyring.identity
    keys = [
        {
            "id": f"{identity.did}#{key.key_id}",
            "created": key.created,
            "retired": key.retired,
            "revoked": key.revoked,
            "active": key.key_id == identity.active.key_id,
        }
        for key in await list_keys(node.db.reader)
    ]
    now = now_utc()
    tokens = [
        {
            "id": t.token_id,
            "label": t.label,
            "created": t.created,
            "expires": t.expires,
            "revoked": t.revoked,
            "state": t.state(now),
        }
        for t in await list_tokens(node.db.reader)
    ]
    data = {"peers": peers, "keys": keys, "tokens": tokens}
    values = {**data, "message": message, "STATES": STATES, "ERRORS": ERRORS}
    return reply(request, "operator.html", values, data, status=status, page=page)


@add_page(
    routes,
    "/operator/peers",
    "POST",
    summary="Approve, block, remove, sync or add a peer",
    form=("action", "peer", "reason"),
)
async def peer_action(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    form = await posted_form(request)
    action = str(form.get("action", ""))
    peer = str(form.get("peer", "")).strip()
    federation = request.app[FEDERATION]
    try:
        if action == "add":
            if not peer:
                raise BadRequest("give the address of the peer node")
            added = await federation.peering.add(peer)
            message = page.gettext("Added %(city)s.") % {"city": added.name or added.base_url}
        elif action not in ACTIONS or not peer:
            raise BadRequest(f"unknown action '{action}'")
        elif action == "approve":
            done = await federation.peering.approve(peer)
            message = page.gettext("Approved %(city)s.") % {"city": done.name or done.base_url}
        elif action == "block":
            done = await federation.peering.block(peer, str(form.get("reason", "")) or None)
            message = page.gettext("Blocked %(city)s.") % {"city": done.name or done.base_url}
        elif action == "remove":
            await federation.peering.remove(peer)
            message = page.gettext("Removed the peer.")
        else:
            await federation.worker.sync_now(peer_did(peer))
            message = page.gettext("Synced.")
    except (NodeError, ProtocolError) as exc:
        return await _render(request, page, exc.message, status=400)
    return await _render(request, page, message)
