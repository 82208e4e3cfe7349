"""The federation service of one node: the pieces wired together, started and stopped.

One `Federation` per running node (the app opens it in a cleanup context; the CLI opens one for
`peer` and `sync` commands). It owns the node's one guarded outbound client, signing every
request with the node's current key (read at each request, so a key rotation applies at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from citynode.federation.directory import OriginDirectory
from citynode.federation.feed import Feed
from citynode.federation.inbound import InboundGuard
from citynode.federation.ingest import Ingest
from citynode.federation.key_changes import KeyChanges
from citynode.federation.keys import DidKeys, KeyCache
from citynode.federation.peering import Peering
from citynode.federation.push import Notifier
from citynode.federation.verifier import Verifier
from citynode.federation.worker import Worker
from citynode.identity import NodeIdentity
from citynode.node import Node
from citynode.outbound import GuardedClient
from citynode.storage import keys as key_store
from citynode.storage import peers as peer_store
from citynode.storage.log import Following
from citynode.storage.peers import Peer
from citynode.trust import origin_keys_of
from protocol.cursor import decode_cursor
from protocol.errors import InvalidCursor
from protocol.httpsig.signing import sign_request
from protocol.sync import SyncPolicy

log = logging.getLogger("citynode.federation")

#: Lifetime of our request signatures (the receiver also caps the age, default 5 minutes).
SIGNATURE_LIFETIME = 300


class Federation:
    def __init__(self, node: Node, *, clock: Callable[[], float] = time.time) -> None:
        self.node = node
        config = node.config.federation
        self.clock = clock
        self.client = GuardedClient(
            allow_private=config.allow_private_peers,
            # Plain http only where https cannot be: loopback and private test networks.
            allow_http=config.allow_private_peers,
            signer=self._sign,
            timeout=config.request_timeout_seconds,
            backoff_cap=min(300.0, config.retry_cap_seconds),
        )
        self.policy = SyncPolicy(
            poll_interval=config.sync_interval_seconds,
            reconcile_interval=config.reconcile_interval_seconds,
            notice_min_gap=config.notice_min_gap_seconds,
            cap=config.retry_cap_seconds,
            min_delay=min(1.0, config.retry_cap_seconds),
        )
        did = node.identity.did
        self.keys = KeyCache(
            self.client,
            ttl=config.did_cache_seconds,
            refresh_gap=config.did_refresh_seconds,
            on_fetched=self._keys_fetched,
        )
        self.key_changes = KeyChanges(
            node.db, self.client, self.keys, did, reread_seconds=config.did_cache_seconds
        )
        self.guard = InboundGuard(
            self.keys,
            node.config.base_url,
            max_age=config.signature_max_age_seconds,
            rate=config.inbound_rate_per_second,
            burst=config.inbound_burst,
            source_rate=config.inbound_source_rate_per_second,
            source_burst=config.inbound_source_burst,
        )
        self.verifier = Verifier(config.verify_processes)
        self.directory = OriginDirectory(self.client)
        self.ingest = Ingest(node.db, did, self.keys, self.verifier, self.directory)
        self.notifier = Notifier(
            node.db, self.client, did, config.push_debounce_seconds, relay=config.relay
        )
        #: The notifier follows the change log (started with the background tasks).
        self.notices = Following(node.db, self.notifier, leads=True)
        self.worker = Worker(
            node.db,
            self.client,
            self.ingest,
            config,
            self.policy,
            did,
        )
        self.peering = Peering(node, self.client, self.keys, self.policy, self.worker.wake)
        self.feed = Feed(
            node.db, did, relay=config.relay, max_page_size=node.config.server.max_page_size
        )
        self._tasks: list[asyncio.Task[None]] = []

    def _sign(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Mapping[str, str]:
        identity = self.node.identity
        created = int(self.clock())
        return sign_request(
            method,
            url,
            headers,
            body,
            identity.active.private_key,
            identity.verification_method,
            created,
            created + SIGNATURE_LIFETIME,
            secrets.token_urlsafe(16),
        )

    async def _keys_fetched(self, entry: DidKeys) -> None:
        """A DID document was read: keep its key states (read-time signature status, in
        memory and in `origin_keys`), and pass a change on to our peers if we relay."""
        did = entry.did
        if did == self.node.identity.did:
            return
        known = self.node.known_keys
        seen_before = known.knows(did)
        if not known.learn(did, entry.assertion):
            return
        async with self.node.db.transaction(notify=False) as conn:
            await key_store.put_origin_keys(
                conn, did, origin_keys_of(did, entry.assertion), datetime.now(UTC).isoformat()
            )
        if seen_before:
            log.info("the keys of %s changed; held records are judged by the new ones", did)
            if self.node.config.federation.relay:
                self.key_changes.announce(did)

    def _own_keys_changed(self, identity: NodeIdentity) -> None:
        self.key_changes.announce(identity.did)

    async def start(self, *, background: bool = True) -> None:
        """Open the client; with `background`, run the worker, the push notifier and the
        key-change notices."""
        await self.client.start()
        self.node.keyring.listeners.append(self._own_keys_changed)
        if background:
            self._tasks.append(asyncio.create_task(self.key_changes.run_forever()))
        if background and self.node.config.federation.worker:
            self._tasks.append(asyncio.create_task(self.key_changes.reread_forever()))
            await self.worker.recover_leases()
            self._tasks.append(asyncio.create_task(self.worker.run_forever()))
            self._tasks.append(asyncio.create_task(self.notifier.run_forever()))
            await self.notices.start()

    def running(self) -> bool:
        """The background worker and notifier are alive (readiness, citynode/ops/health.py)."""
        return bool(self._tasks) and all(not task.done() for task in self._tasks)

    async def close(self) -> None:
        with contextlib.suppress(ValueError):
            self.node.keyring.listeners.remove(self._own_keys_changed)
        await self.notices.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.key_changes.close()
        self.verifier.close()
        await self.client.close()

    async def peer_views(self) -> list[dict[str, Any]]:
        peers = await peer_store.list_peers(self.node.db.reader)
        now = self.clock()
        return [peer_view(peer, now) for peer in peers]


def _position(cursor: str | None) -> int:
    try:
        return decode_cursor(cursor) if cursor else 0
    except InvalidCursor:
        return 0


def peer_view(peer: Peer, now: float) -> dict[str, Any]:
    """What the operator sees of a peer (`peer list`, GET /api/peers).

    Lag in records: how far the peer's feed position (from its last page or notice) is ahead of
    our cursor; feed positions count stored versions, so this is an upper bound. Lag in seconds:
    0 when caught up, else the time since we last were.
    """
    sync = peer.sync
    lag_records = max(0, _position(peer.remote_cursor) - _position(sync.cursor))
    since = peer.caught_up_at if peer.caught_up_at is not None else peer.added_at
    return {
        "did": peer.did,
        "url": peer.base_url,
        "city": peer.name,
        "country": peer.country,
        "state": sync.state,
        "cursor": sync.cursor,
        "lag_records": lag_records,
        "lag_seconds": round(max(0.0, now - since), 1) if lag_records else 0.0,
        "last_success": _iso(sync.last_success_at),
        "last_error": sync.last_error,
        "failures": sync.failures,
        "next_attempt": _iso(sync.next_attempt_at),
        "rejected": peer.rejected,
        "records_pulled": sync.items_pulled,
        "their_answer": peer.remote_status,
        "added_by": peer.added_by,
    }


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
