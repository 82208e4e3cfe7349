"""Peers' keys: DID documents fetched through the guarded client, cached, re-read when needed.

docs/DESIGN.md "Identity and keys": peers learn rotations by re-reading the DID document on an
unknown key id, rate-limited. So a cached document is used until it is `ttl` old (that bounds
how long a revocation can go unnoticed) or until a key id it does not list shows up; then it is
re-read, but at most once per `refresh_gap` per DID, so a stream of made-up key ids cannot make
the node hammer (or be used to hammer) someone's server.

Keys are held as `KeyEntry` (raw public keys; loading one costs almost nothing, docs/DESIGN.md
"Facts"), by full key id, separately for `assertionMethod` (records) and `authentication`
(requests: the DID document lists only active keys there, so a retired key cannot sign requests).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec

from citynode.addresses import did_scheme
from citynode.errors import OutboundError
from citynode.outbound import GuardedClient
from protocol.did import (
    DidError,
    KeyEntry,
    did_document_url,
    keys_from_document,
    parse_did_document,
)
from protocol.errors import ProtocolError

log = logging.getLogger("citynode.federation")

#: A DID document is small; a larger answer is not one.
MAX_DID_DOCUMENT_BYTES: Final = 256 * 1024


class DidKeys(msgspec.Struct, frozen=True, kw_only=True):
    did: str
    assertion: dict[str, KeyEntry]
    authentication: dict[str, KeyEntry]
    fetched_at: float

    def has(self, key_id: str) -> bool:
        return key_id in self.assertion or key_id in self.authentication


class KeyCache:
    """DID -> keys, shared by ingest (record proofs) and the inbound guard (request signatures)."""

    def __init__(
        self,
        client: GuardedClient,
        *,
        ttl: float = 300.0,
        refresh_gap: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_fetched: Callable[[DidKeys], Awaitable[None]] | None = None,
    ) -> None:
        self.client = client
        #: Called with every DID document read (the node keeps key states for read-time
        #: signature status, citynode/trust.py); a failure there is logged, never raised.
        self.on_fetched = on_fetched
        self.ttl = ttl
        self.refresh_gap = refresh_gap
        self.clock = clock
        self.fetches = 0
        self._cache: dict[str, DidKeys] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def cached(self, did: str) -> bool:
        return did in self._cache

    def forget(self, did: str) -> None:
        self._cache.pop(did, None)

    async def keys(self, did: str, want: str | None = None, *, wait: bool = True) -> DidKeys:
        """The keys of `did`, re-read if stale or if `want` (a key id) is not listed.

        `wait`: when the re-read is rate-limited, wait for the gap to pass (the worker, which
        must not reject a genuine record for a key it has not seen yet) or answer from the cache
        at once (a request handler). Raises `OutboundError` or `DidError` when the document
        cannot be read and nothing is cached
        (`KeyFormatError` for a document with an unreadable key).
        """
        entry = self._cache.get(did)
        if entry is not None and self._usable(entry, want):
            return entry
        lock = self._locks.setdefault(did, asyncio.Lock())
        async with lock:
            entry = self._cache.get(did)
            if entry is not None and self._usable(entry, want):
                return entry
            if entry is not None and self.clock() - entry.fetched_at < self.ttl:
                # Fresh but missing `want`: a rotation, or a made-up key id. Rate-limited.
                wait_for = entry.fetched_at + self.refresh_gap - self.clock()
                if wait_for > 0:
                    if not wait:
                        return entry
                    await asyncio.sleep(wait_for)
            # The ttl re-read is tried again on the next use when this one fails.
            return await self._read(did, "using the cached one")

    async def refresh(self, did: str) -> DidKeys:
        """Re-read `did`'s DID document now (a key-change notice, the periodic re-read).

        At most once per `refresh_gap` per DID: within the gap this waits for its end, so a
        notice is never lost and a stream of them costs one fetch per gap. Raises like `keys`
        when the document cannot be read and nothing is cached.
        """
        asked = self.clock()
        while True:  # wait out the gap without holding the lock (others may read the cache)
            entry = self._cache.get(did)
            if entry is not None and entry.fetched_at >= asked:
                return entry  # read since we were asked: as fresh as a re-read
            wait_for = entry.fetched_at + self.refresh_gap - self.clock() if entry else 0.0
            if wait_for <= 0:
                break
            await asyncio.sleep(wait_for)
        lock = self._locks.setdefault(did, asyncio.Lock())
        async with lock:
            entry = self._cache.get(did)
            if entry is not None and entry.fetched_at >= asked:
                return entry
            return await self._read(did, "keeping the last")

    async def _read(self, did: str, instead: str) -> DidKeys:
        """Fetch `did`'s DID document into the cache. When it cannot be read, a cached one is
        kept (logged with `instead`): a peer briefly unreachable keeps the keys we last read,
        availability over freshness. Raises when nothing is cached."""
        try:
            entry = await self._fetch(did)
        except (OutboundError, ProtocolError):
            stale = self._cache.get(did)
            if stale is None:
                raise
            log.warning("could not re-read the DID document of %s; %s", did, instead)
            return stale
        self._cache[did] = entry
        return entry

    def _usable(self, entry: DidKeys, want: str | None) -> bool:
        if self.clock() - entry.fetched_at >= self.ttl:
            return False
        return want is None or entry.has(want)

    async def _fetch(self, did: str) -> DidKeys:
        self.fetches += 1
        url = did_document_url(did, did_scheme(did))
        body = await self.client.get_json(url, sign=False, max_bytes=MAX_DID_DOCUMENT_BYTES)
        document = parse_did_document(body)
        if document.id != did:
            raise DidError(
                f"the DID document at {url} is for {document.id}, not {did}", rule="did-document"
            )
        entry = DidKeys(
            did=did,
            assertion=keys_from_document(document, "assertionMethod"),
            authentication=keys_from_document(document, "authentication"),
            fetched_at=self.clock(),
        )
        if self.on_fetched is not None:
            try:
                await self.on_fetched(entry)
            except Exception:
                log.exception("could not keep the key states of %s", did)
        return entry
