"""Record proof checks for ingest, in this process or spread over a pool of processes.

Verification dominates ingest (docs/DESIGN.md "Facts": ~8.7k Ed25519 verifies/s per core, plus JCS
and hashing). A page large enough to pay for the hand-over is split over a process pool (threads
would not help: JCS is Python and holds the GIL), so verifying page N runs on the other core
while this process stores page N-1. Small pages (push-driven pulls of a few records) are checked
in-process: no pool starts at all unless a big page arrives.

The check includes reading the record's readable part (protocol/readable.py): a record this
node cannot read even in part is rejected as before, but the typed read (~50 us a record) runs
in the pool beside the proof check instead of in the ingesting process, which also serves,
stores and feeds the followers (bench/RESULTS.md "Ingest").

Workers get the records' JSON bytes and the keys as plain values (raw public key bytes and ISO
times), never Python objects, so nothing unpicklable crosses; this module imports only
`protocol` (and the small `citynode.workers`), so a spawned worker starts fast. The pool is a
`WorkerPool`: its workers die with this process, even on kill -9.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any, Final

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from citynode.workers import WorkerPool
from protocol.did import KeyEntry, key_resolver
from protocol.errors import ProtocolError
from protocol.proofs import verify_record
from protocol.readable import read_record

#: (fragment, raw public key, created, retired, revoked) with ISO times.
KeySpec = tuple[str, bytes, str, str | None, str | None]
#: None when the record holds, else (error code, message).
Verdict = tuple[str, str] | None

#: Below this many records a page is verified in-process.
POOL_THRESHOLD: Final = 64


def key_spec(entry: KeyEntry) -> KeySpec:
    raw = entry.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (
        entry.fragment,
        raw,
        entry.created.isoformat(),
        entry.retired.isoformat() if entry.retired else None,
        entry.revoked.isoformat() if entry.revoked else None,
    )


_entries: dict[KeySpec, KeyEntry] = {}


def _entry(spec: KeySpec) -> KeyEntry:
    entry = _entries.get(spec)
    if entry is None:
        fragment, raw, created, retired, revoked = spec
        entry = KeyEntry(
            fragment=fragment,
            public_key=Ed25519PublicKey.from_public_bytes(raw),
            created=datetime.fromisoformat(created),
            retired=datetime.fromisoformat(retired) if retired else None,
            revoked=datetime.fromisoformat(revoked) if revoked else None,
        )
        _entries[spec] = entry
    return entry


def check(document: dict[str, Any], keys: dict[str, KeyEntry], allow_http: bool) -> Verdict:
    """The verdict on one decoded record: readable (at least in part), and its proof holds
    against its publisher's `assertionMethod` keys."""
    try:
        read_record(document)
        verify_record(document, key_resolver(keys), allow_http=allow_http)
    except ProtocolError as exc:
        return exc.code, exc.message
    return None


def check_bodies(
    bodies: list[bytes], keys: dict[str, dict[str, KeySpec]], http_dids: frozenset[str]
) -> list[Verdict]:
    """Verdicts for records given as JSON bytes; `keys`: publisher DID -> key id -> spec.

    Runs in a pool worker (module-level, picklable arguments).
    """
    verdicts: list[Verdict] = []
    resolved: dict[str, dict[str, KeyEntry]] = {}
    for body in bodies:
        document = msgspec.json.decode(body)
        publisher = document.get("publisher")
        if publisher not in resolved:
            specs = keys.get(publisher, {}) if isinstance(publisher, str) else {}
            resolved[publisher] = {key_id: _entry(spec) for key_id, spec in specs.items()}
        verdicts.append(check(document, resolved[publisher], publisher in http_dids))
    return verdicts


class Verifier:
    """Checks batches of records; owns the process pool (started on first need)."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes or (os.cpu_count() or 1)
        # No process starts before the first big page (citynode/workers.py).
        self.pool = WorkerPool(self.processes, name="verify")

    async def verify(
        self,
        documents: list[dict[str, Any]],
        bodies: list[bytes],
        keys: dict[str, dict[str, KeyEntry]],
        http_dids: frozenset[str],
    ) -> list[Verdict]:
        """A verdict per record (None when it holds)."""
        if self.processes <= 1 or len(documents) < POOL_THRESHOLD:
            return [
                check(
                    doc, keys.get(doc.get("publisher", ""), {}), doc.get("publisher") in http_dids
                )
                for doc in documents
            ]
        specs = {
            did: {key_id: key_spec(entry) for key_id, entry in by_id.items()}
            for did, by_id in keys.items()
        }
        size = -(-len(bodies) // self.processes)
        loop = asyncio.get_running_loop()
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(
                    self.pool, check_bodies, bodies[start : start + size], specs, http_dids
                )
                for start in range(0, len(bodies), size)
            )
        )
        return [verdict for part in parts for verdict in part]

    def close(self) -> None:
        self.pool.close()
