"""Ingest: a page of a peer's changes feed becomes verified and stored records.

docs/DESIGN.md "Federation protocol", Ingest: decode, check limits, verify the origin's proof, drop
versions not newer than held, store; idempotent, in one transaction per batch. The search index
(and every other view) follows the store's change log, so ingest never waits for it. A record
that fails verification is rejected and counted against the peer that served it, never stored,
and the rest of the page is still taken.

Two steps, so the worker can overlap them across pages: `prepare` (no writes: limits,
structure, keys, proofs) and `store` (inside the caller's write transaction, which also saves
the peer's cursor, so records and cursor move together).

Trust: a record is checked against the keys of its `publisher` (the origin), never of the peer
that relayed it; `verify_record` ties the key to the publisher and the id to the publisher's
base URL, so a relay can neither forge nor re-sign another city's records. Records published by
this node are skipped: we are their authority, and a copy coming back through a relay adds
nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import aiosqlite
import msgspec

from citynode.addresses import did_scheme
from citynode.errors import OutboundError
from citynode.federation.directory import OriginDirectory
from citynode.federation.keys import KeyCache
from citynode.federation.verifier import Verifier
from citynode.origins import Origin
from citynode.storage import counters
from citynode.storage import peers as peer_store
from citynode.storage.db import Database
from citynode.storage.origins import put_origin
from citynode.storage.records import NewVersion, held_versions, new_version_of
from citynode.storage.records import append as store_append
from protocol.did import KeyEntry
from protocol.errors import ProtocolError
from protocol.messages import ChangesPage
from protocol.readable import read_record
from protocol.records import MAX_RECORD_BYTES

log = logging.getLogger("citynode.federation")

_encode = msgspec.json.Encoder().encode
#: Outbound failures that say "try again later", not "this origin cannot be verified".
TRANSIENT = frozenset({"network", "timeout", "server_error", "rate_limited"})


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    id: str | None
    code: str
    message: str


class Prepared(msgspec.Struct, kw_only=True):
    """A page after checks: what to store, and what was refused."""

    versions: list[NewVersion] = []
    origins: dict[str, Origin] = {}
    rejected: list[Rejection] = []
    skipped: int = 0


def _addressable(item: dict[str, Any]) -> bool:
    """The fields ingest reads before verification (held versions, keys, the storage row)."""
    return (
        isinstance(item.get("id"), str)
        and isinstance(item.get("version"), int)
        and isinstance(item.get("publisher"), str)
        and isinstance(item.get("type"), str)
        and isinstance(item.get("modified"), str)
    )


class OriginUnavailable(Exception):
    """An origin's DID document is unreachable for now: the pull fails and is retried."""

    def __init__(self, did: str, error: OutboundError) -> None:
        super().__init__(f"could not read the DID document of {did}: {error.message}")
        self.sync_kind = error.sync_kind
        self.message = str(self)


class Ingest:
    def __init__(
        self,
        db: Database,
        self_did: str,
        keys: KeyCache,
        verifier: Verifier,
        directory: OriginDirectory,
    ) -> None:
        self.db = db
        self.self_did = self_did
        self.keys = keys
        self.verifier = verifier
        self.directory = directory

    async def prepare(self, page: ChangesPage) -> Prepared:
        out = Prepared()
        candidates: list[tuple[dict[str, Any], bytes]] = []
        for item in page.items:
            record_id = item.get("id") if isinstance(item.get("id"), str) else None
            body = _encode(item)
            if len(body) > MAX_RECORD_BYTES:
                out.rejected.append(
                    Rejection(id=record_id, code="too_large", message="record over the size limit")
                )
                continue
            if item.get("publisher") == self.self_did:
                out.skipped += 1
                continue
            candidates.append((item, body))
        held = await held_versions(
            self.db.reader, [i["id"] for i, _ in candidates if isinstance(i.get("id"), str)]
        )
        checked: list[tuple[dict[str, Any], bytes]] = []
        for item, body in candidates:
            version = item.get("version")
            have = held.get(item.get("id", ""))
            if have is not None and isinstance(version, int) and version <= have:
                out.skipped += 1  # not newer than held: dropped before the costly checks
                continue
            if not _addressable(item):
                # Not even the fields a key lookup needs: the reader's own words for why. Any
                # other record is read (its readable part: it is kept and relayed as signed even
                # when it carries terms this node does not know, docs/DESIGN.md "Evolution")
                # by the verifier, in its pool, beside the proof check.
                try:
                    read_record(item)
                    message, code = "the record cannot be read", "invalid_record"
                except ProtocolError as exc:
                    message, code = exc.message, exc.code
                out.rejected.append(Rejection(id=item.get("id"), code=code, message=message))
                continue
            checked.append((item, body))
        keys = await self._keys_for(checked, out)
        checked = [(i, b) for i, b in checked if i["publisher"] in keys]
        if not checked:
            return out
        http_dids = frozenset(did for did in keys if did_scheme(did) == "http")
        verdicts = await self.verifier.verify(
            [i for i, _ in checked], [b for _, b in checked], keys, http_dids
        )
        for (item, body), verdict in zip(checked, verdicts, strict=True):
            if verdict is not None:
                out.rejected.append(Rejection(id=item["id"], code=verdict[0], message=verdict[1]))
                continue
            out.versions.append(new_version_of(item, body))
        for did in {version.origin for version in out.versions}:
            out.origins[did] = await self.directory.resolve(did)
        return out

    async def _keys_for(
        self, items: list[tuple[dict[str, Any], bytes]], out: Prepared
    ) -> dict[str, dict[str, KeyEntry]]:
        """The assertion keys of every publisher in the page (re-read on unknown key ids)."""
        wanted: dict[str, set[str]] = {}
        for item, _ in items:
            proof = item.get("proof")
            method = proof.get("verificationMethod") if isinstance(proof, dict) else None
            wanted.setdefault(item["publisher"], set()).add(
                method if isinstance(method, str) else ""
            )
        found: dict[str, dict[str, KeyEntry]] = {}
        for did, methods in wanted.items():
            try:
                entry = None
                for method in sorted(methods):
                    entry = await self.keys.keys(did, method or None)
                assert entry is not None
                found[did] = entry.assertion
            except OutboundError as exc:
                if exc.sync_kind in TRANSIENT:
                    raise OriginUnavailable(did, exc) from None
                self._refuse_publisher(out, items, did, f"its DID document: {exc.message}")
            except ProtocolError as exc:
                self._refuse_publisher(out, items, did, f"its DID document: {exc.message}")
        return found

    @staticmethod
    def _refuse_publisher(
        out: Prepared, items: list[tuple[dict[str, Any], bytes]], did: str, why: str
    ) -> None:
        for item, _ in items:
            if item["publisher"] == did:
                out.rejected.append(
                    Rejection(
                        id=item.get("id"),
                        code="unknown_key",
                        message=f"record {item.get('id')}: cannot check the publisher {did}: {why}",
                    )
                )

    async def store(
        self, conn: aiosqlite.Connection, prepared: Prepared, peer_did: str
    ) -> list[NewVersion]:
        """Write a prepared page (inside the caller's write transaction)."""
        for origin in prepared.origins.values():
            await put_origin(conn, origin)
        stored = await store_append(conn, prepared.versions, received_from=peer_did)
        if prepared.rejected:
            await peer_store.add_rejected(conn, peer_did, len(prepared.rejected))
            for rejection in prepared.rejected:
                await counters.bump(conn, f"rejected.{rejection.code}", peer_did)
            log.warning(
                "rejected %d record(s) from %s, e.g. %s",
                len(prepared.rejected),
                peer_did,
                prepared.rejected[0].message,
            )
        return stored
