"""Push is a hint: after a committed write, tell the peers "pull me, I have changes up to X".

docs/DESIGN.md: after a write, a node POSTs a signed notice to its followers' `/fed/v1/inbox`; the
receiver pulls. Followers are the peers we peer with (approved, not blocked): peering is mutual,
and a notice to a peer that does not follow us is simply ignored there.

Fire-and-forget: a failed notice is logged and counted, nothing more, because pull (the poll
interval) and reconcile repair anything a lost notice would have told. Bursts are debounced: a
batch import of a thousand records gives one notice, not a thousand.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from citynode.errors import OutboundError
from citynode.outbound import GuardedClient
from citynode.storage import peers as peer_store
from citynode.storage import records as store
from citynode.storage.db import Database
from protocol.cursor import encode_cursor
from protocol.messages import InboxNotice, encode_message

log = logging.getLogger("citynode.federation")

ACTIVE = ("idle", "due", "syncing", "backoff")
NOTICE_DEADLINE = 5.0


class Notifier:
    def __init__(
        self, db: Database, client: GuardedClient, self_did: str, debounce: float = 0.05
    ) -> None:
        self.db = db
        self.client = client
        self.self_did = self_did
        self.debounce = debounce
        self.stats: Counter[str] = Counter()
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """Called after every committed write that changed the feed (cheap, never blocks)."""
        self._changed.set()

    async def run_forever(self) -> None:
        while True:
            await self._changed.wait()
            await asyncio.sleep(self.debounce)
            self._changed.clear()
            try:
                await self.push_all()
            except Exception:
                log.exception("could not send push notices")

    async def push_all(self) -> None:
        cursor = encode_cursor(await store.last_seq(self.db.reader))
        body = encode_message(InboxNotice(sender=self.self_did, cursor=cursor))
        peers = [p for p in await peer_store.list_peers(self.db.reader) if p.sync.state in ACTIVE]
        await asyncio.gather(*(self._send(peer.base_url, body) for peer in peers))

    async def _send(self, base_url: str, body: bytes) -> None:
        try:
            await self.client.post_json(f"{base_url}/fed/v1/inbox", body, deadline=NOTICE_DEADLINE)
            self.stats["sent"] += 1
        except OutboundError as exc:
            self.stats["failed"] += 1
            log.info("push notice to %s failed: %s", base_url, exc.message)
