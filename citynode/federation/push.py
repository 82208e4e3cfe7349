"""Push is a hint: when the log grows, tell the peers "pull me, I have changes up to X".

docs/DESIGN.md: after a write, a node POSTs a signed notice to its followers' `/fed/v1/inbox`; the
receiver pulls. Followers are the peers we peer with (approved, not blocked): peering is mutual,
and a notice to a peer that does not follow us is simply ignored there.

The notifier is a follower of the change log (storage/log.py), like the search index: whatever
process stored a record (the API, a CLI `publish` beside `serve`, ingest from a peer when this
node relays), the running node sees it in the log within a second and tells its peers, so a CLI
write reaches peers as fast as an API write. Records stored from peers are news only when this
node relays them (`relay = true`).

Fire-and-forget: a failed notice is logged and counted, nothing more, because pull (the poll
interval) and reconcile repair anything a lost notice would have told. Bursts are debounced: a
batch import of a thousand records gives one notice, not a thousand. Each peer's notice is sent
on its own: a slow peer delays only its own next notice (at most one in flight per peer, the
newest position sent when it is done), never the others' (tests/test_faults_network.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Final

from citynode.federation.notices import notified_peers, post_notice
from citynode.outbound import GuardedClient
from citynode.storage.db import Database
from citynode.storage.log import Positions
from citynode.storage.records import StoredRecord
from protocol.cursor import encode_cursor
from protocol.messages import InboxNotice, encode_message

log = logging.getLogger("citynode.federation")

NAME: Final = "push"


class Notifier:
    """The `Follower` that announces new log entries to peers."""

    name = NAME

    def __init__(
        self,
        db: Database,
        client: GuardedClient,
        self_did: str,
        debounce: float = 0.05,
        *,
        relay: bool = True,
    ) -> None:
        self.db = db
        self.client = client
        self.self_did = self_did
        self.debounce = debounce
        self.relay = relay
        self.positions = Positions(db)
        self.stats: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self._announce = 0
        self._sending: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()

    async def position(self) -> int:
        return await self.positions.load(self.name)

    async def apply(self, entries: list[StoredRecord], upto: int) -> None:
        """New entries: announce `upto` if any of them is news for peers (sent debounced)."""
        if any(self.relay or entry.origin == self.self_did for entry in entries):
            self._announce = max(self._announce, upto)
            self._changed.set()
        await self.positions.save(self.name, upto)

    async def run_forever(self) -> None:
        try:
            while True:
                await self._changed.wait()
                await asyncio.sleep(self.debounce)
                self._changed.clear()
                try:
                    await self.push_all(self._announce, wait=False)
                except Exception:
                    log.exception("could not send push notices")
        finally:
            sending = list(self._sending.values())
            for task in sending:
                task.cancel()
            await asyncio.gather(*sending, return_exceptions=True)

    async def push_all(self, position: int, wait: bool = True) -> None:
        """Notify every active peer of `position`; `wait` for the sends to finish."""
        self._announce = max(self._announce, position)
        started = []
        for peer in await notified_peers(self.db):
            if peer.did in self._sending:
                self._again.add(peer.did)  # still busy with an older notice: resend after
                continue
            task = asyncio.create_task(self._notify(peer.did, peer.base_url))
            self._sending[peer.did] = task
            started.append(task)
        if wait:
            await asyncio.gather(*started)

    async def _notify(self, did: str, base_url: str) -> None:
        try:
            while True:
                self._again.discard(did)
                cursor = encode_cursor(self._announce)
                body = encode_message(InboxNotice(sender=self.self_did, cursor=cursor))
                await post_notice(self.client, base_url, body, self.stats, "push notice")
                if did not in self._again:
                    return
        finally:
            self._sending.pop(did, None)
