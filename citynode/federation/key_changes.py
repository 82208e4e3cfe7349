"""Key changes across the federation: telling peers of ours, hearing of theirs.

docs/DESIGN.md "Identity and keys": a rotation adds a key, a revocation marks one compromised
from a time on. Peers learn of a new key on their own (an unknown key id makes them re-read the
DID document), but a revocation changes nothing they would notice: their cached DID document
keeps saying the key is good until it expires. So (issue 7, "Trust that changes live"):

- *Sender*: when this node's keys change (`Keyring` listeners: a `citynode key rotate|revoke`,
  in this process or another one), a signed `KeyNotice` goes to every active peer's inbox.
  Not a change-log entry: keys are not records, so this is its own message and its own sender
  beside the push notifier (federation/push.py), sent once; a lost notice is repaired by the
  periodic re-read below.
- *Receiver*: a notice from an approved peer schedules a re-read of the DID document it names
  (the sender's own, or, from a relay, an origin whose records we hold); nothing in the notice
  is trusted but the prompt. The re-read updates the key states (`KnownKeys`, `origin_keys`),
  so every held record's status changes at read time (citynode/trust.py).
- *Relay*: a node that relays records forwards a notice about an origin whose keys it found
  changed, so nodes holding that origin's records through it learn too. Forwarding happens only
  on a change, so notices die out once every node holds the new document.
- *Repair*: every `did_cache_seconds` the DID documents of every origin held are re-read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from citynode.errors import OutboundError
from citynode.federation.keys import KeyCache
from citynode.federation.notices import (
    approved_peer,
    check_sender,
    notified_peers,
    post_notice,
)
from citynode.outbound import GuardedClient
from citynode.storage import peers as peer_store
from citynode.storage.db import Database
from citynode.storage.origins import all_origins
from protocol.errors import ProtocolError
from protocol.messages import KeyNotice, encode_message

log = logging.getLogger("citynode.federation")


class KeyChanges:
    def __init__(
        self,
        db: Database,
        client: GuardedClient,
        keys: KeyCache,
        self_did: str,
        *,
        reread_seconds: float = 300.0,
    ) -> None:
        self.db = db
        self.client = client
        self.keys = keys
        self.self_did = self_did
        self.reread_seconds = reread_seconds
        self.stats: Counter[str] = Counter()
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._rereads: dict[str, asyncio.Task[None]] = {}

    # --- sender ---

    def announce(self, did: str) -> None:
        """The keys of `did` (ours, or a relayed origin's) changed: tell the peers (cheap)."""
        self._pending.add(did)
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            dids, self._pending = self._pending, set()
            try:
                await self.send(sorted(dids))
            except Exception:
                log.exception("could not send key-change notices")

    async def send(self, dids: list[str]) -> None:
        await asyncio.gather(
            *(
                post_notice(
                    self.client,
                    peer.base_url,
                    encode_message(KeyNotice(sender=self.self_did, did=did)),
                    self.stats,
                    "key-change notice",
                )
                for peer in await notified_peers(self.db)
                for did in dids
                if did != peer.did
            )
        )

    # --- receiver ---

    async def received(self, signer: str, notice: KeyNotice) -> str:
        """A verified `KeyNotice`: schedule the re-read. Returns what happened."""
        check_sender(signer, notice.sender)
        approved_peer(signer, await peer_store.get_peer(self.db.reader, signer))
        if notice.did == self.self_did:
            return "ignored"
        if notice.did != signer and notice.did not in await all_origins(self.db.reader):
            return "ignored"  # not an origin of records we hold: nothing to re-judge
        self.reread(notice.did)
        return "scheduled"

    def reread(self, did: str) -> None:
        """Re-read a DID document soon (coalesced: one pending re-read per DID)."""
        if did in self._rereads:
            return
        task = asyncio.create_task(self._reread(did), name=f"reread-{did}")
        self._rereads[did] = task
        task.add_done_callback(lambda _: self._rereads.pop(did, None))

    async def _reread(self, did: str) -> None:
        try:
            await self.keys.refresh(did)
            self.stats["rereads"] += 1
        except (OutboundError, ProtocolError) as exc:
            log.info("could not re-read the DID document of %s: %s", did, exc.message)

    # --- repair ---

    async def reread_forever(self) -> None:
        """Re-read every held origin's DID document every `reread_seconds`."""
        while True:
            await asyncio.sleep(self.reread_seconds)
            try:
                for did in await all_origins(self.db.reader):
                    if did != self.self_did:
                        await self._reread(did)
            except Exception:
                log.exception("the periodic DID document re-read failed")

    async def close(self) -> None:
        tasks = list(self._rereads.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
