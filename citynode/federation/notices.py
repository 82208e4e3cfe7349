"""Notices between peers' inboxes (`/fed/v1/inbox`, docs/protocol.md 7.2): who gets this node's
notices and how one is posted, and who may send this node one.

Two senders post them: the push notifier (federation/push.py: "pull me, I have changes up to
X") and the key-change sender (federation/key_changes.py). Both are fire-and-forget: a failed
notice is logged and counted, never retried here, because pulls and the periodic re-reads
repair what a lost notice would have said. Two receivers take them (federation/peering.py,
federation/key_changes.py), from approved peers only.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Final

from citynode.errors import OutboundError
from citynode.federation.errors import PeerRefused
from citynode.outbound import GuardedClient
from citynode.storage import peers as peer_store
from citynode.storage.db import Database
from citynode.storage.peers import Peer

log = logging.getLogger("citynode.federation")

#: Peer states that get notices: the peers we peer with (peering is mutual).
ACTIVE: Final = ("idle", "due", "syncing", "backoff")
#: Peer states whose notices are refused: not (or no longer) approved.
NOT_APPROVED: Final = ("pending_approval", "blocked", "removed")
NOTICE_DEADLINE: Final = 5.0


async def notified_peers(db: Database) -> list[Peer]:
    """The peers this node's notices go to."""
    return [p for p in await peer_store.list_peers(db.reader) if p.sync.state in ACTIVE]


async def post_notice(
    client: GuardedClient, base_url: str, body: bytes, stats: Counter[str], what: str
) -> None:
    """POST a notice to a peer's inbox; a failure is logged (as `what`) and counted in `stats`
    (`sent`, `failed`), never raised."""
    try:
        await client.post_json(f"{base_url}/fed/v1/inbox", body, deadline=NOTICE_DEADLINE)
        stats["sent"] += 1
    except OutboundError as exc:
        stats["failed"] += 1
        log.info("%s to %s failed: %s", what, base_url, exc.message)


def check_sender(signer: str, sender: str) -> None:
    """A notice is taken only when signed by the node it names as its sender (403 otherwise)."""
    if sender != signer:
        raise PeerRefused(f"the notice is signed by {signer} but sent as {sender}")


def approved_peer(signer: str, peer: Peer | None) -> Peer:
    """The signer's peer row (`peer`, read by the caller) if it is an approved peer; a notice
    from any other node is refused (403)."""
    if peer is None or peer.sync.state in NOT_APPROVED:
        raise PeerRefused(f"{signer} is not an approved peer of this node", signer=signer)
    return peer
