"""The test nodes that sign the vectors of docs/vectors/: their base URLs, DIDs and keys (from
published seeds), the time the request vectors are checked at."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.did import KeyEntry, build_did_document, did_from_base_url
from protocol.multikey import public_key_to_multibase, raw_seed

#: The time the request vectors are checked at (2026-01-01T00:00:00Z), in seconds.
NOW: Final = 1767225600
MAX_AGE: Final = 300
CLOCK_SKEW: Final = 30

BASE_URL: Final = "https://medellin.example"
DID: Final = did_from_base_url(BASE_URL)
#: A node under a path: did:web turns each segment into a colon-separated part.
PATH_BASE_URL: Final = "https://cities.example/co/envigado"
PATH_DID: Final = did_from_base_url(PATH_BASE_URL)
OTHER_BASE_URL: Final = "https://lisboa.example"
OTHER_DID: Final = did_from_base_url(OTHER_BASE_URL)


def vector_time(text: str) -> datetime:
    """A vector's time (`2025-03-01T09:30:00Z`) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def vector_key(name: str) -> Ed25519PrivateKey:
    """A key from a published seed: for test vectors only, never for a real node."""
    seed = hashlib.sha256(f"citynode test vector key {name}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


class Identity:
    """A test node: its DID, its keys with their lifecycle, its DID document."""

    def __init__(self, base_url: str, keys: list[tuple[str, str, str | None, str | None]]) -> None:
        self.base_url = base_url
        self.did = did_from_base_url(base_url)
        self.private: dict[str, Ed25519PrivateKey] = {}
        entries = []
        for fragment, created, retired, revoked in keys:
            key = vector_key(f"{self.did}#{fragment}")
            self.private[fragment] = key
            entries.append(
                KeyEntry(
                    fragment=fragment,
                    public_key=key.public_key(),
                    created=vector_time(created),
                    retired=None if retired is None else vector_time(retired),
                    revoked=None if revoked is None else vector_time(revoked),
                )
            )
        self.entries = entries
        self.did_document = build_did_document(
            self.did, entries, f"{base_url}/.well-known/citynode"
        )

    def key_id(self, fragment: str) -> str:
        return f"{self.did}#{fragment}"

    def describe(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "baseUrl": self.base_url,
            "didDocument": self.did_document,
            "privateKeys": {
                self.key_id(fragment): {
                    "seedHex": raw_seed(key).hex(),
                    "publicKeyMultibase": public_key_to_multibase(key.public_key()),
                }
                for fragment, key in self.private.items()
            },
        }


# Medellín's test node: key-1 signed until 2025, key-2 signs now, key-3 was revoked (compromised)
# in June 2025. Only key-2 is listed under `authentication` (active keys sign requests).
MEDELLIN: Final = Identity(
    BASE_URL,
    [
        ("key-1", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", None),
        ("key-2", "2025-01-01T00:00:00Z", None, None),
        ("key-3", "2025-01-01T00:00:00Z", None, "2025-06-01T00:00:00Z"),
    ],
)
ENVIGADO: Final = Identity(PATH_BASE_URL, [("key-1", "2024-01-01T00:00:00Z", None, None)])
LISBOA: Final = Identity(OTHER_BASE_URL, [("key-1", "2024-01-01T00:00:00Z", None, None)])
IDENTITIES: Final = (MEDELLIN, ENVIGADO, LISBOA)
