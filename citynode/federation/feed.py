"""What this node serves to peers: pages of its changes feed and per-origin digests.

The feed serves the stored bytes of each record untouched (they are exactly what was signed),
spliced into the page JSON without decoding them: a 500-record page costs one query and a join.
A relaying node serves the verified records it holds from other cities too, each still under
its origin's proof; a node with `relay = false` serves only its own.
"""

from __future__ import annotations

from typing import Final

import msgspec

from citynode.storage import records as store
from citynode.storage import replicas
from citynode.storage.db import Database
from protocol.cursor import clamp_limit, cursor_position, encode_cursor
from protocol.messages import (
    MAX_PAGE_BYTES,
    DigestRequest,
    DigestResponse,
    OriginDigest,
    origin_digest,
)

_encode = msgspec.json.Encoder().encode
#: The most records one digest request may cover before we say no (it reads every pair).
MAX_DIGEST_ORIGINS: Final = 1000


#: Room in a page for everything but its items (the node's DID, the cursor, the keys).
_ENVELOPE_BYTES: Final = 4096


class Feed:
    def __init__(
        self,
        db: Database,
        self_did: str,
        *,
        relay: bool,
        max_page_size: int,
        max_page_bytes: int = MAX_PAGE_BYTES,
    ) -> None:
        self.db = db
        self.self_did = self_did
        self.relay = relay
        #: Both as the descriptor states them (`limits.maxPageSize`; docs/protocol.md 9).
        self.max_page_size = max(1, max_page_size)
        self.max_items_bytes = max(1, max_page_bytes - _ENVELOPE_BYTES)

    async def changes_page(self, after: str | None, limit: int | None) -> bytes:
        """The JSON of a `ChangesPage` after the cursor `after` (InvalidCursor if malformed).

        At most `max_page_size` items, whatever `limit` asks, and at most `max_page_bytes` in
        all unless the page holds a single item: a page of large records is cut short (and says
        `hasMore`), so a puller's body cap never stalls it on one page.
        """
        position = cursor_position(after)
        size = clamp_limit(limit, maximum=self.max_page_size)
        origins = None if self.relay else (self.self_did,)
        # One more than asked tells whether more follow without a second query.
        found = await store.changes(self.db.reader, position, size + 1, origins)
        rows: list[store.StoredRecord] = []
        total = 0
        for row in found[:size]:
            total += len(row.body) + 1
            if rows and total > self.max_items_bytes:
                break
            rows.append(row)
        has_more = len(found) > len(rows)
        next_cursor = encode_cursor(rows[-1].seq) if rows else encode_cursor(position)
        return b"".join(
            (
                b'{"type":"ChangesPage","node":',
                _encode(self.self_did),
                b',"items":[',
                b",".join(row.body for row in rows),
                b'],"next":',
                _encode(next_cursor),
                b',"hasMore":',
                b"true" if has_more else b"false",
                b"}",
            )
        )

    async def digests(self, request: DigestRequest) -> DigestResponse:
        held = await replicas.held_origins(self.db.reader)
        if not self.relay:
            held = [o for o in held if o == self.self_did]
        wanted = [o for o in held if not request.origins or o in request.origins]
        position = await store.last_seq(self.db.reader)
        result = []
        for origin in wanted[:MAX_DIGEST_ORIGINS]:
            pairs = [pair async for pair in replicas.origin_pairs(self.db.reader, origin)]
            result.append(
                OriginDigest(origin=origin, count=len(pairs), digest=origin_digest(pairs))
            )
        return DigestResponse(node=self.self_did, origins=result, cursor=encode_cursor(position))
