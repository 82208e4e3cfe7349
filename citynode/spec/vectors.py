"""The test vectors of docs/vectors/: signed records, tombstones and signed requests, each with the
verification result it must have (docs/protocol.md section 12).

Everything here is deterministic: the keys come from fixed seeds, the times are fixed and
Ed25519 signatures are deterministic (RFC 8032), so `vector_files()` gives the same bytes on
every run and the committed files can be compared with it.

The expected result of each vector is stated where the vector is made (by what was done to it:
"a field changed after signing" -> `signature_mismatch`), never by running a verifier, so the
test that checks the vectors against `protocol/` can fail.

The parts: the test nodes and their keys (`vector_identities`), the signed records
(`record_vectors`), the signed requests (`request_vectors`); the small algorithms and the files
are here.
"""

from __future__ import annotations

import json
from typing import Any

from citynode.spec.record_vectors import record_vectors
from citynode.spec.request_vectors import request_vectors
from citynode.spec.vector_identities import (
    BASE_URL,
    DID,
    IDENTITIES,
    PATH_BASE_URL,
    vector_time,
)
from protocol.did import did_from_base_url, format_timestamp
from protocol.messages import origin_digest

__all__ = ["other_vectors", "vector_files"]


def other_vectors() -> dict[str, Any]:
    pairs = [
        (f"{BASE_URL}/records/wifi-parques", 2),
        (f"{BASE_URL}/records/wifi-parques-result-2024", 3),
        (f"{BASE_URL}/records/école", 1),
        (f"{BASE_URL}/records/Zona", 1),
    ]
    return {
        "didWeb": [
            {"baseUrl": url, "did": did_from_base_url(url)}
            for url in (
                BASE_URL,
                PATH_BASE_URL,
                "https://medellin.example:8443",
                "http://127.0.0.1:8701",
            )
        ],
        "originDigest": [
            {"origin": DID, "pairs": [], "digest": origin_digest([])},
            {"origin": DID, "pairs": [list(p) for p in pairs], "digest": origin_digest(pairs)},
        ],
        "timestamps": [format_timestamp(vector_time("2025-03-01T09:30:00Z"))],
    }


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def vector_files() -> dict[str, bytes]:
    """docs/vectors/ file name -> content."""
    return {
        "identities.json": _json(
            {
                "description": "The test nodes whose keys sign the vectors. The private keys are "
                "published for testing signers: never use them for a node.",
                "identities": [who.describe() for who in IDENTITIES],
            }
        ),
        "records.json": _json(
            {
                "description": "Signed records and tombstones (docs/protocol.md 3 and 4). "
                "`expect.proof`: the result of verifying the proof against the DID document "
                "named by `didDocument` (in identities.json); `expect.model`: whether a node "
                "may publish the document (docs/protocol.md 3); `expect.ignored`: the terms a "
                "receiver reading it as a peer's record sets aside (docs/protocol.md 3.7), for "
                "records whose proof holds.",
                "records": record_vectors(),
            }
        ),
        "requests.json": _json(
            {
                "description": "Signed federation requests (docs/protocol.md 5). Verify each at "
                "`now` with `maxAge` and `clockSkew`, the signer's `authentication` keys, and a "
                "replay cache already holding `seenNonces`; `expect` is `valid` or the error "
                "code. Header values and the body are exact; the body is UTF-8.",
                "requests": request_vectors(),
            }
        ),
        "algorithms.json": _json(
            {
                "description": "did:web names of base URLs (docs/protocol.md 2.1) and reconcile "
                "digests (docs/protocol.md 7.3).",
                **other_vectors(),
            }
        ),
    }
