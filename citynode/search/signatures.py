"""A hit's signature status, decided when it is shown (never stored in the index).

The status is the node's one read-time judgement (citynode/trust.py): the stored record's
publisher, its proof's key (`proof.verificationMethod`) and time (`proof.created`) against the
key states the node knows now, so a key revoked after the record was indexed turns its hits
`revoked` without reindexing (issue 7 item 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from citynode.trust import KnownKeys, SignatureStatus


def signature_of(document: Mapping[str, Any], keys: KnownKeys | None) -> SignatureStatus:
    """`verified`, `revoked` or `unverified` for a stored record.

    `keys` None (a search without a node, as in some benches): the record's own proof facts
    only, so a record with a proof reads `verified` (the store holds only verified records).
    """
    if keys is not None:
        return keys.status_of(document)
    proof = document.get("proof")
    if not isinstance(proof, Mapping) or not proof.get("verificationMethod"):
        return "unverified"
    return "verified"
