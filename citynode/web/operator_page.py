"""The operator's page: peers with their state, lag and last error in words; approve or block
pending peers, add a peer, sync now; the node's keys and their dates; the editor tokens, which
the operator can create (the token is shown once, on the answer to the form) and revoke.

Behind the same sign-in as the editor (editor tokens are the node's only credential). Actions
are POST forms with CSRF tokens that call the federation service, as `/api/peers` does, and the
token store, as `citynode token create/revoke` do.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from aiohttp import web

from citynode.errors import BadRequest, NodeError
from citynode.federation.peering import peer_did
from citynode.storage.keys import list_keys
from citynode.storage.peers import list_peers
from citynode.storage.records import now_utc
from citynode.storage.tokens import add_token, list_tokens, new_token, revoke_token
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
#: How long a token made on this page is valid (the CLI takes any duration or date).
VALIDITY: Final = {
    "": N_("no expiry"),
    "30": N_("30 days"),
    "90": N_("90 days"),
    "365": N_("one year"),
}
MAX_LABEL: Final = 100
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
    request: web.Request,
    page: Page,
    message: str | None = None,
    status: int = 200,
    *,
    problem: str | None = None,
    created: dict[str, Any] | None = None,
) -> web.StreamResponse:
    """The page; `message` (in the page's language) says what was done, `problem` is the node's
    own words (English) for what could not be, `created` a token just made (shown once)."""
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
    data: dict[str, Any] = {"peers": peers, "keys": keys, "tokens": tokens}
    if created:
        data["created"] = created
    values = {
        **data,
        "created": created,
        "message": message,
        "problem": problem,
        "STATES": STATES,
        "ERRORS": ERRORS,
        "VALIDITY": VALIDITY,
    }
    response = reply(request, "operator.html", values, data, status=status, page=page)
    # The page lists credentials (and once, a new token): never kept by a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


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
        failed = page.gettext("That could not be done.")
        return await _render(request, page, failed, status=400, problem=exc.message)
    return await _render(request, page, message)


@add_page(
    routes,
    "/operator/tokens",
    "POST",
    summary="Create an editor token (shown once) or revoke one",
    form=("action", "label", "valid", "token"),
)
async def token_action(request: web.Request) -> web.StreamResponse:
    page = Page(request)
    _require(request, page)
    form = await posted_form(request)
    action = str(form.get("action", ""))
    node = request.app[NODE]
    if action == "create":
        label = " ".join(str(form.get("label", "")).split())
        valid = str(form.get("valid", ""))
        if not label or len(label) > MAX_LABEL or valid not in VALIDITY:
            wrong = page.gettext("Say who the token is for (at most 100 characters).")
            return await _render(request, page, wrong, status=422)
        now = datetime.now(UTC)
        expires = (
            (now + timedelta(days=int(valid))).strftime("%Y-%m-%dT%H:%M:%SZ") if valid else None
        )
        token_id, token = new_token()
        async with node.db.transaction(notify=False) as conn:
            await add_token(conn, token_id, token, label, now_utc(), expires)
        created = {"id": token_id, "label": label, "token": token, "expires": expires}
        done = page.gettext("Token %(id)s created for %(label)s.") % {
            "id": token_id,
            "label": label,
        }
        return await _render(request, page, done, created=created)
    if action == "revoke":
        token_id = str(form.get("token", "")).strip()
        async with node.db.transaction(notify=False) as conn:
            revoked = await revoke_token(conn, token_id, now_utc())
        if not revoked:
            missing = page.gettext("There is no active token %(id)s.") % {"id": token_id[:40]}
            return await _render(request, page, missing, status=404)
        done = page.gettext("Token %(id)s revoked: it cannot sign in or publish any more.")
        return await _render(request, page, done % {"id": token_id})
    raise BadRequest(f"unknown action '{action[:40]}': use create or revoke", action=action[:40])
