"""Peering: who we exchange records with, and the operator's decisions about them.

Handshake (docs/DESIGN.md "Peering": the nodes exchange descriptors; each side decides by its
allow/deny lists or by operator approval):

1. The operator runs `citynode peer add URL` (or POST /api/peers). We read the peer's descriptor
   (`/.well-known/citynode`) and DID document through the guarded client, and store the peer
   approved: the operator naming a peer *is* the approval, so only the deny list can refuse it.
2. We POST a signed `PeerRequest` carrying our descriptor to the peer's `/fed/v1/peers`.
3. The peer verifies the signature (so the request really comes from the DID it describes) and
   decides: on its deny list -> `refused`; on its allow list -> `accepted` (it stores us approved
   and starts pulling from us); otherwise `pending`, and its operator runs
   `citynode peer approve`. We record its answer (`remote_status`) for our operator.

Peering is mutual: an approved peer is pulled from, and gets our push notices. Until the other
side approves us, it ignores our notices and we simply poll it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from citynode.config import FederationSection
from citynode.errors import BadRequest, NotFound, OutboundError
from citynode.federation.directory import fetch_descriptor, own_descriptor
from citynode.federation.errors import PeerRefused
from citynode.federation.keys import KeyCache
from citynode.federation.notices import approved_peer, check_sender
from citynode.node import Node
from citynode.outbound import GuardedClient
from citynode.storage import peers as peer_store
from citynode.storage.peers import Peer
from protocol.cursor import decode_cursor
from protocol.did import did_from_base_url
from protocol.errors import InvalidCursor, ProtocolError
from protocol.messages import (
    InboxNotice,
    NodeDescriptor,
    PeerRequest,
    PeerResponse,
    check_descriptor,
    decode_as,
    encode_message,
)
from protocol.sync import (
    Approved,
    Blocked,
    NoticeReceived,
    SyncPolicy,
    new_peer,
)

log = logging.getLogger("citynode.federation")


def on_list(entries: list[str], did: str, base_url: str) -> bool:
    """Whether an allow/deny list names this peer: by DID, base URL, or host[:port]."""
    base = base_url.rstrip("/")
    host = urlsplit(base).netloc
    return any(entry.strip().rstrip("/") in (did, base, host) for entry in entries)


def peer_did(reference: str) -> str:
    """A peer named by the operator, by DID or by URL, as its DID."""
    reference = reference.strip()
    if reference.startswith("did:"):
        return reference
    try:
        return did_from_base_url(reference.rstrip("/"))
    except ProtocolError:
        raise BadRequest(
            f"{reference!r} is neither a peer's DID nor its URL (https://city.example)"
        ) from None


class Peering:
    def __init__(
        self,
        node: Node,
        client: GuardedClient,
        keys: KeyCache,
        policy: SyncPolicy,
        wake: Callable[[], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.node = node
        self.client = client
        self.keys = keys
        self.policy = policy
        self.wake = wake
        self.clock = clock
        self.rng = random.Random()

    @property
    def config(self) -> FederationSection:
        return self.node.config.federation

    def descriptor(self) -> NodeDescriptor:
        return own_descriptor(self.node.config, self.node.identity.did)

    # --- the operator's side ---

    async def add(self, url: str) -> Peer:
        """`peer add URL`: check the node, store it approved, ask it to peer back."""
        descriptor = await fetch_descriptor(self.client, url)
        if descriptor.did == self.node.identity.did:
            raise BadRequest("that is this node's own URL")
        if on_list(self.config.deny, descriptor.did, descriptor.base_url):
            raise PeerRefused(
                f"{descriptor.base_url} is on this node's deny list; remove it there first",
                peer=descriptor.did,
            )
        try:
            await self.keys.keys(descriptor.did)
        except (OutboundError, ProtocolError) as exc:
            raise PeerRefused(
                f"the DID document of {descriptor.did} cannot be read: {exc.message}",
                peer=descriptor.did,
            ) from None
        await self._store(descriptor, approved=True, added_by="operator")
        status = await self._request_peering(descriptor)
        async with self.node.db.transaction() as conn:
            await peer_store.set_remote_status(conn, descriptor.did, status)
        self.wake()
        peer = await peer_store.get_peer(self.node.db.reader, descriptor.did)
        assert peer is not None
        return peer

    async def _store(self, descriptor: NodeDescriptor, *, approved: bool, added_by: str) -> None:
        now = self.clock()
        async with self.node.db.transaction() as conn:
            existing = await peer_store.get_peer(conn, descriptor.did)
            await peer_store.insert_peer(
                conn,
                Peer(
                    did=descriptor.did,
                    base_url=descriptor.base_url.rstrip("/"),
                    name=descriptor.name,
                    country=descriptor.country,
                    sync=new_peer(now, self.rng, approved=approved, policy=self.policy),
                    added_by=added_by,
                    added_at=now,
                ),
            )
            if existing is not None and approved:
                await peer_store.apply(conn, descriptor.did, Approved(), now, self.rng, self.policy)

    async def _request_peering(self, descriptor: NodeDescriptor) -> str:
        url = descriptor.endpoints.peers or f"{descriptor.base_url.rstrip('/')}/fed/v1/peers"
        body = encode_message(PeerRequest(descriptor=self.descriptor()))
        try:
            response = await self.client.post_json(url, body)
            answer = decode_as(response.body, PeerResponse)
        except (OutboundError, ProtocolError) as exc:
            log.warning("peer request to %s failed: %s", url, exc.message)
            return f"no answer ({exc.message})"
        return answer.status

    async def approve(self, reference: str) -> Peer:
        return await self._decide(reference, Approved())

    async def block(self, reference: str, reason: str | None = None) -> Peer:
        return await self._decide(reference, Blocked(reason=reason or "blocked by the operator"))

    async def _decide(self, reference: str, event: Approved | Blocked) -> Peer:
        did = peer_did(reference)
        async with self.node.db.transaction() as conn:
            if (
                await peer_store.apply(conn, did, event, self.clock(), self.rng, self.policy)
                is None
            ):
                raise NotFound(f"{reference} is not a peer of this node", peer=did)
            peer = await peer_store.get_peer(conn, did)
        self.wake()
        assert peer is not None
        return peer

    async def remove(self, reference: str) -> str:
        did = peer_did(reference)
        async with self.node.db.transaction() as conn:
            if not await peer_store.delete_peer(conn, did):
                raise NotFound(f"{reference} is not a peer of this node", peer=did)
        return did

    # --- the other node's side (signed /fed/ requests; `signer` is the verified DID) ---

    async def handle_request(self, signer: str, request: PeerRequest) -> PeerResponse:
        descriptor = request.descriptor
        try:
            check_descriptor(descriptor)
            own = did_from_base_url(descriptor.base_url.rstrip("/"))
        except ProtocolError as exc:
            raise BadRequest(
                f"the peer request's descriptor is not usable: {exc.message}"
            ) from None
        if descriptor.did != signer or own != signer:
            raise PeerRefused(
                f"the request is signed by {signer} but describes {descriptor.did}",
                signer=signer,
            )
        mine = self.descriptor()
        if on_list(self.config.deny, signer, descriptor.base_url):
            return PeerResponse(status="refused", descriptor=mine, reason="not accepted here")
        existing = await peer_store.get_peer(self.node.db.reader, signer)
        if existing is not None:
            if existing.sync.state == "blocked":
                return PeerResponse(status="refused", descriptor=mine, reason="blocked")
            if existing.sync.state != "pending_approval":
                return PeerResponse(status="accepted", descriptor=mine)
        approved = on_list(self.config.allow, signer, descriptor.base_url)
        await self._store(descriptor, approved=approved, added_by="request")
        if approved:
            self.wake()
            return PeerResponse(status="accepted", descriptor=mine)
        log.info("peer request from %s waits for the operator (citynode peer approve)", signer)
        return PeerResponse(status="pending", descriptor=mine)

    async def handle_notice(self, signer: str, notice: InboxNotice) -> str:
        """A push notice: schedule a pull. Returns what happened, for the response."""
        check_sender(signer, notice.sender)
        # The cursor is the sender's, opaque to us (docs/protocol.md 7.1.2): the message type
        # checked its form, and it is only ever compared with the sender's other cursors.
        now = self.clock()
        async with self.node.db.transaction() as conn:
            peer = approved_peer(signer, await peer_store.get_peer(conn, signer))
            if notice.kind != "changes":
                # A kind from a newer protocol revision (docs/protocol.md 7.2): not ours to act on.
                return "ignored"
            await peer_store.apply(
                conn, signer, NoticeReceived(cursor=notice.cursor), now, self.rng, self.policy
            )
            if _later(notice.cursor, peer.remote_cursor):
                await peer_store.note_remote_cursor(conn, signer, notice.cursor)
        self.wake()
        return "scheduled"


def _later(cursor: str, other: str | None) -> bool:
    if other is None:
        return True
    try:
        return decode_cursor(cursor) > decode_cursor(other)
    except InvalidCursor:
        return True
