"""The signature status of a held record, judged at read time against the keys known now.

Why at read time (issue 7, "Stale trust"): a record is verified once, when it is stored; a key
revoked later (a compromise found afterwards) makes every record it signed from the revocation
time on untrustworthy, and those records are already in the store, the search index and peers'
replicas. A status frozen at indexing would say "verified" forever. So the status is computed
whenever it is shown, from three facts of the record that never change (its publisher, the key
id and the proof's `created` time) and the key states this node knows *now*:

- its own keys (the `keys` table, re-read when `citynode key rotate|revoke` changes it), and
- other nodes' keys as their DID documents last said (`origin_keys`, written whenever a DID
  document is read: on ingest, on a peer's key-change notice, on the periodic re-read).

`KnownKeys` holds those states in memory (one dict lookup per status), so a search engine can
ask for every hit: `known.status(publisher, key_id, signed_at)`.

The statuses (docs/DESIGN.md "Search": every hit shows verified, revoked or unverified):

- `revoked`: the key was revoked at or before the proof's time (DESIGN "Identity and keys":
  records signed by it after that time are rejected everywhere);
- `unverified`: the publisher's DID document, as known now, does not vouch for the signature
  (the key is no longer listed, the proof predates the key or postdates its retirement, or the
  record's facts cannot be read);
- `verified`: the proof was checked when the record was stored and nothing known since says
  otherwise (also when no key state of the publisher is known yet: records are only ever stored
  after their proof held).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal

import aiosqlite
import msgspec

from citynode.storage import keys as key_store
from protocol.did import DidError, KeyEntry, format_timestamp, parse_timestamp, split_key_id
from protocol.errors import ProtocolError
from protocol.multikey import public_key_to_multibase

__all__ = [
    "KeyLife",
    "KnownKeys",
    "SignatureStatus",
    "origin_keys_of",
    "signature_status",
]

SignatureStatus = Literal["verified", "revoked", "unverified"]
_EARLIEST: Final = "0001-01-01T00:00:00Z"


class KeyLife(msgspec.Struct, frozen=True, kw_only=True):
    """When a key may sign: from `created` (None: always), until `retired`; `revoked` ends
    it for good (proofs at or after it are refused)."""

    created: datetime | None = None
    retired: datetime | None = None
    revoked: datetime | None = None

    @classmethod
    def of(cls, entry: KeyEntry) -> KeyLife:
        created = entry.created if format_timestamp(entry.created) != _EARLIEST else None
        return cls(created=created, retired=entry.retired, revoked=entry.revoked)

    def status(self, signed: datetime) -> SignatureStatus:
        if self.revoked is not None and self.revoked <= signed:
            return "revoked"
        if self.created is not None and signed < self.created:
            return "unverified"
        if self.retired is not None and signed > self.retired:
            return "unverified"
        return "verified"


class KnownKeys:
    """Every key state this node knows, by DID and full key id (`did:web:x#key-1`)."""

    def __init__(self, own_did: str) -> None:
        self.own_did = own_did
        self._keys: dict[str, dict[str, KeyLife]] = {}
        self._fingerprint: tuple[str, str] = ("", "")

    @classmethod
    async def load(cls, conn: aiosqlite.Connection, own_did: str) -> KnownKeys:
        known = cls(own_did)
        await known.refresh(conn, force=True)
        return known

    async def refresh(self, conn: aiosqlite.Connection, *, force: bool = False) -> bool:
        """Re-read the key tables if another process changed them; True when they changed."""
        fingerprint = (await key_store.fingerprint(conn), await key_store.origin_fingerprint(conn))
        if fingerprint == self._fingerprint and not force:
            return False
        keys: dict[str, dict[str, KeyLife]] = {}
        for stored in await key_store.origin_keys(conn):
            keys.setdefault(stored.did, {})[stored.method] = KeyLife(
                created=_time(stored.created),
                retired=_time(stored.retired),
                revoked=_time(stored.revoked),
            )
        keys[self.own_did] = {
            f"{self.own_did}#{own.key_id}": KeyLife(
                created=_time(own.created), retired=_time(own.retired), revoked=_time(own.revoked)
            )
            for own in await key_store.list_keys(conn)
        }
        self._keys, self._fingerprint = keys, fingerprint
        return True

    def learn(self, did: str, keys: Mapping[str, KeyEntry]) -> bool:
        """What a DID document (or this node's keys table) says now; True if it changed."""
        lives = {key_id: KeyLife.of(entry) for key_id, entry in keys.items()}
        if self._keys.get(did) == lives:
            return False
        self._keys[did] = lives
        return True

    def knows(self, did: str) -> bool:
        return did in self._keys

    def status(self, publisher: str, key_id: str, signed_at: str) -> SignatureStatus:
        """The signature status of a record signed by `key_id` at `signed_at` for `publisher`."""
        try:
            controller, _ = split_key_id(key_id)
            signed = parse_timestamp(signed_at)
        except (DidError, ProtocolError, TypeError):
            return "unverified"
        if controller != publisher:
            return "unverified"
        keys = self._keys.get(publisher)
        if keys is None:
            return "verified"
        life = keys.get(key_id)
        return "unverified" if life is None else life.status(signed)

    def status_of(self, document: Mapping[str, Any]) -> SignatureStatus:
        """The status of a record given as JSON (its publisher and proof)."""
        proof = document.get("proof")
        publisher = document.get("publisher")
        if not isinstance(proof, dict) or not isinstance(publisher, str):
            return "unverified"
        method, created = proof.get("verificationMethod"), proof.get("created")
        if not isinstance(method, str) or not isinstance(created, str):
            return "unverified"
        return self.status(publisher, method, created)


def signature_status(
    known: KnownKeys, publisher: str, key_id: str, signed_at: str
) -> SignatureStatus:
    """The one read-time signature status: `known.status(publisher, key_id, signed_at)`.

    `publisher`: the record's publisher DID; `key_id`: its proof's `verificationMethod`;
    `signed_at`: its proof's `created` (RFC 3339).
    """
    return known.status(publisher, key_id, signed_at)


def origin_keys_of(did: str, keys: Mapping[str, KeyEntry]) -> list[key_store.OriginKey]:
    """Rows for `origin_keys` from the keys a DID document lists (by full key id)."""
    rows = []
    for key_id, entry in keys.items():
        life = KeyLife.of(entry)
        rows.append(
            key_store.OriginKey(
                did=did,
                method=key_id,
                public_multibase=public_key_to_multibase(entry.public_key),
                created=format_timestamp(life.created) if life.created else None,
                retired=format_timestamp(life.retired) if life.retired else None,
                revoked=format_timestamp(life.revoked) if life.revoked else None,
            )
        )
    return rows


def _time(text: str | None) -> datetime | None:
    return parse_timestamp(text) if text else None
